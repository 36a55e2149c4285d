"""The town's art, drawn by our own code (Pillow): tileset, Tiled map and character sprites.

    from reverie.town.art import write_town_art, sprite_sheet_png, portrait_png
    write_town_art("the_ville")        # static_dirs/towns/the_ville/map.json + tileset.png
    sprite_sheet_png("Isabella Rodriguez")   # 96 x 128 PNG bytes, 32 x 32 frames

Command line: ``python -m reverie.town art the_ville`` regenerates the map and
tileset; ``python -m reverie.town sprites NAME -o DIR`` writes a sheet and a
portrait. Layout and layer names are in docs/town_format.md ("Art").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..maze import Maze, load_maze
from ..spec import town_dir
from .sprites import (
    DIRECTIONS,
    FRAME_H,
    FRAME_W,
    FRAMES,
    PORTRAIT_SIZE,
    look_for,
    portrait_png,
    sprite_sheet_png,
)
from .tiled import LAYER_NAMES, MAP_FILE, OBJECT_LAYER_NAMES, TILESET_IMAGE, build_map, map_json, render_map
from .tileset import Tileset, build_tileset, draw_tile

__all__ = [
    "DIRECTIONS",
    "FRAMES",
    "FRAME_H",
    "FRAME_W",
    "LAYER_NAMES",
    "MAP_FILE",
    "OBJECT_LAYER_NAMES",
    "PORTRAIT_SIZE",
    "TILESET_IMAGE",
    "TownArt",
    "build_map",
    "build_tileset",
    "build_town_art",
    "draw_tile",
    "look_for",
    "map_json",
    "portrait_png",
    "render_map",
    "sprite_sheet_png",
    "town_folder",
    "write_town_art",
]


@dataclass(frozen=True)
class TownArt:
    """A town's generated map (dict and its JSON text) and tileset."""

    map_data: dict[str, Any]
    map_json: str
    tileset: Tileset

    @property
    def tileset_png(self) -> bytes:
        return self.tileset.png()

    def write(self, folder: Path) -> list[Path]:
        """Write ``map.json`` and ``tileset.png`` into ``folder`` (made if missing); returns their paths."""
        folder.mkdir(parents=True, exist_ok=True)
        map_path, tileset_path = folder / MAP_FILE, folder / TILESET_IMAGE
        map_path.write_text(self.map_json, encoding="utf-8")
        tileset_path.write_bytes(self.tileset_png)
        return [map_path, tileset_path]


def town_folder(town: str | Path) -> Path:
    """The folder holding a town's ``town.yaml``, resolved the way ``load_spec`` resolves it."""
    path = Path(town)
    if not path.exists() and not path.suffix and len(path.parts) == 1:
        path = town_dir(str(path))
    return path if path.is_dir() else path.parent


def build_town_art(town: str | Path | Maze) -> TownArt:
    """Generate a town's map and tileset in memory (a town name, folder, ``town.yaml`` or a Maze).

    Raises SpecError for an invalid spec and FileNotFoundError for a missing one.
    """
    maze = town if isinstance(town, Maze) else load_maze(town)
    data, tileset = build_map(maze)
    return TownArt(map_data=data, map_json=map_json(data), tileset=tileset)


def write_town_art(town: str | Path, out_dir: Path | None = None) -> list[Path]:
    """Write ``map.json`` and ``tileset.png`` into ``out_dir`` (default: the town's own folder).

    Returns the paths written. Nothing is written if the spec is invalid (SpecError).
    """
    art = build_town_art(town)
    return art.write(Path(out_dir) if out_dir is not None else town_folder(town))
