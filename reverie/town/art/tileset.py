"""The town tileset, drawn by code: floors, walls, doors and one look per furniture kind.

Every tile is named by a **key**, a short string, and drawn from its key alone:

==============================  ==========================================================
key                             tile
==============================  ==========================================================
``floor/<floor>/<variant>``     outdoor ground (``floor/grass/2``); roads also have
                                ``line-h`` / ``line-v`` (centre markings) and water a
                                shore mask (``floor/water/5``: foam on the N and S sides)
``floor/<floor>/<style>``       indoor floors (wood, parquet, tile, carpet, stone,
                                concrete) in the colours of a sector style
                                (``floor/tile/cafe``), see :data:`STYLE_OF_KIND`
``wall/<material>/<mask>``      a wall piece; the mask says which neighbours are wall or
                                door, so outlines and the south face fall where the wall
                                ends
``door/<material>/<h|v>``       a doorway in a horizontal or vertical wall
``object/<kind>/<mask>``        furniture; kinds that stretch over several tiles (tables,
                                beds, shelves) join up with the neighbours in the mask,
                                small things (chairs, plants) ignore it and use mask 0
``collision``                   the marker tile of the hidden ``collisions`` layer
==============================  ==========================================================

Masks are 4 bits: :data:`N` = 1, :data:`E` = 2, :data:`S` = 4, :data:`W` = 8.

The look is plain top-down pixel art: flat colours, dark outlines on the sides where a
thing ends, a lighter top edge, a small drop shadow, and some texture noise from a
random generator seeded by the key, so a key always gives the same pixels. Tiles are
drawn at 32 x 32; other tile sizes are scaled from that.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

from PIL import Image, ImageDraw

from ..spec import FLOORS, OBJECT_KINDS, SECTOR_KINDS

__all__ = [
    "COLLISION_KEY",
    "COLUMNS",
    "CONNECTED_KINDS",
    "DRAW_SIZE",
    "FALLBACK_KEY",
    "INDOOR_FLOORS",
    "OUTDOOR_VARIANTS",
    "STYLES",
    "STYLE_OF_KIND",
    "WALL_MATERIALS",
    "Tileset",
    "base_keys",
    "build_tileset",
    "door_key",
    "draw_tile",
    "floor_key",
    "object_key",
    "png_bytes",
    "wall_key",
    "wall_material",
]

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]
Box = tuple[int, int, int, int]

DRAW_SIZE = 32  # pixels per tile the drawings are made for
COLUMNS = 16  # tiles per row of the tileset image
T = DRAW_SIZE
LAST = T - 1

N, E, S, W = 1, 2, 4, 8

OUTLINE: RGB = (46, 38, 42)
SHADOW: RGBA = (0, 0, 0, 64)
CLEAR: RGBA = (0, 0, 0, 0)

COLLISION_KEY = "collision"
FALLBACK_KEY = "object/other/0"

# --- styles, floors, materials -------------------------------------------------------

#: Sector kinds grouped into the styles the indoor floors come in.
STYLE_OF_KIND: dict[str, str] = {
    "house": "home",
    "apartment": "home",
    "dorm": "home",
    "co-living": "home",
    "cafe": "cafe",
    "restaurant": "cafe",
    "pub": "pub",
    "store": "shop",
    "market": "shop",
    "pharmacy": "shop",
    "college": "college",
    "school": "college",
    "library": "college",
    "office": "civic",
    "town-hall": "civic",
    "park": "park",
    "garden": "park",
    "plaza": "park",
    "other": "other",
}
STYLES: tuple[str, ...] = ("home", "cafe", "pub", "shop", "college", "civic", "park", "other")
assert set(STYLE_OF_KIND) == SECTOR_KINDS and set(STYLE_OF_KIND.values()) == set(STYLES)

INDOOR_FLOORS: tuple[str, ...] = ("wood", "parquet", "tile", "carpet", "stone", "concrete")
#: Outdoor floors and their variants (weights pick how often each appears on the map).
OUTDOOR_VARIANTS: dict[str, tuple[int, ...]] = {
    "grass": (8, 8, 2, 2),
    "dirt": (3, 1),
    "sand": (3, 1),
    "gravel": (1, 1),
    "path": (3, 1),
    "road": (3, 1),
    "sidewalk": (1, 1),
    "paving": (1, 1),
}
assert set(INDOOR_FLOORS) | set(OUTDOOR_VARIANTS) | {"water"} == FLOORS

# per style: wood, carpet, tile (two colours), stone, concrete
_STYLE_COLORS: dict[str, dict[str, tuple[RGB, ...]]] = {
    "home": {
        "wood": ((192, 142, 94),),
        "carpet": ((170, 112, 104),),
        "tile": ((232, 228, 216), (208, 202, 190)),
        "stone": ((172, 166, 158),),
        "concrete": ((178, 178, 172),),
    },
    "cafe": {
        "wood": ((170, 112, 68),),
        "carpet": ((142, 66, 58),),
        "tile": ((234, 228, 216), (150, 120, 100)),
        "stone": ((184, 164, 144),),
        "concrete": ((172, 162, 152),),
    },
    "pub": {
        "wood": ((124, 82, 50),),
        "carpet": ((122, 40, 50),),
        "tile": ((156, 100, 70), (122, 76, 54)),
        "stone": ((146, 136, 126),),
        "concrete": ((144, 140, 134),),
    },
    "shop": {
        "wood": ((206, 174, 126),),
        "carpet": ((88, 120, 162),),
        "tile": ((238, 238, 232), (212, 222, 218)),
        "stone": ((188, 182, 172),),
        "concrete": ((192, 192, 188),),
    },
    "college": {
        "wood": ((180, 136, 86),),
        "carpet": ((76, 114, 90),),
        "tile": ((224, 224, 212), (196, 196, 184)),
        "stone": ((166, 162, 152),),
        "concrete": ((176, 176, 172),),
    },
    "civic": {
        "wood": ((162, 122, 84),),
        "carpet": ((70, 90, 140),),
        "tile": ((218, 218, 226), (186, 186, 198)),
        "stone": ((172, 172, 178),),
        "concrete": ((180, 180, 184),),
    },
    "park": {
        "wood": ((176, 132, 88),),
        "carpet": ((112, 150, 92),),
        "tile": ((212, 202, 182), (190, 180, 160)),
        "stone": ((178, 172, 162),),
        "concrete": ((184, 182, 176),),
    },
    "other": {
        "wood": ((186, 142, 98),),
        "carpet": ((142, 122, 102),),
        "tile": ((228, 228, 222), (202, 202, 196)),
        "stone": ((170, 166, 160),),
        "concrete": ((180, 180, 176),),
    },
}

#: Wall materials with their own look; any other word in a spec's ``wall_material`` draws as brick.
WALL_MATERIALS: dict[str, dict[str, RGB]] = {
    "brick": {"cap": (214, 198, 170), "face": (170, 86, 66), "joint": (214, 184, 158), "edge": (72, 44, 40)},
    "wood": {"cap": (196, 156, 108), "face": (142, 98, 60), "joint": (104, 70, 42), "edge": (62, 40, 28)},
    "stone": {"cap": (204, 204, 198), "face": (140, 140, 146), "joint": (104, 104, 112), "edge": (52, 52, 62)},
    "concrete": {"cap": (200, 200, 196), "face": (156, 156, 152), "joint": (130, 130, 128), "edge": (60, 60, 64)},
    "plaster": {"cap": (238, 228, 208), "face": (220, 202, 172), "joint": (196, 178, 150), "edge": (92, 76, 60)},
}
FACE_H = 11  # height in pixels of the wall's south face, seen at a slight angle


def wall_material(word: str) -> str:
    """The drawn material for a spec's free-text ``wall_material``."""
    word = word.strip().lower()
    return word if word in WALL_MATERIALS else "brick"


# --- keys ----------------------------------------------------------------------------


def floor_key(floor: str, variant: int | str) -> str:
    """``floor/<floor>/<variant>``: a variant number, a style, a road marking or a water mask."""
    return f"floor/{floor}/{variant}"


def wall_key(material: str, mask: int) -> str:
    return f"wall/{wall_material(material)}/{mask}"


def door_key(material: str, orientation: str) -> str:
    if orientation not in ("h", "v"):
        raise ValueError(f"door orientation must be 'h' or 'v', got {orientation!r}")
    return f"door/{wall_material(material)}/{orientation}"


def object_key(kind: str, mask: int = 0) -> str:
    """The tile of a furniture kind; the mask only matters for kinds that join up."""
    if kind not in OBJECT_KINDS:
        kind = "other"
    return f"object/{kind}/{mask if kind in CONNECTED_KINDS else 0}"


# --- drawing helpers -----------------------------------------------------------------


def shade(color: RGB, factor: float) -> RGB:
    return (
        max(0, min(255, round(color[0] * factor))),
        max(0, min(255, round(color[1] * factor))),
        max(0, min(255, round(color[2] * factor))),
    )


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def _seed(text: str) -> int:
    # hashlib, not hash(): Python salts str hashes per process
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


class _Canvas:
    """One 32 x 32 tile being drawn, with a random generator seeded by its key."""

    def __init__(self, key: str) -> None:
        self.img = Image.new("RGBA", (T, T), CLEAR)
        self.draw = ImageDraw.Draw(self.img)
        self.rng = random.Random(_seed(key))
        self.px = self.img.load()

    def rect(self, box: Box, fill: RGB | RGBA) -> None:
        """A filled rectangle (corners inclusive), clipped to the tile; nothing if it misses it."""
        x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], LAST), min(box[3], LAST)
        if x0 <= x1 and y0 <= y1:
            self.draw.rectangle((x0, y0, x1, y1), fill=fill)

    def line(self, points: Box, fill: RGB | RGBA) -> None:
        self.draw.line(points, fill=fill)

    def dot(self, x: int, y: int, fill: RGB | RGBA) -> None:
        if 0 <= x < T and 0 <= y < T:
            self.px[x, y] = fill if len(fill) == 4 else (*fill, 255)

    def speckle(self, count: int, lo: float = 0.9, hi: float = 1.1, box: Box = (0, 0, LAST, LAST)) -> None:
        """Texture: nudge the brightness of ``count`` random opaque pixels in ``box``."""
        x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], LAST), min(box[3], LAST)
        if x1 < x0 or y1 < y0:
            return
        for _ in range(count):
            x, y = self.rng.randint(x0, x1), self.rng.randint(y0, y1)
            r, g, b, a = self.px[x, y]
            if a:
                self.px[x, y] = (*shade((r, g, b), self.rng.uniform(lo, hi)), a)


def _box(mask: int, inset: int, top: int | None = None, bottom: int | None = None) -> Box:
    """A furniture outline: inset on the sides where the object ends, running off the tile
    where it continues, so outlines and rounded corners appear only at the object's edges."""
    over = 32  # more than any corner radius, so the rounding never shows where pieces meet
    return (
        -over if mask & W else inset,
        -over if mask & N else (inset if top is None else top),
        LAST + over if mask & E else LAST - inset,
        LAST + over if mask & S else LAST - (inset if bottom is None else bottom),
    )


def _inner(box: Box, pad: int = 1) -> Box:
    """The part of a box inside its outline and inside the tile."""
    return (max(box[0] + pad, 0), max(box[1] + pad, 0), min(box[2] - pad, LAST), min(box[3] - pad, LAST))


def _slab(
    c: _Canvas,
    mask: int,
    fill: RGB,
    *,
    inset: int = 2,
    radius: int = 2,
    outline: RGB | None = None,
    shadow: bool = True,
    bevel: bool = True,
    top: int | None = None,
    bottom: int | None = None,
) -> Box:
    """The body of a piece of furniture; returns its box (which may run off the tile)."""
    box = _box(mask, inset, top, inset + 1 if bottom is None else bottom)
    if shadow:
        c.draw.rounded_rectangle((box[0] + 1, box[1] + 2, box[2] + 1, box[3] + 2), radius, fill=SHADOW)
    c.draw.rounded_rectangle(box, radius, fill=fill, outline=outline or shade(fill, 0.45), width=1)
    if bevel:
        if not mask & N:
            c.line((box[0] + 2, box[1] + 1, box[2] - 2, box[1] + 1), shade(fill, 1.16))
        if not mask & S:
            c.line((box[0] + 2, box[3] - 1, box[2] - 2, box[3] - 1), shade(fill, 0.8))
    return box


def _first(mask: int) -> bool:
    """Whether this is the top-left piece of its object (for a detail drawn once)."""
    return not mask & (N | W)


def _horizontal(mask: int) -> bool:
    """Whether a piece belongs to an object that runs left-right (or is a single tile)."""
    return bool(mask & (E | W)) or not mask & (N | S)


# --- floors --------------------------------------------------------------------------


def _floor_grass(c: _Canvas, variant: int) -> None:
    base = (108, 170, 80)
    c.rect((0, 0, LAST, LAST), base)
    c.speckle(160, 0.9, 1.08)
    for _ in range(16):
        x, y = c.rng.randint(0, LAST), c.rng.randint(0, LAST - 1)
        col = shade(base, c.rng.choice((0.8, 0.84, 1.14)))
        c.dot(x, y, col)
        c.dot(x, y + 1, col)
    if variant == 2:  # a few flowers
        for _ in range(3):
            x, y = c.rng.randint(3, LAST - 3), c.rng.randint(3, LAST - 3)
            petal = c.rng.choice(((246, 246, 240), (250, 214, 84), (236, 140, 170)))
            for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                c.dot(x + dx, y + dy, petal)
            c.dot(x, y, (236, 180, 60))
    elif variant == 3:  # a darker tuft
        x, y = c.rng.randint(6, LAST - 6), c.rng.randint(8, LAST - 4)
        dark = shade(base, 0.72)
        for dx, h in ((-3, 2), (-2, 4), (-1, 3), (0, 5), (1, 3), (2, 4), (3, 2)):
            c.line((x + dx, y - h, x + dx, y), dark)


def _pebbles(c: _Canvas, base: RGB, count: int, size: int = 1) -> None:
    for _ in range(count):
        x, y = c.rng.randint(0, LAST - size), c.rng.randint(0, LAST - size)
        col = shade(base, c.rng.choice((0.78, 0.86, 1.12, 1.2)))
        c.rect((x, y, x + size - 1, y + size - 1), col)


def _floor_outdoor(c: _Canvas, floor: str, variant: str) -> None:
    if floor == "grass":
        _floor_grass(c, int(variant))
        return
    base: RGB
    if floor == "dirt":
        base = (150, 112, 74)
        c.rect((0, 0, LAST, LAST), base)
        c.speckle(200, 0.88, 1.1)
        _pebbles(c, base, 10 if variant == "0" else 18, 2)
    elif floor == "sand":
        base = (228, 208, 154)
        c.rect((0, 0, LAST, LAST), base)
        c.speckle(220, 0.93, 1.05)
        if variant == "1":
            for i in range(3):  # ripples
                y = 6 + i * 10
                c.line((4 + i * 3, y, 14 + i * 3, y), shade(base, 0.9))
    elif floor == "gravel":
        base = (164, 158, 148)
        c.rect((0, 0, LAST, LAST), base)
        c.speckle(120, 0.85, 1.12)
        _pebbles(c, base, 60, 2)
    elif floor == "path":
        base = (204, 176, 126)
        c.rect((0, 0, LAST, LAST), base)
        c.speckle(200, 0.9, 1.07)
        _pebbles(c, base, 6 if variant == "0" else 14, 2)
    elif floor == "road":
        base = (88, 90, 98)
        c.rect((0, 0, LAST, LAST), base)
        c.speckle(260, 0.86, 1.14)
        paint = (236, 206, 92)
        if variant == "line-h":
            c.rect((4, 15, 27, 16), paint)
        elif variant == "line-v":
            c.rect((15, 4, 16, 27), paint)
        elif variant == "1":
            x, y = c.rng.randint(4, 20), c.rng.randint(4, 20)  # a patched crack
            c.line((x, y, x + 6, y + 3), shade(base, 0.75))
    elif floor == "sidewalk":
        base = (190, 190, 184)
        c.rect((0, 0, LAST, LAST), base)
        c.speckle(140, 0.93, 1.06)
        joint = shade(base, 0.8)
        for p in (15, LAST):
            c.line((0, p, LAST, p), joint)
            c.line((p, 0, p, LAST), joint)
        if variant == "1":
            c.line((3, 4, 9, 9), joint)
    elif floor == "paving":
        base = (180, 122, 98)
        mortar = (214, 196, 176)
        c.rect((0, 0, LAST, LAST), mortar)
        for row in range(4):
            offset = 0 if row % 2 == 0 else 8
            for col in range(-1, 3):
                x0 = col * 16 + offset
                tone = shade(base, c.rng.uniform(0.9, 1.08))
                c.rect((x0, row * 8, x0 + 14, row * 8 + 6), tone)
        c.speckle(80, 0.92, 1.08)
    else:  # pragma: no cover - draw_tile only passes floors of OUTDOOR_VARIANTS
        raise ValueError(f"no drawing for floor {floor!r}")


def _floor_water(c: _Canvas, shore: int) -> None:
    """Water; ``shore`` has a bit set for each side that borders land (light foam there)."""
    base = (72, 134, 204)
    c.rect((0, 0, LAST, LAST), base)
    c.speckle(120, 0.94, 1.06)
    for _ in range(4):  # small wave crests
        x, y = c.rng.randint(2, 22), c.rng.randint(4, 28)
        c.line((x, y, x + 5, y), (138, 184, 232))
        c.line((x + 1, y + 1, x + 4, y + 1), shade(base, 0.88))
    foam, lip = (206, 230, 246), (146, 192, 232)
    if shore & N:
        c.rect((0, 0, LAST, 2), lip)
        c.line((0, 0, LAST, 0), foam)
    if shore & S:
        c.rect((0, LAST - 2, LAST, LAST), lip)
        c.line((0, LAST, LAST, LAST), foam)
    if shore & W:
        c.rect((0, 0, 2, LAST), lip)
        c.line((0, 0, 0, LAST), foam)
    if shore & E:
        c.rect((LAST - 2, 0, LAST, LAST), lip)
        c.line((LAST, 0, LAST, LAST), foam)


def _floor_indoor(c: _Canvas, floor: str, style: str) -> None:
    colors = _STYLE_COLORS[style]
    if floor in ("wood", "parquet"):
        (wood,) = colors["wood"]
        if floor == "wood":
            # planks 8 px high, one joint per row, staggered so the rows never line up
            for row in range(4):
                y0 = row * 8
                tone = shade(wood, (1.0, 0.94, 1.04, 0.97)[row])
                c.rect((0, y0, LAST, y0 + 7), tone)
                c.line((0, y0 + 7, LAST, y0 + 7), shade(wood, 0.72))
                joint = (row * 13 + 5) % T
                c.line((joint, y0, joint, y0 + 6), shade(wood, 0.72))
                gx = c.rng.randint(0, 20)
                c.line((gx, y0 + 3, gx + c.rng.randint(4, 9), y0 + 3), shade(tone, 0.9))
            c.speckle(90, 0.93, 1.07)
        else:
            light, dark = shade(wood, 1.08), shade(wood, 0.9)
            for by in range(4):
                for bx in range(4):
                    x0, y0 = bx * 8, by * 8
                    across = (bx + by) % 2 == 0
                    for i in range(2):
                        tone = light if i == 0 else dark
                        if across:
                            c.rect((x0, y0 + i * 4, x0 + 7, y0 + i * 4 + 3), tone)
                        else:
                            c.rect((x0 + i * 4, y0, x0 + i * 4 + 3, y0 + 7), tone)
            c.speckle(60, 0.93, 1.07)
    elif floor == "tile":
        a, b = colors["tile"]
        for ty in range(2):
            for tx in range(2):
                c.rect((tx * 16, ty * 16, tx * 16 + 15, ty * 16 + 15), a if (tx + ty) % 2 == 0 else b)
        grout = shade(mix(a, b, 0.5), 0.82)
        for p in (15, LAST):
            c.line((0, p, LAST, p), grout)
            c.line((p, 0, p, LAST), grout)
        c.speckle(40, 0.96, 1.04)
    elif floor == "carpet":
        (carpet,) = colors["carpet"]
        c.rect((0, 0, LAST, LAST), carpet)
        c.speckle(260, 0.92, 1.08)
        for y in range(4, T, 8):
            for x in range(4 if (y // 8) % 2 == 0 else 0, T, 8):
                c.dot(x, y, shade(carpet, 1.18))
    elif floor == "stone":
        (stone,) = colors["stone"]
        c.rect((0, 0, LAST, LAST), shade(stone, 0.7))
        rows = ((0, 10, (0, 13, 24)), (11, 21, (0, 7, 20)), (22, LAST, (0, 11, 26)))
        for y0, y1, starts in rows:
            edges = (*starts, T)
            for x0, x1 in itertools.pairwise(edges):
                c.rect((x0, y0, x1 - 2, y1 - 1), shade(stone, c.rng.uniform(0.9, 1.08)))
        c.speckle(120, 0.9, 1.1)
    elif floor == "concrete":
        (concrete,) = colors["concrete"]
        c.rect((0, 0, LAST, LAST), concrete)
        c.speckle(220, 0.92, 1.08)
        c.line((0, LAST, LAST, LAST), shade(concrete, 0.86))
        c.line((LAST, 0, LAST, LAST), shade(concrete, 0.86))
    else:  # pragma: no cover
        raise ValueError(f"no drawing for indoor floor {floor!r}")


# --- walls and doors -----------------------------------------------------------------


def _wall_face(c: _Canvas, colors: dict[str, RGB], material: str, x0: int, x1: int) -> None:
    """The visible south face of a wall, between columns x0 and x1."""
    y0 = T - FACE_H
    face, joint = colors["face"], colors["joint"]
    c.rect((x0, y0, x1, LAST), face)
    if material == "brick":
        for row, y in enumerate(range(y0 + 1, LAST, 3)):
            c.line((x0, y + 2, x1, y + 2), joint)
            for x in range(-4 + (row % 2) * 4, T, 8):
                if x0 <= x <= x1:
                    c.line((x, y, x, y + 1), joint)
    elif material == "wood":
        for y in range(y0 + 3, LAST, 3):
            c.line((x0, y, x1, y), joint)
    elif material == "stone":
        for row, y in enumerate(range(y0, LAST, 5)):
            c.line((x0, y + 4, x1, y + 4), joint)
            for x in range(3 + row * 5 % 10, T, 10):
                if x0 <= x <= x1:
                    c.line((x, y, x, y + 3), joint)
    else:
        c.line((x0, y0 + FACE_H // 2, x1, y0 + FACE_H // 2), joint)
    c.speckle(40, 0.9, 1.08, (x0, y0, x1, LAST))
    c.line((x0, y0, x1, y0), shade(colors["cap"], 0.62))  # where the top meets the face
    c.line((x0, LAST, x1, LAST), colors["edge"])


def _draw_wall(c: _Canvas, material: str, mask: int) -> None:
    colors = WALL_MATERIALS[material]
    cap, edge = colors["cap"], colors["edge"]
    c.rect((0, 0, LAST, LAST), cap)
    c.speckle(60, 0.94, 1.05)
    if not mask & S:
        _wall_face(c, colors, material, 0, LAST)
    if not mask & N:
        c.line((0, 0, LAST, 0), edge)
        c.line((0, 1, LAST, 1), shade(cap, 1.1))
    if not mask & W:
        c.line((0, 0, 0, LAST), edge)
        c.line((1, 1 if not mask & N else 0, 1, LAST - (FACE_H if not mask & S else 0)), shade(cap, 1.08))
    if not mask & E:
        c.line((LAST, 0, LAST, LAST), edge)
        c.line((LAST - 1, 0, LAST - 1, LAST - (FACE_H if not mask & S else 0)), shade(cap, 0.86))


def _draw_door(c: _Canvas, material: str, orientation: str) -> None:
    colors = WALL_MATERIALS[material]
    cap, edge = colors["cap"], colors["edge"]
    sill, mat = (150, 112, 72), (156, 70, 56)
    post = 4
    if orientation == "h":
        # the wall runs left-right: posts at both sides, the way through in between
        for x0, x1 in ((0, post), (LAST - post, LAST)):
            c.rect((x0, 0, x1, LAST), cap)
            _wall_face(c, colors, material, x0, x1)
        c.line((post, 0, post, LAST), edge)
        c.line((LAST - post, 0, LAST - post, LAST), edge)
        c.rect((post + 1, 0, LAST - post - 1, 2), SHADOW)  # the lintel's shadow
        c.rect((post + 1, 13, LAST - post - 1, 17), sill)
        c.line((post + 1, 17, LAST - post - 1, 17), shade(sill, 0.7))
        c.rect((post + 4, 21, LAST - post - 4, 29), mat)
        c.rect((post + 5, 22, LAST - post - 5, 28), shade(mat, 1.15))
    else:
        for y0, y1 in ((0, post), (LAST - post, LAST)):
            c.rect((0, y0, LAST, y1), cap)
            c.line((0, y0, 0, y1), edge)
            c.line((LAST, y0, LAST, y1), edge)
        c.line((0, post, LAST, post), edge)
        c.line((0, LAST - post, LAST, LAST - post), shade(cap, 0.62))
        c.rect((13, post + 1, 18, LAST - post - 1), sill)
        c.line((18, post + 1, 18, LAST - post - 1), shade(sill, 0.7))
    c.speckle(20, 0.94, 1.05)


# --- furniture -----------------------------------------------------------------------

_Drawer = Callable[[_Canvas, int, str], None]
_DRAWERS: dict[str, _Drawer] = {}
#: Kinds whose pieces join up with their neighbours of the same object (tables, beds, shelves).
CONNECTED_KINDS: set[str] = set()


def _kind(*kinds: str, connected: bool = True) -> Callable[[_Drawer], _Drawer]:
    def register(fn: _Drawer) -> _Drawer:
        for kind in kinds:
            _DRAWERS[kind] = fn
            if connected:
                CONNECTED_KINDS.add(kind)
        return fn

    return register


@_kind("table", "dining table", "coffee table", "workbench")
def _table(c: _Canvas, mask: int, kind: str) -> None:
    wood = {"table": (178, 126, 78), "dining table": (152, 100, 62), "coffee table": (124, 84, 56)}.get(
        kind, (146, 116, 84)
    )
    box = _slab(c, mask, wood, inset=3)
    x0, y0, x1, y1 = _inner(box, 2)
    for y in range(y0 + 3, y1, 6):  # grain
        c.line((x0, y, x1, y), shade(wood, 0.9))
    c.speckle(30, 0.94, 1.06, (x0, y0, x1, y1))
    if kind == "dining table":
        c.draw.ellipse((11, 11, 20, 20), fill=(246, 244, 238), outline=(188, 184, 178))
        c.draw.ellipse((14, 14, 17, 17), fill=(226, 222, 214))
    elif kind == "coffee table":
        c.draw.rounded_rectangle(_inner(box, 3), 1, fill=(176, 206, 214))
        c.line((x0 + 2, y0 + 2, x0 + 6, y0 + 2), (226, 240, 244))
    elif kind == "workbench":
        c.rect((8, 10, 18, 12), (150, 154, 162))  # a saw blade and a hammer
        c.rect((18, 10, 21, 12), (176, 60, 50))
        c.rect((22, 18, 24, 24), (110, 112, 118))
        c.rect((20, 16, 26, 18), (90, 92, 98))


@_kind("desk")
def _desk(c: _Canvas, mask: int, kind: str) -> None:
    wood = (160, 112, 70)
    _slab(c, mask, wood, inset=3)
    if not mask & E:
        c.rect((16, 8, 24, 19), (246, 246, 240))  # papers
        c.rect((17, 10, 23, 10), (170, 170, 180))
        c.rect((17, 13, 22, 13), (170, 170, 180))
        c.line((10, 20, 14, 14), (40, 60, 140))  # a pen
    else:
        c.rect((8, 9, 14, 15), (238, 224, 160))  # a note
        c.draw.ellipse((20, 14, 25, 19), fill=(232, 232, 236), outline=(120, 120, 130))  # a mug


@_kind("counter", "bar counter", "checkout", "display case")
def _counter(c: _Canvas, mask: int, kind: str) -> None:
    top = {"counter": (222, 216, 202), "bar counter": (112, 70, 44), "checkout": (196, 196, 202)}.get(
        kind, (188, 224, 234)
    )
    box = _slab(c, mask, top, inset=1, radius=1)
    x0, y0, x1, y1 = _inner(box)
    if kind == "bar counter":
        brass = (214, 178, 84)
        if not mask & S:
            c.line((x0, y1 - 2, x1, y1 - 2), brass)
        if not mask & E:
            c.line((x1 - 2, y0, x1 - 2, y1), brass)
        c.draw.ellipse((12, 8, 18, 14), fill=(236, 196, 96), outline=(150, 110, 50))  # a pint
    elif kind == "checkout" and _first(mask):
        c.rect((6, 6, 17, 16), (64, 66, 74))  # the till
        c.rect((8, 8, 15, 11), (120, 200, 150))
        c.rect((8, 13, 15, 14), (150, 150, 158))
    elif kind == "display case":
        c.rect(_inner(box, 3), (204, 236, 244))
        for i in range(3):
            x = 6 + i * 8
            c.rect((x, 14, x + 4, 18), ((220, 90, 90), (240, 200, 90), (120, 170, 90))[(i + mask) % 3])
        c.line((x0 + 2, y0 + 2, x0 + 8, y0 + 2), (250, 252, 252))
    else:
        c.speckle(30, 0.95, 1.05, (x0, y0, x1, y1))
        if not mask & S:
            c.line((x0, y1 - 3, x1, y1 - 3), shade(top, 0.86))  # front edge


@_kind("bookshelf", "shelf")
def _shelf(c: _Canvas, mask: int, kind: str) -> None:
    frame = (116, 76, 48) if kind == "bookshelf" else (168, 168, 176)
    box = _slab(c, mask, frame, inset=1, radius=1)
    x0, y0, x1, y1 = _inner(box, 2)
    board = shade(frame, 0.7)
    rows = ((y0, y0 + (y1 - y0) // 2 - 1), (y0 + (y1 - y0) // 2 + 1, y1))
    for ry0, ry1 in rows:
        c.rect((x0, ry0, x1, ry1), shade(frame, 0.55))
        x = x0
        while x <= x1:
            if kind == "bookshelf":
                w = c.rng.randint(2, 3)
                h = c.rng.randint(max(1, ry1 - ry0 - 4), ry1 - ry0)
                col = c.rng.choice(((172, 58, 52), (54, 92, 150), (62, 124, 82), (214, 176, 78), (120, 70, 130)))
                c.rect((x, ry1 - h, min(x + w - 1, x1), ry1), col)
                x += w + (1 if c.rng.random() < 0.2 else 0)
            else:
                w = c.rng.randint(4, 6)
                col = c.rng.choice(((220, 200, 150), (200, 120, 90), (130, 170, 200), (236, 236, 230)))
                c.rect((x, ry0 + 2, min(x + w - 1, x1), ry1), col)
                x += w + 2
        c.line((x0, ry1 + 1, x1, ry1 + 1), board)


@_kind("cabinet", "wardrobe", "dresser", "filing cabinet")
def _cabinet(c: _Canvas, mask: int, kind: str) -> None:
    wood = {
        "cabinet": (176, 134, 92),
        "wardrobe": (138, 94, 60),
        "dresser": (164, 112, 72),
        "filing cabinet": (150, 158, 168),
    }[kind]
    box = _slab(c, mask, wood, inset=1, radius=1)
    x0, y0, x1, y1 = _inner(box, 2)
    line, knob = shade(wood, 0.7), (226, 196, 110) if kind != "filing cabinet" else (80, 84, 92)
    if kind in ("dresser", "filing cabinet"):
        for y in (10, 20):
            c.line((x0, y, x1, y), line)
        for y in (5, 15, 25):
            c.rect((14, y, 17, y + 1), knob)
    else:
        if _horizontal(mask):
            c.line((16, y0, 16, y1), line)
            c.rect((13, 14, 14, 17), knob)
            c.rect((18, 14, 19, 17), knob)
        else:
            c.line((x0, 16, x1, 16), line)
            c.rect((14, 12, 17, 13), knob)
            c.rect((14, 18, 17, 19), knob)


@_kind("bed", "bunk bed", "crib")
def _bed(c: _Canvas, mask: int, kind: str) -> None:
    frame, blanket = {
        "bed": ((120, 80, 52), (84, 118, 182)),
        "bunk bed": ((96, 66, 44), (90, 150, 96)),
        "crib": ((226, 206, 176), (236, 170, 184)),
    }[kind]
    box = _slab(c, mask, frame, inset=2, radius=2)
    x0, y0, x1, y1 = _inner(box, 1)
    c.rect((x0, y0, x1, y1), blanket)
    c.speckle(24, 0.94, 1.06, (x0, y0, x1, y1))
    pillow = (244, 242, 236)
    if not mask & N and (mask & S or not mask & (E | W)):  # head end at the top
        c.draw.rounded_rectangle((x0 + 2, y0 + 1, x1 - 2, y0 + 8), 2, fill=pillow, outline=(200, 198, 192))
        c.rect((x0, y0 + 11, x1, y0 + 13), pillow)  # the turned-down sheet
    elif not mask & (N | S) and not mask & W:  # a bed lying left-right: head at the left
        c.draw.rounded_rectangle((x0 + 1, y0 + 2, x0 + 8, y1 - 2), 2, fill=pillow, outline=(200, 198, 192))
        c.rect((x0 + 11, y0, x0 + 13, y1), pillow)
    if kind == "crib":
        for x in range(max(x0, 0), min(x1, LAST) + 1, 3):
            c.dot(x, max(y0 - 1, 0), shade(frame, 0.7))
    if kind == "bunk bed" and not mask & S:
        c.rect((x1 - 3, y1 - 8, x1 - 1, y1), shade(frame, 1.2))  # the ladder
        for y in range(y1 - 7, y1, 3):
            c.line((x1 - 3, y, x1 - 1, y), shade(frame, 0.7))


@_kind("sofa")
def _sofa(c: _Canvas, mask: int, kind: str) -> None:
    fabric = (164, 84, 74)
    box = _slab(c, mask, shade(fabric, 0.8), inset=2, radius=3)
    x0, y0, x1, y1 = _inner(box, 1)
    if _horizontal(mask):  # backrest at the top, arms at the ends
        c.rect((x0 + (0 if mask & W else 4), y0 + 6, x1 - (0 if mask & E else 4), y1), fabric)
        c.line((16, y0 + 7, 16, y1 - 1), shade(fabric, 0.8))
    else:  # backrest on the left
        c.rect((x0 + 6, y0 + (0 if mask & N else 4), x1, y1 - (0 if mask & S else 4)), fabric)
        c.line((x0 + 7, 16, x1 - 1, 16), shade(fabric, 0.8))


@_kind("bench", "picnic area")
def _bench(c: _Canvas, mask: int, kind: str) -> None:
    if kind == "picnic area":  # a checked blanket
        box = _slab(c, mask, (214, 70, 64), inset=3, radius=1, shadow=False)
        x0, y0, x1, y1 = _inner(box)
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                if (x // 4 + y // 4) % 2 == 0:
                    c.dot(x, y, (240, 236, 228))
        return
    wood = (168, 122, 76)
    if _horizontal(mask):
        box = _slab(c, mask, shade(wood, 0.7), inset=2, top=8, bottom=7, radius=1)
        x0, y0, x1, y1 = _inner(box)
        for y in range(y0, y1 + 1, 4):
            c.rect((x0, y, x1, min(y + 2, y1)), wood)
    else:
        box = _slab(c, mask, shade(wood, 0.7), inset=8, radius=1)
        x0, y0, x1, y1 = _inner(box)
        for x in range(x0, x1 + 1, 4):
            c.rect((x, y0, min(x + 2, x1), y1), wood)


@_kind("rug", "stage")
def _rug(c: _Canvas, mask: int, kind: str) -> None:
    if kind == "stage":
        wood = (150, 100, 62)
        box = _slab(c, mask, wood, inset=0, radius=0)
        for y in range(4, T, 6):
            c.line((max(box[0] + 1, 0), y, min(box[2] - 1, LAST), y), shade(wood, 0.8))
        if not mask & S:
            c.rect((0, LAST - 3, LAST, LAST), shade(wood, 0.6))
        return
    red, gold = (168, 68, 66), (226, 190, 118)
    box = _slab(c, mask, red, inset=1, radius=0, shadow=False, bevel=False)
    x0, y0, x1, y1 = box[0] + 3, box[1] + 3, box[2] - 3, box[3] - 3
    c.draw.rectangle((x0, y0, x1, y1), outline=gold)
    c.speckle(50, 0.92, 1.08, _inner(box))
    for x, y in ((8, 8), (24, 24), (8, 24), (24, 8)):
        c.dot(x, y, gold)


@_kind("blackboard", "projector screen")
def _board(c: _Canvas, mask: int, kind: str) -> None:
    frame = (150, 110, 72) if kind == "blackboard" else (150, 152, 160)
    surface = (42, 74, 58) if kind == "blackboard" else (244, 244, 246)
    box = _slab(c, mask, frame, inset=3, radius=1)
    c.rect(_inner(box, 2), surface)
    if kind == "blackboard":
        x = c.rng.randint(4, 12)
        c.line((x, 12, x + 10, 12), (220, 226, 220))
        c.line((x + 2, 18, x + 8, 18), (220, 226, 220))
        if c.rng.random() < 0.6:
            c.line((x + 12, 16, x + 15, 13), (236, 220, 150))


@_kind("bathtub")
def _bathtub(c: _Canvas, mask: int, kind: str) -> None:
    _slab(c, mask, (238, 242, 246), inset=2, radius=5)
    c.draw.rounded_rectangle(_box(mask, 5, bottom=6), 4, fill=(150, 202, 232))
    if _first(mask):
        c.rect((6, 4, 9, 6), (170, 176, 186))  # the tap
    c.dot(20, 18, (196, 228, 246))


@_kind("piano")
def _piano(c: _Canvas, mask: int, kind: str) -> None:
    box = _slab(c, mask, (38, 34, 40), inset=2, radius=1, outline=(16, 14, 18))
    x0, y0, x1, y1 = _inner(box)
    c.line((x0 + 1, y0 + 1, x1 - 1, y0 + 1), (90, 86, 96))  # a shine on the lid
    if not mask & S:
        c.rect((x0, y1 - 7, x1, y1), (244, 242, 236))
        for x in range(x0, x1 + 1, 4):
            c.line((x, y1 - 7, x, y1), (150, 150, 150))
            c.rect((x + 2, y1 - 7, x + 3, y1 - 3), (20, 20, 24))


@_kind("tv")
def _tv(c: _Canvas, mask: int, kind: str) -> None:
    box = _slab(c, mask, (44, 46, 54), inset=3, radius=1, outline=(20, 20, 24), top=8, bottom=10)
    c.rect(_inner(box, 2), (66, 96, 140))
    c.line((max(box[0] + 4, 0), box[1] + 3, max(box[0] + 9, 0), box[1] + 3), (130, 170, 210))
    if not mask & S and (not mask & (E | W) or mask & E):
        c.rect((14 if not mask & E else 28, box[3] + 1, 17 if not mask & E else 31, box[3] + 3), (60, 60, 66))


@_kind("stove", "grill")
def _stove(c: _Canvas, mask: int, kind: str) -> None:
    body = (232, 232, 234) if kind == "stove" else (52, 52, 56)
    box = _slab(c, mask, body, inset=1, radius=1)
    if kind == "grill":
        x0, y0, x1, y1 = _inner(box, 3)
        c.rect((x0, y0, x1, y1), (30, 30, 32))
        for x in range(x0 + 1, x1, 3):
            c.line((x, y0, x, y1), (120, 120, 126))
        c.dot(12, 14, (236, 120, 60))
        c.dot(20, 20, (236, 120, 60))
        return
    for cx, cy in ((10, 10), (22, 10), (10, 22), (22, 22)):
        c.draw.ellipse((cx - 4, cy - 4, cx + 4, cy + 4), fill=(44, 44, 48))
        c.draw.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), outline=(200, 80, 60))


@_kind("sink")
def _sink(c: _Canvas, mask: int, kind: str) -> None:
    _slab(c, mask, (222, 218, 206), inset=1, radius=1)
    c.draw.rounded_rectangle((8, 9, 23, 24), 4, fill=(186, 196, 204), outline=(130, 140, 150))
    c.draw.ellipse((15, 16, 17, 18), fill=(100, 106, 114))
    c.rect((15, 4, 16, 10), (160, 166, 176))  # the tap


@_kind("flower bed", "garden bed")
def _planting(c: _Canvas, mask: int, kind: str) -> None:
    border = (150, 142, 132) if kind == "flower bed" else (132, 92, 58)
    box = _slab(c, mask, border, inset=1, radius=2)
    x0, y0, x1, y1 = _inner(box, 2)
    c.rect((x0, y0, x1, y1), (112, 80, 54))
    c.speckle(40, 0.85, 1.1, (x0, y0, x1, y1))
    if kind == "flower bed":
        for _ in range(9):
            x, y = c.rng.randint(x0 + 1, max(x0 + 1, x1 - 1)), c.rng.randint(y0 + 1, max(y0 + 1, y1 - 1))
            c.dot(x, y + 1, (70, 140, 64))
            petal = c.rng.choice(((236, 84, 96), (250, 214, 84), (246, 246, 240), (170, 110, 210)))
            for dx, dy in ((-1, 0), (1, 0), (0, -1)):
                c.dot(x + dx, y + dy, petal)
    else:
        for y in range(max(y0 + 3, 0), y1, 7):
            for x in range(max(x0 + 2, 0), x1, 6):
                c.draw.ellipse((x, y - 2, x + 4, y + 2), fill=(84, 156, 70), outline=(50, 110, 46))


def _round_piece(c: _Canvas, mask: int, fill: RGB, radius: int = 12, inset: int = 1) -> Box:
    return _slab(c, mask, fill, inset=inset, radius=radius, bevel=False)


def _inner_corner(mask: int) -> tuple[int, int] | None:
    """The tile corner at the middle of a 2 x 2 (or larger) object, for its centre piece."""
    if mask & S and mask & E:
        return (LAST + 1, LAST + 1)
    if mask & S and mask & W:
        return (0, LAST + 1)
    if mask & N and mask & E:
        return (LAST + 1, 0)
    if mask & N and mask & W:
        return (0, 0)
    return None


@_kind("pond", "fountain")
def _pond(c: _Canvas, mask: int, kind: str) -> None:
    if kind == "pond":
        box = _round_piece(c, mask, (86, 146, 206))
        x0, y0, x1, y1 = _inner(box, 2)
        c.speckle(40, 0.94, 1.06, (x0, y0, x1, y1))
        # pads only in the corners: edge and middle pieces repeat, and repeated pads look like a grid
        if not mask or (_inner_corner(mask) is not None and bin(mask).count("1") == 2):
            x, y = c.rng.randint(8, 16), c.rng.randint(8, 16)
            c.draw.ellipse((x, y, x + 7, y + 5), fill=(92, 160, 80), outline=(56, 112, 52))
            c.draw.ellipse((x + 6, y + 6, x + 11, y + 10), fill=(92, 160, 80), outline=(56, 112, 52))
        elif mask == N | E | S | W:
            c.line((10, 16, 14, 16), (104, 160, 216))
        return
    box = _round_piece(c, mask, (184, 184, 190))
    c.draw.rounded_rectangle(
        (box[0] + 4, box[1] + 4, box[2] - 4, box[3] - 4), 9, fill=(120, 184, 232), outline=(96, 150, 200)
    )
    corner = _inner_corner(mask) or (16, 16)
    cx, cy = corner
    c.draw.ellipse((cx - 6, cy - 6, cx + 6, cy + 6), fill=(196, 196, 204), outline=(120, 120, 130))
    c.draw.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), fill=(220, 240, 252))


@_kind("tree")
def _tree(c: _Canvas, mask: int, kind: str) -> None:
    leaf = (64, 134, 62)
    box = _round_piece(c, mask, leaf, radius=28 if mask else 14, inset=0)
    x0, y0, x1, y1 = _inner(box, 3)
    for _ in range(7):  # clumps of leaves, lit from the top-left
        x, y = c.rng.randint(x0, max(x0, x1 - 7)), c.rng.randint(y0, max(y0, y1 - 7))
        c.draw.ellipse((x, y, x + 7, y + 6), fill=shade(leaf, 1.18))
        c.draw.arc((x, y, x + 7, y + 6), 20, 160, fill=shade(leaf, 0.78))
    c.speckle(50, 0.86, 1.12, (x0, y0, x1, y1))


@_kind("statue")
def _statue(c: _Canvas, mask: int, kind: str) -> None:
    box = _slab(c, mask, (170, 170, 176), inset=2, radius=2)
    c.speckle(30, 0.92, 1.08, _inner(box))
    cx, cy = _inner_corner(mask) or (16, 16)
    c.draw.ellipse((cx - 7, cy - 7, cx + 7, cy + 7), fill=(208, 210, 214), outline=(110, 110, 118))
    c.draw.ellipse((cx - 3, cy - 3, cx + 3, cy + 3), fill=(228, 230, 234))


@_kind("playground")
def _playground(c: _Canvas, mask: int, kind: str) -> None:
    box = _slab(c, mask, (206, 116, 84), inset=1, radius=3, bevel=False)
    c.speckle(40, 0.92, 1.08, _inner(box))
    piece = (mask * 7) % 3
    if piece == 0:  # a slide
        c.rect((8, 6, 14, 26), (240, 200, 70))
        c.rect((9, 7, 13, 25), (250, 226, 120))
        c.rect((6, 4, 16, 8), (64, 130, 200))
    elif piece == 1:  # swings
        c.rect((4, 8, 27, 9), (200, 60, 60))
        for x in (9, 21):
            c.line((x, 10, x, 18), (90, 90, 96))
            c.rect((x - 2, 19, x + 2, 20), (60, 60, 70))
    else:  # a climbing frame
        c.draw.rectangle((7, 7, 24, 24), outline=(64, 150, 90))
        c.line((16, 7, 16, 24), (64, 150, 90))
        c.line((7, 16, 24, 16), (64, 150, 90))


@_kind("other")
def _crate(c: _Canvas, mask: int, kind: str) -> None:
    """The fallback look: wooden crates, one per tile."""
    wood = (178, 138, 88)
    _slab(c, mask, shade(wood, 0.8), inset=1, radius=1)
    c.draw.rectangle((3, 3, 28, 27), fill=wood, outline=shade(wood, 0.6))
    c.line((4, 4, 27, 26), shade(wood, 0.7))
    c.line((27, 4, 4, 26), shade(wood, 0.7))
    c.line((4, 15, 27, 15), shade(wood, 0.7))


# single-tile things: every tile of the object is one of them, whatever its neighbours


def _icon_shadow(c: _Canvas, box: Box) -> None:
    c.draw.ellipse((box[0] + 1, box[3] - 3, box[2] + 1, box[3] + 2), fill=SHADOW)


@_kind("chair", connected=False)
def _chair(c: _Canvas, mask: int, kind: str) -> None:
    wood = (170, 120, 76)
    _icon_shadow(c, (9, 8, 23, 25))
    c.draw.rounded_rectangle((9, 11, 23, 25), 2, fill=wood, outline=shade(wood, 0.45))
    c.line((11, 12, 21, 12), shade(wood, 1.15))
    c.draw.rounded_rectangle((8, 6, 24, 10), 1, fill=shade(wood, 0.8), outline=shade(wood, 0.45))


@_kind("stool", connected=False)
def _stool(c: _Canvas, mask: int, kind: str) -> None:
    _icon_shadow(c, (9, 9, 22, 22))
    c.draw.ellipse((9, 9, 22, 22), fill=(84, 84, 92), outline=(40, 40, 46))
    c.draw.ellipse((11, 11, 20, 20), fill=(190, 74, 62))
    c.dot(13, 13, (222, 120, 108))


@_kind("armchair", connected=False)
def _armchair(c: _Canvas, mask: int, kind: str) -> None:
    fabric = (104, 132, 172)
    _icon_shadow(c, (4, 4, 27, 27))
    c.draw.rounded_rectangle((4, 4, 27, 27), 4, fill=shade(fabric, 0.8), outline=shade(fabric, 0.45))
    c.draw.rounded_rectangle((9, 10, 22, 26), 2, fill=fabric)
    c.line((10, 11, 21, 11), shade(fabric, 1.15))


@_kind("toilet", connected=False)
def _toilet(c: _Canvas, mask: int, kind: str) -> None:
    white, line = (244, 246, 248), (150, 156, 166)
    c.draw.rounded_rectangle((9, 3, 22, 9), 1, fill=white, outline=line)
    c.draw.ellipse((9, 9, 22, 27), fill=white, outline=line)
    c.draw.ellipse((12, 12, 19, 24), fill=(196, 220, 236), outline=line)


@_kind("shower", connected=False)
def _shower(c: _Canvas, mask: int, kind: str) -> None:
    tray = (206, 224, 234)
    c.draw.rectangle((1, 1, 30, 30), fill=tray, outline=(140, 160, 176))
    for p in range(8, 30, 8):
        c.line((2, p, 29, p), shade(tray, 0.9))
        c.line((p, 2, p, 29), shade(tray, 0.9))
    c.draw.ellipse((14, 14, 17, 17), fill=(110, 120, 134))
    c.draw.ellipse((3, 3, 9, 9), fill=(190, 196, 206), outline=(110, 116, 126))  # the shower head


@_kind("mirror", connected=False)
def _mirror(c: _Canvas, mask: int, kind: str) -> None:
    c.draw.rounded_rectangle((8, 3, 23, 28), 3, fill=(196, 226, 240), outline=(160, 124, 70), width=2)
    c.line((12, 8, 17, 13), (240, 250, 255))
    c.line((12, 11, 15, 14), (240, 250, 255))


@_kind("nightstand", connected=False)
def _nightstand(c: _Canvas, mask: int, kind: str) -> None:
    wood = (150, 104, 66)
    _icon_shadow(c, (6, 6, 25, 26))
    c.draw.rounded_rectangle((6, 6, 25, 26), 1, fill=wood, outline=shade(wood, 0.45))
    c.draw.ellipse((11, 9, 20, 18), fill=(250, 224, 130), outline=(190, 150, 60))  # a lamp
    c.rect((14, 22, 17, 23), (226, 196, 110))


@_kind("computer", connected=False)
def _computer(c: _Canvas, mask: int, kind: str) -> None:
    _icon_shadow(c, (5, 4, 26, 27))
    c.draw.rounded_rectangle((5, 3, 26, 17), 1, fill=(44, 46, 54), outline=(20, 20, 24))
    c.rect((7, 5, 24, 15), (84, 150, 204))
    c.line((8, 6, 14, 6), (160, 210, 240))
    c.rect((14, 18, 17, 20), (60, 60, 66))
    c.draw.rounded_rectangle((6, 21, 25, 27), 1, fill=(214, 214, 220), outline=(120, 120, 130))
    for x in range(8, 24, 3):
        c.dot(x, 23, (150, 150, 160))
        c.dot(x + 1, 25, (150, 150, 160))


@_kind("coffee machine", connected=False)
def _coffee_machine(c: _Canvas, mask: int, kind: str) -> None:
    steel = (170, 174, 182)
    _icon_shadow(c, (6, 4, 25, 27))
    c.draw.rounded_rectangle((6, 4, 25, 27), 2, fill=steel, outline=(70, 74, 82))
    c.rect((8, 6, 23, 11), (60, 60, 66))
    c.rect((10, 8, 12, 9), (230, 90, 70))
    c.draw.ellipse((12, 16, 19, 23), fill=(246, 244, 238), outline=(150, 150, 150))
    c.draw.ellipse((14, 18, 17, 21), fill=(110, 66, 40))


@_kind("dishwasher", "washing machine", "oven", connected=False)
def _appliance(c: _Canvas, mask: int, kind: str) -> None:
    body = (60, 62, 70) if kind == "oven" else (234, 236, 240)
    _icon_shadow(c, (3, 3, 28, 28))
    c.draw.rounded_rectangle((3, 3, 28, 28), 2, fill=body, outline=shade(body, 0.45))
    c.rect((5, 5, 26, 8), shade(body, 0.85))
    for x in (7, 11, 15):
        c.dot(x, 6, (120, 200, 140) if kind != "oven" else (230, 120, 60))
    if kind == "washing machine":
        c.draw.ellipse((8, 11, 23, 26), fill=(150, 176, 200), outline=(90, 96, 110), width=2)
        c.line((12, 15, 15, 15), (220, 236, 246))
    elif kind == "oven":
        c.rect((7, 12, 24, 25), (30, 30, 34))
        c.rect((9, 14, 22, 23), (120, 70, 40))
        c.line((8, 10, 23, 10), (170, 170, 176))
    else:
        c.line((7, 11, 24, 11), (150, 154, 162))
        c.rect((7, 14, 24, 26), shade(body, 0.93))


@_kind("fridge", "vending machine", connected=False)
def _fridge(c: _Canvas, mask: int, kind: str) -> None:
    body = (236, 240, 244) if kind == "fridge" else (190, 60, 58)
    _icon_shadow(c, (4, 2, 27, 28))
    c.draw.rounded_rectangle((4, 2, 27, 28), 2, fill=body, outline=shade(body, 0.45))
    if kind == "fridge":
        c.line((5, 11, 26, 11), (170, 176, 184))
        c.rect((22, 5, 23, 9), (150, 156, 166))
        c.rect((22, 14, 23, 22), (150, 156, 166))
        c.line((7, 4, 7, 9), (252, 252, 254))
    else:
        c.rect((7, 5, 20, 25), (214, 230, 238))
        for y in range(7, 24, 5):
            for x in range(9, 19, 4):
                c.rect((x, y, x + 2, y + 2), c.rng.choice(((240, 200, 80), (90, 160, 220), (120, 190, 100))))
        c.rect((22, 8, 25, 12), (40, 40, 44))


@_kind("plant", "trash can", connected=False)
def _plant(c: _Canvas, mask: int, kind: str) -> None:
    if kind == "trash can":
        _icon_shadow(c, (9, 9, 22, 25))
        c.draw.ellipse((9, 9, 22, 25), fill=(120, 128, 136), outline=(60, 64, 70))
        c.draw.ellipse((11, 11, 20, 20), fill=(70, 74, 80))
        c.rect((12, 14, 15, 16), (236, 232, 220))
        return
    _icon_shadow(c, (9, 14, 22, 27))
    c.draw.rounded_rectangle((10, 18, 21, 27), 2, fill=(184, 104, 64), outline=(110, 58, 34))
    leaf = (70, 150, 70)
    for x, y in ((6, 8), (14, 4), (20, 9), (10, 13), (17, 13)):
        c.draw.ellipse((x, y, x + 7, y + 6), fill=leaf, outline=shade(leaf, 0.6))


@_kind("guitar stand", "easel", "pottery wheel", "lectern", connected=False)
def _studio(c: _Canvas, mask: int, kind: str) -> None:
    if kind == "guitar stand":
        body = (196, 120, 60)
        c.rect((15, 3, 16, 14), (90, 60, 40))  # the neck
        c.rect((14, 2, 17, 4), (60, 40, 28))
        c.draw.ellipse((9, 12, 22, 22), fill=body, outline=shade(body, 0.5))
        c.draw.ellipse((10, 19, 21, 28), fill=body, outline=shade(body, 0.5))
        c.draw.ellipse((14, 17, 17, 20), fill=(40, 30, 24))
    elif kind == "easel":
        wood = (160, 116, 70)
        c.line((8, 28, 15, 4), wood)
        c.line((23, 28, 16, 4), wood)
        c.draw.rectangle((7, 6, 24, 20), fill=(246, 244, 238), outline=(120, 110, 100))
        c.rect((10, 9, 14, 13), (120, 170, 220))
        c.rect((15, 12, 21, 17), (236, 170, 80))
        c.line((6, 21, 25, 21), wood)
    elif kind == "pottery wheel":
        c.draw.ellipse((4, 4, 27, 27), fill=(120, 124, 132), outline=(60, 62, 68))
        c.draw.ellipse((8, 8, 23, 23), fill=(160, 164, 172))
        c.draw.ellipse((11, 11, 20, 20), fill=(176, 110, 76), outline=(120, 70, 46))
    else:
        wood = (150, 104, 66)
        _icon_shadow(c, (7, 6, 24, 27))
        c.draw.polygon(((7, 10), (24, 10), (22, 27), (9, 27)), fill=wood, outline=shade(wood, 0.45))
        c.draw.rectangle((6, 5, 25, 11), fill=shade(wood, 1.15), outline=shade(wood, 0.45))
        c.rect((10, 6, 20, 9), (246, 244, 238))


@_kind("dartboard", "jukebox", "fireplace", connected=False)
def _leisure(c: _Canvas, mask: int, kind: str) -> None:
    if kind == "dartboard":
        for r, col in ((12, (30, 30, 34)), (10, (236, 226, 200)), (7, (190, 50, 50)), (4, (40, 130, 70))):
            c.draw.ellipse((16 - r, 16 - r, 15 + r, 15 + r), fill=col)
        c.draw.ellipse((14, 14, 17, 17), fill=(200, 40, 40))
    elif kind == "jukebox":
        _icon_shadow(c, (5, 3, 26, 28))
        c.draw.rounded_rectangle((5, 3, 26, 28), 8, fill=(150, 64, 96), outline=(70, 30, 44))
        for i, col in enumerate(((240, 90, 80), (250, 200, 80), (110, 200, 120), (90, 160, 240))):
            c.line((8 + i, 8 + i, 23 - i, 8 + i), col)
        c.rect((9, 16, 22, 24), (236, 214, 170))
        c.rect((11, 18, 20, 22), (90, 60, 50))
    else:
        stone = (156, 150, 146)
        c.rect((1, 2, 30, 29), stone)
        for y in range(5, 29, 6):
            c.line((1, y, 30, y), shade(stone, 0.8))
        c.draw.rectangle((1, 2, 30, 29), outline=(70, 66, 64))
        c.rect((6, 8, 25, 25), (34, 28, 26))
        c.draw.polygon(((9, 25), (13, 13), (16, 20), (19, 11), (23, 25)), fill=(236, 122, 46))
        c.draw.polygon(((12, 25), (15, 17), (18, 25)), fill=(252, 214, 92))


@_kind("pool table")
def _pool_table(c: _Canvas, mask: int, kind: str) -> None:
    felt = (52, 132, 82)
    box = _slab(c, mask, (112, 72, 42), inset=1, radius=3)
    x0, y0, x1, y1 = box[0] + 3, box[1] + 3, box[2] - 3, box[3] - 3
    c.rect((x0, y0, x1, y1), felt)
    c.speckle(30, 0.95, 1.05, _inner((x0, y0, x1, y1), 0))
    pockets = ((x0, y0, N | W), (x1 - 1, y0, N | E), (x0, y1 - 1, S | W), (x1 - 1, y1 - 1, S | E))
    for corner_x, corner_y, sides in pockets:
        if not mask & sides:  # a pocket where the table has corners, not where its pieces meet
            c.rect((corner_x, corner_y, corner_x + 1, corner_y + 1), (20, 20, 20))
    if _first(mask):
        c.draw.ellipse((14, 14, 17, 17), fill=(246, 246, 240))
    else:
        c.draw.ellipse((12, 10, 15, 13), fill=c.rng.choice(((220, 60, 50), (240, 200, 60), (60, 90, 200))))


# --- the tile registry ---------------------------------------------------------------


def draw_tile(key: str) -> Image.Image:
    """Draw one tile (``DRAW_SIZE`` square, RGBA) from its key; ValueError for an unknown key."""
    c = _Canvas(key)
    parts = key.split("/")
    kind, name, variant = (*parts, "", "")[:3] if len(parts) <= 3 else ("", "", "")
    if key == COLLISION_KEY:
        c.rect((0, 0, LAST, LAST), (226, 40, 40, 96))
        c.draw.rectangle((0, 0, LAST, LAST), outline=(226, 40, 40, 220), width=2)
        c.line((3, 3, LAST - 3, LAST - 3), (226, 40, 40, 220))
        c.line((LAST - 3, 3, 3, LAST - 3), (226, 40, 40, 220))
    elif kind == "floor" and name in INDOOR_FLOORS and variant in _STYLE_COLORS:
        _floor_indoor(c, name, variant)
    elif kind == "floor" and name in OUTDOOR_VARIANTS and _valid_variant(name, variant):
        _floor_outdoor(c, name, variant)
    elif kind == "floor" and name == "water" and _is_mask(variant):
        _floor_water(c, int(variant))
    elif kind == "wall" and name in WALL_MATERIALS and _is_mask(variant):
        _draw_wall(c, name, int(variant))
    elif kind == "door" and name in WALL_MATERIALS and variant in ("h", "v"):
        _draw_door(c, name, variant)
    elif kind == "object" and name in _DRAWERS and _is_mask(variant):
        _DRAWERS[name](c, int(variant), name)
    else:
        raise ValueError(f"not a tile key: {key!r}")
    return c.img


def _valid_variant(floor: str, variant: str) -> bool:
    if floor == "road" and variant in ("line-h", "line-v"):
        return True
    return variant.isdigit() and int(variant) < len(OUTDOOR_VARIANTS[floor])


def _is_mask(text: str) -> bool:
    return text.isdigit() and 0 <= int(text) <= 15


@cache
def _drawn(key: str) -> Image.Image:
    # a tile's pixels depend on its key only, so each is drawn once per process
    return draw_tile(key)


def base_keys() -> list[str]:
    """The tiles every tileset has, whatever the town: every floor, wall piece, door and kind."""
    keys: list[str] = [COLLISION_KEY]
    for floor, weights in OUTDOOR_VARIANTS.items():
        keys += [floor_key(floor, v) for v in range(len(weights))]
        if floor == "road":
            keys += [floor_key(floor, "line-h"), floor_key(floor, "line-v")]
    keys += [floor_key("water", mask) for mask in range(16)]
    keys += [floor_key(floor, style) for style in STYLES for floor in INDOOR_FLOORS]
    for material in WALL_MATERIALS:
        keys += [wall_key(material, mask) for mask in range(16)]
        keys += [door_key(material, "h"), door_key(material, "v")]
    keys += [object_key(kind) for kind in sorted(OBJECT_KINDS)]
    return keys


@dataclass(frozen=True)
class Tileset:
    """Tiles in a fixed order (tile id = position in ``keys``) and the image they make."""

    keys: tuple[str, ...]
    image: Image.Image
    tile_size: int
    columns: int

    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {key: i for i, key in enumerate(self.keys)})

    def index(self, key: str) -> int:
        """The tile id (0-based; a Tiled gid is this plus the tileset's firstgid). KeyError if absent."""
        return self._index[key]

    @property
    def tilecount(self) -> int:
        return len(self.keys)

    def png(self) -> bytes:
        return png_bytes(self.image)


def build_tileset(keys: Iterable[str] = (), tile_size: int = DRAW_SIZE, columns: int = COLUMNS) -> Tileset:
    """The base tiles, then any other ``keys`` (furniture pieces a town uses) in sorted order."""
    ordered = base_keys()
    known = set(ordered)
    ordered += sorted(set(keys) - known)
    rows = math.ceil(len(ordered) / columns)
    image = Image.new("RGBA", (columns * tile_size, rows * tile_size), CLEAR)
    for i, key in enumerate(ordered):
        tile = _drawn(key)
        if tile_size != DRAW_SIZE:
            tile = tile.resize((tile_size, tile_size), Image.Resampling.NEAREST)
        image.paste(tile, ((i % columns) * tile_size, (i // columns) * tile_size))
    return Tileset(keys=tuple(ordered), image=image, tile_size=tile_size, columns=columns)


def png_bytes(image: Image.Image) -> bytes:
    """PNG bytes with no metadata (Pillow writes no time stamp), so equal pixels give equal bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=9)
    return buffer.getvalue()
