"""Conversations, timelines, model calls per step and the diffusion of seeded facts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from environment.llmlog.models import LLMCall
from reverie import analytics, services
from reverie.models import MemoryNode, Movement, Persona, Simulation
from tests.reverie.engine.fakes import routed_gateway

BASE = "base_the_ville_isabella_maria_klaus"
START = datetime(2023, 2, 13, 7, 0, 0)
HELLO = [["Isabella Rodriguez", "Hi Klaus! Coffee?"], ["Klaus Mueller", "Yes please, Isabella."]]
PARK = [["Maria Lopez", "Lovely fountain."], ["Klaus Mueller", "It is."]]
pytestmark = pytest.mark.django_db


def _sim(name: str) -> Simulation:
    return services.fork(BASE, name, gateway=routed_gateway({}))  # embeds the starting relationships


def _move(sim: Simulation, step: int, name: str, description: str, *, tile=(1, 1), chat=None, emoji="🙂") -> Movement:
    return Movement(
        simulation=sim, step=step, persona=name, x=tile[0], y=tile[1], emoji=emoji, description=description, chat=chat
    )


def test_conversations_are_listed_once_with_place_and_time():
    sim = _sim("talks")
    maze = services.maze_for("the_ville")
    cafe_tile = maze.walkable_tiles_of("the Ville:Hobbs Cafe:cafe")[0]
    park = "the Ville:Johnson Park:garden:fountain"
    rows = []
    for step in range(40):
        # Isabella and Klaus talk at the cafe over steps 10..12 (both rows carry the lines);
        # while talking the engine's address is "<persona> ...", so the tile names the place.
        hello = HELLO if 10 <= step <= 12 else None
        rows.append(_move(sim, step, "Isabella Rodriguez", "chatting with Klaus Mueller @ <persona> Klaus Mueller"
                          if hello else "serving @ the Ville:Hobbs Cafe:cafe:cafe counter", tile=cafe_tile,
                          chat=hello))  # fmt: skip
        # Klaus talks to Maria in the park at step 30 (one step, like the engine), and
        # the very same lines again at step 33: a second conversation.
        park_talk = PARK if step in (30, 33) else None
        rows.append(_move(sim, step, "Klaus Mueller", f"walking @ {park}", chat=hello or park_talk))
        rows.append(_move(sim, step, "Maria Lopez", f"sitting by the fountain @ {park}", chat=park_talk))
    Movement.objects.bulk_create(rows)
    talks = analytics.conversations(sim)
    assert [(c.step, c.end_step) for c in talks] == [(10, 12), (30, 30), (33, 33)]
    first, second, third = talks
    assert first.participants == ("Isabella Rodriguez", "Klaus Mueller")
    assert first.lines == tuple(tuple(line) for line in HELLO)
    assert first.place == "Hobbs Cafe: cafe"
    assert first.time == START + timedelta(seconds=100)
    assert second.participants == ("Maria Lopez", "Klaus Mueller") and second.place == "Johnson Park: garden"
    assert third.time == datetime(2023, 2, 13, 7, 5, 30)


def test_place_of_addresses():
    assert analytics.place_of("the Ville:Hobbs Cafe:cafe:counter") == "Hobbs Cafe: cafe"
    assert analytics.place_of("the Ville:Johnson Park") == "Johnson Park"
    assert analytics.place_of("the Ville") == ""
    assert analytics.place_of("elsewhere:Hobbs Cafe:cafe", world="the Ville") == ""


def test_timeline_spans_of_one_action():
    sim = _sim("days")
    rows = []
    for step in range(30):
        maria = "sleeping @ bed" if step < 10 else "studying @ desk" if step < 25 else "sleeping @ bed"
        rows.append(_move(sim, step, "Maria Lopez", maria, emoji="😴" if "sleep" in maria else "📚"))
        rows.append(_move(sim, step, "Klaus Mueller", "reading @ desk", emoji="📖" if step < 5 else "📚"))
    Movement.objects.bulk_create(rows)
    spans = analytics.timeline(sim)
    assert list(spans) == ["Maria Lopez", "Klaus Mueller"]  # the simulation's persona order
    maria = spans["Maria Lopez"]
    assert [(s.start_step, s.end_step, s.emoji, s.description) for s in maria] == [
        (0, 9, "😴", "sleeping @ bed"),
        (10, 24, "📚", "studying @ desk"),
        (25, 29, "😴", "sleeping @ bed"),
    ]
    assert maria[1].start == START + timedelta(seconds=100) and maria[1].end == START + timedelta(seconds=250)
    assert maria[1].minutes == 2.5
    # The same description with a new emoji stays one span (it keeps the first emoji).
    assert [(s.start_step, s.end_step, s.emoji) for s in spans["Klaus Mueller"]] == [(0, 29, "📖")]
    only = analytics.timeline(sim, persona="Klaus Mueller")
    assert list(only) == ["Klaus Mueller"]
    assert analytics.timeline(sim, persona="Nobody") == {}


def test_calls_per_step_sums_the_simulation_traces():
    sim = _sim("costs")
    other = _sim("other-costs")
    now = timezone.now()

    def call(run: str, step: int | None, prompt: int, completion: int) -> LLMCall:
        return LLMCall(created=now, run=run, step=step, item="Klaus Mueller", purpose="plan.next_action", kind="json",
                       model="fake", outcome="ok", prompt_tokens=prompt, completion_tokens=completion)  # fmt: skip

    LLMCall.objects.bulk_create([
        call(sim.run_label, 0, 100, 10), call(sim.run_label, 0, 50, 5), call(sim.run_label, 3, 7, 1),
        call(sim.run_label, None, 999, 999),  # a whisper: no step
        call(other.run_label, 0, 1000, 1000),  # another simulation
    ])  # fmt: skip
    costs = analytics.calls_per_step(sim)
    assert costs == [
        analytics.StepCost(step=0, calls=2, prompt_tokens=150, completion_tokens=15),
        analytics.StepCost(step=3, calls=1, prompt_tokens=7, completion_tokens=1),
    ]
    assert costs[0].tokens == 165
    assert analytics.calls_per_step(_sim("no-calls")) == []


def _remember(persona: Persona, node_id: int, step: int, description: str) -> MemoryNode:
    when = timezone.make_aware(START + timedelta(seconds=10 * step))
    # After the starting relationships the fork remembers (ids from 1).
    return MemoryNode.objects.create(persona=persona, node_id=100 + node_id, data={}, kind="event",
                                     description=description, created=when, last_accessed=when, step=step)  # fmt: skip


def test_diffusion_of_the_party_and_the_crush():
    sim = _sim("gossip")
    people = {p.name: p for p in sim.personas.all()}
    # Isabella is the party's seed: she knows from step 0 whatever her memories say.
    _remember(people["Isabella Rodriguez"], 1, 50, "Isabella is decorating the cafe")
    # Klaus hears of it at step 120 ("Valentine's" matches the keyword "valentine").
    _remember(people["Klaus Mueller"], 1, 80, "Klaus is reading a book about cities")
    _remember(people["Klaus Mueller"], 2, 120, "Isabella told Klaus about her Valentine's Day gathering")
    _remember(people["Klaus Mueller"], 3, 300, "Klaus is thinking about the PARTY")
    # Maria's "partying" is not "party": whole words only. She learns of it at step 200.
    _remember(people["Maria Lopez"], 1, 60, "Maria sees students partying in the dorm")
    _remember(people["Maria Lopez"], 2, 200, "Maria heard there is a party at Hobbs Cafe!")
    # Nobody else learns of the crush; "crushed" is not "crush".
    _remember(people["Klaus Mueller"], 4, 400, "Klaus crushed the empty can")
    found = {d.scenario: d for d in analytics.diffusion(sim)}
    assert list(found) == ["party", "crush"]
    party = found["party"]
    assert party.seeded_in == "Isabella Rodriguez" and party.total == 3 and party.aware == 3
    assert party.first_step == {"Isabella Rodriguez": 0, "Klaus Mueller": 120, "Maria Lopez": 200}
    assert party.points == [(0, 1), (120, 2), (200, 3)]
    assert party.keywords == ("valentine", "party", "parties")
    assert party.description.startswith("Isabella Rodriguez is hosting a Valentine's Day party")
    crush = found["crush"]
    assert crush.first_step == {"Maria Lopez": 0} and crush.points == [(0, 1)]


def test_diffusion_without_scenarios_and_the_keyword_pattern():
    sim = _sim("plain")
    sim.meta = {}
    sim.save(update_fields=["meta"])
    assert analytics.diffusion(sim) == []
    pattern = analytics.keyword_pattern(["party", "parties"])
    assert pattern is not None
    assert pattern.search("A Party!") and pattern.search("the party's theme") and pattern.search("parties")
    assert not pattern.search("partying") and not pattern.search("counterparty")
    assert analytics.keyword_pattern(["", "  "]) is None
