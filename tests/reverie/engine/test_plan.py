"""Planning with a scripted model: schedule framing, decomposition, place choice, fallbacks,
and (issue 11) what reaches the planning prompts: recalled memories, the revised identity,
personal examples under compact and neutral ones under paper."""

import json
import re
from dataclasses import replace
from datetime import datetime
from itertools import pairwise

import pytest

from llm.types import Outcome
from reverie.engine.config import AgentConfig, MemoryAccess
from reverie.engine.memory import MemoryStream
from reverie.engine.persona import Identity, Scratch
from reverie.engine.plan import (
    SLEEPING,
    PlaceOptions,
    address_of,
    block_start,
    choose_place,
    current_subtask,
    frame_schedule,
    next_action,
    plan_day,
    rescale,
)
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_persona import ISABELLA

MORNING = datetime(2023, 2, 13, 7, 10)
PLACES = PlaceOptions(
    world="the_ville",
    home="Hobbs Cafe Apartment: bedroom",
    current="Hobbs Cafe Apartment: bedroom",
    arenas=["Hobbs Cafe: cafe", "Johnson Park: park"],
    objects={"Hobbs Cafe: cafe": ["counter", "coffee machine"], "Hobbs Cafe Apartment: bedroom": ["bed"]},
)
GOOD = {
    "wake up today": '{"hour": 6}',
    "plan for today in broad strokes": '{"items": ["wake up", "open the cafe", "serve customers", "plan the party"]}',
    "Split that time into blocks": '{"blocks": [{"start": "06:00", "end": "07:00", "activity": "morning routine"}, '
    '{"start": "07:00", "end": "13:00", "activity": "serving customers at the cafe"}, '
    '{"start": "13:00", "end": "18:00", "activity": "planning the party"}]}',
    "2 to 8 subtasks": '{"subtasks": [{"activity": "brewing coffee", "minutes": 20}, '
    '{"activity": "greeting customers", "minutes": 40}]}',
    "Where?": '{"place": "Hobbs Cafe: cafe"}',
    "Which one does": '{"object": "coffee machine"}',
    "Pick an emoji": '{"emoji": "☕", "object_state": "brewing coffee"}',
}


def test_frame_schedule_always_covers_the_day():
    items = frame_schedule([(7 * 60, 17 * 60, "work"), (17 * 60, 18 * 60, "dinner")], wake_up=7)
    assert items[0].activity == SLEEPING and items[0].minutes == 7 * 60
    assert items[-1].activity == SLEEPING
    assert sum(i.minutes for i in items) == 24 * 60
    assert [i.activity for i in items[1:-1]] == ["work", "dinner"]
    # Every block carries its clock time, and the schedule is contiguous.
    assert [i.start for i in items] == [0, 7 * 60, 17 * 60, 18 * 60]


def test_rescale_sums_exactly_and_keeps_order():
    parts = rescale([("a", 10), ("b", 10), ("c", 40)], 45)
    assert sum(p.minutes for p in parts) == 45 and [p.activity for p in parts] == ["a", "b", "c"]
    assert all(p.minutes >= 5 for p in parts)


@pytest.mark.parametrize("total", [1, 5, 12, 30, 35, 1440])
@pytest.mark.parametrize("count", [1, 2, 8])
def test_rescale_never_loses_time_or_returns_nothing(total, count):
    parts = rescale([(f"s{i}", 60) for i in range(count)], total)
    assert parts and sum(p.minutes for p in parts) == total and all(p.minutes > 0 for p in parts)


def test_current_subtask_walks_the_clock():
    parts = rescale([("a", 20), ("b", 40)], 60)
    begin = datetime(2023, 2, 13, 8, 0)
    assert current_subtask(parts, begin, datetime(2023, 2, 13, 8, 5))[0] == 0
    index, started = current_subtask(parts, begin, datetime(2023, 2, 13, 8, 25))
    assert index == 1 and started == datetime(2023, 2, 13, 8, 20)


async def test_plan_day_and_next_action_with_good_answers():
    gw = routed_gateway(GOOD)
    scratch = Scratch(now=None)
    action = await next_action(gw, ISABELLA, scratch, MORNING, PLACES)
    assert scratch.wake_up_hour == 6
    assert scratch.daily_plan[1] == "open the cafe"
    assert sum(i.minutes for i in scratch.hourly_schedule) == 24 * 60
    assert scratch.hourly_schedule[1].activity == "morning routine"
    assert action.address == "the_ville:Hobbs Cafe:cafe:coffee machine"
    assert action.emoji == "☕" and action.object_event == ("coffee machine", "is", "brewing coffee")
    assert action.event == ("Isabella Rodriguez", "is", action.description)
    purposes = [t.purpose for t in gw.recorder.traces]  # type: ignore[attr-defined]
    # compact: the lifestyle says "wakes up around 6am", so no wake-up call
    assert purposes[:2] == ["plan.daily", "plan.hourly"] and "plan.wake_up" not in purposes
    assert all(t.outcome == Outcome.FIRST_TRY for t in gw.recorder.traces)  # type: ignore[attr-defined]


async def test_garbage_answers_fall_back_to_a_sensible_day():
    gw = routed_gateway({}, default="I am a teapot ]]]")
    scratch = Scratch()
    action = await next_action(gw, ISABELLA, scratch, MORNING, PLACES)
    assert scratch.wake_up_hour == 6  # the lifestyle's "wakes up around 6am"
    assert sum(i.minutes for i in scratch.hourly_schedule) == 24 * 60
    assert len(scratch.daily_plan) >= 4
    # It stays where it is (the fallback place) and uses the first object there.
    assert action.address == "the_ville:Hobbs Cafe Apartment:bedroom:bed"
    assert all(t.outcome == Outcome.FALLBACK for t in gw.recorder.traces)  # type: ignore[attr-defined]


async def test_a_place_outside_the_known_options_is_never_chosen():
    gw = routed_gateway({**GOOD, "Where?": '{"place": "the moon"}'})
    action = await next_action(gw, ISABELLA, Scratch(), datetime(2023, 2, 13, 9, 0), PLACES)
    assert action.address.startswith("the_ville:Hobbs Cafe Apartment:bedroom")


async def test_decomposition_is_cached_per_block():
    gw = routed_gateway(GOOD)
    scratch = Scratch()
    await next_action(gw, ISABELLA, scratch, datetime(2023, 2, 13, 9, 0), PLACES)
    scratch.now = datetime(2023, 2, 13, 9, 0)
    calls = len(gw.recorder.traces)  # type: ignore[attr-defined]
    await next_action(gw, ISABELLA, scratch, datetime(2023, 2, 13, 9, 30), PLACES)
    new = [t.purpose for t in gw.recorder.traces[calls:]]  # type: ignore[attr-defined]
    assert "plan.decompose" not in new and "plan.daily" not in new


def test_address_of():
    assert address_of("w", "Cafe: kitchen", "stove") == "w:Cafe:kitchen:stove"
    assert address_of("w", "Cafe: kitchen", None) == "w:Cafe:kitchen"


@pytest.mark.model
async def test_next_action_on_the_bundled_model():
    from llm.factory import build_gateway

    gw = build_gateway("llama_cpp:bundled", timeout=120)
    scratch = Scratch()
    action = await next_action(gw, ISABELLA, scratch, MORNING, PLACES)
    gw.close()
    assert sum(i.minutes for i in scratch.hourly_schedule) == 24 * 60
    assert action.address.split(":")[1] in {"Hobbs Cafe", "Hobbs Cafe Apartment", "Johnson Park"}
    assert action.minutes >= 1 and action.emoji
    purposes = {purpose for (_, purpose) in gw.accounting.rows()}
    assert {"plan.daily", "plan.hourly", "plan.location", "plan.details"} <= purposes


async def test_punctuation_filler_is_rejected_and_repaired_or_replaced():
    filler = (
        '{"blocks": [{"start": "07:00", "end": "09:00", "activity": "}, {"}, '
        '{"start": "09:00", "end": "11:00", "activity": "}, {"}, {"start": "11:00", "end": "13:00", "activity": ".."}]}'
    )
    gw = routed_gateway({**GOOD, "Split that time into blocks": filler})
    scratch = Scratch()
    await plan_day(gw, ISABELLA, scratch, MORNING)
    assert all(any(ch.isalpha() for ch in item.activity) for item in scratch.hourly_schedule)


@pytest.mark.parametrize(
    ("activity", "expected"),
    [
        ("brewing coffee for customers", "Hobbs Cafe: cafe"),
        ("cooking eggs", "Home: kitchen"),
        ("taking a shower", "Home: bathroom"),
        ("studying for the exam", "Oak Hill College: library"),
        ("thinking quietly", "Home: bedroom"),  # no hint: stay where you are
    ],
)
def test_guess_place_points_the_example_somewhere_plausible(activity, expected):
    from reverie.engine.plan import guess_place

    options = ["Home: bedroom", "Home: kitchen", "Home: bathroom", "Hobbs Cafe: cafe", "Oak Hill College: library",
               "Other House: kitchen"]  # fmt: skip
    assert guess_place(activity, options, current="Home: bedroom", home="Home: bedroom") == expected


async def test_an_interruption_is_fitted_into_the_block_and_the_rest_revised():
    from reverie.engine.plan import revise_for_interruption

    gw = routed_gateway({**GOOD, "interrupted": '{"subtasks": [{"activity": "cleaning the counter", "minutes": 30}]}'})
    scratch = Scratch()
    await plan_day(gw, ISABELLA, scratch, MORNING)
    at = datetime(2023, 2, 13, 9, 10)
    index = scratch.schedule_index(at)
    block = scratch.hourly_schedule[index]
    await revise_for_interruption(gw, ISABELLA, scratch, at, "chatting with Klaus Mueller", 4)
    items = scratch.decomposed[index]
    assert sum(i.minutes for i in items) == block.minutes
    assert ("chatting with Klaus Mueller", 4) in [(i.activity, i.minutes) for i in items]
    assert items[-1].activity == "cleaning the counter"
    # Garbage from the model keeps the old remaining plan instead.
    bad = routed_gateway({}, default="???")
    await revise_for_interruption(bad, ISABELLA, scratch, datetime(2023, 2, 13, 9, 30), "chatting with Maria", 3)
    assert sum(i.minutes for i in scratch.decomposed[index]) == block.minutes


# --- issue 11: information reaches plans; clock times kept; presets ---------------------

KLAUS = Identity(
    name="Klaus Mueller",
    age=20,
    innate="thoughtful, earnest, kind, reserved",
    learned="Klaus Mueller is a sociology student at Oak Hill College.",
    currently="Klaus is writing a research paper on gentrification near Oak Hill College.",
    lifestyle="Klaus goes to bed around 11pm and wakes up around 7am.",
    living_area="the_ville:Oak Hill College Dorm:Klaus Mueller's room",
    daily_requirement="Klaus goes to his classes and writes his paper in the library.",
    workplace="Oak Hill College",
)
PARTY = "Isabella is hosting a Valentine's Day party at Hobbs Cafe on February 14 at 5pm"
REVISED = "Klaus is going to Isabella's Valentine's Day party at Hobbs Cafe at 5pm today"
NEXT_MORNING = datetime(2023, 2, 14, 0, 0)
KLAUS_DAY = {
    "Revise two things for today": json.dumps(
        {"currently": REVISED, "daily_requirement": "classes, then the party at Hobbs Cafe at 5pm"}
    ),
    "wake up today": '{"hour": 7}',
    "plan for today in broad strokes": '{"items": ["go to class", "write the paper", "party at Hobbs Cafe at 5pm", '
    '"read before bed"]}',
    "Split that time into blocks": json.dumps({"blocks": [
        {"start": "07:00", "end": "12:00", "activity": "writing the paper in the library"},
        {"start": "12:00", "end": "13:00", "activity": "lunch"},
        {"start": "17:00", "end": "19:00", "activity": "attend Isabella's party at Hobbs Cafe"},
    ]}),
}  # fmt: skip


def _prompts(gw, purpose):
    return [t.prompt for t in gw.recorder.traces if t.purpose == purpose]


async def _klaus_stream(gw, when=datetime(2023, 2, 13, 15, 0)):
    """Klaus's memories: the party he heard of, among a dozen ordinary things he saw."""
    stream = MemoryStream()
    seen = [f"the bookshelf {i} is idle on the second floor" for i in range(12)]
    for text, vector in zip(seen, await gw.aembed(seen), strict=True):
        stream.add_event("bookshelf", "is", "idle", text, created=when, poignancy=2, embedding=vector)
    vector = (await gw.aembed([PARTY]))[0]
    stream.add_thought("Klaus Mueller", "heard", "party", PARTY, created=when, poignancy=8, embedding=vector)
    return stream


def _yesterday() -> Scratch:
    return Scratch(now=datetime(2023, 2, 13, 23, 59, 50), wake_up_hour=7, daily_plan=["a", "b", "c", "d"])


@pytest.mark.parametrize("preset", ["compact", "paper"])
async def test_a_remembered_party_reaches_the_revision_and_the_revised_identity_the_plans(preset):
    gw = routed_gateway(KLAUS_DAY)
    klaus = replace(KLAUS)
    stream = await _klaus_stream(gw)
    await plan_day(gw, klaus, _yesterday(), NEXT_MORNING, stream=stream, config=AgentConfig.preset_named(preset))
    [revision] = _prompts(gw, "plan.identity")
    assert PARTY in revision
    assert klaus.currently == REVISED  # the identity itself is revised (the shell saves it)
    assert klaus.daily_requirement == "classes, then the party at Hobbs Cafe at 5pm"
    # compact takes yesterday's wake-up hour (the lifestyle states one); paper asks
    planned = ["plan.daily", "plan.hourly"] if preset == "compact" else ["plan.wake_up", "plan.daily", "plan.hourly"]
    for purpose in planned:
        [seen] = _prompts(gw, purpose)
        assert REVISED in seen, purpose  # the revised identity
        assert PARTY in seen, purpose  # and the recalled memories
    purposes = [t.purpose for t in gw.recorder.traces if t.kind == "structured"]
    assert purposes == ["plan.identity", *planned]


async def test_the_plan_is_stored_as_a_thought_and_recalled_the_next_morning():
    gw = routed_gateway(KLAUS_DAY)
    klaus, stream = replace(KLAUS), MemoryStream()
    scratch = Scratch()
    await plan_day(gw, klaus, scratch, datetime(2023, 2, 13, 0, 0), stream=stream)
    assert _prompts(gw, "plan.identity") == []  # the first planning of a run plans from the identity
    [thought] = [n for n in stream.by_kind("thought") if n.predicate == "plans"]
    expected = ("This is Klaus Mueller's plan for Monday February 13: go to class, write the paper, "
                "party at Hobbs Cafe at 5pm, read before bed.")  # fmt: skip
    assert thought.description == expected
    assert thought.poignancy == 5 and {"plan", "klaus mueller"} <= set(thought.keywords)
    assert thought.id in stream.index  # embedded, so retrieval can find it
    scratch.now = datetime(2023, 2, 13, 23, 59, 50)
    await plan_day(gw, klaus, scratch, NEXT_MORNING, stream=stream)
    [revision] = _prompts(gw, "plan.identity")
    assert expected in revision


async def test_planning_ablation_and_memory_switch_store_no_plan_thought():
    gw = routed_gateway(KLAUS_DAY)
    no_plans = replace(AgentConfig.compact(), memory=MemoryAccess(plans=False))
    stream = await _klaus_stream(gw)
    await plan_day(gw, replace(KLAUS), _yesterday(), NEXT_MORNING, stream=stream, config=no_plans)
    assert _prompts(gw, "plan.daily") and not [n for n in stream.by_kind("thought") if n.predicate == "plans"]

    gw = routed_gateway(KLAUS_DAY)
    off = AgentConfig.compact().with_ablation("no_reflection_no_planning")
    scratch = _yesterday()
    action = await next_action(gw, replace(KLAUS), scratch, datetime(2023, 2, 14, 9, 0), PLACES, stream=stream,
                               config=off)  # fmt: skip
    used = {t.purpose for t in gw.recorder.traces if t.kind == "structured"}
    assert used <= {"plan.location", "plan.object", "plan.details"}  # no planning call at all
    assert sum(i.minutes for i in scratch.hourly_schedule) == 24 * 60
    assert any("Oak Hill College" in item for item in scratch.daily_plan)  # the standing routine
    assert not [n for n in stream.by_kind("thought") if n.predicate == "plans"] and action.minutes >= 1


async def test_a_block_at_17_00_stays_at_17_00():
    for config in (AgentConfig.compact(), AgentConfig.paper()):
        gw = routed_gateway(KLAUS_DAY)
        scratch = _yesterday()
        await plan_day(gw, replace(KLAUS), scratch, NEXT_MORNING, config=config)
        schedule = scratch.hourly_schedule
        assert sum(i.minutes for i in schedule) == 24 * 60
        at_five = datetime(2023, 2, 14, 17, 30)
        party = schedule[scratch.schedule_index(at_five)]
        assert party.activity == "attend Isabella's party at Hobbs Cafe"
        assert (party.start, party.minutes) == (17 * 60, 120)
        assert block_start(scratch, scratch.schedule_index(at_five), at_five) == datetime(2023, 2, 14, 17, 0)
        # Sleep until the wake-up hour; the long afternoon gap is free time, not a stretched lunch.
        assert (schedule[0].activity, schedule[0].minutes) == (SLEEPING, 7 * 60)
        assert schedule[scratch.schedule_index(datetime(2023, 2, 14, 15, 0))].activity == "free time"
        assert schedule[-1].activity == SLEEPING
    # compact forces a 16-hour waking day (sleep at 23:00); paper sleeps after the last block.
    assert schedule[-1].start == 19 * 60


def test_frame_schedule_clips_overlaps_fills_gaps_and_keeps_clock_times():
    items = frame_schedule(
        [(8 * 60, 18 * 60, "work"), (12 * 60, 13 * 60, "lunch"), (17 * 60 + 30, 20 * 60, "party"),
         (20 * 60 + 30, 21 * 60, "read"), (23 * 60, 6 * 60, "sleeping")],
        wake_up=7,
    )  # fmt: skip
    assert [(i.start, i.activity) for i in items] == [
        (0, SLEEPING), (7 * 60, "morning routine"), (8 * 60, "work"), (12 * 60, "lunch"), (13 * 60, "work"),
        (17 * 60 + 30, "party"), (20 * 60 + 30, "read"), (21 * 60, "free time"), (23 * 60, SLEEPING),
    ]  # fmt: skip
    assert items[5].minutes == 150 + 30  # the half-hour gap after it continues the party
    assert sum(i.minutes for i in items) == 24 * 60
    assert all(b.start == a.start + a.minutes for a, b in pairwise(items))


async def test_paper_shows_no_place_guess_and_compact_does():
    activity = "taking a walk in the park"
    for config, guessed in ((AgentConfig.compact(), True), (AgentConfig.paper(), False)):
        gw = routed_gateway(GOOD)
        await choose_place(gw, ISABELLA, activity, PLACES, config=config)
        [seen] = _prompts(gw, "plan.location")
        assert ('{"place": "Johnson Park: park"}' in seen) is guessed
        assert ("Answer format" in seen) is not guessed


async def test_compact_examples_come_from_the_persona_and_paper_examples_decide_nothing():
    examples = {}
    for person in (KLAUS, ISABELLA):
        gw = routed_gateway(GOOD)
        await plan_day(gw, replace(person), Scratch(), MORNING)
        daily, hourly = _prompts(gw, "plan.daily")[0], _prompts(gw, "plan.hourly")[0]
        examples[person.name] = daily.split("Example answer: ")[1]
        assert "studying at the library" not in daily + hourly  # no fixed student's day
        hourly_example = hourly.split("Example answer: ")[1]  # the day's own plan, at clock times
        assert re.search(r'"start": "\d\d:00"', hourly_example) and "serve customers" in hourly_example
    assert "Oak Hill College" in examples["Klaus Mueller"]
    assert "open the cafe at 8am" in examples["Isabella Rodriguez"]
    assert examples["Klaus Mueller"] != examples["Isabella Rodriguez"]
    # The decomposition example is built from the block itself.
    gw = routed_gateway(GOOD)
    scratch = Scratch()
    await next_action(gw, replace(KLAUS), scratch, datetime(2023, 2, 13, 9, 0), PLACES)
    [decompose] = _prompts(gw, "plan.decompose")
    block = scratch.hourly_schedule[scratch.schedule_index(datetime(2023, 2, 13, 9, 0))].activity
    assert block[:20] in decompose.split("Example answer: ")[1]
    # paper: format only, nothing personal to copy.
    gw = routed_gateway(GOOD)
    await plan_day(gw, replace(KLAUS), Scratch(), MORNING, config=AgentConfig.paper())
    for purpose in ("plan.daily", "plan.hourly", "plan.wake_up"):
        [seen] = _prompts(gw, purpose)
        assert "Example answer" not in seen and "Oak Hill College" not in seen.split("Answer format")[1]


async def test_the_wake_up_range_is_a_compact_heuristic():
    early = {**GOOD, "wake up today": '{"hour": 2}'}
    no_hour = replace(ISABELLA, lifestyle="Isabella likes quiet mornings.")  # so compact asks the model
    compact_scratch, paper_scratch = Scratch(), Scratch()
    await plan_day(routed_gateway(early), no_hour, compact_scratch, MORNING)
    await plan_day(routed_gateway(early), no_hour, paper_scratch, MORNING, config=AgentConfig.paper())
    assert compact_scratch.wake_up_hour == 7  # 2 is outside 4-11: the fallback (7, no lifestyle hour)
    assert paper_scratch.wake_up_hour == 2


async def test_compact_takes_the_lifestyles_wake_up_hour_and_paper_asks():
    late = {**GOOD, "wake up today": '{"hour": 9}'}
    compact_gw, paper_gw = routed_gateway(late), routed_gateway(late)
    compact_scratch, paper_scratch = Scratch(), Scratch()
    await plan_day(compact_gw, ISABELLA, compact_scratch, MORNING)
    await plan_day(paper_gw, ISABELLA, paper_scratch, MORNING, config=AgentConfig.paper())
    assert compact_scratch.wake_up_hour == 6 and not _prompts(compact_gw, "plan.wake_up")  # "wakes up around 6am"
    assert paper_scratch.wake_up_hour == 9 and len(_prompts(paper_gw, "plan.wake_up")) == 1


async def test_the_world_passes_its_stream_and_config_to_planning():
    from reverie.engine.world import Agent, World
    from reverie.town import load_maze

    maze = load_maze("the_ville")
    tile = maze.spawn_tile("Klaus Mueller bed")
    klaus = replace(KLAUS, living_area=":".join(maze.address_at(*tile).split(":")[:3]))
    gw = routed_gateway(KLAUS_DAY)
    agent = Agent(klaus, Scratch(tile=tile), stream=await _klaus_stream(gw))
    agent.spatial.learn_many(maze.addresses("game_object"))
    world = World(maze, [agent], now=datetime(2023, 2, 13, 23, 59, 50), config=AgentConfig.paper())
    await world.advance(gw)  # the run's first planning: from the identity
    assert _prompts(gw, "plan.daily") and not _prompts(gw, "plan.identity")
    for _ in range(12):  # the night's sleep ends at midnight: a new day, revised from memories
        await world.advance(gw)
    [revision] = _prompts(gw, "plan.identity")
    assert PARTY in revision and agent.identity.currently == REVISED
    assert "Answer format" in _prompts(gw, "plan.location")[-1]  # the paper preset reached choose_place
    plans = [n.description for n in agent.stream.by_kind("thought") if n.predicate == "plans"]
    assert [p.split(":")[0] for p in plans] == [
        "This is Klaus Mueller's plan for Monday February 13",
        "This is Klaus Mueller's plan for Tuesday February 14",
    ]


async def test_a_chat_past_midnight_goes_on_while_the_new_day_is_planned():
    from reverie.engine.persona import Action
    from reverie.engine.world import Agent, World
    from reverie.town import load_maze

    maze = load_maze("the_ville")
    tile = maze.spawn_tile("Klaus Mueller bed")
    gw = routed_gateway(KLAUS_DAY)
    agent = Agent(replace(KLAUS), Scratch(tile=tile), stream=await _klaus_stream(gw))
    world = World(maze, [agent], now=datetime(2023, 2, 13, 23, 59, 50))
    await world.advance(gw)  # the run's first planning
    chat = Action(address="<persona> Maria Lopez", description="conversing about the party", start=world.now,
                  minutes=5, event=(KLAUS.name, "chat with", "Maria Lopez"))  # fmt: skip
    agent.scratch.action, agent.scratch.chat.partner = chat, "Maria Lopez"
    agent.scratch.chat.ends_at = chat.end
    await world.advance(gw)  # 00:00:00, mid-chat
    assert agent.scratch.action is chat  # not cut off by the new day
    assert _prompts(gw, "plan.identity") and agent.identity.currently == REVISED  # but the day is planned
    assert len(_prompts(gw, "plan.daily")) == 2
