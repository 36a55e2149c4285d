"""Spatial memory: the part of the town a persona knows, as world > sector > arena > objects.

Places are addressed as in the original with colon-separated strings:

    "the_ville"                                     a world
    "the_ville:Hobbs Cafe"                          a sector
    "the_ville:Hobbs Cafe:cafe"                     an arena
    "the_ville:Hobbs Cafe:cafe:coffee machine"      a game object

The tree starts from the persona's bootstrap knowledge (home, workplace, ...) and
grows as the persona perceives new tiles (`learn`). Planning chooses an action's
place sector -> arena -> object from what the persona knows, using the comma-joined
renderings (`sectors_str`, `arenas_str`, `objects_str`).

Children keep the order in which they were learned (home first, for a bootstrap
memory that lists it first), so prompts are deterministic for a given history.
Names are kept as spelled; `resolve` finds the known spelling of a name a model
wrote in another case.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["MAX_DEPTH", "SpatialMemory", "parse_address"]

SEPARATOR = ":"
MAX_DEPTH = 4  # world, sector, arena, object
LEVELS = ("world", "sector", "arena", "object")

# world -> sector -> arena -> object names (dicts used as ordered sets)
Tree = dict[str, dict[str, dict[str, dict[str, None]]]]


def parse_address(address: str) -> tuple[str, ...]:
    """Split `world[:sector[:arena[:object]]]` into its stripped parts.

    Raises ValueError for a non-string, an empty address, an empty part ('a::b',
    'a:') or more than four parts.
    """
    if not isinstance(address, str):
        raise TypeError(f"an address is a string like 'world:sector:arena:object', got {type(address).__name__}")
    if not address.strip():
        raise ValueError("empty address: expected 'world[:sector[:arena[:object]]]'")
    parts = tuple(part.strip() for part in address.split(SEPARATOR))
    if len(parts) > MAX_DEPTH:
        raise ValueError(f"address {address!r} has {len(parts)} parts; at most {MAX_DEPTH} (world:sector:arena:object)")
    for level, part in zip(LEVELS, parts, strict=False):
        if not part:
            raise ValueError(f"address {address!r} has an empty {level} name")
    return parts


def _check_name(name: str, level: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{level} name must be a non-empty string, got {name!r}")
    if SEPARATOR in name:
        raise ValueError(f"{level} name {name!r} contains {SEPARATOR!r}; pass the parts separately")
    return name.strip()


class SpatialMemory:
    """The world > sector > arena > object tree one persona knows."""

    def __init__(self) -> None:
        self._tree: Tree = {}
        # How many times the tree grew: a save writes the tree again only when this moved
        # (25 trees of ~2.7 KB of JSON each, every step, were ~1.7 ms of a step's commit).
        self.changes = 0

    # -- learning -------------------------------------------------------------------

    def learn(self, address: str) -> bool:
        """Add a place (and all its ancestors). Returns True if anything was new."""
        parts = parse_address(address)
        new = False
        level: dict[str, Any] = self._tree
        for depth, part in enumerate(parts):
            if part not in level:
                new = True
                level[part] = None if depth == MAX_DEPTH - 1 else {}
            child = level[part]
            if child is None:
                break
            level = child
        self.changes += new
        return new

    def learn_many(self, addresses: Iterable[str]) -> int:
        """Learn several places; return how many added something new."""
        return sum(self.learn(address) for address in addresses)

    # -- querying -------------------------------------------------------------------

    def knows(self, address: str) -> bool:
        """Whether the exact place (any depth) is in the tree."""
        parts = parse_address(address)
        level: Mapping[str, Any] | None = self._tree
        for part in parts:
            if level is None or part not in level:
                return False
            level = level[part]
        return True

    def worlds(self) -> list[str]:
        return list(self._tree)

    def sectors(self, world: str) -> list[str]:
        return list(self._tree.get(_check_name(world, "world"), {}))

    def arenas(self, world: str, sector: str) -> list[str]:
        return list(self._tree.get(_check_name(world, "world"), {}).get(_check_name(sector, "sector"), {}))

    def objects(self, world: str, sector: str, arena: str) -> list[str]:
        sectors = self._tree.get(_check_name(world, "world"), {})
        arenas = sectors.get(_check_name(sector, "sector"), {})
        return list(arenas.get(_check_name(arena, "arena"), {}))

    def arena_paths(self, world: str) -> list[tuple[str, str]]:
        """(sector, arena) for every arena known in `world`, in learning order."""
        return [
            (sector, arena)
            for sector, arenas in self._tree.get(_check_name(world, "world"), {}).items()
            for arena in arenas
        ]

    def arena_objects(self, world: str) -> dict[tuple[str, str], list[str]]:
        """(sector, arena) -> its known objects, for every arena known in `world`, in
        learning order (`arena_paths` and `objects` at once, for planning's place lists)."""
        return {
            (sector, arena): list(objects or ())
            for sector, arenas in self._tree.get(_check_name(world, "world"), {}).items()
            for arena, objects in arenas.items()
        }

    def addresses(self) -> Iterator[str]:
        """Every known leaf address (the deepest known part of each branch)."""
        for world, sectors in self._tree.items():
            if not sectors:
                yield world
            for sector, arenas in sectors.items():
                if not arenas:
                    yield SEPARATOR.join((world, sector))
                for arena, objects in arenas.items():
                    if not objects:
                        yield SEPARATOR.join((world, sector, arena))
                    for obj in objects:
                        yield SEPARATOR.join((world, sector, arena, obj))

    def resolve(self, address: str) -> str | None:
        """The known spelling of `address`, matching each part case-insensitively
        (exact matches win); None if some part is unknown. Models often change case."""
        parts = parse_address(address)
        level: Mapping[str, Any] | None = self._tree
        found: list[str] = []
        for part in parts:
            if level is None:
                return None
            name: str | None = part
            if part not in level:
                folded = part.casefold()
                name = next((known for known in level if known.casefold() == folded), None)
            if name is None:
                return None
            found.append(name)
            level = level[name]
        return SEPARATOR.join(found)

    # -- prompt renderings ----------------------------------------------------------

    def sectors_str(self, world: str) -> str:
        """Sector names the persona knows in `world`, comma-separated ('' if none)."""
        return ", ".join(self.sectors(world))

    def arenas_str(self, world: str, sector: str) -> str:
        """Arena names the persona knows in `world:sector`, comma-separated."""
        return ", ".join(self.arenas(world, sector))

    def objects_str(self, world: str, sector: str, arena: str) -> str:
        """Game object names the persona knows in `world:sector:arena`, comma-separated."""
        return ", ".join(self.objects(world, sector, arena))

    def __len__(self) -> int:
        """Number of known places at every level."""
        return sum(
            1 + sum(1 + sum(1 + len(objects) for objects in arenas.values()) for arenas in sectors.values())
            for sectors in self._tree.values()
        )

    # -- persistence ----------------------------------------------------------------

    def to_dict(self) -> dict[str, dict[str, dict[str, list[str]]]]:
        """JSON-serialisable tree: {world: {sector: {arena: [objects]}}}, orders kept
        (the shape of the original's spatial memory file)."""
        return {
            world: {
                sector: {arena: list(objects) for arena, objects in arenas.items()}
                for sector, arenas in sectors.items()
            }
            for world, sectors in self._tree.items()
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SpatialMemory:
        """Rebuild from `to_dict` output, validating every name."""
        memory = cls()
        if not isinstance(data, Mapping):
            raise ValueError(f"spatial memory must be a mapping of worlds, got {type(data).__name__}")
        for world, sectors in data.items():
            w = _check_name(world, "world")
            memory._tree.setdefault(w, {})
            if not isinstance(sectors, Mapping):
                raise ValueError(f"world {world!r}: sectors must be a mapping, got {type(sectors).__name__}")
            for sector, arenas in sectors.items():
                s = _check_name(sector, "sector")
                memory._tree[w].setdefault(s, {})
                if not isinstance(arenas, Mapping):
                    raise ValueError(f"sector {world}:{sector}: arenas must be a mapping, got {type(arenas).__name__}")
                for arena, objects in arenas.items():
                    a = _check_name(arena, "arena")
                    known = memory._tree[w][s].setdefault(a, {})
                    if isinstance(objects, (str, bytes)) or not isinstance(objects, (list, tuple)):
                        raise ValueError(
                            f"arena {world}:{sector}:{arena}: objects must be a list of names, got {objects!r}"
                        )
                    for obj in objects:
                        known[_check_name(obj, "object")] = None
        return memory
