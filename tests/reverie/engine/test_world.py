"""Whole steps on the real town with a scripted model: movement, memories, chats."""

import json
from dataclasses import replace
from datetime import datetime
from itertools import pairwise

import pytest

from reverie.engine.config import AgentConfig
from reverie.engine.persona import Identity, Scratch
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
    "Split that time into blocks": '{"blocks": [{"activity": "having coffee at the cafe", "hours": 4}, '
    '{"activity": "studying", "hours": 6}, {"activity": "reading", "hours": 6}]}',
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
