"""The maze: a town spec turned into the grids and the spatial tree the simulation uses.

:func:`build_maze` paints the spec onto numpy grids of shape ``(height, width)`` (index
``grid[y, x]``; tiles are ``(x, y)`` with ``x`` the column everywhere in the API):

=====================  =======  ==========================================================
grid                   dtype    value
=====================  =======  ==========================================================
``collision``          uint8    1 where nobody can walk: walls, blocking objects, blocking
                                terrain; 0 elsewhere (doors, floors, non-blocking objects)
``sector``             int32    id of the sector covering the tile, 0 outdoors
``arena``              int32    id of the arena (room) covering the tile, 0 if none
``game_object``        int32    id of the object on the tile, 0 if none
``spawning_location``  int32    id of the spawn on the tile, 0 if none
``floor``              uint8    id of the floor type (``floor_legend``), for the art
``wall`` / ``door``    bool     wall tiles / door tiles, for the art
=====================  =======  ==========================================================

Ids are not magic numbers: they are assigned 1, 2, 3, ... in the order things appear in
the spec, and ``legends[grid][id]`` gives the full address of each id::

    legends["sector"][3]        == "the Ville:Hobbs Cafe"
    legends["arena"][7]         == "the Ville:Hobbs Cafe:kitchen"
    legends["game_object"][42]  == "the Ville:Hobbs Cafe:kitchen:stove"
    legends["spawning_location"][1] == "the Ville:Hobbs Cafe:...:Isabella Rodriguez bed"

(a spawn's address is its arena's address plus the spawn's name). Addresses are names
joined by ``:`` from the world down, which is why names may not contain ``:``. Wall
tiles and doors belong to their sector but to no arena.

Building also runs the checks that need the grids, so a maze that builds is usable:
doors are not blocked on either side, spawns and use tiles are walkable, every object
has a walkable tile to be used from, and all walkable tiles form one connected region
(so every arena, object and spawn is reachable from every spawn and
:meth:`Maze.random_walkable_tile` can never pick a tile nobody can get to).

A :class:`Maze` pickles quickly (numpy arrays plus small dicts; the pathfinder and caches
are rebuilt lazily): ``Maze.to_bytes()`` / ``Maze.from_bytes()`` or ``save`` / ``load``.
"""

from __future__ import annotations

import copy
import difflib
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .pathfinding import Pathfinder
from .spec import Problem, SpecError, TownSpec, describe_tile, load_spec

__all__ = ["GRIDS", "Maze", "TileInfo", "build_maze", "load_maze"]

Tile = tuple[int, int]

#: The id grids that have a legend.
GRIDS = ("sector", "arena", "game_object", "spawning_location")


@dataclass(frozen=True)
class TileInfo:
    """Everything about one tile, by name (empty string where the tile has none)."""

    x: int
    y: int
    world: str
    sector: str
    arena: str
    game_object: str
    spawning_location: str
    collision: bool
    address: str  # the deepest address: world[:sector[:arena[:object]]]


class _Rng(Protocol):
    def randrange(self, stop: int) -> int: ...


class Maze:
    """A built town: grids, legends, the spatial tree and lookups. See the module docstring."""

    def __init__(
        self,
        *,
        spec: TownSpec,
        grids: dict[str, np.ndarray],
        legends: dict[str, dict[int, str]],
        floor_legend: dict[int, str],
        spawns: dict[str, Tile],
        access: dict[str, tuple[Tile, ...]],
        use: dict[str, Tile],
    ):
        self.spec = spec
        self.name = spec.name
        self.world = spec.world
        self.width = spec.width
        self.height = spec.height
        self.tile_size = spec.tile_size
        self.collision: np.ndarray = grids["collision"]
        self.sector: np.ndarray = grids["sector"]
        self.arena: np.ndarray = grids["arena"]
        self.game_object: np.ndarray = grids["game_object"]
        self.spawning_location: np.ndarray = grids["spawning_location"]
        self.floor: np.ndarray = grids["floor"]
        self.wall: np.ndarray = grids["wall"]
        self.door: np.ndarray = grids["door"]
        self.legends = legends
        self.floor_legend = floor_legend
        self.spawns = spawns
        self._access = access
        self._use = use
        self._init_derived()

    def _init_derived(self) -> None:
        for grid in self.grids().values():
            grid.flags.writeable = False
        self._ids: dict[str, tuple[str, int]] = {}
        for grid in GRIDS[:3]:
            for ident, address in self.legends[grid].items():
                self._ids[address] = (grid, ident)
        self._spawn_by_address = {
            address: name for name, address in zip(self.spawns, self.legends["spawning_location"].values(), strict=True)
        }
        self._tree: dict[str, Any] | None = None
        self._tiles_cache: dict[str, tuple[Tile, ...]] = {}
        self._walkable_cache: dict[str, tuple[Tile, ...]] = {}
        self._pathfinder: Pathfinder | None = None
        self._deepest: tuple[np.ndarray, list[str]] | None = None

    # --- serialisation ---------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_ids", "_spawn_by_address", "_tree", "_tiles_cache", "_walkable_cache", "_pathfinder", "_deepest"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_derived()

    def to_bytes(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> Maze:
        maze = pickle.loads(data)  # our own cache files, never user uploads
        if not isinstance(maze, cls):
            raise TypeError(f"expected a pickled Maze, got {type(maze).__name__}")
        return maze

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> Maze:
        return cls.from_bytes(Path(path).read_bytes())

    # --- the grids and the tree ------------------------------------------------------

    def grids(self) -> dict[str, np.ndarray]:
        """All grids by name (read-only arrays of shape ``(height, width)``)."""
        return {
            "collision": self.collision,
            "sector": self.sector,
            "arena": self.arena,
            "game_object": self.game_object,
            "spawning_location": self.spawning_location,
            "floor": self.floor,
            "wall": self.wall,
            "door": self.door,
        }

    def spatial_tree(self) -> dict[str, dict[str, dict[str, list[str]]]]:
        """``{world: {sector: {arena: [object, ...]}}}`` in spec order; a fresh copy each call."""
        if self._tree is None:
            tree: dict[str, dict[str, dict[str, list[str]]]] = {self.world: {}}
            for sector in self.spec.sectors:
                tree[self.world][sector.name] = {
                    arena.name: [obj.name for obj in arena.objects] for arena in sector.arenas
                }
            self._tree = tree
        return copy.deepcopy(self._tree)

    def addresses(self, level: str) -> list[str]:
        """Every ``"sector"``, ``"arena"`` or ``"game_object"`` address, in spec order."""
        if level not in GRIDS[:3]:
            raise ValueError(f"level must be one of {GRIDS[:3]}, got {level!r}")
        return list(self.legends[level].values())

    # --- lookups -------------------------------------------------------------------

    def in_bounds(self, x: int, y: int) -> bool:
        return 0 <= x < self.width and 0 <= y < self.height

    def _check(self, x: int, y: int) -> None:
        if not self.in_bounds(x, y):
            raise ValueError(
                f"tile ({x}, {y}) is outside town {self.name!r} (x 0..{self.width - 1}, y 0..{self.height - 1})"
            )

    def is_walkable(self, x: int, y: int) -> bool:
        return self.in_bounds(x, y) and not self.collision[y, x]

    def address_at(self, x: int, y: int) -> str:
        """The deepest address of a tile: ``world``, ``world:sector``, ``...:arena`` or ``...:object``."""
        self._check(x, y)
        for grid, values in (("game_object", self.game_object), ("arena", self.arena), ("sector", self.sector)):
            ident = int(values[y, x])
            if ident:
                return self.legends[grid][ident]
        return self.world

    def places_in_square(self, center: Tile, radius: int) -> tuple[str, ...]:
        """The arena and object addresses (``world:sector:arena[:object]``) of the tiles
        within `radius` of `center` (a square, clipped to the town), each once, in the
        order the tiles first show them row by row: what `address_at` over the square
        gives, kept when it has an arena, without a lookup per tile."""
        codes, names = self._deepest_addresses()
        cx, cy = center
        x0, x1 = max(0, cx - radius), min(self.width, cx + radius + 1)
        y0, y1 = max(0, cy - radius), min(self.height, cy + radius + 1)
        if x0 >= x1 or y0 >= y1:
            return ()
        found, first = np.unique(codes[y0:y1, x0:x1].ravel(), return_index=True)
        ordered = (names[code] for code in found[np.argsort(first, kind="stable")].tolist())
        return tuple(name for name in ordered if name.count(":") >= 2)

    def _deepest_addresses(self) -> tuple[np.ndarray, list[str]]:
        """One grid of codes into one list of addresses: each tile's `address_at`."""
        if self._deepest is None:
            names = [self.world]
            codes = np.zeros((self.height, self.width), dtype=np.int32)
            for grid in GRIDS[:3]:  # sector, arena, then object: the deepest set wins
                values = np.asarray(getattr(self, grid))
                legend = self.legends[grid]
                lookup = np.zeros(max([int(values.max()), *legend]) + 1, dtype=np.int32)
                for ident, address in legend.items():
                    lookup[ident] = len(names)
                    names.append(address)
                codes = np.where(values > 0, lookup[values], codes)
            self._deepest = (codes, names)
        return self._deepest

    def tile_info(self, x: int, y: int) -> TileInfo:
        """The names of everything on a tile (like the original's ``access_tile``)."""
        self._check(x, y)
        names = {}
        for grid in GRIDS:
            ident = int(getattr(self, grid)[y, x])
            names[grid] = self.legends[grid][ident].rsplit(":", 1)[1] if ident else ""
        return TileInfo(
            x=x,
            y=y,
            world=self.world,
            collision=bool(self.collision[y, x]),
            address=self.address_at(x, y),
            **names,
        )

    def _resolve(self, address: str) -> tuple[str, int]:
        if address in self._ids:
            return self._ids[address]
        if address == self.world:
            return ("world", 0)
        known = [*self._ids, self.world]
        hint = difflib.get_close_matches(address, known, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise KeyError(f"town {self.name!r} has no sector, arena or object at address {address!r}{extra}")

    def tiles_of(self, address: str) -> tuple[Tile, ...]:
        """All tiles of a world, sector, arena or object address, row by row.

        A sector's tiles include its walls and doors; an arena's are its floor rectangle;
        an object's are its rectangles (blocking or not).
        """
        cached = self._tiles_cache.get(address)
        if cached is not None:
            return cached
        grid, ident = self._resolve(address)
        if grid == "world":
            ys, xs = np.indices((self.height, self.width)).reshape(2, -1)
        else:
            ys, xs = np.nonzero(getattr(self, grid) == ident)
        tiles = tuple(zip(xs.tolist(), ys.tolist(), strict=True))
        self._tiles_cache[address] = tiles
        return tiles

    def walkable_tiles_of(self, address: str) -> tuple[Tile, ...]:
        """The walkable tiles of an address (for an object: its access tiles)."""
        cached = self._walkable_cache.get(address)
        if cached is not None:
            return cached
        grid, _ = self._resolve(address)
        if grid == "game_object":
            tiles = self.object_access_tiles(address)
        else:
            tiles = tuple(t for t in self.tiles_of(address) if not self.collision[t[1], t[0]])
        self._walkable_cache[address] = tiles
        return tiles

    def object_access_tiles(self, address: str) -> tuple[Tile, ...]:
        """Where an agent stands to use an object: its use tile (if the spec gives one), then its own
        walkable tiles, then the walkable tiles next to it (4-neighbours), all in its arena.

        Every tile here is reachable (checked when the maze is built).
        """
        if address not in self._access:
            grid, _ = self._resolve(address)
            raise KeyError(f"{address!r} is a {grid} address, not a game object's")
        return self._access[address]

    def use_tile(self, address: str) -> Tile:
        """The one tile to stand on to use an object: the spec's ``use`` tile or its first access tile."""
        return self._use.get(address) or self.object_access_tiles(address)[0]

    def spawn_tile(self, name: str) -> Tile:
        """The tile of a spawning location, by name (``"Klaus Mueller bed"``) or by full address."""
        if name in self.spawns:
            return self.spawns[name]
        if name in self._spawn_by_address:
            return self.spawns[self._spawn_by_address[name]]
        hint = difflib.get_close_matches(name, list(self.spawns), n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise KeyError(f"town {self.name!r} has no spawning location {name!r}{extra}")

    def random_walkable_tile(self, rng: Any, within: str | None = None) -> Tile:
        """A uniformly chosen walkable tile of the town or of an address, deterministic for a seeded rng.

        ``rng`` is a ``random.Random`` (uses ``randrange``) or a ``numpy.random.Generator``
        (uses ``integers``). For an object address the candidates are its access tiles.
        """
        candidates = self.walkable_tiles_of(within or self.world)
        if not candidates:
            raise ValueError(f"{within or self.world!r} has no walkable tile")
        count = len(candidates)
        index = int(rng.integers(count)) if hasattr(rng, "integers") else rng.randrange(count)
        return candidates[index]

    # --- paths ---------------------------------------------------------------------

    @property
    def pathfinder(self) -> Pathfinder:
        """A :class:`Pathfinder` on this maze's collision grid (built on first use, not pickled)."""
        if self._pathfinder is None:
            self._pathfinder = Pathfinder(self.collision)
        return self._pathfinder

    def find_path(self, start: Tile, goal: Tile) -> list[Tile]:
        return self.pathfinder.find_path(start, goal)

    def path_to_any(self, start: Tile, goals: Sequence[Tile], avoid: Sequence[Tile] = ()) -> list[Tile]:
        return self.pathfinder.path_to_any(start, goals, avoid=avoid)

    def path_to_address(self, start: Tile, address: str, avoid: Sequence[Tile] = ()) -> list[Tile]:
        """Shortest path to the nearest walkable tile of an address (an object's access tiles)."""
        return self.pathfinder.path_to_any(start, self.walkable_tiles_of(address), avoid=avoid)

    # --- debugging -------------------------------------------------------------------

    def render(self, region: tuple[int, int, int, int] | None = None) -> str:
        """An ASCII picture: ``#`` wall, ``+`` door, ``B`` blocking object, ``o`` other object,
        ``S`` spawn, ``X`` blocking terrain, ``.`` floor, `` `` outdoors, ``=`` road/path."""
        x0, y0, w, h = region or (0, 0, self.width, self.height)
        floor_names = self.floor_legend
        rows = []
        for y in range(y0, min(y0 + h, self.height)):
            row = []
            for x in range(x0, min(x0 + w, self.width)):
                if self.wall[y, x]:
                    ch = "#"
                elif self.door[y, x]:
                    ch = "+"
                elif self.spawning_location[y, x]:
                    ch = "S"
                elif self.game_object[y, x]:
                    ch = "B" if self.collision[y, x] else "o"
                elif self.collision[y, x]:
                    ch = "X"
                elif self.sector[y, x]:
                    ch = "." if self.arena[y, x] else ","
                else:
                    ch = "=" if floor_names[int(self.floor[y, x])] in ("road", "path", "sidewalk", "paving") else " "
                row.append(ch)
            rows.append("".join(row).rstrip())
        return "\n".join(rows)

    def __repr__(self) -> str:
        return (
            f"<Maze {self.name!r} {self.width}x{self.height}: {len(self.legends['sector'])} sectors, "
            f"{len(self.legends['arena'])} arenas, {len(self.legends['game_object'])} objects, "
            f"{len(self.spawns)} spawns>"
        )


# --- building ------------------------------------------------------------------------


def build_maze(spec: TownSpec, check: bool = True) -> Maze:
    """Paint a spec onto the grids; with ``check``, raise :class:`SpecError` if the result is unusable."""
    h, w = spec.height, spec.width
    collision = np.zeros((h, w), dtype=np.uint8)
    sector_grid = np.zeros((h, w), dtype=np.int32)
    arena_grid = np.zeros((h, w), dtype=np.int32)
    object_grid = np.zeros((h, w), dtype=np.int32)
    spawn_grid = np.zeros((h, w), dtype=np.int32)
    floor_grid = np.zeros((h, w), dtype=np.uint8)
    wall = np.zeros((h, w), dtype=bool)
    door = np.zeros((h, w), dtype=bool)
    floor_ids: dict[str, int] = {}

    def floor_id(name: str) -> int:
        return floor_ids.setdefault(name, len(floor_ids))

    legends: dict[str, dict[int, str]] = {grid: {} for grid in GRIDS}
    floor_grid[:] = floor_id(spec.ground)
    for terrain in spec.terrain:
        floor_grid[terrain.rect.slices] = floor_id(terrain.floor)
        if terrain.blocking:
            collision[terrain.rect.slices] = 1

    spawns: dict[str, Tile] = {}
    objects: list[tuple[str, int, Any]] = []  # (address, arena id, spec)
    for sector in spec.sectors:
        sid = len(legends["sector"]) + 1
        legends["sector"][sid] = spec.address(sector.name)
        sector_grid[sector.rect.slices] = sid
        floor_grid[sector.rect.slices] = floor_id(sector.floor)
        if sector.walls:
            wall[sector.rect.slices] = True
        for arena in sector.arenas:
            aid = len(legends["arena"]) + 1
            legends["arena"][aid] = spec.address(sector.name, arena.name)
            arena_grid[arena.rect.slices] = aid
            floor_grid[arena.rect.slices] = floor_id(arena.floor)
            wall[arena.rect.slices] = False
            for obj in arena.objects:
                oid = len(legends["game_object"]) + 1
                address = spec.address(sector.name, arena.name, obj.name)
                legends["game_object"][oid] = address
                objects.append((address, aid, obj))
                for rect in obj.rects:
                    object_grid[rect.slices] = oid
                    if obj.blocking:
                        collision[rect.slices] = 1
        for tile in sector.doors:
            if sector.walls and sector.rect.contains(tile):
                wall[tile[1], tile[0]] = False
                door[tile[1], tile[0]] = True
        for spawn in sector.spawns:
            pid = len(legends["spawning_location"]) + 1
            aid = int(arena_grid[spawn.tile[1], spawn.tile[0]]) if spec.rect.contains(spawn.tile) else 0
            parent = legends["arena"].get(aid, spec.address(sector.name))
            legends["spawning_location"][pid] = f"{parent}:{spawn.name}"
            spawns[spawn.name] = spawn.tile
            if spec.rect.contains(spawn.tile):
                spawn_grid[spawn.tile[1], spawn.tile[0]] = pid
    collision[wall] = 1

    # where each object is used from
    walkable = collision == 0
    access: dict[str, tuple[Tile, ...]] = {}
    use: dict[str, Tile] = {}
    for address, aid, obj in objects:
        own: list[Tile] = []
        beside: set[Tile] = set()
        tiles = set(obj.tiles())
        for x, y in sorted(tiles, key=lambda t: (t[1], t[0])):
            if walkable[y, x]:
                own.append((x, y))
            for nx, ny in ((x, y - 1), (x - 1, y), (x + 1, y), (x, y + 1)):
                if (
                    0 <= nx < w
                    and 0 <= ny < h
                    and (nx, ny) not in tiles
                    and walkable[ny, nx]
                    and arena_grid[ny, nx] == aid
                ):
                    beside.add((nx, ny))
        ordered = own + sorted(beside, key=lambda t: (t[1], t[0]))
        if obj.use is not None:
            use[address] = obj.use
            ordered = [obj.use, *(t for t in ordered if t != obj.use)]
        access[address] = tuple(ordered)

    grids = {
        "collision": collision,
        "sector": sector_grid,
        "arena": arena_grid,
        "game_object": object_grid,
        "spawning_location": spawn_grid,
        "floor": floor_grid,
        "wall": wall,
        "door": door,
    }
    maze = Maze(
        spec=spec,
        grids=grids,
        legends=legends,
        floor_legend={i: name for name, i in floor_ids.items()},
        spawns=spawns,
        access=access,
        use=use,
    )
    if check:
        problems = check_maze(maze)
        if problems:
            raise SpecError(problems)
    return maze


def check_maze(maze: Maze) -> list[Problem]:
    """The checks that need the grids (see the module docstring); returns the problems found."""
    spec = maze.spec
    src = spec.source
    problems: list[Problem] = []
    walkable = maze.collision == 0

    def add(line: int | None, where: str, fld: str, message: str) -> None:
        problems.append(Problem(src, line, where, fld, message))

    def blocker(x: int, y: int) -> str:
        """What makes a tile unwalkable, in words."""
        if not maze.in_bounds(x, y):
            return "the edge of the town"
        if maze.wall[y, x]:
            return f"a wall of sector {maze.legends['sector'][int(maze.sector[y, x])].rsplit(':', 1)[1]!r}"
        if maze.game_object[y, x]:
            return f"blocking object {maze.legends['game_object'][int(maze.game_object[y, x])]!r}"
        return "blocking terrain"

    # doors must be passable: open on two opposite sides
    for sector in spec.sectors:
        for tile, line in zip(sector.doors, sector.door_lines or [sector.line] * len(sector.doors), strict=False):
            x, y = tile
            pairs = (((x - 1, y), (x + 1, y)), ((x, y - 1), (x, y + 1)))
            if any(all(maze.is_walkable(*t) for t in pair) for pair in pairs):
                continue
            # name what blocks the pair of sides the layout leaves open (rooms or outdoors)
            for pair in pairs:
                if not any(
                    sector.rect.contains(t) and sector.arena_at(t) is None and t not in sector.doors for t in pair
                ):
                    reasons = ", ".join(f"{t} by {blocker(*t)}" for t in pair if not maze.is_walkable(*t))
                    message = f"door {describe_tile(tile, sector.origin)} is blocked: {reasons}"
                    break
            else:
                message = f"door {describe_tile(tile, sector.origin)} does not join two walkable tiles"
            add(line, f"sector {sector.name!r}", "doors", message)

    # spawns and use tiles must be walkable
    for sector, spawn in spec.spawns():
        x, y = spawn.tile
        if maze.in_bounds(x, y) and not walkable[y, x]:
            add(
                spawn.line,
                f"sector {sector.name!r} > spawn {spawn.name!r}",
                "at",
                f"{describe_tile(spawn.tile, sector.origin)} is not walkable: it is taken by {blocker(x, y)}",
            )
    for sector, arena, obj in spec.objects():
        where = f"sector {sector.name!r} > arena {arena.name!r} > object {obj.name!r}"
        if obj.use is not None and not maze.is_walkable(*obj.use):
            add(
                obj.line,
                where,
                "use",
                f"use tile {describe_tile(obj.use, sector.origin)} is taken by {blocker(*obj.use)}",
            )

    # reachability: everything must lie in the largest connected walkable area ("the town")
    if not walkable.any():
        add(None, "", "", "no tile of the town is walkable")
        return problems
    regions = np.array(Pathfinder(maze.collision, landmarks=0)._region, dtype=np.int64).reshape(walkable.shape)
    sizes = np.bincount(regions[walkable])
    main = int(np.argmax(sizes))  # ties: the region holding the first walkable tile (row by row)
    reached = regions == main
    ref_text = f"the rest of the town (its largest walkable area, {int(sizes[main])} tiles)"
    for sector, arena in spec.arenas():
        aid_tiles = maze.arena == maze._ids[spec.address(sector.name, arena.name)][1]
        if not (reached & aid_tiles).any():
            why = "it has no walkable tile" if not (walkable & aid_tiles).any() else "check its doors"
            add(
                arena.line,
                f"sector {sector.name!r} > arena {arena.name!r}",
                "",
                f"cannot be reached from {ref_text}: {why}",
            )
    for sector, arena, obj in spec.objects():
        address = spec.address(sector.name, arena.name, obj.name)
        tiles = maze.object_access_tiles(address)
        where = f"sector {sector.name!r} > arena {arena.name!r} > object {obj.name!r}"
        if not tiles:
            add(obj.line, where, "", "no walkable tile in its arena touches it, so nobody can use it")
        elif not any(reached[y, x] for x, y in tiles):
            add(
                obj.line,
                where,
                "",
                f"none of the tiles it is used from {list(tiles)[:4]} can be reached from {ref_text}",
            )
    for sector, spawn in spec.spawns():
        x, y = spawn.tile
        if maze.is_walkable(x, y) and not reached[y, x]:
            add(
                spawn.line, f"sector {sector.name!r} > spawn {spawn.name!r}", "at", f"cannot be reached from {ref_text}"
            )
    pockets = walkable & ~reached
    if pockets.any() and not problems:
        ys, xs = np.nonzero(pockets)
        examples = ", ".join(
            f"({x}, {y}) in {maze.address_at(x, y)!r}" for x, y in list(zip(xs.tolist(), ys.tolist(), strict=True))[:3]
        )
        add(
            None,
            "",
            "",
            f"{len(xs)} walkable tiles cannot be reached from {ref_text} (enclosed by walls or blocking "
            f"objects), e.g. {examples}; make them blocking, or open a way in",
        )
    return problems


def load_maze(path: str | Path, check: bool = True) -> Maze:
    """Load and build a town: a ``town.yaml`` path, a town folder, or a town name (``"the_ville"``)."""
    return build_maze(load_spec(path, check=check), check=check)
