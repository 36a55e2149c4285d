"""The town spec: a declarative description of a town as rectangles on a tile grid.

A town is a YAML file (``static_dirs/towns/<name>/town.yaml``, format in
``docs/town_format.md``) of sectors (buildings and open areas), arenas (rooms) inside
sectors, game objects (furniture) inside arenas, spawning locations, and outdoor
terrain. This module turns that file into frozen dataclasses with **town (absolute)
coordinates** and checks everything that can be checked from the rectangles alone:

- every field has the right type, no unknown keys (with "did you mean" hints);
- kinds and floors are known names; names are non-empty, have no ``:``, and are unique
  within their parent (sectors in the town, arenas in a sector, objects in an arena,
  spawns in the town);
- rectangles lie inside their parent: sectors and terrain in the town, arenas in their
  sector (inside its outer wall when it has walls), objects and use tiles in their
  arena; sectors do not overlap each other or terrain; arenas of a sector do not overlap;
  objects do not overlap;
- doors are wall tiles (a walled sector's tiles outside every arena) with open tiles on
  two opposite sides; use tiles touch their object; spawns lie in an arena.

Checks that need the built grids (blocked doors, reachability of every arena, object and
spawn) live in :mod:`reverie.town.maze`. Every problem names the file, the line,
the thing (``sector 'Hobbs Cafe' > arena 'kitchen' > object 'stove'``) and the field, and
all problems are reported at once in one :class:`SpecError`.

Coordinates in the file: sector and terrain rectangles are in town coordinates; every
position inside a sector (arena and object rectangles, doors, use tiles, spawns) is
relative to the sector's top-left tile, so a building moves by changing one line.
The dataclasses below hold town coordinates only. Tiles are ``(x, y)``, x the column.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "FLOORS",
    "FORMAT_VERSION",
    "OBJECT_KINDS",
    "SECTOR_KINDS",
    "ArenaSpec",
    "GameObjectSpec",
    "Problem",
    "Rect",
    "SectorSpec",
    "SpawnSpec",
    "SpecError",
    "TerrainSpec",
    "Tile",
    "TownSpec",
    "check_geometry",
    "describe_tile",
    "load_spec",
    "parse_spec",
    "parse_spec_text",
    "town_dir",
]

Tile = tuple[int, int]

FORMAT_VERSION = 1
MAX_SIZE = 1000  # tiles per side; far above any hand-authored town

SECTOR_KINDS: frozenset[str] = frozenset(
    {
        "house",
        "apartment",
        "dorm",
        "co-living",
        "cafe",
        "pub",
        "restaurant",
        "store",
        "market",
        "pharmacy",
        "college",
        "school",
        "library",
        "office",
        "town-hall",
        "park",
        "garden",
        "plaza",
        "other",
    }
)

FLOORS: frozenset[str] = frozenset(
    {
        "grass",
        "dirt",
        "sand",
        "gravel",
        "path",
        "road",
        "sidewalk",
        "paving",
        "water",
        "wood",
        "parquet",
        "tile",
        "carpet",
        "stone",
        "concrete",
    }
)

#: Furniture kinds and whether each blocks walking unless the spec says otherwise.
#: Things one stands *on* to use (seats, toilets, showers, rugs) do not block.
OBJECT_KINDS: dict[str, bool] = {
    # sleeping and storage
    "bed": True,
    "bunk bed": True,
    "crib": True,
    "wardrobe": True,
    "dresser": True,
    "nightstand": True,
    "cabinet": True,
    "bookshelf": True,
    "shelf": True,
    "display case": True,
    "filing cabinet": True,
    # tables and work surfaces
    "desk": True,
    "table": True,
    "dining table": True,
    "coffee table": True,
    "counter": True,
    "bar counter": True,
    "workbench": True,
    "checkout": True,
    # kitchen and laundry
    "stove": True,
    "oven": True,
    "fridge": True,
    "sink": True,
    "coffee machine": True,
    "dishwasher": True,
    "washing machine": True,
    "grill": True,
    # bathroom
    "toilet": False,
    "shower": False,
    "bathtub": True,
    "mirror": True,
    # seating
    "chair": False,
    "stool": False,
    "bench": False,
    "sofa": False,
    "armchair": False,
    # living, study, teaching
    "tv": True,
    "computer": True,
    "piano": True,
    "guitar stand": True,
    "easel": True,
    "pottery wheel": True,
    "blackboard": True,
    "lectern": True,
    "projector screen": True,
    "fireplace": True,
    "plant": True,
    "rug": False,
    "stage": False,
    "pool table": True,
    "dartboard": True,
    "jukebox": True,
    "vending machine": True,
    "trash can": True,
    # outdoors
    "tree": True,
    "flower bed": True,
    "garden bed": True,
    "fountain": True,
    "pond": True,
    "statue": True,
    "playground": False,
    "picnic area": False,
    "other": False,
}

_NAME_FORBIDDEN = (":", "\n", "\r", "\t")


# --- geometry ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rect:
    """An axis-aligned rectangle of tiles: top-left ``(x, y)``, ``w`` columns, ``h`` rows."""

    x: int
    y: int
    w: int
    h: int

    @property
    def x2(self) -> int:
        """Last column (inclusive)."""
        return self.x + self.w - 1

    @property
    def y2(self) -> int:
        """Last row (inclusive)."""
        return self.y + self.h - 1

    def contains(self, tile: Tile) -> bool:
        return self.x <= tile[0] <= self.x2 and self.y <= tile[1] <= self.y2

    def contains_rect(self, other: Rect) -> bool:
        return self.x <= other.x and self.y <= other.y and other.x2 <= self.x2 and other.y2 <= self.y2

    def overlaps(self, other: Rect) -> bool:
        return not (other.x > self.x2 or other.x2 < self.x or other.y > self.y2 or other.y2 < self.y)

    def inset(self, n: int) -> Rect | None:
        """The rectangle shrunk by ``n`` tiles on every side, or None if nothing is left."""
        if self.w <= 2 * n or self.h <= 2 * n:
            return None
        return Rect(self.x + n, self.y + n, self.w - 2 * n, self.h - 2 * n)

    def tiles(self) -> Iterator[Tile]:
        """Every tile, row by row."""
        for y in range(self.y, self.y + self.h):
            for x in range(self.x, self.x + self.w):
                yield (x, y)

    def on_border(self, tile: Tile) -> bool:
        """True for tiles of the rectangle's outermost ring."""
        return self.contains(tile) and (tile[0] in (self.x, self.x2) or tile[1] in (self.y, self.y2))

    @property
    def slices(self) -> tuple[slice, slice]:
        """numpy index ``[rows, cols]`` of this rectangle in a ``(height, width)`` grid."""
        return slice(self.y, self.y + self.h), slice(self.x, self.x + self.w)

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    def describe(self, origin: Tile = (0, 0)) -> str:
        """``[x, y, w, h]`` as written (relative to ``origin``) plus the town tile range."""
        written = [self.x - origin[0], self.y - origin[1], self.w, self.h]
        town = f"x {self.x}..{self.x2}, y {self.y}..{self.y2}"
        return f"{written} (town {town})" if origin != (0, 0) else f"{written} ({town})"


def describe_tile(tile: Tile, origin: Tile = (0, 0)) -> str:
    written = [tile[0] - origin[0], tile[1] - origin[1]]
    return f"{written} (town {tuple(tile)})" if origin != (0, 0) else str(written)


# --- the spec ------------------------------------------------------------------------


@dataclass(frozen=True)
class GameObjectSpec:
    """A piece of furniture (or an outdoor feature): one or more rectangles, one name."""

    name: str
    kind: str
    rects: tuple[Rect, ...]
    blocking: bool
    use: Tile | None = None  # where an agent stands to use it (inside or next to it)
    line: int | None = field(default=None, compare=False)

    def tiles(self) -> Iterator[Tile]:
        for rect in self.rects:
            yield from rect.tiles()


@dataclass(frozen=True)
class ArenaSpec:
    """A room (or an area of an open sector): its floor rectangle and its objects."""

    name: str
    rect: Rect
    floor: str
    objects: tuple[GameObjectSpec, ...] = ()
    line: int | None = field(default=None, compare=False)

    def object(self, name: str) -> GameObjectSpec:
        for obj in self.objects:
            if obj.name == name:
                return obj
        raise KeyError(f"arena {self.name!r} has no object {name!r}")


@dataclass(frozen=True)
class SpawnSpec:
    """A named tile where an agent can be placed, e.g. ``"Klaus Mueller bed"``."""

    name: str
    tile: Tile
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SectorSpec:
    """A building or an open area.

    With ``walls`` on, the sector's tiles that no arena covers are wall (its outer ring and
    the gaps between rooms), except ``doors``. Without walls every tile is open ground.
    """

    name: str
    kind: str
    rect: Rect
    walls: bool
    floor: str
    wall_material: str = "brick"
    doors: tuple[Tile, ...] = ()
    arenas: tuple[ArenaSpec, ...] = ()
    spawns: tuple[SpawnSpec, ...] = ()
    line: int | None = field(default=None, compare=False)
    door_lines: tuple[int | None, ...] = field(default=(), compare=False)

    @property
    def origin(self) -> Tile:
        return (self.rect.x, self.rect.y)

    def arena(self, name: str) -> ArenaSpec:
        for arena in self.arenas:
            if arena.name == name:
                return arena
        raise KeyError(f"sector {self.name!r} has no arena {name!r}")

    def arena_at(self, tile: Tile) -> ArenaSpec | None:
        for arena in self.arenas:
            if arena.rect.contains(tile):
                return arena
        return None


@dataclass(frozen=True)
class TerrainSpec:
    """Outdoor ground painted over the town's default ground: roads, paths, plazas, water."""

    name: str
    rect: Rect
    floor: str
    blocking: bool = False
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class TownSpec:
    """A whole town. All coordinates are town tiles ``(x, y)``; ``x`` is the column."""

    name: str
    world: str
    width: int
    height: int
    tile_size: int
    ground: str
    sectors: tuple[SectorSpec, ...]
    terrain: tuple[TerrainSpec, ...] = ()
    source: str = "<spec>"

    @property
    def rect(self) -> Rect:
        return Rect(0, 0, self.width, self.height)

    def sector(self, name: str) -> SectorSpec:
        for sector in self.sectors:
            if sector.name == name:
                return sector
        raise KeyError(f"town {self.name!r} has no sector {name!r}")

    def arenas(self) -> Iterator[tuple[SectorSpec, ArenaSpec]]:
        for sector in self.sectors:
            for arena in sector.arenas:
                yield sector, arena

    def objects(self) -> Iterator[tuple[SectorSpec, ArenaSpec, GameObjectSpec]]:
        for sector in self.sectors:
            for arena in sector.arenas:
                for obj in arena.objects:
                    yield sector, arena, obj

    def spawns(self) -> Iterator[tuple[SectorSpec, SpawnSpec]]:
        for sector in self.sectors:
            for spawn in sector.spawns:
                yield sector, spawn

    def address(self, *names: str) -> str:
        """``world:sector:arena:object`` for the given names below the world."""
        return ":".join((self.world, *names))


# --- errors --------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec, located as precisely as the file allows."""

    source: str
    line: int | None
    where: str  # e.g. "sector 'Hobbs Cafe' > arena 'kitchen' > object 'stove'"
    field: str  # e.g. "rect"; "" when the whole entry is concerned
    message: str

    def __str__(self) -> str:
        location = f"{self.source}:{self.line}" if self.line else self.source
        thing = self.where or "town"
        if self.field:
            thing = f"{thing}, field '{self.field}'"
        return f"{location}: {thing}: {self.message}"


class SpecError(ValueError):
    """A town spec is invalid; ``problems`` lists everything found, in file order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: p.line or 0)
        count = len(self.problems)
        head = f"invalid town spec ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


# --- YAML with line numbers ----------------------------------------------------------

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Map(dict):
    line: int | None = None
    key_lines: dict[Any, int]
    duplicates: list[tuple[Any, int]]


class _Seq(list):
    line: int | None = None
    item_lines: list[int]


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe YAML loader whose mappings and sequences remember their line numbers."""


def _construct_map(loader: Any, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)  # YAML merge keys (<<: *anchor) keep working
    mapping = _Map()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    mapping.duplicates = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable mapping key", key_node.start_mark
            ) from None
        if key in mapping:
            mapping.duplicates.append((key, key_node.start_mark.line + 1))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_seq(loader: Any, node: yaml.SequenceNode) -> _Seq:
    seq = _Seq(loader.construct_object(item, deep=True) for item in node.value)
    seq.line = node.start_mark.line + 1
    seq.item_lines = [item.start_mark.line + 1 for item in node.value]
    return seq


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _line_of(container: Any, key: Any = None) -> int | None:
    """The line of ``container[key]`` (or of the container itself)."""
    if key is not None:
        if isinstance(container, _Map) and key in container.key_lines:
            return container.key_lines[key]
        if isinstance(container, _Seq) and isinstance(key, int) and key < len(container.item_lines):
            return container.item_lines[key]
    return getattr(container, "line", None)


# --- parsing -------------------------------------------------------------------------

_MISSING = object()


class _Parser:
    """Reads the YAML data into spec dataclasses, collecting every problem it meets."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def problem(self, line: int | None, where: str, fld: str, message: str) -> None:
        self.problems.append(Problem(self.source, line, where, fld, message))

    # field readers: each returns the value, or None after recording a problem

    def keys(self, data: _Map, where: str, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
        for key, line in getattr(data, "duplicates", []):
            self.problem(line, where, str(key), "this key appears twice")
        allowed = required + optional
        for key in data:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                extra = f" (did you mean '{hint[0]}'?)" if hint else f"; allowed keys: {', '.join(allowed)}"
                self.problem(_line_of(data, key), where, str(key), f"unknown key{extra}")
        for key in required:
            if key not in data:
                self.problem(_line_of(data), where, key, "is required but missing")

    def string(self, data: _Map, key: str, where: str, default: Any = _MISSING) -> str | None:
        if key not in data:
            return None if default is _MISSING else default
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            self.problem(_line_of(data, key), where, key, f"must be a non-empty string, got {value!r}")
            return None
        return value

    def name(self, data: _Map, where: str) -> str | None:
        value = data.get("name")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            if "name" in data:
                self.problem(_line_of(data, "name"), where, "name", f"must be a non-empty string, got {value!r}")
            return None
        if value != value.strip():
            self.problem(_line_of(data, "name"), where, "name", f"{value!r} has leading or trailing spaces")
        bad = [c for c in _NAME_FORBIDDEN if c in value]
        if bad:
            self.problem(
                _line_of(data, "name"),
                where,
                "name",
                f"{value!r} contains {bad[0]!r}; names are joined with ':' into addresses and may not contain it",
            )
        return value

    def integer(self, data: _Map, key: str, where: str, minimum: int, maximum: int | None = None) -> int | None:
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(_line_of(data, key), where, key, f"must be an integer, got {value!r}")
            return None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            self.problem(_line_of(data, key), where, key, f"must be {bounds}, got {value}")
            return None
        return value

    def boolean(self, data: _Map, key: str, where: str, default: bool | None) -> bool | None:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, bool):
            self.problem(_line_of(data, key), where, key, f"must be true or false, got {value!r}")
            return default
        return value

    def choice(self, data: _Map, key: str, where: str, choices: frozenset[str] | dict[str, bool], default: Any) -> Any:
        if key not in data:
            return default
        value = self.string(data, key, where)
        if value is None:
            return None
        if value not in choices:
            hint = difflib.get_close_matches(value, sorted(choices), n=1)
            extra = f" (did you mean '{hint[0]}'?)" if hint else f"; known: {', '.join(sorted(choices))}"
            self.problem(_line_of(data, key), where, key, f"unknown {key} {value!r}{extra}")
            return None
        return value

    def ints(self, value: Any, count: int, line: int | None, where: str, key: str, what: str) -> list[int] | None:
        if (
            not isinstance(value, list)
            or len(value) != count
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            self.problem(line, where, key, f"must be {what}, got {value!r}")
            return None
        return list(value)

    def rect(self, value: Any, line: int | None, where: str, key: str, origin: Tile) -> Rect | None:
        nums = self.ints(value, 4, line, where, key, "[x, y, w, h] (four integers)")
        if nums is None:
            return None
        x, y, w, h = nums
        if w < 1 or h < 1:
            self.problem(line, where, key, f"width and height must be at least 1, got {value!r}")
            return None
        return Rect(x + origin[0], y + origin[1], w, h)

    def tile(self, value: Any, line: int | None, where: str, key: str, origin: Tile) -> Tile | None:
        nums = self.ints(value, 2, line, where, key, "[x, y] (two integers)")
        if nums is None:
            return None
        return (nums[0] + origin[0], nums[1] + origin[1])

    def mapping(self, value: Any, line: int | None, where: str, key: str) -> _Map | None:
        if not isinstance(value, dict):
            self.problem(line, where, key, f"must be a mapping (key: value entries), got {value!r}")
            return None
        if not isinstance(value, _Map):  # built from a plain dict (parse_spec on data)
            converted = _Map(value)
            converted.line, converted.key_lines, converted.duplicates = line, {}, []
            return converted
        return value

    def sequence(self, data: _Map, key: str, where: str) -> list[tuple[Any, int | None]]:
        if key not in data or data[key] is None:
            return []
        value = data[key]
        if not isinstance(value, list):
            self.problem(_line_of(data, key), where, key, f"must be a list, got {value!r}")
            return []
        return [(item, _line_of(value, i) or _line_of(data, key)) for i, item in enumerate(value)]

    # the entries

    def town(self, data: Any) -> TownSpec | None:
        if not isinstance(data, dict):
            self.problem(
                1, "", "", f"the file must be a mapping with name, world, width, ... got {type(data).__name__}"
            )
            return None
        data = self.mapping(data, _line_of(data), "", "")
        assert data is not None
        self.keys(
            data,
            "",
            required=("name", "world", "width", "height", "sectors"),
            optional=("format", "tile_size", "ground", "terrain", "description"),
        )
        if "format" in data and data["format"] != FORMAT_VERSION:
            self.problem(
                _line_of(data, "format"),
                "",
                "format",
                f"this reader knows format {FORMAT_VERSION}, got {data['format']!r}",
            )
        name = self.name(data, "")
        world = self.string(data, "world", "")
        if world is not None and any(c in world for c in _NAME_FORBIDDEN):
            self.problem(_line_of(data, "world"), "", "world", f"{world!r} may not contain ':' or line breaks")
        width = self.integer(data, "width", "", 1, MAX_SIZE)
        height = self.integer(data, "height", "", 1, MAX_SIZE)
        tile_size = self.integer(data, "tile_size", "", 1, 1024) if "tile_size" in data else 32
        ground = self.choice(data, "ground", "", FLOORS, "grass")
        terrain = []
        for i, (item, line) in enumerate(self.sequence(data, "terrain", "")):
            parsed = self.terrain(item, line, i)
            if parsed is not None:
                terrain.append(parsed)
        sectors = []
        for i, (item, line) in enumerate(self.sequence(data, "sectors", "")):
            parsed = self.sector(item, line, i)
            if parsed is not None:
                sectors.append(parsed)
        if "sectors" in data and not data["sectors"]:
            self.problem(_line_of(data, "sectors"), "", "sectors", "a town needs at least one sector")
        if None in (name, world, width, height, tile_size, ground):
            return None
        return TownSpec(
            name=name,
            world=world,
            width=width,
            height=height,
            tile_size=tile_size,
            ground=ground,
            sectors=tuple(sectors),
            terrain=tuple(terrain),
            source=self.source,
        )  # type: ignore[arg-type]

    def terrain(self, item: Any, line: int | None, index: int) -> TerrainSpec | None:
        where = f"terrain[{index}]"
        data = self.mapping(item, line, where, "")
        if data is None:
            return None
        name = self.name(data, where) if "name" in data else f"terrain {index}"
        if name is not None:
            where = f"terrain {name!r}"
        self.keys(data, where, required=("rect", "floor"), optional=("name", "blocking"))
        rect = self.rect(data.get("rect"), _line_of(data, "rect"), where, "rect", (0, 0)) if "rect" in data else None
        floor = self.choice(data, "floor", where, FLOORS, None)
        blocking = self.boolean(data, "blocking", where, default=None)
        if floor == "water" and blocking is False:
            self.problem(_line_of(data, "blocking"), where, "blocking", "water terrain cannot be walked on")
        if blocking is None:
            blocking = floor == "water"
        if rect is None or floor is None or name is None:
            return None
        return TerrainSpec(name=name, rect=rect, floor=floor, blocking=blocking, line=_line_of(data))

    def sector(self, item: Any, line: int | None, index: int) -> SectorSpec | None:
        where = f"sectors[{index}]"
        data = self.mapping(item, line, where, "")
        if data is None:
            return None
        name = self.name(data, where)
        if name is not None:
            where = f"sector {name!r}"
        self.keys(
            data,
            where,
            required=("name", "kind", "rect", "arenas"),
            optional=("walls", "floor", "wall_material", "doors", "spawns", "description"),
        )
        kind = self.choice(data, "kind", where, SECTOR_KINDS, None)
        rect = self.rect(data.get("rect"), _line_of(data, "rect"), where, "rect", (0, 0)) if "rect" in data else None
        walls = self.boolean(data, "walls", where, default=True)
        floor = self.choice(data, "floor", where, FLOORS, "wood" if walls else "grass")
        wall_material = self.string(data, "wall_material", where, "brick")
        origin = (rect.x, rect.y) if rect is not None else (0, 0)
        doors: list[Tile] = []
        door_lines: list[int | None] = []
        for item_, line_ in self.sequence(data, "doors", where):
            tile = self.tile(item_, line_, where, "doors", origin)
            if tile is not None:
                doors.append(tile)
                door_lines.append(line_)
        arenas = []
        for i, (item_, line_) in enumerate(self.sequence(data, "arenas", where)):
            parsed = self.arena(item_, line_, i, where, origin, floor or "wood")
            if parsed is not None:
                arenas.append(parsed)
        if "arenas" in data and not data["arenas"]:
            self.problem(_line_of(data, "arenas"), where, "arenas", "a sector needs at least one arena")
        spawns = []
        for i, (item_, line_) in enumerate(self.sequence(data, "spawns", where)):
            parsed_spawn = self.spawn(item_, line_, i, where, origin)
            if parsed_spawn is not None:
                spawns.append(parsed_spawn)
        if None in (name, kind, rect, walls, floor, wall_material):
            return None
        return SectorSpec(
            name=name,
            kind=kind,
            rect=rect,
            walls=walls,
            floor=floor,
            wall_material=wall_material,
            doors=tuple(doors),
            arenas=tuple(arenas),
            spawns=tuple(spawns),
            line=_line_of(data),
            door_lines=tuple(door_lines),
        )  # type: ignore[arg-type]

    def arena(
        self, item: Any, line: int | None, index: int, parent: str, origin: Tile, default_floor: str
    ) -> ArenaSpec | None:
        where = f"{parent} > arenas[{index}]"
        data = self.mapping(item, line, where, "")
        if data is None:
            return None
        name = self.name(data, where)
        if name is not None:
            where = f"{parent} > arena {name!r}"
        self.keys(data, where, required=("name", "rect"), optional=("floor", "objects", "description"))
        rect = self.rect(data.get("rect"), _line_of(data, "rect"), where, "rect", origin) if "rect" in data else None
        floor = self.choice(data, "floor", where, FLOORS, default_floor)
        objects = []
        for i, (item_, line_) in enumerate(self.sequence(data, "objects", where)):
            parsed = self.game_object(item_, line_, i, where, origin)
            if parsed is not None:
                objects.append(parsed)
        if None in (name, rect, floor):
            return None
        return ArenaSpec(name=name, rect=rect, floor=floor, objects=tuple(objects), line=_line_of(data))  # type: ignore[arg-type]

    def game_object(self, item: Any, line: int | None, index: int, parent: str, origin: Tile) -> GameObjectSpec | None:
        where = f"{parent} > objects[{index}]"
        data = self.mapping(item, line, where, "")
        if data is None:
            return None
        name = self.name(data, where)
        if name is not None:
            where = f"{parent} > object {name!r}"
        self.keys(data, where, required=("name", "kind"), optional=("rect", "rects", "blocking", "use"))
        kind = self.choice(data, "kind", where, OBJECT_KINDS, None)
        rects: list[Rect] = []
        if "rect" in data and "rects" in data:
            self.problem(_line_of(data, "rects"), where, "rects", "give either 'rect' or 'rects', not both")
        elif "rect" in data:
            rect = self.rect(data["rect"], _line_of(data, "rect"), where, "rect", origin)
            if rect is None:
                return None
            rects.append(rect)
        elif "rects" in data:
            items = self.sequence(data, "rects", where)
            if not items:
                self.problem(_line_of(data, "rects"), where, "rects", "must list at least one [x, y, w, h]")
            for item_, line_ in items:
                rect = self.rect(item_, line_, where, "rects", origin)
                if rect is None:
                    return None
                rects.append(rect)
        else:
            self.problem(_line_of(data), where, "rect", "is required but missing (or give 'rects')")
        blocking = self.boolean(data, "blocking", where, default=None)
        if blocking is None and kind is not None:
            blocking = OBJECT_KINDS[kind]
        use = self.tile(data["use"], _line_of(data, "use"), where, "use", origin) if "use" in data else None
        if name is None or kind is None or not rects or ("use" in data and use is None):
            return None
        return GameObjectSpec(
            name=name, kind=kind, rects=tuple(rects), blocking=bool(blocking), use=use, line=_line_of(data)
        )

    def spawn(self, item: Any, line: int | None, index: int, parent: str, origin: Tile) -> SpawnSpec | None:
        where = f"{parent} > spawns[{index}]"
        data = self.mapping(item, line, where, "")
        if data is None:
            return None
        name = self.name(data, where)
        if name is not None:
            where = f"{parent} > spawn {name!r}"
        self.keys(data, where, required=("name", "at"), optional=())
        tile = self.tile(data.get("at"), _line_of(data, "at"), where, "at", origin) if "at" in data else None
        if name is None or tile is None:
            return None
        return SpawnSpec(name=name, tile=tile, line=_line_of(data))


# --- geometric checks ----------------------------------------------------------------


def _where(sector: SectorSpec, arena: ArenaSpec | None = None, obj: GameObjectSpec | None = None) -> str:
    parts = [f"sector {sector.name!r}"]
    if arena is not None:
        parts.append(f"arena {arena.name!r}")
    if obj is not None:
        parts.append(f"object {obj.name!r}")
    return " > ".join(parts)


def _duplicates(items: list[tuple[str, int | None]], report: Any, what: str) -> None:
    first: dict[str, int | None] = {}
    for name, line in items:
        if name in first:
            at = f" (first at line {first[name]})" if first[name] else ""
            report(line, name, f"another {what} is already named {name!r}{at}; names must be unique")
        else:
            first[name] = line


def check_geometry(spec: TownSpec) -> list[Problem]:
    """Everything that can be checked from the rectangles alone (see the module docstring)."""
    problems: list[Problem] = []
    src = spec.source

    def add(line: int | None, where: str, fld: str, message: str) -> None:
        problems.append(Problem(src, line, where, fld, message))

    town = spec.rect
    _duplicates(
        [(s.name, s.line) for s in spec.sectors],
        lambda line, name, msg: add(line, f"sector {name!r}", "name", msg),
        "sector",
    )
    _duplicates(
        [(sp.name, sp.line) for _, sp in spec.spawns()],
        lambda line, name, msg: add(line, f"spawn {name!r}", "name", msg),
        "spawn",
    )
    taken: dict[Tile, str] = {}
    for _, spawn in spec.spawns():
        if spawn.tile in taken:
            add(spawn.line, f"spawn {spawn.name!r}", "at", f"tile {spawn.tile} is already spawn {taken[spawn.tile]!r}")
        taken.setdefault(spawn.tile, spawn.name)
    for terrain in spec.terrain:
        where = f"terrain {terrain.name!r}"
        if not town.contains_rect(terrain.rect):
            add(
                terrain.line,
                where,
                "rect",
                f"{terrain.rect.describe()} is not inside the town (0..{spec.width - 1}, 0..{spec.height - 1})",
            )
    for i, sector in enumerate(spec.sectors):
        where = _where(sector)
        if not town.contains_rect(sector.rect):
            add(
                sector.line,
                where,
                "rect",
                f"{sector.rect.describe()} is not inside the town (x 0..{spec.width - 1}, y 0..{spec.height - 1})",
            )
        for other in spec.sectors[:i]:
            if sector.rect.overlaps(other.rect):
                add(
                    sector.line,
                    where,
                    "rect",
                    f"{sector.rect.describe()} overlaps sector {other.name!r} {other.rect.describe()}",
                )
        for terrain in spec.terrain:
            if sector.rect.overlaps(terrain.rect):
                add(
                    terrain.line,
                    f"terrain {terrain.name!r}",
                    "rect",
                    f"{terrain.rect.describe()} overlaps sector {sector.name!r} {sector.rect.describe()}; "
                    "terrain is outdoor ground between sectors",
                )
        problems.extend(_check_sector(spec, sector))
    return problems


def _check_sector(spec: TownSpec, sector: SectorSpec) -> list[Problem]:
    problems: list[Problem] = []
    src = spec.source
    origin = sector.origin

    def add(line: int | None, where: str, fld: str, message: str) -> None:
        problems.append(Problem(src, line, where, fld, message))

    where = _where(sector)
    inner = sector.rect.inset(1) if sector.walls else sector.rect
    if inner is None:
        add(sector.line, where, "rect", f"{sector.rect.describe()} is too small to have walls and a room inside")
        return problems
    _duplicates(
        [(a.name, a.line) for a in sector.arenas],
        lambda line, name, msg: add(line, f"{where} > arena {name!r}", "name", msg),
        "arena of this sector",
    )
    for i, arena in enumerate(sector.arenas):
        awhere = _where(sector, arena)
        if not inner.contains_rect(arena.rect):
            if sector.rect.contains_rect(arena.rect):
                msg = (
                    f"{arena.rect.describe(origin)} lies on the sector's outer wall; with walls on, arenas must be "
                    f"inside {inner.describe(origin)}"
                )
            else:
                msg = (
                    f"{arena.rect.describe(origin)} is not inside sector {sector.name!r} {sector.rect.describe(origin)}"
                )
            add(arena.line, awhere, "rect", msg)
        for other in sector.arenas[:i]:
            if arena.rect.overlaps(other.rect):
                add(
                    arena.line,
                    awhere,
                    "rect",
                    f"{arena.rect.describe(origin)} overlaps arena {other.name!r} {other.rect.describe(origin)}",
                )
        _duplicates(
            [(o.name, o.line) for o in arena.objects],
            lambda line, name, msg, awhere=awhere: add(line, f"{awhere} > object {name!r}", "name", msg),
            "object of this arena",
        )
        placed: list[tuple[Rect, GameObjectSpec]] = []
        for obj in arena.objects:
            owhere = _where(sector, arena, obj)
            for rect in obj.rects:
                if not arena.rect.contains_rect(rect):
                    add(
                        obj.line,
                        owhere,
                        "rect",
                        f"{rect.describe(origin)} is not inside arena {arena.name!r} {arena.rect.describe(origin)}",
                    )
                for other_rect, other in placed:
                    if rect.overlaps(other_rect):
                        whom = "another of its own rectangles" if other is obj else f"object {other.name!r}"
                        add(
                            obj.line,
                            owhere,
                            "rect",
                            f"{rect.describe(origin)} overlaps {whom} {other_rect.describe(origin)}",
                        )
                placed.append((rect, obj))
            if obj.use is not None:
                use = obj.use
                touches = any(
                    r.contains(use)
                    or Rect(r.x - 1, r.y, r.w + 2, r.h).contains(use)
                    or Rect(r.x, r.y - 1, r.w, r.h + 2).contains(use)
                    for r in obj.rects
                )
                if not arena.rect.contains(use):
                    add(
                        obj.line,
                        owhere,
                        "use",
                        f"use tile {describe_tile(use, origin)} is not inside arena {arena.name!r}",
                    )
                elif not touches:
                    add(
                        obj.line,
                        owhere,
                        "use",
                        f"use tile {describe_tile(use, origin)} neither lies on the object nor next to it",
                    )
                elif obj.blocking and any(r.contains(use) for r in obj.rects):
                    add(
                        obj.line,
                        owhere,
                        "use",
                        f"use tile {describe_tile(use, origin)} is on the object itself, which blocks walking",
                    )
    for spawn in sector.spawns:
        if sector.arena_at(spawn.tile) is None:
            add(
                spawn.line,
                f"{where} > spawn {spawn.name!r}",
                "at",
                f"{describe_tile(spawn.tile, origin)} is not inside any arena of sector {sector.name!r}",
            )
    if sector.doors and not sector.walls:
        add(
            sector.line, where, "doors", "doors are given but the sector has 'walls: false'; open sectors need no doors"
        )
    elif sector.walls:
        seen: set[Tile] = set()
        for door, line in zip(sector.doors, sector.door_lines or [sector.line] * len(sector.doors), strict=False):
            msg = _door_problem(sector, door)
            if door in seen:
                msg = "the same door is listed twice"
            seen.add(door)
            if msg:
                add(line, where, "doors", f"door {describe_tile(door, origin)}: {msg}")
    if sector.walls and not sector.doors:
        add(sector.line, where, "doors", "a walled sector needs at least one door on its outer wall")
    elif sector.walls and not any(sector.rect.on_border(d) for d in sector.doors):
        add(sector.line, where, "doors", "no door is on the sector's outer wall, so nobody can get in")
    return problems


def _door_problem(sector: SectorSpec, door: Tile) -> str | None:
    if not sector.rect.contains(door):
        return f"is outside the sector {sector.rect.describe(sector.origin)}"
    arena = sector.arena_at(door)
    if arena is not None:
        return (
            f"is inside arena {arena.name!r}, not on a wall; doors go on wall tiles "
            "(the outer ring or a gap between rooms)"
        )
    x, y = door

    def open_(t: Tile) -> bool:
        return not sector.rect.contains(t) or sector.arena_at(t) is not None or t in sector.doors

    if (open_((x - 1, y)) and open_((x + 1, y))) or (open_((x, y - 1)) and open_((x, y + 1))):
        return None
    return (
        "does not join two open tiles: its left and right (or top and bottom) neighbours must be room or outside tiles"
    )


# --- entry points --------------------------------------------------------------------


def parse_spec(data: Any, source: str = "<spec>", check: bool = True) -> TownSpec:
    """Build a :class:`TownSpec` from already-loaded YAML/JSON data; raise :class:`SpecError`."""
    parser = _Parser(source)
    spec = parser.town(data)
    problems = list(parser.problems)
    if spec is not None and check and not problems:
        problems.extend(check_geometry(spec))
    if problems or spec is None:
        raise SpecError(problems or [Problem(source, None, "", "", "could not read the spec")])
    return spec


def parse_spec_text(text: str, source: str = "<string>", check: bool = True) -> TownSpec:
    """Parse YAML (or JSON, which is YAML) text; line numbers in errors refer to ``text``."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise SpecError([Problem(source, line, "", "", f"not valid YAML: {reason}")]) from exc
    return parse_spec(data, source=source, check=check)


def town_dir(name: str, root: str | Path | None = None) -> Path:
    """``static_dirs/towns/<name>`` of the project (or under ``root``)."""
    if root is None:
        root = Path(__file__).resolve().parents[2] / "static_dirs" / "towns"
    return Path(root) / name


def load_spec(path: str | Path, check: bool = True) -> TownSpec:
    """Load a town spec from a YAML file, a town folder, or a town name (``"the_ville"``)."""
    path = Path(path)
    if not path.exists() and not path.suffix and len(path.parts) == 1:
        path = town_dir(str(path))
    if path.is_dir():
        path = path / "town.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no town spec at {path}")
    try:
        source = str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        source = str(path)
    return parse_spec_text(path.read_text(encoding="utf-8"), source=source, check=check)
