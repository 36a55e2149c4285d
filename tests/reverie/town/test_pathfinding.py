"""A* on the collision grid: optimal, deterministic, clear when there is no path; the doorway rule."""

from __future__ import annotations

import random
from collections import deque
from itertools import pairwise

import numpy as np
import pytest

from reverie.town import Pathfinder, PathNotFound, find_path, step_agents, walk_agents


def grid(text: str) -> np.ndarray:
    """A collision grid from a picture: '#' blocked, anything else walkable."""
    rows = [row for row in text.strip("\n").splitlines()]
    width = max(len(row) for row in rows)
    return np.array([[1 if c == "#" else 0 for c in row.ljust(width, "#")] for row in rows], dtype=np.uint8)


def bfs_distances(collision: np.ndarray, start: tuple[int, int]) -> dict[tuple[int, int], int]:
    h, w = collision.shape
    dist = {start: 0}
    queue = deque([start])
    while queue:
        x, y = queue.popleft()
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if 0 <= nx < w and 0 <= ny < h and not collision[ny, nx] and (nx, ny) not in dist:
                dist[(nx, ny)] = dist[(x, y)] + 1
                queue.append((nx, ny))
    return dist


def assert_valid(path, collision, start, goal):
    assert path[0] == start and path[-1] == goal
    for (x0, y0), (x1, y1) in pairwise(path):
        assert abs(x0 - x1) + abs(y0 - y1) == 1
    for x, y in path:
        assert not collision[y, x]
    assert len(set(path)) == len(path)


MAZE = """
..........
.########.
.#......#.
.#.####.#.
.#.#..#.#.
.#.#.##.#.
.#.#....#.
.#.######.
.#........
.#########
"""

ROOMS = """
#############
#.....#.....#
#.....#.....#
#...........#
#.....#.....#
###.#####.###
#.....#.....#
#.....#.....#
#############
"""


@pytest.mark.parametrize("picture", [MAZE, ROOMS])
@pytest.mark.parametrize("landmarks", [0, 3, 8])
def test_optimal_on_hand_made_grids(picture, landmarks):
    collision = grid(picture)
    finder = Pathfinder(collision, landmarks=landmarks)
    free = [(x, y) for y in range(collision.shape[0]) for x in range(collision.shape[1]) if not collision[y, x]]
    for start in free:
        dist = bfs_distances(collision, start)
        for goal in free:
            if goal in dist:
                path = finder.find_path(start, goal)
                assert_valid(path, collision, start, goal)
                assert len(path) - 1 == dist[goal], (start, goal)
            else:
                with pytest.raises(PathNotFound):
                    finder.find_path(start, goal)


def test_known_lengths():
    collision = grid(MAZE)
    # from the outer corridor into the spiral's centre: 9 right, 8 down, 7 left, 6 up, 5, 4, 3, 2
    assert len(find_path(collision, (0, 0), (4, 4))) - 1 == 9 + 8 + 7 + 6 + 5 + 4 + 3 + 2
    assert find_path(collision, (2, 2), (2, 2)) == [(2, 2)]


@pytest.mark.parametrize("seed", range(6))
def test_optimal_on_random_grids(seed):
    rng = np.random.default_rng(seed)
    collision = (rng.random((17, 23)) < 0.3).astype(np.uint8)
    finder = Pathfinder(collision, landmarks=4)
    free = [(x, y) for y in range(17) for x in range(23) if not collision[y, x]]
    pick = random.Random(seed)
    for _ in range(60):
        start, goal = pick.choice(free), pick.choice(free)
        dist = bfs_distances(collision, start)
        if goal in dist:
            path = finder.find_path(start, goal)
            assert_valid(path, collision, start, goal)
            assert len(path) - 1 == dist[goal]
            assert finder.connected(start, goal)
        else:
            assert not finder.connected(start, goal)
            with pytest.raises(PathNotFound, match="separate regions"):
                finder.find_path(start, goal)


def test_unreachable_and_bad_tiles_say_why():
    collision = grid(
        """
...#...
...#...
...#...
"""
    )
    finder = Pathfinder(collision)
    with pytest.raises(PathNotFound) as info:
        finder.find_path((0, 0), (6, 2))
    assert "no path from (0, 0) to (6, 2)" in info.value.reason and "separate regions" in info.value.reason
    with pytest.raises(PathNotFound, match=r"start \(3, 1\) is not walkable"):
        finder.find_path((3, 1), (0, 0))
    with pytest.raises(PathNotFound, match=r"goal \(3, 0\) is not walkable"):
        finder.find_path((0, 0), (3, 0))
    with pytest.raises(PathNotFound, match=r"goal \(9, 0\) is outside the town"):
        finder.find_path((0, 0), (9, 0))
    with pytest.raises(PathNotFound, match="2 blocked, 1 in a region not connected"):
        finder.path_to_any((0, 0), [(3, 0), (3, 2), (5, 1)])
    with pytest.raises(PathNotFound, match="no goal tiles"):
        finder.path_to_any((0, 0), [])


def test_deterministic_tie_breaking():
    open_grid = np.zeros((4, 4), dtype=np.uint8)
    first = Pathfinder(open_grid).find_path((0, 0), (3, 3))
    # many shortest paths exist; the rule (smaller h first, then lower row-major index) picks this one,
    # the same on every run and for every new Pathfinder
    assert first == [(0, 0), (1, 0), (2, 0), (3, 0), (3, 1), (3, 2), (3, 3)]
    for _ in range(3):
        assert Pathfinder(open_grid).find_path((0, 0), (3, 3)) == first


def test_deterministic_on_the_ville(the_ville):
    rng = random.Random(5)
    pairs = [(the_ville.random_walkable_tile(rng), the_ville.random_walkable_tile(rng)) for _ in range(20)]
    fresh = Pathfinder(the_ville.collision)
    for start, goal in pairs:
        assert the_ville.find_path(start, goal) == fresh.find_path(start, goal)


def test_path_to_any_goes_to_the_nearest():
    collision = grid(ROOMS)
    finder = Pathfinder(collision)
    goals = [(10, 7), (2, 1), (8, 2)]
    path = finder.path_to_any((1, 3), goals)
    assert path[-1] == (2, 1) and len(path) - 1 == 3
    dist = bfs_distances(collision, (9, 7))
    path = finder.path_to_any((9, 7), goals)
    assert len(path) - 1 == min(dist[g] for g in goals)
    # blocked goals are skipped, a start already on a goal stays put
    assert finder.path_to_any((2, 1), [(0, 0), (2, 1)]) == [(2, 1)]
    # avoided goals (tiles other agents stand on) are skipped unless nothing else is left
    assert finder.path_to_any((1, 3), goals, avoid=[(2, 1)])[-1] == (8, 2)
    assert finder.path_to_any((1, 3), [(2, 1)], avoid=[(2, 1)])[-1] == (2, 1)


def test_object_paths_on_the_ville_are_shortest(the_ville):
    address = "the Ville:The Rose and Crown Pub:bar:bar counter"
    start = the_ville.spawn_tile("Arthur Burton bed")
    dist = bfs_distances(the_ville.collision, start)
    path = the_ville.path_to_address(start, address)
    assert len(path) - 1 == min(dist[t] for t in the_ville.object_access_tiles(address))


# --- the doorway rule ---------------------------------------------------------------------

DOORWAY = """
#######
#..#..#
#.....#
#..#..#
#######
"""


def test_two_agents_cross_a_doorway_without_deadlock():
    collision = grid(DOORWAY)
    finder = Pathfinder(collision)
    paths = {"west": finder.find_path((1, 2), (5, 2)), "east": finder.find_path((5, 2), (1, 2))}
    assert (3, 2) in paths["west"] and (3, 2) in paths["east"]  # both must use the one doorway tile
    steps = list(walk_agents(paths))
    # nobody waits: each arrives after exactly as many steps as its path has moves
    assert len(steps) == len(paths["west"]) - 1 == len(paths["east"]) - 1
    assert steps[-1] == {"west": (5, 2), "east": (1, 2)}
    # they pass through each other: at the midpoint both stand in the doorway
    assert {"west": (3, 2), "east": (3, 2)} in steps


def test_many_agents_in_a_corridor_all_arrive():
    collision = grid("#########\n#.......#\n#########")
    finder = Pathfinder(collision)
    paths = {}
    for i in range(1, 8):
        paths[f"right{i}"] = finder.find_path((i, 1), (7, 1))
        paths[f"left{i}"] = finder.find_path((i, 1), (1, 1))
    steps = list(walk_agents(paths))
    assert len(steps) == max(len(p) - 1 for p in paths.values())
    assert all(steps[-1][agent] == path[-1] for agent, path in paths.items())


def test_step_agents():
    moved = step_agents({"a": [(0, 0), (1, 0), (2, 0)], "b": [(4, 4)]})
    assert moved == {"a": [(1, 0), (2, 0)], "b": [(4, 4)]}
    with pytest.raises(ValueError, match="empty path"):
        step_agents({"c": []})
