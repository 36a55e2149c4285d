"""The town's Tiled map (JSON, Tiled 1.10), derived from its :class:`Maze` and spec.

Nothing here is drawn by hand: every tile of every layer is read off the maze built from
``town.yaml``, so the map the browser shows and the grids the simulation walks on agree.

Layers, bottom to top:

``ground``      (tile layer) the floor of every tile: outdoor ground variants, roads with
                centre markings, water with shore foam, indoor floors in their sector's style
``walls``       (tile layer) wall pieces and doorways, 0 elsewhere
``furniture``   (tile layer) a piece of furniture on every tile of every game object
``collisions``  (tile layer, hidden) the ``collision`` tile wherever ``maze.collision`` is 1;
                the tile has the property ``collides: true`` for Phaser's
                ``setCollisionByProperty``
``sectors``     (object layer) one rectangle per sector, named after it, properties
                ``address`` and ``kind``
``arenas``      (object layer) one rectangle per arena, named after it, properties
                ``address`` and ``sector``

The tileset is embedded (named :data:`TILESET_NAME`, image ``tileset.png`` beside the map).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
from PIL import Image

from ..maze import Maze
from .tileset import (
    COLLISION_KEY,
    INDOOR_FLOORS,
    OUTDOOR_VARIANTS,
    STYLE_OF_KIND,
    E,
    N,
    S,
    Tileset,
    W,
    build_tileset,
    door_key,
    floor_key,
    object_key,
    wall_key,
)

__all__ = [
    "FIRSTGID",
    "LAYER_NAMES",
    "MAP_FILE",
    "OBJECT_LAYER_NAMES",
    "TILED_VERSION",
    "TILESET_IMAGE",
    "TILESET_NAME",
    "build_map",
    "layer_keys",
    "map_json",
    "render_map",
]

MAP_FILE = "map.json"
TILESET_IMAGE = "tileset.png"
TILESET_NAME = "tileset"  # what the frontend passes to Phaser's addTilesetImage
LAYER_NAMES: tuple[str, ...] = ("ground", "walls", "furniture", "collisions")
OBJECT_LAYER_NAMES: tuple[str, ...] = ("sectors", "arenas")
FIRSTGID = 1
TILED_VERSION = "1.10.2"

Keys = list[list[str | None]]  # [y][x], None where a layer has no tile


def _pick(x: int, y: int, weights: tuple[int, ...]) -> int:
    """A variant for a tile, fixed by its position, so ground looks varied but never changes."""
    h = (x * 374761393 + y * 668265263) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * 1274126177) & 0xFFFFFFFF
    h ^= h >> 16
    roll = h % sum(weights)
    for variant, weight in enumerate(weights):
        if roll < weight:
            return variant
        roll -= weight
    return 0  # pragma: no cover


def _road_markings(maze: Maze) -> dict[tuple[int, int], str]:
    """Centre lines on the middle row (or column) of roads an odd number of tiles wide."""
    marks: dict[tuple[int, int], str] = {}
    road = {i for i, name in maze.floor_legend.items() if name == "road"}
    for terrain in maze.spec.terrain:
        rect = terrain.rect
        if terrain.floor != "road":
            continue
        if rect.w >= rect.h and rect.h >= 3 and rect.h % 2:
            tiles, mark = [(x, rect.y + rect.h // 2) for x in range(rect.x, rect.x2 + 1)], "line-h"
        elif rect.h > rect.w and rect.w >= 3 and rect.w % 2:
            tiles, mark = [(rect.x + rect.w // 2, y) for y in range(rect.y, rect.y2 + 1)], "line-v"
        else:
            continue
        for x, y in tiles:
            if int(maze.floor[y, x]) in road:  # a later terrain entry may have painted over it
                marks[(x, y)] = mark
    return marks


def _neighbour_mask(grid: np.ndarray, x: int, y: int) -> int:
    """Which of the 4 neighbours are set in a boolean grid (out of the town counts as unset)."""
    h, w = grid.shape
    mask = 0
    if y > 0 and grid[y - 1, x]:
        mask |= N
    if x < w - 1 and grid[y, x + 1]:
        mask |= E
    if y < h - 1 and grid[y + 1, x]:
        mask |= S
    if x > 0 and grid[y, x - 1]:
        mask |= W
    return mask


def _same_mask(grid: np.ndarray, x: int, y: int) -> int:
    """Which of the 4 neighbours hold the same value as the tile (the same object)."""
    h, w = grid.shape
    value = grid[y, x]
    mask = 0
    if y > 0 and grid[y - 1, x] == value:
        mask |= N
    if x < w - 1 and grid[y, x + 1] == value:
        mask |= E
    if y < h - 1 and grid[y + 1, x] == value:
        mask |= S
    if x > 0 and grid[y, x - 1] == value:
        mask |= W
    return mask


def layer_keys(maze: Maze) -> dict[str, Keys]:
    """The tile key of every tile of every tile layer, read off the maze."""
    spec = maze.spec
    h, w = maze.height, maze.width
    sector_by_id = {sid: spec.sector(address.split(":", 1)[1]) for sid, address in maze.legends["sector"].items()}
    kind_by_address = {spec.address(s.name, a.name, o.name): o.kind for s, a, o in spec.objects()}
    kind_by_object = {oid: kind_by_address[address] for oid, address in maze.legends["game_object"].items()}
    floors = maze.floor_legend
    water = np.isin(maze.floor, [i for i, name in maze.floor_legend.items() if name == "water"])
    # the town's edge counts as water, so a creek along it gets no foam on the map border
    water_padded = np.pad(water, 1, constant_values=True)
    solid = maze.wall | maze.door
    markings = _road_markings(maze)

    ground: Keys = [[None] * w for _ in range(h)]
    walls: Keys = [[None] * w for _ in range(h)]
    furniture: Keys = [[None] * w for _ in range(h)]
    collisions: Keys = [[None] * w for _ in range(h)]
    for y in range(h):
        for x in range(w):
            floor = floors[int(maze.floor[y, x])]
            sid = int(maze.sector[y, x])
            sector = sector_by_id.get(sid)
            if floor in INDOOR_FLOORS:
                ground[y][x] = floor_key(floor, STYLE_OF_KIND[sector.kind] if sector else "other")
            elif floor == "water":
                ground[y][x] = floor_key("water", _shore(water_padded, x, y))
            elif (x, y) in markings:
                ground[y][x] = floor_key(floor, markings[(x, y)])
            else:
                ground[y][x] = floor_key(floor, _pick(x, y, OUTDOOR_VARIANTS[floor]))

            if maze.wall[y, x] and sector is not None:
                walls[y][x] = wall_key(sector.wall_material, _neighbour_mask(solid, x, y))
            elif maze.door[y, x] and sector is not None:
                across = _neighbour_mask(maze.wall, x, y) & (E | W)
                walls[y][x] = door_key(sector.wall_material, "h" if across else "v")

            oid = int(maze.game_object[y, x])
            if oid:
                furniture[y][x] = object_key(kind_by_object[oid], _same_mask(maze.game_object, x, y))

            if maze.collision[y, x]:
                collisions[y][x] = COLLISION_KEY
    return {"ground": ground, "walls": walls, "furniture": furniture, "collisions": collisions}


def _shore(water_padded: np.ndarray, x: int, y: int) -> int:
    """Which sides of a water tile border land (``water_padded`` has a one-tile rim of water)."""
    px, py = x + 1, y + 1
    mask = 0
    for bit, (nx, ny) in ((N, (px, py - 1)), (E, (px + 1, py)), (S, (px, py + 1)), (W, (px - 1, py))):
        if not water_padded[ny, nx]:
            mask |= bit
    return mask


def _properties(**values: Any) -> list[dict[str, Any]]:
    kinds = {bool: "bool", int: "int", float: "float", str: "string"}
    return [{"name": name, "type": kinds[type(value)], "value": value} for name, value in values.items()]


def build_map(maze: Maze, image: str = TILESET_IMAGE) -> tuple[dict[str, Any], Tileset]:
    """The Tiled map (a JSON-ready dict) and the tileset it uses, both derived from ``maze``."""
    spec = maze.spec
    keys = layer_keys(maze)
    tileset = build_tileset(_used(keys.values()), tile_size=maze.tile_size)
    size = maze.tile_size

    def gids(layer: Keys) -> list[int]:
        return [0 if key is None else FIRSTGID + tileset.index(key) for row in layer for key in row]

    layers: list[dict[str, Any]] = []
    for layer_id, name in enumerate(LAYER_NAMES, start=1):
        layers.append(
            {
                "data": gids(keys[name]),
                "height": maze.height,
                "id": layer_id,
                "name": name,
                "opacity": 1,
                "type": "tilelayer",
                "visible": name != "collisions",
                "width": maze.width,
                "x": 0,
                "y": 0,
            }
        )

    object_id = 0

    def rectangle(name: str, object_type: str, rect: Any, **props: Any) -> dict[str, Any]:
        nonlocal object_id
        object_id += 1
        return {
            "height": rect.h * size,
            "id": object_id,
            "name": name,
            "properties": _properties(**props),
            "rotation": 0,
            "type": object_type,
            "visible": True,
            "width": rect.w * size,
            "x": rect.x * size,
            "y": rect.y * size,
        }

    sectors = [rectangle(s.name, "sector", s.rect, address=spec.address(s.name), kind=s.kind) for s in spec.sectors]
    arenas = [
        rectangle(a.name, "arena", a.rect, address=spec.address(s.name, a.name), sector=s.name)
        for s, a in spec.arenas()
    ]
    for layer_id, (name, objects) in enumerate(
        zip(OBJECT_LAYER_NAMES, (sectors, arenas), strict=True), start=len(LAYER_NAMES) + 1
    ):
        layers.append(
            {
                "draworder": "topdown",
                "id": layer_id,
                "name": name,
                "objects": objects,
                "opacity": 1,
                "type": "objectgroup",
                "visible": True,
                "x": 0,
                "y": 0,
            }
        )

    tiles = [
        {"id": i, "properties": _properties(key=key, **({"collides": True} if key == COLLISION_KEY else {}))}
        for i, key in enumerate(tileset.keys)
    ]
    data: dict[str, Any] = {
        "compressionlevel": -1,
        "height": maze.height,
        "infinite": False,
        "layers": layers,
        "nextlayerid": len(layers) + 1,
        "nextobjectid": object_id + 1,
        "orientation": "orthogonal",
        "properties": _properties(
            town=spec.name,
            world=spec.world,
            generator=f"python -m reverie.town art {spec.name}",
        ),
        "renderorder": "right-down",
        "tiledversion": TILED_VERSION,
        "tileheight": size,
        "tilesets": [
            {
                "columns": tileset.columns,
                "firstgid": FIRSTGID,
                "image": image,
                "imageheight": tileset.image.height,
                "imagewidth": tileset.image.width,
                "margin": 0,
                "name": TILESET_NAME,
                "spacing": 0,
                "tilecount": tileset.tilecount,
                "tileheight": size,
                "tiles": tiles,
                "tilewidth": size,
            }
        ],
        "tilewidth": size,
        "type": "map",
        "version": "1.10",
        "width": maze.width,
    }
    return data, tileset


def _used(layers: Iterable[Keys]) -> set[str]:
    return {key for layer in layers for row in layer for key in row if key is not None}


def map_json(data: dict[str, Any]) -> str:
    """Compact JSON (it is served to browsers), one line plus a final newline, stable key order."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def render_map(
    data: dict[str, Any],
    tileset_image: Image.Image,
    region: tuple[int, int, int, int] | None = None,
    layers: Iterable[str] = ("ground", "walls", "furniture"),
) -> Image.Image:
    """Draw a Tiled map (as :func:`build_map` makes it) the way a browser would, for previews.

    ``region`` is ``(x, y, w, h)`` in tiles; the whole map by default.
    """
    size = data["tilewidth"]
    tileset = data["tilesets"][0]
    columns, firstgid = tileset["columns"], tileset["firstgid"]
    x0, y0, w, h = region or (0, 0, data["width"], data["height"])
    out = Image.new("RGBA", (w * size, h * size), (0, 0, 0, 255))
    tiles: dict[int, Image.Image] = {}
    by_name = {layer["name"]: layer for layer in data["layers"]}
    for name in layers:
        grid = by_name[name]["data"]
        for y in range(y0, y0 + h):
            for x in range(x0, x0 + w):
                gid = grid[y * data["width"] + x]
                if not gid:
                    continue
                if gid not in tiles:
                    i = gid - firstgid
                    left, top = (i % columns) * size, (i // columns) * size
                    tiles[gid] = tileset_image.crop((left, top, left + size, top + size))
                out.alpha_composite(tiles[gid], ((x - x0) * size, (y - y0) * size))
    return out
