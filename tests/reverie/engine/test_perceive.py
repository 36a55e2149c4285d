"""Perception: vision, attention to the own arena, retention, batched poignancy."""

import json
from dataclasses import replace
from datetime import datetime

from reverie.engine.config import AgentConfig, PerceptionConfig
from reverie.engine.memory import MemoryStream, ReflectionTrigger
from reverie.engine.perceive import WorldEvent, attend, perceive, visible_tiles
from reverie.engine.persona import Scratch
from reverie.engine.spatial import SpatialMemory
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_persona import ISABELLA

NOW = datetime(2023, 2, 13, 9, 0)


class TwoRooms:
    """A 12x6 map: x < 6 is the cafe, x >= 6 the kitchen; a stove at (8, 2)."""

    def in_bounds(self, x: int, y: int) -> bool:
        return 0 <= x < 12 and 0 <= y < 6

    def address_at(self, x: int, y: int) -> str:
        arena = "cafe" if x < 6 else "kitchen"
        obj = ":stove" if (x, y) == (8, 2) else ""
        return f"w:Hobbs Cafe:{arena}{obj}"


def ev(tile, subject, description, predicate="is", obj="busy"):
    return WorldEvent(tile, subject, predicate, obj, description)


def test_vision_is_a_clipped_square():
    assert len(visible_tiles(TwoRooms(), (0, 0), 2)) == 9
    assert len(visible_tiles(TwoRooms(), (5, 3), 1)) == 9


def test_attention_keeps_the_nearest_events_in_the_own_arena():
    events = {
        (2, 2): [ev((2, 2), "Klaus Mueller", "Klaus is reading")],
        (4, 2): [ev((4, 2), "Maria Lopez", "Maria is studying")],
        (1, 1): [ev((1, 1), "Isabella Rodriguez", "Isabella is serving coffee")],  # herself
        (5, 5): [ev((5, 5), "Sam Moore", "Sam is drinking tea")],
        (8, 2): [ev((8, 2), "stove", "the stove is heating", obj="heating")],  # other arena
    }
    spatial = SpatialMemory()
    got = attend(TwoRooms(), "Isabella Rodriguez", (1, 2), events, radius=8, bandwidth=2, spatial=spatial)
    assert [e.subject for e in got] == ["Klaus Mueller", "Maria Lopez"]
    assert spatial.knows("w:Hobbs Cafe:kitchen:stove") and spatial.knows("w:Hobbs Cafe:cafe")


class Library(TwoRooms):
    """TwoRooms with other names: a town of its own at the same coordinates."""

    def address_at(self, x: int, y: int) -> str:
        return super().address_at(x, y).replace("Hobbs Cafe", "Library")


def test_what_a_tile_shows_is_worked_out_once_per_town_and_still_learned_by_everyone():
    """A town's view from a tile is kept (its places do not move): every agent standing
    there still learns the places, and another town at the same coordinates has its own."""
    cafe, library = TwoRooms(), Library()
    events = {(2, 2): [ev((2, 2), "Klaus Mueller", "Klaus is reading")]}
    first, second, third = SpatialMemory(), SpatialMemory(), SpatialMemory()
    assert [e.subject for e in attend(cafe, "Isabella Rodriguez", (1, 2), events, radius=8, bandwidth=2,
                                      spatial=first)] == ["Klaus Mueller"]  # fmt: skip
    moved = {(3, 2): [ev((3, 2), "Maria Lopez", "Maria is studying")]}  # events are not part of the view
    assert [e.subject for e in attend(cafe, "Isabella Rodriguez", (1, 2), moved, radius=8, bandwidth=2,
                                      spatial=second)] == ["Maria Lopez"]  # fmt: skip
    attend(library, "Isabella Rodriguez", (1, 2), events, radius=8, bandwidth=2, spatial=third)
    assert first.to_dict() == second.to_dict() and first.knows("w:Hobbs Cafe:kitchen:stove")
    assert third.knows("w:Library:kitchen:stove") and not third.knows("w:Hobbs Cafe:cafe")


def test_ties_in_distance_and_description_go_by_tile_row_by_row():
    same = "someone is reading"
    events = {
        (2, 3): [ev((2, 3), "D", same)],
        (2, 1): [ev((2, 1), "B", same)],
        (0, 3): [ev((0, 3), "C", same)],
        (0, 1): [ev((0, 1), "A", same)],
    }
    got = attend(TwoRooms(), "Isabella Rodriguez", (1, 2), events, radius=8, bandwidth=4)
    assert [e.subject for e in got] == ["A", "B", "C", "D"]


async def test_new_events_are_rated_in_one_call_and_stored():
    gw = routed_gateway({"rate how poignant": '{"ratings": [6]}'})
    stream, trigger = MemoryStream(), ReflectionTrigger(threshold=10)
    scratch = Scratch(tile=(1, 2))
    events = {(2, 2): [ev((2, 2), "Klaus Mueller", "Klaus is reading")],
              (3, 2): [ev((3, 2), "chair", "the chair is idle", obj="idle")]}  # fmt: skip
    nodes = await perceive(gw, ISABELLA, scratch, stream, SpatialMemory(), TwoRooms(), events, NOW, trigger)
    assert {(n.subject, n.poignancy) for n in nodes} == {("Klaus Mueller", 6), ("chair", 1)}
    assert trigger.accumulated == 7
    rating_calls = [t for t in gw.recorder.traces if t.purpose == "perceive.poignancy"]
    assert len(rating_calls) == 1 and "the chair is idle" not in rating_calls[0].prompt
    # The same scene next step is not news.
    again = await perceive(gw, ISABELLA, scratch, stream, SpatialMemory(), TwoRooms(), events, NOW, trigger)
    assert again == [] and stream.count("event") == 2


async def test_bad_ratings_fall_back_to_a_middling_score():
    gw = routed_gateway({}, default='{"ratings": [99]}')
    events = {(2, 2): [ev((2, 2), "Klaus Mueller", "Klaus is reading")]}
    nodes = await perceive(gw, ISABELLA, Scratch(tile=(1, 2)), MemoryStream(), SpatialMemory(), TwoRooms(), events,
                           NOW, ReflectionTrigger())  # fmt: skip
    assert [n.poignancy for n in nodes] == [4]


async def test_without_observations_nothing_is_stored_but_people_are_still_noticed():
    gw = routed_gateway({"rate how poignant": '{"ratings": [6]}'})
    stream, trigger = MemoryStream(), ReflectionTrigger()
    events = {(2, 2): [ev((2, 2), "Klaus Mueller", "Klaus is reading")]}
    config = AgentConfig.compact().with_ablation("no_memory")
    noticed = await perceive(gw, ISABELLA, Scratch(tile=(1, 2)), stream, SpatialMemory(), TwoRooms(), events, NOW,
                             trigger, config=config)  # fmt: skip
    assert [n.subject for n in noticed] == ["Klaus Mueller"]  # the agent may still react to Klaus
    assert len(stream) == 0 and trigger.recorded == 0 and gw.recorder.traces == []


async def test_own_perception_values_win_and_the_config_fills_in_the_rest():
    events = {(1 + d, 2): [ev((1 + d, 2), f"Person {d}", f"Person {d} is reading")] for d in range(1, 6)}
    gw = routed_gateway({"rate how poignant": lambda p: json.dumps({"ratings": [3] * p.count(" is reading")})})
    config = replace(AgentConfig.compact(), perception=PerceptionConfig(vision_radius=8, attention_bandwidth=4))
    own = Scratch(tile=(1, 2), attention_bandwidth=2)
    nodes = await perceive(gw, ISABELLA, own, MemoryStream(), SpatialMemory(), TwoRooms(), events, NOW,
                           ReflectionTrigger(), config=config)  # fmt: skip
    assert len(nodes) == 2  # the persona's own bandwidth
    unset = Scratch(tile=(1, 2), attention_bandwidth=0)
    nodes = await perceive(gw, ISABELLA, unset, MemoryStream(), SpatialMemory(), TwoRooms(), events, NOW,
                           ReflectionTrigger(), config=config)  # fmt: skip
    assert len(nodes) == 4  # the config's default
