"""Planning with a scripted model: schedule framing, decomposition, place choice, fallbacks."""

from datetime import datetime

import pytest

from llm.types import Outcome
from reverie.engine.persona import Scratch
from reverie.engine.plan import (
    SLEEPING,
    PlaceOptions,
    address_of,
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
    "Split that time into blocks": '{"blocks": [{"activity": "morning routine", "hours": 1}, '
    '{"activity": "serving customers at the cafe", "hours": 6}, {"activity": "planning the party", "hours": 5}]}',
    "2 to 8 subtasks": '{"subtasks": [{"activity": "brewing coffee", "minutes": 20}, '
    '{"activity": "greeting customers", "minutes": 40}]}',
    "Where?": '{"place": "Hobbs Cafe: cafe"}',
    "Which one does": '{"object": "coffee machine"}',
    "Pick an emoji": '{"emoji": "☕", "object_state": "brewing coffee"}',
}


def test_frame_schedule_always_covers_the_day():
    items = frame_schedule([("work", 600), ("dinner", 60)], wake_up=7, awake_hours=16)
    assert items[0].activity == SLEEPING and items[0].minutes == 7 * 60
    assert items[-1].activity == SLEEPING
    assert sum(i.minutes for i in items) == 24 * 60
    assert [i.activity for i in items[1:-1]] == ["work", "dinner"]


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
    assert purposes[:3] == ["plan.wake_up", "plan.daily", "plan.hourly"]
    assert all(t.outcome == Outcome.FIRST_TRY for t in gw.recorder.traces)  # type: ignore[attr-defined]


async def test_garbage_answers_fall_back_to_a_sensible_day():
    gw = routed_gateway({}, default="I am a teapot ]]]")
    scratch = Scratch()
    action = await next_action(gw, ISABELLA, scratch, MORNING, PLACES)
    assert scratch.wake_up_hour == 7
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
    assert {"plan.wake_up", "plan.daily", "plan.hourly", "plan.location", "plan.details"} <= purposes


async def test_punctuation_filler_is_rejected_and_repaired_or_replaced():
    filler = (
        '{"blocks": [{"activity": "}, {", "hours": 2}, {"activity": "}, {", "hours": 2}, '
        '{"activity": "..", "hours": 2}]}'
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
