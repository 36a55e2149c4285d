"""Towns as data: the spec format, the maze generator and pathfinding (pure Python + numpy).

    from reverie.town import load_maze
    maze = load_maze("the_ville")            # static_dirs/towns/the_ville/town.yaml
    maze.address_at(40, 50)                  # "the Ville:Hobbs Cafe:cafe:counter"
    maze.path_to_address((10, 60), "the Ville:Hobbs Cafe:cafe:counter")

The format is documented in docs/town_format.md; ``python -m reverie.town check
the_ville`` validates a town and prints a summary.
"""

from .maze import GRIDS, Maze, TileInfo, build_maze, check_maze, load_maze
from .pathfinding import Pathfinder, PathNotFound, find_path, step_agents, walk_agents
from .spec import (
    FLOORS,
    OBJECT_KINDS,
    SECTOR_KINDS,
    ArenaSpec,
    GameObjectSpec,
    Problem,
    Rect,
    SectorSpec,
    SpawnSpec,
    SpecError,
    TerrainSpec,
    TownSpec,
    load_spec,
    parse_spec,
    parse_spec_text,
    town_dir,
)

__all__ = [
    "FLOORS",
    "GRIDS",
    "OBJECT_KINDS",
    "SECTOR_KINDS",
    "ArenaSpec",
    "GameObjectSpec",
    "Maze",
    "PathNotFound",
    "Pathfinder",
    "Problem",
    "Rect",
    "SectorSpec",
    "SpawnSpec",
    "SpecError",
    "TerrainSpec",
    "TileInfo",
    "TownSpec",
    "build_maze",
    "check_maze",
    "find_path",
    "load_maze",
    "load_spec",
    "parse_spec",
    "parse_spec_text",
    "step_agents",
    "town_dir",
    "walk_agents",
]
