"""The generator: grids agree with the spec, lookups, determinism, serialisation."""

from __future__ import annotations

import copy
import pickle
import random

import numpy as np
import pytest

from reverie.town import GRIDS, Maze, build_maze, parse_spec

from .conftest import TINY


def test_grids_have_the_town_shape_and_are_read_only(tiny_maze):
    for name, grid in tiny_maze.grids().items():
        assert grid.shape == (14, 24), name
        assert not grid.flags.writeable, name
    with pytest.raises(ValueError):
        tiny_maze.collision[0, 0] = 1


def test_every_object_tile_carries_its_address(the_ville, tiny_maze):
    for maze in (tiny_maze, the_ville):
        for sector, arena, obj in maze.spec.objects():
            address = maze.spec.address(sector.name, arena.name, obj.name)
            for x, y in obj.tiles():
                assert maze.legends["game_object"][int(maze.game_object[y, x])] == address
                assert maze.address_at(x, y) == address
                assert maze.legends["arena"][int(maze.arena[y, x])] == maze.spec.address(sector.name, arena.name)
                assert bool(maze.collision[y, x]) == obj.blocking
            assert sorted(maze.tiles_of(address)) == sorted(set(obj.tiles()))


def test_walls_collide_and_doors_do_not(the_ville, tiny_maze):
    for maze in (tiny_maze, the_ville):
        for sector in maze.spec.sectors:
            sid = maze.spec.address(sector.name)
            for x, y in sector.rect.tiles():
                assert maze.legends["sector"][int(maze.sector[y, x])] == sid
                in_arena = sector.arena_at((x, y)) is not None
                is_door = (x, y) in sector.doors
                assert bool(maze.door[y, x]) == is_door
                if sector.walls and not in_arena and not is_door:
                    assert maze.wall[y, x] and maze.collision[y, x], (sector.name, x, y)
                    assert maze.arena[y, x] == 0
                if is_door:
                    assert not maze.collision[y, x] and maze.address_at(x, y) == sid
                if not sector.walls:
                    assert not maze.wall[y, x]


def test_tiny_layout(tiny_maze):
    m = tiny_maze
    assert m.render().splitlines()[1:5] == [
        " ############",
        " #BB........#  ,,,,,,,,",
        " #..S.......#  ,ooo...,",
        " ######+#####  ,......,",
    ]
    assert m.address_at(0, 0) == "Tinyville"
    assert m.address_at(15, 3) == "Tinyville:park"  # open ground of the park, in no arena
    assert m.address_at(17, 3) == "Tinyville:park:lawn:bench"
    assert m.address_at(4, 3) == "Tinyville:Ada's house:bedroom"
    assert m.floor_legend[int(m.floor[12, 0])] == "road"
    assert m.floor_legend[int(m.floor[2, 4])] == "carpet"
    info = m.tile_info(4, 3)
    assert (info.sector, info.arena, info.game_object, info.spawning_location) == (
        "Ada's house",
        "bedroom",
        "",
        "Ada bed",
    )
    with pytest.raises(ValueError, match="outside town"):
        m.address_at(24, 0)


def test_legends_map_ids_to_addresses_in_spec_order(tiny_maze):
    assert tiny_maze.legends["sector"] == {1: "Tinyville:Ada's house", 2: "Tinyville:park"}
    assert tiny_maze.legends["arena"] == {
        1: "Tinyville:Ada's house:living room",
        2: "Tinyville:Ada's house:bedroom",
        3: "Tinyville:park:lawn",
    }
    assert tiny_maze.legends["game_object"][3] == "Tinyville:Ada's house:bedroom:bed"
    assert tiny_maze.legends["spawning_location"] == {1: "Tinyville:Ada's house:bedroom:Ada bed"}
    for grid in GRIDS:
        ids = set(np.unique(getattr(tiny_maze, grid)).tolist()) - {0}
        assert ids == set(tiny_maze.legends[grid]), grid


def test_tiles_of_every_level(tiny_maze):
    m = tiny_maze
    assert len(m.tiles_of("Tinyville")) == 24 * 14
    assert len(m.tiles_of("Tinyville:Ada's house")) == 12 * 9
    assert m.tiles_of("Tinyville:Ada's house:bedroom") == tuple((x, y) for y in (2, 3) for x in range(2, 12))
    assert m.tiles_of("Tinyville:Ada's house:bedroom:bed") == ((2, 2), (3, 2))
    with pytest.raises(KeyError, match="did you mean 'Tinyville:park:lawn'"):
        m.tiles_of("Tinyville:park:lawns")


def test_object_access_and_use_tiles(tiny_maze, the_ville):
    m = tiny_maze
    # the declared use tile first, then the free tiles next to the bed, all in the bedroom
    assert m.object_access_tiles("Tinyville:Ada's house:bedroom:bed") == ((4, 2), (2, 3), (3, 3))
    assert m.use_tile("Tinyville:Ada's house:bedroom:bed") == (4, 2)
    # a non-blocking object is used from its own tiles first
    bench = m.object_access_tiles("Tinyville:park:lawn:bench")
    assert bench[:3] == ((16, 3), (17, 3), (18, 3))
    with pytest.raises(KeyError, match="not a game object"):
        m.object_access_tiles("Tinyville:park:lawn")
    for maze in (m, the_ville):
        for address in maze.addresses("game_object"):
            tiles = maze.object_access_tiles(address)
            own = set(maze.tiles_of(address))
            assert tiles, address
            for x, y in tiles:
                assert maze.is_walkable(x, y)
                near = (x, y) in own or any((x + dx, y + dy) in own for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)))
                assert near, (address, x, y)
                assert maze.legends["arena"][int(maze.arena[y, x])] == address.rsplit(":", 1)[0]


def test_spawn_tile_by_name_or_address(tiny_maze):
    assert tiny_maze.spawn_tile("Ada bed") == (4, 3)
    assert tiny_maze.spawn_tile("Tinyville:Ada's house:bedroom:Ada bed") == (4, 3)
    with pytest.raises(KeyError, match="did you mean 'Ada bed'"):
        tiny_maze.spawn_tile("Ada bde")


def test_random_walkable_tile_is_deterministic_and_inside(the_ville):
    for within in (None, "the Ville:Hobbs Cafe", "the Ville:Hobbs Cafe:kitchen", "the Ville:Hobbs Cafe:kitchen:stove"):
        a = [the_ville.random_walkable_tile(random.Random(7), within) for _ in range(3)]
        b = [the_ville.random_walkable_tile(random.Random(7), within) for _ in range(3)]
        assert a == b
        rng = random.Random(1)
        for _ in range(50):
            x, y = the_ville.random_walkable_tile(rng, within)
            assert the_ville.is_walkable(x, y)
            if within and within.count(":") < 3:
                assert the_ville.address_at(x, y).startswith(within)
        gen = np.random.default_rng(3)
        tile = the_ville.random_walkable_tile(gen, within)
        assert tile == the_ville.random_walkable_tile(np.random.default_rng(3), within)
    stove = the_ville.object_access_tiles("the Ville:Hobbs Cafe:kitchen:stove")
    assert the_ville.random_walkable_tile(random.Random(0), "the Ville:Hobbs Cafe:kitchen:stove") in stove


def test_spatial_tree(the_ville, tiny_maze):
    tree = tiny_maze.spatial_tree()
    assert tree == {
        "Tinyville": {
            "Ada's house": {"living room": ["sofa", "table"], "bedroom": ["bed"]},
            "park": {"lawn": ["bench", "oak"]},
        }
    }
    tree["Tinyville"].clear()  # callers get a copy
    assert tiny_maze.spatial_tree()["Tinyville"]
    cafe = the_ville.spatial_tree()["the Ville"]["Hobbs Cafe"]
    assert {"cafe", "kitchen"} <= set(cafe) and "cafe counter" in cafe["cafe"]


def test_building_is_deterministic():
    one = build_maze(parse_spec(copy.deepcopy(TINY)))
    two = build_maze(parse_spec(copy.deepcopy(TINY)))
    for name, grid in one.grids().items():
        assert np.array_equal(grid, two.grids()[name]), name
    assert one.legends == two.legends and one.to_bytes() == two.to_bytes()


def test_pickle_round_trip(the_ville):
    data = the_ville.to_bytes()
    copy_ = Maze.from_bytes(data)
    for name, grid in the_ville.grids().items():
        assert np.array_equal(grid, copy_.grids()[name]) and grid.dtype == copy_.grids()[name].dtype
        assert not copy_.grids()[name].flags.writeable
    assert copy_.legends == the_ville.legends and copy_.spawns == the_ville.spawns
    assert copy_.address_at(14, 47) == the_ville.address_at(14, 47)
    assert copy_.find_path((0, 31), (139, 31)) == the_ville.find_path((0, 31), (139, 31))
    assert pickle.loads(pickle.dumps(the_ville)).spec == the_ville.spec
    with pytest.raises(TypeError):
        Maze.from_bytes(pickle.dumps({"not": "a maze"}))


def test_save_and_load(tmp_path, tiny_maze):
    tiny_maze.save(tmp_path / "maze.pickle")
    assert Maze.load(tmp_path / "maze.pickle").legends == tiny_maze.legends


def test_shared_layouts_land_at_each_sectors_origin(the_ville):
    moore = the_ville.spec.sector("Moore family's house")
    moreno = the_ville.spec.sector("Moreno family's house")
    dx = moreno.rect.x - moore.rect.x
    for a, b in zip(moore.arenas, moreno.arenas, strict=True):
        assert a.name == b.name and b.rect.x - a.rect.x == dx and b.rect.y == a.rect.y
    bed_a = the_ville.tiles_of("the Ville:Moore family's house:bedroom:bed")
    bed_b = the_ville.tiles_of("the Ville:Moreno family's house:bedroom:bed")
    assert [(x + dx, y) for x, y in bed_a] == list(bed_b)


def test_command_line(capsys):
    from reverie.town.__main__ import main

    assert main(["check", "the_ville"]) == 0
    assert "is valid" in capsys.readouterr().out
    assert main(["show", "the_ville", "--region", "0", "0", "20", "5"]) == 0
    assert "#" in capsys.readouterr().out
    assert main(["check", "no_such_town_here"]) == 1


def test_places_in_a_square_are_what_the_tiles_show_row_by_row(the_ville, tiny_maze):
    """`places_in_square` (one array lookup) agrees with reading every tile's address in
    the square, row by row, keeping arena and object addresses once each: at the edges,
    outside the town, and for radius 0."""
    rng = random.Random(7)
    for town in (the_ville, tiny_maze):
        for _ in range(300):
            center = (rng.randrange(-3, town.width + 3), rng.randrange(-3, town.height + 3))
            radius = rng.choice([0, 1, 4, 8])
            tiles = [
                (x, y)
                for y in range(center[1] - radius, center[1] + radius + 1)
                for x in range(center[0] - radius, center[0] + radius + 1)
                if town.in_bounds(x, y)
            ]
            expected = tuple(dict.fromkeys(a for a in (town.address_at(x, y) for x, y in tiles) if a.count(":") >= 2))
            assert town.places_in_square(center, radius) == expected, (town.name, center, radius)
    assert the_ville.places_in_square((-50, -50), 3) == ()
