"""Spatial memory: the world > sector > arena > object tree a persona knows."""

from __future__ import annotations

import json

import pytest

from reverie.engine.spatial import SpatialMemory, parse_address

CAFE = "the_ville:Hobbs Cafe:cafe"


def town() -> SpatialMemory:
    memory = SpatialMemory()
    memory.learn("the_ville:Isabella Rodriguez's apartment:main room:bed")
    memory.learn("the_ville:Isabella Rodriguez's apartment:main room:desk")
    memory.learn("the_ville:Isabella Rodriguez's apartment:bathroom:shower")
    memory.learn(f"{CAFE}:coffee machine")
    memory.learn(f"{CAFE}:counter")
    memory.learn("the_ville:Hobbs Cafe:kitchen")
    return memory


def test_learn_builds_the_tree_with_ancestors():
    memory = town()
    assert memory.worlds() == ["the_ville"]
    assert memory.sectors("the_ville") == ["Isabella Rodriguez's apartment", "Hobbs Cafe"]
    assert memory.arenas("the_ville", "Hobbs Cafe") == ["cafe", "kitchen"]
    assert memory.objects("the_ville", "Hobbs Cafe", "cafe") == ["coffee machine", "counter"]
    assert memory.objects("the_ville", "Hobbs Cafe", "kitchen") == []
    assert memory.arena_paths("the_ville") == [
        ("Isabella Rodriguez's apartment", "main room"),
        ("Isabella Rodriguez's apartment", "bathroom"),
        ("Hobbs Cafe", "cafe"),
        ("Hobbs Cafe", "kitchen"),
    ]


def test_learn_reports_novelty_and_is_idempotent():
    memory = SpatialMemory()
    assert memory.learn(f"{CAFE}:counter") is True
    assert memory.learn(f"{CAFE}:counter") is False
    assert memory.learn(CAFE) is False  # ancestors already known
    assert memory.learn(f"{CAFE}:stool") is True
    assert memory.learn_many([f"{CAFE}:stool", "the_ville:park", "the_ville:park:garden"]) == 2
    assert len(memory) == 1 + 2 + 2 + 2  # world, 2 sectors, 2 arenas, 2 objects


def test_knows_at_every_depth():
    memory = town()
    assert memory.knows("the_ville")
    assert memory.knows("the_ville:Hobbs Cafe")
    assert memory.knows(CAFE)
    assert memory.knows(f"{CAFE}:coffee machine")
    assert memory.knows(" the_ville : Hobbs Cafe : cafe ")  # parts are stripped
    assert not memory.knows(f"{CAFE}:piano")
    assert not memory.knows("the_ville:Pub")
    assert not memory.knows("other_world")
    assert not memory.knows("the_ville:hobbs cafe")  # exact spelling; see resolve()


def test_unknown_places_give_empty_lists_and_strings():
    memory = town()
    assert memory.sectors("nowhere") == []
    assert memory.arenas("the_ville", "Pub") == []
    assert memory.objects("the_ville", "Pub", "bar") == []
    assert memory.sectors_str("nowhere") == ""


def test_prompt_renderings_are_comma_separated_in_learning_order():
    memory = town()
    assert memory.sectors_str("the_ville") == "Isabella Rodriguez's apartment, Hobbs Cafe"
    assert memory.arenas_str("the_ville", "Isabella Rodriguez's apartment") == "main room, bathroom"
    assert memory.objects_str("the_ville", "Hobbs Cafe", "cafe") == "coffee machine, counter"


def test_resolve_matches_case_insensitively_exact_first():
    memory = town()
    assert memory.resolve("THE_VILLE:hobbs cafe:Cafe:Coffee Machine") == f"{CAFE}:coffee machine"
    assert memory.resolve("the_ville:Hobbs Cafe") == "the_ville:Hobbs Cafe"
    assert memory.resolve("the_ville:hobbs cafe:pub") is None
    memory.learn("the_ville:Park")
    memory.learn("the_ville:park")
    assert memory.resolve("the_ville:park") == "the_ville:park"
    assert memory.resolve("the_ville:PARK") == "the_ville:Park"  # first learned wins


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("", "empty address"),
        ("   ", "empty address"),
        ("the_ville::cafe", "empty sector"),
        ("the_ville:Hobbs Cafe:", "empty arena"),
        (":Hobbs Cafe", "empty world"),
        ("w:s:a:o:extra", "at most 4"),
    ],
)
def test_invalid_addresses_raise_clear_errors(address, message):
    memory = SpatialMemory()
    with pytest.raises(ValueError, match=message):
        memory.learn(address)
    with pytest.raises(ValueError, match=message):
        memory.knows(address)
    assert len(memory) == 0


def test_non_string_address_and_bad_names():
    with pytest.raises(TypeError):
        parse_address(None)  # type: ignore[arg-type]
    memory = town()
    with pytest.raises(ValueError, match="contains ':'"):
        memory.arenas("the_ville", "Hobbs Cafe:cafe")
    with pytest.raises(ValueError, match="non-empty"):
        memory.sectors("")


def test_addresses_lists_leaves():
    memory = town()
    memory.learn("the_ville:Pub")
    memory.learn("empty_world")
    assert sorted(memory.addresses()) == sorted(
        [
            "the_ville:Isabella Rodriguez's apartment:main room:bed",
            "the_ville:Isabella Rodriguez's apartment:main room:desk",
            "the_ville:Isabella Rodriguez's apartment:bathroom:shower",
            f"{CAFE}:coffee machine",
            f"{CAFE}:counter",
            "the_ville:Hobbs Cafe:kitchen",
            "the_ville:Pub",
            "empty_world",
        ]
    )


def test_round_trip_keeps_tree_and_order():
    memory = town()
    data = json.loads(json.dumps(memory.to_dict()))
    assert data["the_ville"]["Hobbs Cafe"] == {"cafe": ["coffee machine", "counter"], "kitchen": []}
    restored = SpatialMemory.from_dict(data)
    assert restored.to_dict() == memory.to_dict()
    assert restored.sectors_str("the_ville") == memory.sectors_str("the_ville")
    assert list(restored.addresses()) == list(memory.addresses())


@pytest.mark.parametrize(
    "data",
    [
        {"w": ["not", "a", "mapping"]},
        {"w": {"s": "nope"}},
        {"w": {"s": {"a": "one object as a string"}}},
        {"w": {"s": {"a": ["ok", ""]}}},
        {"w:x": {}},
        [],
    ],
)
def test_from_dict_validates(data):
    with pytest.raises(ValueError):
        SpatialMemory.from_dict(data)


def test_arena_objects_lists_every_known_arena_with_its_objects_in_learning_order():
    mem = SpatialMemory()
    mem.learn_many(
        ["w:Cafe:kitchen:stove", "w:Home:bedroom", "w:Cafe:kitchen:sink", "w:Cafe:counter:till", "x:Far:away"]
    )
    assert mem.arena_objects("w") == {
        ("Cafe", "kitchen"): ["stove", "sink"],
        ("Cafe", "counter"): ["till"],
        ("Home", "bedroom"): [],
    }
    assert list(mem.arena_objects("w")) == mem.arena_paths("w")
    assert mem.arena_objects("nowhere") == {}
