"""Pathfinding on a town's collision grid: A*, 4-connected, one tile per step.

:class:`Pathfinder` is built once per collision grid (a :class:`~reverie.town.maze.Maze`
keeps one) and precomputes what every search needs:

- the walkable 4-neighbours of every tile, as plain lists (no bounds or collision tests
  in the search loop);
- the connected region of every walkable tile, so an unreachable goal is reported at
  once instead of after exploring the whole town;
- exact walking distances from a few *landmark* tiles (8 by default, chosen
  farthest-first) to every tile, for the ALT lower bound below.

A search is A* whose heuristic is the larger of two lower bounds on the remaining
distance: the Manhattan distance (to the goal, or to the bounding box of a set of goals)
and the landmark ("ALT") bound ``max over landmarks L of |d(L, goal) - d(L, tile)|`` (for
a set of goals, the distance of ``d(L, tile)`` to the interval of the goals' ``d(L, .)``).
Both follow from the triangle inequality and change by at most 1 per step, so the
heuristic is admissible and consistent and paths are shortest. Manhattan alone is blind to
walls: a path into a building whose door faces away makes it explore the whole block;
the landmark bound sees walls and cuts the worst searches by about half on the_ville.
Ties are broken deterministically: among open tiles with the same
f = g + h the one with the smaller h (nearer the goal) is expanded first, then the one
with the smaller row-major index (y, then x). Each heap entry is one integer packing
(f, h, index), so the order is total and the same path comes back for the same query on
every run and machine.

Paths are lists of ``(x, y)`` tiles from the start to the goal, both included; a start
equal to the goal gives ``[start]``. When there is no path, :class:`PathNotFound` is
raised with ``reason`` saying why (a tile outside the town, a start or goal on a wall or
a blocking object, or start and goal in regions no door connects).

Agents and doorways (the rule the simulation loop uses)
-------------------------------------------------------
Agents never block each other: the collision grid holds only walls, blocking furniture
and blocking terrain, and two agents may stand on the same tile, as in the original
Smallville. Each step every walking agent advances exactly one tile along its own path
(:func:`step_agents`); nobody waits for anybody. So two agents heading through a 1-tile
doorway in opposite directions pass through each other and each arrives after exactly
``len(path) - 1`` steps: a deadlock cannot happen because no move ever depends on another
agent. Agents that want to avoid *ending* on an occupied tile (a chair someone sits on)
pass the occupied tiles as ``avoid`` to :meth:`Pathfinder.path_to_any`, which then prefers
the nearest free goal; that choice is made once when the path is planned, never while
walking, so it cannot deadlock either.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

import numpy as np

__all__ = ["PathNotFound", "Pathfinder", "Tile", "find_path", "step_agents", "walk_agents"]

Tile = tuple[int, int]
K = TypeVar("K")

_NODE_BITS = 21  # up to 2M tiles (a 1000 x 1000 town is 1M)
_NODE_MASK = (1 << _NODE_BITS) - 1
_H_SHIFT = _NODE_BITS
_F_SHIFT = 2 * _NODE_BITS


class PathNotFound(ValueError):
    """No path exists; ``reason`` says why in words."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class Pathfinder:
    """Shortest 4-connected paths on one collision grid (``(height, width)``, nonzero = blocked)."""

    def __init__(self, collision: np.ndarray, landmarks: int = 8):
        blocked = np.asarray(collision) != 0
        if blocked.ndim != 2:
            raise ValueError(f"collision grid must be 2-D (height, width), got shape {blocked.shape}")
        self.height, self.width = (int(n) for n in blocked.shape)
        w, h = self.width, self.height
        n = w * h
        if n > _NODE_MASK:
            raise ValueError(f"grid of {n} tiles is too large (at most {_NODE_MASK})")
        free = ~blocked
        self._free: list[bool] = free.ravel().tolist()
        self._xs: list[int] = (np.arange(n) % w).tolist()
        self._ys: list[int] = (np.arange(n) // w).tolist()
        # walkable neighbours of each walkable tile, order: up, left, right, down
        up = np.zeros_like(free)
        up[1:, :] = free[1:, :] & free[:-1, :]
        left = np.zeros_like(free)
        left[:, 1:] = free[:, 1:] & free[:, :-1]
        right = np.zeros_like(free)
        right[:, :-1] = free[:, :-1] & free[:, 1:]
        down = np.zeros_like(free)
        down[:-1, :] = free[:-1, :] & free[1:, :]
        flags = [m.ravel().tolist() for m in (up, left, right, down)]
        offsets = (-w, -1, 1, w)
        neighbours: list[tuple[int, ...]] = [()] * n
        for i in np.flatnonzero(free).tolist():
            neighbours[i] = tuple(i + off for off, flag in zip(offsets, flags, strict=True) if flag[i])
        self._neighbours = neighbours
        # connected regions: -1 for blocked tiles, else the region's number
        region = [-1] * n
        count = 0
        for seed in range(n):
            if not self._free[seed] or region[seed] != -1:
                continue
            region[seed] = count
            queue = deque([seed])
            while queue:
                node = queue.popleft()
                for nb in neighbours[node]:
                    if region[nb] == -1:
                        region[nb] = count
                        queue.append(nb)
            count += 1
        self._region = region
        self.region_count = count
        self._landmarks, self._landmark_dists = self._choose_landmarks(landmarks)

    def _bfs(self, source: int) -> list[int]:
        """Walking distance from ``source`` to every tile; -1 where unreachable."""
        neighbours = self._neighbours
        dist = [-1] * (self.width * self.height)
        dist[source] = 0
        queue = deque([source])
        while queue:
            node = queue.popleft()
            d = dist[node] + 1
            for nb in neighbours[node]:
                if dist[nb] < 0:
                    dist[nb] = d
                    queue.append(nb)
        return dist

    def _choose_landmarks(self, count: int) -> tuple[list[int], list[tuple[int, ...]]]:
        """Farthest-first landmarks (ties: lowest index) and each tile's distances to them.

        A tile a landmark cannot reach gets 0 for it; searches stay inside one region, where
        such a landmark then gives the same value everywhere and bounds nothing (harmlessly).
        """
        free = [i for i, ok in enumerate(self._free) if ok]
        if count <= 0 or not free:
            return [], []
        unreachable = 1 << 30
        nearest = [unreachable] * len(self._free)  # distance to the closest chosen landmark
        first = self._bfs(free[0])
        current = max(free, key=lambda i: (first[i], -i))
        chosen: list[int] = []
        columns: list[list[int]] = []
        for _ in range(min(count, len(free))):
            dist = self._bfs(current)
            chosen.append(current)
            columns.append([d if d >= 0 else 0 for d in dist])
            for i in free:
                d = dist[i]
                if 0 <= d < nearest[i]:
                    nearest[i] = d
            current = max(free, key=lambda i: (nearest[i], -i))
            if nearest[current] == 0:
                break  # every tile is a landmark already (tiny grids)
        return chosen, list(zip(*columns, strict=True))

    # --- queries -------------------------------------------------------------------

    def in_bounds(self, tile: Tile) -> bool:
        return 0 <= tile[0] < self.width and 0 <= tile[1] < self.height

    def is_walkable(self, tile: Tile) -> bool:
        return self.in_bounds(tile) and self._free[tile[1] * self.width + tile[0]]

    def region(self, tile: Tile) -> int:
        """The connected region of a walkable tile (-1 for a blocked tile)."""
        self._check_bounds(tile, "tile")
        return self._region[tile[1] * self.width + tile[0]]

    def connected(self, a: Tile, b: Tile) -> bool:
        """Whether a path exists between two tiles (O(1))."""
        return self.is_walkable(a) and self.is_walkable(b) and self.region(a) == self.region(b)

    def find_path(self, start: Tile, goal: Tile) -> list[Tile]:
        """The shortest path from ``start`` to ``goal``, both included; :class:`PathNotFound` if none."""
        s = self._index(start, "start")
        g = self._index(goal, "goal")
        if self._region[s] != self._region[g]:
            raise PathNotFound(
                f"no path from {tuple(start)} to {tuple(goal)}: they lie in separate regions that no walkable "
                "route (door or gap) connects"
            )
        if s == g:
            return [tuple(start)]  # type: ignore[list-item]
        gx, gy = self._xs[g], self._ys[g]
        return self._search(s, {g}, (gx, gx, gy, gy))

    def path_to_any(self, start: Tile, goals: Iterable[Tile], avoid: Collection[Tile] = ()) -> list[Tile]:
        """The shortest path from ``start`` to the nearest of ``goals`` (e.g. an object's access tiles).

        Goals outside the town, blocked, or not reachable from ``start`` are skipped. Goals in
        ``avoid`` (e.g. tiles other agents occupy) are skipped too unless every reachable goal
        is avoided. Raises :class:`PathNotFound` when no goal is left.
        """
        s = self._index(start, "start")
        goal_list = [tuple(t) for t in goals]
        if not goal_list:
            raise PathNotFound(f"no goal tiles given to walk to from {tuple(start)}")
        outside = blocked = elsewhere = 0
        usable: list[int] = []
        for tile in goal_list:
            if not self.in_bounds(tile):  # type: ignore[arg-type]
                outside += 1
                continue
            i = tile[1] * self.width + tile[0]
            if not self._free[i]:
                blocked += 1
            elif self._region[i] != self._region[s]:
                elsewhere += 1
            else:
                usable.append(i)
        if not usable:
            parts = [
                f"{count} {what}"
                for count, what in (
                    (outside, "outside the town"),
                    (blocked, "blocked"),
                    (elsewhere, "in a region not connected to the start"),
                )
                if count
            ]
            raise PathNotFound(
                f"none of the {len(goal_list)} goal tiles can be reached from {tuple(start)}: {', '.join(parts)}"
            )
        if avoid:
            avoided = {t[1] * self.width + t[0] for t in avoid if self.in_bounds(t)}
            free_goals = [i for i in usable if i not in avoided]
            if free_goals:
                usable = free_goals
        if s in usable:
            return [tuple(start)]  # type: ignore[list-item]
        xs, ys = self._xs, self._ys
        box = (
            min(xs[i] for i in usable),
            max(xs[i] for i in usable),
            min(ys[i] for i in usable),
            max(ys[i] for i in usable),
        )
        return self._search(s, set(usable), box)

    def distance(self, start: Tile, goal: Tile) -> int:
        """Steps on the shortest path (:class:`PathNotFound` if none)."""
        return len(self.find_path(start, goal)) - 1

    # --- internals -----------------------------------------------------------------

    def _check_bounds(self, tile: Tile, what: str) -> None:
        if not self.in_bounds(tile):
            raise PathNotFound(
                f"{what} {tuple(tile)} is outside the town (x 0..{self.width - 1}, y 0..{self.height - 1})"
            )

    def _index(self, tile: Tile, what: str) -> int:
        self._check_bounds(tile, what)
        i = tile[1] * self.width + tile[0]
        if not self._free[i]:
            raise PathNotFound(f"{what} {tuple(tile)} is not walkable (a wall, a blocking object or blocking terrain)")
        return i

    def _search(self, start: int, goals: set[int], box: tuple[int, int, int, int]) -> list[Tile]:
        xs, ys, neighbours, marks = self._xs, self._ys, self._neighbours, self._landmark_dists
        bx0, bx1, by0, by1 = box
        push, pop = heapq.heappush, heapq.heappop
        if marks:
            goal_marks = [marks[g] for g in goals]
            lo = tuple(map(min, zip(*goal_marks, strict=True)))
            hi = tuple(map(max, zip(*goal_marks, strict=True)))
        else:
            lo = hi = ()
        single = lo == hi  # one goal (or goals no landmark tells apart): |d(L, n) - d(L, goal)|
        if not marks:
            marks = [()] * len(xs)

        def heuristic(i: int) -> int:
            # the same bound as inlined in the loop below (kept in one place for the start tile)
            x, y = xs[i], ys[i]
            h = (bx0 - x if x < bx0 else x - bx1 if x > bx1 else 0) + (
                by0 - y if y < by0 else y - by1 if y > by1 else 0
            )
            for a, lower, upper in zip(marks[i], lo, hi, strict=False):
                v = lower - a if a < lower else a - upper if a > upper else 0
                if v > h:
                    h = v
            return h

        h0 = heuristic(start)
        heap = [(h0 << _F_SHIFT) | (h0 << _H_SHIFT) | start]
        best = {start: 0}
        parent = {start: -1}
        closed: set[int] = set()
        infinity = 1 << 60
        while heap:
            node = pop(heap) & _NODE_MASK
            if node in closed:
                continue
            if node in goals:
                path = []
                while node != -1:
                    path.append((xs[node], ys[node]))
                    node = parent[node]
                path.reverse()
                return path
            closed.add(node)
            g = best[node] + 1
            for nb in neighbours[node]:
                if g < best.get(nb, infinity):
                    best[nb] = g
                    parent[nb] = node
                    # heuristic(nb), inlined: this loop is the hot path (every landmark tuple has
                    # the same length as lo and hi, so zip needs no strict check here)
                    x, y = xs[nb], ys[nb]
                    h = (bx0 - x if x < bx0 else x - bx1 if x > bx1 else 0) + (
                        by0 - y if y < by0 else y - by1 if y > by1 else 0
                    )
                    if single:
                        for a, b in zip(marks[nb], lo, strict=False):
                            v = a - b if a > b else b - a
                            if v > h:
                                h = v
                    else:
                        for a, lower, upper in zip(marks[nb], lo, hi, strict=False):
                            v = lower - a if a < lower else a - upper if a > upper else 0
                            if v > h:
                                h = v
                    push(heap, ((g + h) << _F_SHIFT) | (h << _H_SHIFT) | nb)
        # unreachable goals were filtered by region; getting here means the grid changed under us
        raise PathNotFound("no path found although start and goal share a region (internal error)")


def find_path(collision: np.ndarray, start: Tile, goal: Tile) -> list[Tile]:
    """One-off shortest path on a collision grid (builds a :class:`Pathfinder`; keep one for many queries)."""
    return Pathfinder(collision).find_path(start, goal)


# --- moving agents along their paths ---------------------------------------------------


def step_agents(paths: Mapping[K, Sequence[Tile]]) -> dict[K, list[Tile]]:
    """Advance every agent one tile along its remaining path (``path[0]`` is where it stands).

    Returns each agent's remaining path after the step, the new current tile first; an agent
    whose path has one tile left stays put. Agents do not block each other (see the module
    docstring): several may share a tile, so two agents crossing in a doorway never wait.
    """
    moved: dict[K, list[Tile]] = {}
    for agent, path in paths.items():
        if not path:
            raise ValueError(f"agent {agent!r} has an empty path; a path starts with the agent's own tile")
        moved[agent] = list(path[1:]) if len(path) > 1 else [path[0]]
    return moved


def walk_agents(paths: Mapping[K, Sequence[Tile]], max_steps: int = 100_000) -> Iterator[dict[K, Tile]]:
    """Positions of all agents after each step until every agent has arrived (for tests and replays)."""
    remaining = {agent: list(path) for agent, path in paths.items()}
    for _ in range(max_steps):
        if all(len(path) <= 1 for path in remaining.values()):
            return
        remaining = step_agents(remaining)
        yield {agent: path[0] for agent, path in remaining.items()}
    raise RuntimeError(f"agents still walking after {max_steps} steps")
