"""Town spec validation: every rule, and errors that name the file, line, thing and field."""

from __future__ import annotations

from typing import Any

import pytest

from reverie.town import Problem, SpecError, build_maze, load_spec, parse_spec, parse_spec_text
from reverie.town.spec import OBJECT_KINDS, Rect


def problems_of(data: Any) -> list[Problem]:
    """The problems a spec has, from parsing through building the maze."""
    with pytest.raises(SpecError) as info:
        build_maze(parse_spec(data, source="t.yaml"))
    return info.value.problems


def assert_problem(data: Any, *needles: str) -> Problem:
    """Exactly the problems found must include one whose text contains every needle."""
    found = problems_of(data)
    for problem in found:
        text = str(problem)
        if all(needle in text for needle in needles):
            return problem
    raise AssertionError(f"no problem mentions {needles}; got:\n" + "\n".join(map(str, found)))


def house(data: dict[str, Any]) -> dict[str, Any]:
    return data["sectors"][0]


def test_tiny_town_is_valid(tiny_data):
    spec = parse_spec(tiny_data)
    maze = build_maze(spec)
    assert maze.spawn_tile("Ada bed") == (4, 3)  # relative [3, 2] + sector origin (1, 1)
    assert spec.sector("Ada's house").arena("bedroom").object("bed").rects == (Rect(2, 2, 2, 1),)


# --- structure and types -------------------------------------------------------------


def test_missing_required_field(tiny_data):
    del house(tiny_data)["kind"]
    assert_problem(tiny_data, 'sector "Ada\'s house"', "field 'kind'", "required")


def test_unknown_key_suggests_the_right_one(tiny_data):
    house(tiny_data)["door"] = [[4, 8]]
    assert_problem(tiny_data, "field 'door'", "unknown key", "did you mean 'doors'")


def test_wrong_types(tiny_data):
    tiny_data["width"] = "wide"
    house(tiny_data)["rect"] = [1, 1, 12]
    house(tiny_data)["walls"] = "yes"
    found = "\n".join(map(str, problems_of(tiny_data)))
    assert "field 'width': must be an integer" in found
    assert "field 'rect': must be [x, y, w, h]" in found
    assert "field 'walls': must be true or false" in found


def test_unknown_kind_and_floor_suggest(tiny_data):
    house(tiny_data)["arenas"][1]["objects"][0]["kind"] = "bedd"
    house(tiny_data)["arenas"][1]["floor"] = "carpets"
    assert_problem(tiny_data, "object 'bed'", "field 'kind'", "unknown kind 'bedd'", "did you mean 'bed'")
    assert_problem(tiny_data, "arena 'bedroom'", "field 'floor'", "did you mean 'carpet'")


def test_names_may_not_contain_colons(tiny_data):
    house(tiny_data)["arenas"][0]["name"] = "living:room"
    assert_problem(tiny_data, "field 'name'", "contains ':'")


def test_format_version(tiny_data):
    tiny_data["format"] = 2
    assert_problem(tiny_data, "field 'format'", "knows format 1")


def test_object_needs_rect_or_rects_not_both(tiny_data):
    bed = house(tiny_data)["arenas"][1]["objects"][0]
    bed["rects"] = [[1, 1, 2, 1]]
    assert_problem(tiny_data, "object 'bed'", "either 'rect' or 'rects'")


# --- rectangles inside their parents -------------------------------------------------


def test_sector_outside_town(tiny_data):
    tiny_data["sectors"][1]["rect"] = [20, 2, 8, 8]
    assert_problem(tiny_data, "sector 'park'", "field 'rect'", "not inside the town")


def test_arena_outside_sector(tiny_data):
    house(tiny_data)["arenas"][0]["rect"] = [1, 4, 14, 4]
    assert_problem(tiny_data, "arena 'living room'", "field 'rect'", "not inside sector")


def test_arena_on_outer_wall(tiny_data):
    house(tiny_data)["arenas"][0]["rect"] = [0, 4, 10, 4]
    assert_problem(tiny_data, "arena 'living room'", "lies on the sector's outer wall")


def test_object_outside_arena(tiny_data):
    house(tiny_data)["arenas"][0]["objects"][1]["rect"] = [5, 3, 2, 2]
    problem = assert_problem(tiny_data, "object 'table'", "field 'rect'", "not inside arena 'living room'")
    # the message shows what was written and where that is in the town
    assert "[5, 3, 2, 2] (town x 6..7, y 4..5)" in problem.message


def test_terrain_outside_town_and_over_sector(tiny_data):
    tiny_data["terrain"].append({"name": "river", "rect": [0, 0, 30, 1], "floor": "water"})
    tiny_data["terrain"].append({"name": "plaza", "rect": [2, 2, 2, 2], "floor": "paving"})
    assert_problem(tiny_data, "terrain 'river'", "not inside the town")
    assert_problem(tiny_data, "terrain 'plaza'", 'overlaps sector "Ada\'s house"')


def test_water_terrain_must_block(tiny_data):
    tiny_data["terrain"].append({"name": "pond", "rect": [14, 11, 2, 1], "floor": "water", "blocking": False})
    assert_problem(tiny_data, "terrain 'pond'", "water terrain cannot be walked on")


# --- overlaps --------------------------------------------------------------------------


def test_sectors_overlap(tiny_data):
    tiny_data["sectors"][1]["rect"] = [10, 2, 8, 8]
    assert_problem(tiny_data, "sector 'park'", 'overlaps sector "Ada\'s house"')


def test_arenas_overlap(tiny_data):
    house(tiny_data)["arenas"][1]["rect"] = [1, 1, 10, 4]
    assert_problem(tiny_data, "arena 'bedroom'", "overlaps arena 'living room'")


def test_objects_overlap(tiny_data):
    house(tiny_data)["arenas"][0]["objects"][1]["rect"] = [3, 4, 2, 2]
    assert_problem(tiny_data, "object 'table'", "overlaps object 'sofa'")


def test_object_rects_overlap_each_other(tiny_data):
    table = house(tiny_data)["arenas"][0]["objects"][1]
    del table["rect"]
    table["rects"] = [[5, 5, 2, 2], [6, 5, 2, 1]]
    assert_problem(tiny_data, "object 'table'", "overlaps another of its own rectangles")


# --- doors -------------------------------------------------------------------------------


def test_door_inside_an_arena(tiny_data):
    house(tiny_data)["doors"].append([5, 5])
    assert_problem(tiny_data, "field 'doors'", "door [5, 5]", "inside arena 'living room', not on a wall")


def test_door_outside_its_sector(tiny_data):
    house(tiny_data)["doors"].append([13, 5])
    assert_problem(tiny_data, "door [13, 5]", "outside the sector")


def test_door_that_joins_nothing(tiny_data):
    house(tiny_data)["doors"].append([0, 0])  # a corner
    assert_problem(tiny_data, "door [0, 0]", "does not join two open tiles")


def test_doors_need_walls(tiny_data):
    tiny_data["sectors"][1]["doors"] = [[0, 3]]
    assert_problem(tiny_data, "sector 'park'", "field 'doors'", "walls: false")


def test_walled_sector_needs_a_way_in(tiny_data):
    house(tiny_data)["doors"] = [[6, 3]]  # only the inner door
    assert_problem(tiny_data, "no door is on the sector's outer wall")
    house(tiny_data)["doors"] = []
    assert_problem(tiny_data, "needs at least one door")


def test_door_blocked_by_furniture(tiny_data):
    # the table moves right behind the front door
    house(tiny_data)["arenas"][0]["objects"][1]["rect"] = [4, 6, 2, 2]
    problem = assert_problem(tiny_data, "door [4, 8]", "is blocked", "(5, 8) by blocking object", "living room:table")
    assert problem.field == "doors"


# --- reachability --------------------------------------------------------------------------


def test_arena_without_a_door_is_unreachable(tiny_data):
    house(tiny_data)["doors"] = [[4, 8]]  # no door into the bedroom
    found = problems_of(tiny_data)
    texts = "\n".join(map(str, found))
    assert "arena 'bedroom'" in texts and "cannot be reached" in texts
    assert "check its doors" in texts and "arena 'living room'" not in texts


def test_object_nobody_can_reach(tiny_data):
    park = tiny_data["sectors"][1]["arenas"][0]
    # a ring of trees around the bench closes it off
    park["objects"] = [
        {"name": "bench", "kind": "bench", "rect": [2, 2, 1, 1]},
        {"name": "hedge", "kind": "tree", "rects": [[1, 1, 3, 1], [1, 3, 3, 1], [1, 2, 1, 1], [3, 2, 1, 1]]},
    ]
    assert_problem(tiny_data, "object 'bench'", "can be reached")


def test_object_with_no_free_side(tiny_data):
    bedroom = house(tiny_data)["arenas"][1]
    bedroom["objects"] = [{"name": "bed", "kind": "bed", "rect": [1, 1, 10, 2]}]
    house(tiny_data)["spawns"] = []
    found = "\n".join(map(str, problems_of(tiny_data)))
    assert "object 'bed'" in found and "no walkable tile in its arena touches it" in found


def test_enclosed_pocket(tiny_data):
    # a wardrobe and a desk box in the living room's bottom-right corner tile
    house(tiny_data)["arenas"][0]["objects"].append({"name": "wardrobe", "kind": "wardrobe", "rect": [9, 7, 1, 1]})
    house(tiny_data)["arenas"][0]["objects"].append({"name": "desk", "kind": "desk", "rect": [10, 6, 1, 1]})
    assert_problem(tiny_data, "walkable tiles cannot be reached", "(11, 8)")


# --- names, use tiles, spawns -------------------------------------------------------------


def test_duplicate_names(tiny_data):
    tiny_data["sectors"][1]["name"] = "Ada's house"
    house(tiny_data)["arenas"][1]["name"] = "living room"
    house(tiny_data)["arenas"][0]["objects"][1]["name"] = "sofa"
    found = "\n".join(map(str, problems_of(tiny_data)))
    assert 'another sector is already named "Ada\'s house"' in found
    assert "another arena of this sector is already named 'living room'" in found
    assert "another object of this arena is already named 'sofa'" in found


def test_same_name_in_different_parents_is_fine(tiny_data):
    tiny_data["sectors"][1]["arenas"][0]["name"] = "living room"
    tiny_data["sectors"][1]["arenas"][0]["objects"][0]["name"] = "sofa"
    build_maze(parse_spec(tiny_data))


def test_duplicate_spawns(tiny_data):
    house(tiny_data)["spawns"].append({"name": "Ada bed", "at": [5, 2]})
    house(tiny_data)["spawns"].append({"name": "Bob bed", "at": [3, 2]})
    assert_problem(tiny_data, "spawn 'Ada bed'", "already named")
    assert_problem(tiny_data, "spawn 'Bob bed'", "already spawn 'Ada bed'")


def test_use_tile_must_touch_its_object(tiny_data):
    house(tiny_data)["arenas"][1]["objects"][0]["use"] = [6, 2]
    assert_problem(tiny_data, "object 'bed'", "field 'use'", "neither lies on the object nor next to it")


def test_use_tile_on_blocking_object(tiny_data):
    house(tiny_data)["arenas"][1]["objects"][0]["use"] = [1, 1]
    assert_problem(tiny_data, "object 'bed'", "field 'use'", "on the object itself")


def test_spawn_outside_arena_or_blocked(tiny_data):
    house(tiny_data)["spawns"] = [{"name": "wall spawn", "at": [0, 2]}]
    assert_problem(tiny_data, "spawn 'wall spawn'", "field 'at'", "not inside any arena")
    house(tiny_data)["spawns"] = [{"name": "bed spawn", "at": [1, 1]}]
    assert_problem(tiny_data, "spawn 'bed spawn'", "not walkable", "blocking object")


# --- reporting ---------------------------------------------------------------------------------

TEXT = """\
name: t
world: T
width: 12
height: 8
sectors:
  - name: shed
    kind: store
    rect: [1, 1, 6, 5]
    doors: [[3, 4]]
    arenas:
      - name: inside
        rect: [1, 1, 4, 3]
        objects:
          - {name: shelf, kind: shelf, rect: [1, 1, 2, 1]}
          - {name: crate, kind: boxx, rect: [3, 3, 1, 1]}
      - name: nook
        rect: [1, 1, 1, 1]
"""


def test_errors_name_file_line_and_field_and_come_all_at_once():
    with pytest.raises(SpecError) as info:
        parse_spec_text(TEXT, source="shed.yaml")
    lines = str(info.value).splitlines()
    assert lines[0] == "invalid town spec (1 problem):"
    assert lines[1].startswith(
        "  shed.yaml:15: sector 'shed' > arena 'inside' > object 'crate', field 'kind': unknown kind"
    )
    fixed = TEXT.replace("boxx", "other")
    with pytest.raises(SpecError) as info:
        parse_spec_text(fixed, source="shed.yaml")
    assert [p.line for p in info.value.problems] == [16]  # the overlapping arena, both found
    assert "overlaps arena 'inside'" in str(info.value)


def test_yaml_syntax_error_has_a_line():
    with pytest.raises(SpecError) as info:
        parse_spec_text("name: t\nworld: [unclosed\nwidth: 3\n", source="bad.yaml")
    (problem,) = info.value.problems
    assert problem.source == "bad.yaml" and problem.line is not None and "not valid YAML" in problem.message


def test_duplicate_yaml_keys_are_reported():
    text = (
        TEXT.replace("boxx", "other")
        .replace("      - name: nook\n        rect: [1, 1, 1, 1]\n", "")
        .replace("    kind: store\n", "    kind: store\n    kind: pub\n")
    )
    with pytest.raises(SpecError) as info:
        parse_spec_text(text, source="dup.yaml")
    assert "dup.yaml:8: sector 'shed', field 'kind': this key appears twice" in str(info.value)


def test_yaml_anchors_share_layouts(tmp_path):
    text = TEXT.replace("boxx", "other").replace("      - name: nook\n        rect: [1, 1, 1, 1]\n", "")
    text = text.replace("    arenas:\n", "    arenas: &shed\n") + (
        "  - name: shed 2\n    kind: store\n    rect: [7, 1, 5, 5]\n    doors: [[3, 4]]\n    arenas: *shed\n"
    )
    # shed 2 is too narrow for the shared layout: the shared arena reports against it
    (tmp_path / "town.yaml").write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path)
    assert "sector 'shed 2' > arena 'inside', field 'rect'" in str(info.value)


def test_load_spec_finds_towns_by_name_folder_and_file(tmp_path):
    assert load_spec("the_ville").name == "the_ville"
    with pytest.raises(FileNotFoundError):
        load_spec(tmp_path)


def test_default_blocking_comes_from_the_kind(tiny_data):
    spec = parse_spec(tiny_data)
    living = spec.sector("Ada's house").arena("living room")
    assert living.object("sofa").blocking is False and OBJECT_KINDS["sofa"] is False
    assert living.object("table").blocking is True
    house(tiny_data)["arenas"][0]["objects"][0]["blocking"] = True
    assert parse_spec(tiny_data).sector("Ada's house").arena("living room").object("sofa").blocking is True
