"""Shared fixtures: a tiny valid town (as data and as YAML text) and the built the_ville."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reverie.town import Maze, build_maze, load_maze, parse_spec

# A small town every validation test starts from: a two-room walled house and an open park.
#
#     x: 0         1         2
#        012345678901234567890123
#   y 1   ############            house at (1, 1), 12 x 9
#     2   #BB........#   park     bedroom: bed (blocking) + spawn beside it
#     3   #..S.......#            inner wall at y 4 with a door at (7, 4)
#     4   ######+#####            living room below, front door at (5, 9)
#     ...
TINY: dict[str, Any] = {
    "format": 1,
    "name": "tiny",
    "world": "Tinyville",
    "width": 24,
    "height": 14,
    "ground": "grass",
    "terrain": [{"name": "lane", "rect": [0, 12, 24, 2], "floor": "road"}],
    "sectors": [
        {
            "name": "Ada's house",
            "kind": "house",
            "rect": [1, 1, 12, 9],
            "floor": "wood",
            "doors": [[4, 8], [6, 3]],
            "arenas": [
                {
                    "name": "living room",
                    "rect": [1, 4, 10, 4],
                    "objects": [
                        {"name": "sofa", "kind": "sofa", "rect": [1, 4, 3, 1]},
                        {"name": "table", "kind": "dining table", "rect": [5, 5, 2, 2]},
                    ],
                },
                {
                    "name": "bedroom",
                    "rect": [1, 1, 10, 2],
                    "floor": "carpet",
                    "objects": [{"name": "bed", "kind": "bed", "rect": [1, 1, 2, 1], "use": [3, 1]}],
                },
            ],
            "spawns": [{"name": "Ada bed", "at": [3, 2]}],
        },
        {
            "name": "park",
            "kind": "park",
            "rect": [15, 2, 8, 8],
            "walls": False,
            "arenas": [
                {
                    "name": "lawn",
                    "rect": [1, 1, 6, 6],
                    "floor": "grass",
                    "objects": [
                        {"name": "bench", "kind": "bench", "rect": [1, 1, 3, 1]},
                        {"name": "oak", "kind": "tree", "rect": [4, 4, 1, 1]},
                    ],
                }
            ],
        },
    ],
}


@pytest.fixture
def tiny_data() -> dict[str, Any]:
    """A fresh deep copy of the tiny town's data, free to mutate."""
    return copy.deepcopy(TINY)


@pytest.fixture
def tiny_maze() -> Maze:
    return build_maze(parse_spec(copy.deepcopy(TINY), source="tiny"))


@pytest.fixture(scope="session")
def the_ville() -> Maze:
    return load_maze("the_ville")
