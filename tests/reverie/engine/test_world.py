"""Whole steps on the real town with a scripted model: movement, memories, chats."""

import asyncio
import json
from dataclasses import replace
from datetime import datetime
from itertools import pairwise

import pytest

from reverie.engine.config import AgentConfig
from reverie.engine.converse import chat_minutes
from reverie.engine.persona import Action, Identity, Scratch
from reverie.engine.world import Agent, World, whisper
from reverie.town import load_maze
from tests.reverie.engine.fakes import routed_gateway

START = datetime(2023, 2, 13, 9, 0)
NAMES = ["Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"]


@pytest.fixture(scope="module")
def maze():
    return load_maze("the_ville")


def make_agents(maze):
    agents = []
    for name in NAMES:
        tile = maze.spawn_tile(f"{name} bed")
        home = ":".join(maze.address_at(*tile).split(":")[:3])
        identity = Identity(name=name, age=25, innate="kind", learned=f"{name} lives in town.", currently="studying",
                            lifestyle="sleeps at 11pm", living_area=home)  # fmt: skip
        agent = Agent(identity, Scratch(tile=tile))
        agent.spatial.learn_many(maze.addresses("game_object"))
        agents.append(agent)
    return agents


def _options(prompt: str, after: str, prefix: str) -> str:
    """The first option listed after `after` that starts with `prefix` (a cooperative model)."""
    listed = prompt.split(after)[1].split("\n")[0].rstrip(".").split("; ")
    return next(o for o in listed if o.startswith(prefix))


GOOD = {
    "wake up today": '{"hour": 6}',
    "plan for today in broad strokes": '{"items": ["wake up", "go to the cafe", "study", "sleep"]}',
    "Split that time into blocks": '{"blocks": [{"start": "06:00", "end": "10:00", '
    '"activity": "having coffee at the cafe"}, {"start": "10:00", "end": "16:00", "activity": "studying"}, '
    '{"start": "16:00", "end": "22:00", "activity": "reading"}]}',
    "List the steps": '{"subtasks": [{"activity": "ordering coffee", "minutes": 30}, '
    '{"activity": "drinking coffee", "minutes": 30}]}',
    "Where?": lambda p: json.dumps({"place": _options(p, "knows: ", "Hobbs Cafe")}),
    "Which one does": lambda p: json.dumps({"object": _options(p, "Things there: ", "")}),
    "Pick an emoji": '{"emoji": "☕", "object_state": "in use"}',
    "rate how poignant": lambda p: json.dumps({"ratings": [3] * int(p.split("memory, ")[1].split(" in")[0])}),
    "Should": '{"reasoning": "they are both free", "decision": "talk"}',
    "next line": '{"line": "Lovely morning for coffee, isn\'t it?", "end": true}',
}  # fmt: skip


async def test_agents_walk_to_the_cafe_and_remember_what_they_see(maze):
    gw = routed_gateway(GOOD)
    world = World(maze, make_agents(maze), now=START, run="test")
    starts = {a.name: a.scratch.tile for a in world.agents.values()}
    moves_per_step = [await world.advance(gw) for _ in range(40)]
    assert world.step == 40 and world.now == datetime(2023, 2, 13, 9, 6, 40)
    for name in NAMES:
        first, last = moves_per_step[0][name], moves_per_step[-1][name]
        assert first.tile != starts[name] or last.tile != starts[name]  # they moved
        assert "@ the Ville:Hobbs Cafe" in last.description and last.emoji
    # Every step moves at most one tile per agent.
    for before, after in pairwise(moves_per_step):
        for name in NAMES:
            (x0, y0), (x1, y1) = before[name].tile, after[name].tile
            assert abs(x0 - x1) + abs(y0 - y1) <= 1
    traces = gw.recorder.traces
    assert {t.item for t in traces if t.purpose == "plan.daily"} == set(NAMES)
    assert all(t.run == "test" for t in traces)


async def test_agents_who_meet_talk_once_and_both_remember_it(maze):
    gw = routed_gateway(GOOD)
    world = World(maze, make_agents(maze), now=START, run="test")
    chats = []
    for _ in range(80):
        moves = await world.advance(gw)
        chats += [m for m in moves.values() if m.chat]
    assert chats, "three agents in one cafe should have talked"
    talkers = {m.name for m in chats}
    for name in talkers:
        assert world.agents[name].stream.count("chat") >= 1
        assert world.agents[name].stream.count("event") >= 1


async def test_whispers_become_memories(maze):
    gw = routed_gateway(GOOD)
    agent = make_agents(maze)[0]
    added = await whisper(gw, agent, ["Isabella is planning a Valentine's Day party at Hobbs Cafe", " "], START)
    assert added == 1
    node = agent.stream.latest(1, kinds=("thought",))[0]
    assert "Valentine" in node.description and "hobbs cafe" in {k.lower() for k in node.keywords}


async def test_an_agent_does_not_reconsider_the_same_scene_every_step(maze):
    gw = routed_gateway({**GOOD, "Should": '{"reasoning": "busy", "decision": "continue"}'})
    world = World(maze, make_agents(maze), now=START, run="test")
    for _ in range(120):
        await world.advance(gw)
    decisions = [t for t in gw.recorder.traces if t.purpose == "react.decide"]
    # Three agents together in one cafe for 20 game minutes: a few decisions, not one per step.
    assert 0 < len(decisions) <= 12


async def test_waiting_then_talking_when_the_other_is_free(maze):
    decisions = iter(["wait"] * 3 + ["talk"] * 100)
    gw = routed_gateway({**GOOD, "Should": lambda p: json.dumps({"reasoning": "-", "decision": next(decisions)})})
    world = World(maze, make_agents(maze), now=START, run="test")
    waited = chatted = False
    for _ in range(200):
        moves = await world.advance(gw)
        waited = waited or any(m.emoji == "⌛" and "waiting for" in m.description for m in moves.values())
        chatted = chatted or any(m.chat for m in moves.values())
    assert waited and chatted


async def test_reflection_fires_inside_a_running_world(maze):
    gw = routed_gateway({
        **GOOD,
        "salient high-level questions": '{"questions": ["What do people do at the cafe?"]}',
        "high-level insights": '{"insights": [{"text": "The cafe is where everyone meets", "because_of": [1]}]}',
    })  # fmt: skip
    agents = make_agents(maze)
    config = AgentConfig.compact()
    config = replace(config, reflection=replace(config.reflection, threshold=6))  # two ordinary events are enough
    world = World(maze, agents, now=START, run="test", config=config)
    for _ in range(200):  # they walk to the cafe and see each other there
        await world.advance(gw)
    thoughts = [n for a in world.agents.values() for n in a.stream.by_kind("thought") if n.predicate == "reflects"]
    assert thoughts and all(n.evidence for n in thoughts)
    assert all(a.trigger.reflections >= 1 for a in world.agents.values() if a.stream.count("event") >= 2)


# --- reacting and talking, one agent pair at a time ----------------------------------------------

CHAT_SUMMARY = "conversing about Isabella's Valentine's Day party at Hobbs Cafe"


def pair_at_the_cafe(maze, now, config=None):
    """Isabella and Maria side by side in Hobbs Cafe, each busy with something."""
    agents = make_agents(maze)[:2]
    tile = maze.spawn_tile("Isabella Rodriguez bed")
    for agent, doing in zip(agents, ("wiping the counter", "drinking coffee"), strict=True):
        agent.scratch.tile = tile
        agent.scratch.action = Action(address=maze.address_at(*tile), description=doing, start=now, minutes=30,
                                      event=(agent.name, "is", doing))  # fmt: skip
    return World(maze, agents, now=now, run="test", config=config), agents


async def test_the_rules_come_before_any_model_call(maze):
    gw = routed_gateway({"Should": '{"reasoning": "she has news", "decision": "talk"}'})
    late = datetime(2023, 2, 13, 23, 30)
    world, (isabella, maria) = pair_at_the_cafe(maze, late, AgentConfig.paper())  # quiet hours (23, 24)
    events = world.events_by_tile()
    assert await world._consider_reacting(gw, isabella, events, late, {maria.name}, doing=isabella.doing()) is None
    assert gw.recorder.traces == []
    world, (isabella, maria) = pair_at_the_cafe(maze, START)
    events = world.events_by_tile()
    isabella.scratch.chat.cooldown[maria.name] = 5  # the per-pair buffer
    assert await world._consider_reacting(gw, isabella, events, START, {maria.name}, doing=isabella.doing()) is None
    del isabella.scratch.chat.cooldown[maria.name]
    maria.scratch.action.description = "sleeping"
    assert await world._consider_reacting(gw, isabella, events, START, {maria.name}, doing=isabella.doing()) is None
    assert gw.recorder.traces == []
    maria.scratch.action.description = "drinking coffee"
    assert await world._consider_reacting(gw, isabella, events, START, {maria.name}, doing=isabella.doing()) == (
        "talk",
        maria,
    )
    assert [t.purpose for t in gw.recorder.traces if t.kind != "embed"] == ["react.decide"]


async def test_a_chat_is_everyones_action_and_the_plans_interruption(maze, monkeypatch):
    import reverie.engine.world as module

    revised = []

    async def revise(gw, identity, scratch, now, interruption, minutes, *, config):
        assert config is world.config  # the run's own settings, not the default preset
        revised.append((identity.name, interruption, minutes))

    monkeypatch.setattr(module, "revise_for_interruption", revise)
    gw = routed_gateway({
        "Summarise in one phrase": json.dumps({"summary": CHAT_SUMMARY}),
        "next line": '{"line": "You must come to my party on the 14th!", "end": true}',
        "rate how poignant": '{"ratings": [7, 2]}',
    })  # fmt: skip
    world, (isabella, maria) = pair_at_the_cafe(maze, START)
    lines = await world._talk(gw, isabella, maria, START)
    assert lines == [("Isabella Rodriguez", "You must come to my party on the 14th!")]
    minutes = chat_minutes(lines)
    assert sorted(revised) == [("Isabella Rodriguez", CHAT_SUMMARY, minutes), ("Maria Lopez", CHAT_SUMMARY, minutes)]
    for me, other in ((isabella, maria), (maria, isabella)):
        assert me.scratch.action.description == CHAT_SUMMARY
        assert me.scratch.action.event == (me.name, "chat with", other.name)
        assert me.trigger.accumulated == 7  # the chat counts toward reflection
    # Others see what the chat is about.
    seen = {e.description for es in world.events_by_tile().values() for e in es}
    assert f"Isabella Rodriguez is {CHAT_SUMMARY}" in seen
    # Without count_chats the chat does not count; with no line said nothing happens at all.
    config = AgentConfig.compact()
    world, (isabella, maria) = pair_at_the_cafe(maze, START, replace(config, reflection=replace(
        config.reflection, count_chats=False)))  # fmt: skip
    await world._talk(gw, isabella, maria, START)
    assert isabella.trigger.accumulated == 0
    world, (isabella, maria) = pair_at_the_cafe(maze, START)
    assert await world._talk(routed_gateway({}, default="<html>"), isabella, maria, START) == []
    assert isabella.scratch.chat.partner is None and isabella.stream.count("chat") == 0
    assert isabella.scratch.action.description == "wiping the counter" and maria.name in isabella.scratch.chat.cooldown


async def a_step_where_both_plan(maze):
    """Isabella and Maria side by side, both starting a new action this step (50 ms a call);
    returns them and the step's model calls (embeddings left out)."""
    gw = routed_gateway(GOOD, delay=0.05)
    world, (isabella, maria) = pair_at_the_cafe(maze, START)
    for agent in (isabella, maria):
        agent.scratch.action.minutes = 0  # finished: both plan a new action this step
        agent.scratch.hourly_schedule = []
    world.agents.pop("Klaus Mueller", None)
    await world.advance(gw)
    return (isabella, maria), [t for t in gw.recorder.traces if t.kind != "embed"]


async def test_a_conversation_starts_while_the_speakers_places_are_chosen(maze):
    """Once everyone has decided whether to talk, a pair's conversation starts beside its
    speakers' place, object and details calls; it changes their actions only after
    their thinking is done, so the chat is what they do, not the plan's new action."""
    (isabella, maria), traces = await a_step_where_both_plan(maze)
    first_talk = min(t.created - t.seconds for t in traces if t.purpose == "converse.relationship")
    last_details = max(t.created for t in traces if t.purpose == "plan.details")
    assert first_talk < last_details
    # The line was written knowing its speaker's new activity, not the finished one.
    line = next(t for t in traces if t.purpose == "converse.line")
    assert line.prompt.startswith(f"Name: {isabella.name}")  # she starts it (pairs go by name)
    location = next(t for t in traces if t.purpose == "plan.location" and t.item == isabella.name)
    new = location.prompt.split("is going to be ")[1].split(". Where?")[0]
    assert f"{isabella.name} was {new} when" in line.prompt and new != "wiping the counter"
    for me in (isabella, maria):
        assert me.scratch.action.event[1] == "chat with" and me.scratch.chat.partner
    # The summary and both memos ran side by side; everything after them is one latency.
    summary = next(t for t in traces if t.purpose == "converse.summary")
    memos = [t for t in traces if t.purpose == "converse.memo"]
    assert len(memos) == 2 and all(m.created - m.seconds < summary.created for m in memos)


async def test_a_pair_the_pairing_drops_asks_nothing_it_uses(maze):
    """Three agents who all want to talk: the first pair by name talks; the third one's
    early relationship summaries (asked when it decided) are not used by anyone."""
    gw = routed_gateway(GOOD, delay=0.02)
    world = World(maze, make_agents(maze), now=START, run="test")
    tile = maze.spawn_tile("Isabella Rodriguez bed")
    for agent in world.agents.values():
        agent.scratch.tile = tile
        agent.scratch.action = Action(address=maze.address_at(*tile), description="standing around", start=START,
                                      minutes=30, event=(agent.name, "is", "standing around"))  # fmt: skip
    await world.advance(gw)
    partners = {a.name: a.scratch.chat.partner for a in world.agents.values()}
    talking = {name for name, partner in partners.items() if partner}
    assert len(talking) == 2, partners  # one conversation: nobody is in two
    alone = next(iter(set(world.agents) - talking))
    assert world.agents[alone].scratch.action.event[1] != "chat with"
    lines = [t for t in gw.recorder.traces if t.purpose == "converse.line"]
    assert lines and all(alone not in t.item for t in lines)
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]  # nothing left running


async def test_whether_to_talk_is_decided_while_the_new_actions_place_is_chosen(maze):
    """The decision sees the new activity as soon as it is known, and its call runs
    beside the place, object and details calls instead of after them."""
    (isabella, _), traces = await a_step_where_both_plan(maze)
    decide = next(t for t in traces if t.purpose == "react.decide" and t.item == isabella.name)
    details = next(t for t in traces if t.purpose == "plan.details" and t.item == isabella.name)
    location = next(t for t in traces if t.purpose == "plan.location" and t.item == isabella.name)
    new = location.prompt.split("is going to be ")[1].split(". Where?")[0]  # this step's new activity
    assert new != "wiping the counter"
    assert f"Isabella is {new}." in decide.prompt and "wiping the counter" not in decide.prompt
    assert decide.created - decide.seconds < details.created - details.seconds  # asked before the details
