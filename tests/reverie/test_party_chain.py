"""The whole chain of the party scenario (issue 11, section 4), on the 25-agent base.

The model is tests/reverie/rule_model.py: it follows rules on what each prompt shows (it
mentions any news it remembers, accepts invitations, plans to attend events it has heard
of) and knows nothing of the base or of the answers. Everything else is the real thing:
the `paper` preset, services.fork / run_steps with the database, the engine, and
`manage.py reverie_eval`. Between stages the scene is moved by editing the database
(a persona's tile, the simulation's clock and step), as a shortened day:

1. Monday February 13, 10:00. Isabella Rodriguez (who is planning the party: only her
   identity says so) stands in Hobbs Cafe's cafe and Tom Moreno (B, who has never met
   her) on the walkable tile nearest her. Steps run until Tom has a chat memory with
   Isabella that mentions the party and the chat is over.
2. Monday 19:00. Tom is back home, in the Moreno family's living room, next to his wife
   Jane Moreno (C), who has never met Isabella and remembers nothing of a party. Steps run
   until Jane has a chat memory with Tom that mentions the party.
3. Tuesday February 14, 00:00 (the night skipped): the first step of the new day, where
   every agent revises its identity from what it remembers and plans the day. Tom's and
   Jane's schedules must hold the party at 17:00 (the clock time kept), and Maria Lopez's,
   who never heard of it, must not.
4. Tuesday 16:59. Steps run (bounded by the walk's length, one tile per 10-second step)
   until Jane stands in the Hobbs Cafe sector, before the party ends at 19:00.

Then `reverie_eval attendance` must count Jane (and Tom) as invited and attending, and
`reverie_eval diffusion` must find Tom and Jane aware now and not at step 0. At each
stage the test checks that the fact's text reached the next stage's prompt (the traces
of the gateway), and that the rule model never failed validation (no fallbacks).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from reverie import services
from reverie.models import EvalResult, MemoryNode, Movement, Simulation
from reverie.selectors import game_time
from reverie.town import Maze
from tests.reverie.rule_model import rule_gateway

BASE = "base_the_ville_n25"
HOST, B, C, NEVER = "Isabella Rodriguez", "Tom Moreno", "Jane Moreno", "Maria Lopez"
PARTY = 17 * 60  # the party's start, minutes after midnight
pytestmark = pytest.mark.django_db


def set_clock(sim: Simulation, when: datetime) -> Simulation:
    """Move the run's clock (and its step, which stays start + step x 10 s) to `when`."""
    step = int((when - game_time(sim.start_time)).total_seconds() // sim.sec_per_step)
    assert step > sim.step
    Simulation.objects.filter(pk=sim.pk).update(current_time=timezone.make_aware(when), step=step)
    sim.refresh_from_db()
    return sim


def put(sim: Simulation, name: str, tile: tuple[int, int]) -> None:
    persona = sim.personas.get(name=name)
    persona.scratch = {**persona.scratch, "tile": list(tile), "path": [], "path_set": True}
    persona.save(update_fields=["scratch"])


def side_by_side(maze: Maze, arena: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Two walkable tiles of `arena`, as close together as possible."""
    tiles = maze.walkable_tiles_of(arena)
    first = tiles[len(tiles) // 2]
    return first, min((t for t in tiles if t != first), key=lambda t: abs(t[0] - first[0]) + abs(t[1] - first[1]))


def run_until(sim: Simulation, gw: object, done: Callable[[Simulation], bool], *, limit: int) -> Simulation:
    for _ in range(limit):
        sim = services.run_steps(sim, 1, gateway=gw)
        if done(sim):
            return sim
    raise AssertionError(f"not done after {limit} steps (at {game_time(sim.current_time)})")


def memories(sim: Simulation, name: str, *, about: str = "party"):
    return MemoryNode.objects.filter(persona__simulation=sim, persona__name=name, description__icontains=about)


def chat_with(sim: Simulation, name: str, other: str) -> list[MemoryNode]:
    return [m for m in memories(sim, name).filter(kind="chat") if m.data["object"] == other]


def chatting(sim: Simulation, name: str) -> bool:
    return bool(sim.personas.get(name=name).scratch["chat"]["partner"])


def prompts(gw, purpose: str, item: str = "") -> list[str]:
    return [str(t.prompt) for t in gw.recorder.traces if t.purpose == purpose and (not item or item in t.item)]


def sector(maze: Maze, tile: list[int]) -> str:
    parts = maze.address_at(*tile).split(":")
    return parts[1] if len(parts) > 1 else ""


def test_the_party_reaches_a_third_agent_who_plans_it_and_comes(monkeypatch):
    began = time.perf_counter()
    gw = rule_gateway()
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gw)  # reverie_eval's gateway
    sim = services.fork(BASE, "party-chain", preset="paper", gateway=gw)
    maze = services.maze_for(sim.maze)
    assert not memories(sim, B).exists() and not memories(sim, C).exists()
    assert not MemoryNode.objects.filter(persona__simulation=sim, persona__name=C, description__icontains="Isabella")

    # 1. Isabella tells Tom at the cafe.
    sim = set_clock(sim, datetime(2023, 2, 13, 10, 0))
    here, beside = side_by_side(maze, "the Ville:Hobbs Cafe:cafe")
    put(sim, HOST, here)
    put(sim, B, beside)
    sim = run_until(sim, gw, lambda s: bool(chat_with(s, B, HOST)) and not chatting(s, B), limit=30)
    heard = chat_with(sim, B, HOST)[0]
    assert "Valentine's Day party at Hobbs Cafe on February 14 from 5pm" in heard.description
    memo = memories(sim, B).get(kind="thought", data__predicate="plans")
    assert "Hobbs Cafe" in memo.description and "will go" in memo.description
    # Her line came from her identity (the only place the party is), and Tom's memo from her line.
    first_line = heard.data["filling"][0]
    assert first_line[0] == HOST and "Hobbs Cafe" in first_line[1]
    assert any(p.startswith(f"Name: {HOST}") and "planning a Valentine's Day party" in p
               for p in prompts(gw, "converse.line", HOST))  # fmt: skip
    assert any(first_line[1] in p for p in prompts(gw, "converse.memo", B))

    # 2. Tom tells Jane at home in the evening.
    sim = set_clock(sim, datetime(2023, 2, 13, 19, 0))
    here, beside = side_by_side(maze, "the Ville:Moreno family's house:living room")
    put(sim, B, here)
    put(sim, C, beside)
    assert not memories(sim, C).exists()
    sim = run_until(sim, gw, lambda s: bool(chat_with(s, C, B)), limit=10)
    told = chat_with(sim, C, B)[0]
    assert "Valentine's Day party at Hobbs Cafe" in told.description
    assert told.data["filling"][0][0] == B  # Tom brought it up: his news, from his memory
    to_jane = [p for p in prompts(gw, "converse.line", B) if p.startswith(f"Name: {B}") and f"next line to {C}" in p]
    assert to_jane and "Hobbs Cafe on February 14 from 5pm" in to_jane[0].split("The conversation so far")[0]
    assert min(memories(sim, C), key=lambda m: m.node_id).node_id >= told.node_id  # nothing before the chat
    decided = [p for p in prompts(gw, "react.decide", B) if f"sees {C}" in p]
    assert decided and "Valentine's Day party" in decided[-1]  # his memory of Isabella's news reached the decision

    # 3. A new day: the agents revise who they are and plan the party in.
    sim = set_clock(sim, datetime(2023, 2, 14, 0, 0))
    sim = services.run_steps(sim, 1, gateway=gw)
    for name in (B, C):
        persona = sim.personas.get(name=name)
        assert "Valentine's Day party" in persona.identity["currently"]
        party = [i for i in persona.scratch["hourly_schedule"] if "party" in i["activity"]]
        assert [i["start"] for i in party] == [PARTY], (name, persona.scratch["hourly_schedule"])
        assert party[0]["minutes"] == 120 and "Hobbs Cafe" in party[0]["activity"]
    never = sim.personas.get(name=NEVER)
    assert not any("party" in i["activity"] for i in never.scratch["hourly_schedule"])
    # Jane's chat memory reached her identity revision; the revision reached the daily plan,
    # and the plan's "at 17:00" reached the schedule's prompt.
    assert "conversing about how Isabella Rodriguez is hosting" in prompts(gw, "plan.identity", C)[-1]
    assert "Jane plans to go to the Valentine's Day party" in prompts(gw, "plan.daily", C)[-1]
    assert "attend the Valentine's Day party at Hobbs Cafe at 17:00" in prompts(gw, "plan.hourly", C)[-1]

    # 4. Just before the party: Jane walks to Hobbs Cafe.
    sim = set_clock(sim, datetime(2023, 2, 14, 16, 59))
    jane = sim.personas.get(name=C)
    walk = len(maze.path_to_address(tuple(jane.scratch["tile"]), "the Ville:Hobbs Cafe:cafe"))
    sim = run_until(sim, gw, lambda s: sector(maze, s.personas.get(name=C).scratch["tile"]) == "Hobbs Cafe",
                    limit=6 + walk + 30)  # fmt: skip
    now = game_time(sim.current_time)
    assert datetime(2023, 2, 14, 17, 0) < now < datetime(2023, 2, 14, 19, 0)
    assert any("party" in p and "Hobbs Cafe: cafe" in p for p in prompts(gw, "plan.location", C))
    arrived = Movement.objects.filter(simulation=sim, persona=C).order_by("-step").first()
    assert sector(maze, [arrived.x, arrived.y]) == "Hobbs Cafe"
    assert "party" in arrived.description

    # reverie_eval reports it.
    out = io.StringIO()
    call_command("reverie_eval", sim.name, "attendance", stdout=out)
    summary = EvalResult.objects.get(simulation=sim, measure="attendance").summary
    assert {B, C} <= set(summary["invited"]) and {B, C} <= set(summary["invited_attended"])
    assert NEVER not in summary["invited"] and summary["host"] == HOST
    assert f"{C}: " in out.getvalue() and "(invited)" in out.getvalue()
    out = io.StringIO()
    call_command("reverie_eval", sim.name, "diffusion", stdout=out)
    party = EvalResult.objects.get(simulation=sim, measure="diffusion").summary["scenarios"]["party"]
    assert party["start"]["aware"] == [HOST] and party["start"]["pct"] == 4.0
    assert {HOST, B, C} <= set(party["now"]["aware"]) and NEVER not in party["now"]["aware"]
    assert not party["start"]["hallucinated"] and not party["now"]["hallucinated"]
    line = next(row for row in out.getvalue().splitlines() if row.strip().startswith("party"))
    assert "4.0%" in line and "4% -> 52%" in line

    assert gw.backend.unknown == []
    assert [t.purpose for t in gw.recorder.traces if t.outcome == "fallback"] == []
    print(f"\nwhole chain: {sim.step} at {game_time(sim.current_time)}, {time.perf_counter() - began:.1f} s")
