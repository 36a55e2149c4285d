"""the_ville: it loads and validates, houses all 25 residents, and everything is reachable."""

from __future__ import annotations

from collections import Counter, deque
from pathlib import Path

import numpy as np
import pytest
import yaml

from reverie.town import load_spec

# The 25 residents come from the base simulation: the town must have a bed for each.
RESIDENTS = yaml.safe_load((Path(__file__).resolve().parents[3] / "storage/base/base_the_ville_n25/meta.yaml")
                           .read_text(encoding="utf-8"))["personas"]  # fmt: skip
HOME_KINDS = {"house", "apartment", "dorm", "co-living"}


def bfs(maze, start) -> np.ndarray:
    """Tiles reachable from start, computed here independently of the pathfinder."""
    seen = np.zeros((maze.height, maze.width), dtype=bool)
    seen[start[1], start[0]] = True
    queue = deque([start])
    while queue:
        x, y = queue.popleft()
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if maze.is_walkable(nx, ny) and not seen[ny, nx]:
                seen[ny, nx] = True
                queue.append((nx, ny))
    return seen


def test_loads_and_validates(the_ville):
    spec = load_spec("the_ville")
    assert (spec.name, spec.world, spec.width, spec.height, spec.tile_size) == ("the_ville", "the Ville", 140, 100, 32)
    assert the_ville.collision.shape == (100, 140)


def test_has_the_papers_places(the_ville):
    spec = the_ville.spec
    kinds = Counter(sector.kind for sector in spec.sectors)
    for kind in ("cafe", "college", "dorm", "pub", "store", "market", "pharmacy", "park", "co-living"):
        assert kinds[kind] >= 1, kind
    homes = [s for s in spec.sectors if s.kind in HOME_KINDS]
    assert len(homes) >= 8
    cafe = spec.sector("Hobbs Cafe")
    assert {"cafe", "kitchen"} <= {a.name for a in cafe.arenas}
    cafe_kinds = {o.kind for a in cafe.arenas for o in a.objects}
    assert {"counter", "table", "stove", "fridge", "piano"} <= cafe_kinds
    college = spec.sector("Oak Hill College")
    assert {"classroom", "library"} <= {a.name for a in college.arenas}
    assert spec.sector("Oak Hill College Dorm").kind == "dorm"
    object_kinds = {o.kind for _, _, o in spec.objects()}
    wanted = {"bed", "desk", "stove", "fridge", "toilet", "shower", "table", "counter", "bookshelf", "easel", "piano"}
    assert wanted | {"bench"} <= object_kinds


def test_every_resident_has_a_bed_spawn_beside_a_bed(the_ville):
    assert sorted(the_ville.spawns) == sorted(f"{name} bed" for name in RESIDENTS)
    for name in RESIDENTS:
        x, y = the_ville.spawn_tile(f"{name} bed")
        assert the_ville.is_walkable(x, y)
        arena = the_ville.legends["arena"][int(the_ville.arena[y, x])]
        beside = {the_ville.address_at(x + dx, y + dy) for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))}
        assert f"{arena}:bed" in beside, (name, arena, beside)
    # the three of the small base simulation live where the paper put them
    assert the_ville.address_at(*the_ville.spawn_tile("Isabella Rodriguez bed")).startswith(
        "the Ville:Isabella Rodriguez's apartment"
    )
    for student in ("Maria Lopez", "Klaus Mueller"):
        assert the_ville.address_at(*the_ville.spawn_tile(f"{student} bed")).startswith(
            "the Ville:Oak Hill College Dorm"
        )


def test_homes_have_beds_for_everyone_and_a_bathroom(the_ville):
    spec = the_ville.spec
    spawns_by_sector = Counter(the_ville.address_at(*tile).split(":")[1] for tile in the_ville.spawns.values())
    assert sum(spawns_by_sector.values()) == 25
    for sector in spec.sectors:
        if sector.kind not in HOME_KINDS:
            assert spawns_by_sector[sector.name] == 0
            continue
        assert spawns_by_sector[sector.name] >= 1, sector.name
        kinds = Counter(o.kind for a in sector.arenas for o in a.objects)
        assert kinds["bed"] >= 1 and kinds["toilet"] >= 1 and kinds["stove"] >= 1 and kinds["fridge"] >= 1, sector.name
        assert kinds["shower"] + kinds["bathtub"] >= 1, sector.name


@pytest.fixture(scope="module")
def reach(the_ville):
    return {name: bfs(the_ville, tile) for name, tile in the_ville.spawns.items()}


def test_every_arena_and_object_is_reachable_from_every_spawn(the_ville, reach):
    arena_tiles = {address: the_ville.walkable_tiles_of(address) for address in the_ville.addresses("arena")}
    access = {address: the_ville.object_access_tiles(address) for address in the_ville.addresses("game_object")}
    for name, seen in reach.items():
        for address, tiles in arena_tiles.items():
            assert any(seen[y, x] for x, y in tiles), (name, address)
        for address, tiles in access.items():
            assert all(seen[y, x] for x, y in tiles), (name, address)
        for other, (x, y) in the_ville.spawns.items():
            assert seen[y, x], (name, other)
        # and there are no enclosed pockets: every walkable tile is reachable
        assert np.array_equal(seen, the_ville.collision == 0)


def test_paths_between_homes_and_places(the_ville):
    start = the_ville.spawn_tile("Klaus Mueller bed")
    path = the_ville.path_to_address(start, "the Ville:Hobbs Cafe:cafe:cafe counter")
    assert path[0] == start and path[-1] in the_ville.object_access_tiles("the Ville:Hobbs Cafe:cafe:cafe counter")
    # the walk leaves the dorm through its door and enters the cafe through one of its doors
    addresses = [the_ville.address_at(*tile) for tile in path]
    assert "the Ville:Oak Hill College Dorm" in addresses and "the Ville:Hobbs Cafe" in addresses
