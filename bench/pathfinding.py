#!/usr/bin/env python
"""Pathfinding on the_ville: latency of A* between random walkable tiles, and maze load costs.

    python bench/pathfinding.py [--pairs 1000] [--seed 0] [--town the_ville]

Measures, on the town's 140 x 100 collision grid:

  load spec           YAML parse + geometric validation (load_spec)
  build maze          painting the grids + reachability checks (build_maze)
  unpickle maze       Maze.from_bytes of a pickled maze (what a run loads once)
  build pathfinder    the precomputation: neighbour lists, regions, 8 landmark distance fields

and the latency of

  find_path, ALT      A* with max(Manhattan, landmark bound): the default Pathfinder
  find_path, Manhattan  the same A* with landmarks=0 (Manhattan only), for comparison
  path_to_any object  from a random tile to the nearest access tile of a random game object

over --pairs random walkable (start, goal) pairs drawn with a fixed seed; p50/p99/max in
milliseconds, path lengths in steps. Every ALT path is checked to be as long as the
Manhattan-only path (both are optimal). Results go to bench/results/pathfinding.json.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from _common import median, percentile, write_result

from reverie.town import Maze, Pathfinder, build_maze, load_spec


def timed(fn: Any, repeat: int = 5) -> tuple[float, Any]:
    """Best-of-`repeat` wall time in ms, and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000, result


def latency(samples_s: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms),
        "mean_ms": sum(ms) / len(ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--town", default="the_ville")
    args = parser.parse_args()

    load_ms, spec = timed(lambda: load_spec(args.town))
    build_ms, maze = timed(lambda: build_maze(spec))
    data = maze.to_bytes()
    unpickle_ms, _ = timed(lambda: Maze.from_bytes(data), repeat=20)
    pf_ms, alt = timed(lambda: Pathfinder(maze.collision), repeat=3)
    plain = Pathfinder(maze.collision, landmarks=0)

    rng = random.Random(args.seed)
    walkable = [(x, y) for y in range(maze.height) for x in range(maze.width) if maze.is_walkable(x, y)]
    pairs = [(rng.choice(walkable), rng.choice(walkable)) for _ in range(args.pairs)]
    objects = maze.addresses("game_object")
    object_queries = [(rng.choice(walkable), rng.choice(objects)) for _ in range(args.pairs)]

    runs: dict[str, dict[str, Any]] = {}
    lengths: list[int] = []
    for name, finder in (("find_path, ALT", alt), ("find_path, Manhattan", plain)):
        samples = []
        steps = []
        for start, goal in pairs:
            started = time.perf_counter()
            path = finder.find_path(start, goal)
            samples.append(time.perf_counter() - started)
            steps.append(len(path) - 1)
        if lengths:
            assert steps == lengths, "ALT and Manhattan A* disagree on a shortest path length"
        lengths = steps
        runs[name] = latency(samples)
    samples = []
    for start, address in object_queries:
        goals = maze.object_access_tiles(address)
        started = time.perf_counter()
        alt.path_to_any(start, goals)
        samples.append(time.perf_counter() - started)
    runs["path_to_any object"] = latency(samples)

    print(f"town {spec.name}: {maze.width} x {maze.height} tiles, {len(walkable)} walkable; {args.pairs} random pairs")
    print(f"path length: median {median(lengths):.0f} steps, p99 {percentile(lengths, 99):.0f}, max {max(lengths)}")
    print()
    print(f"{'one-off cost':<22}{'ms':>10}")
    for label, value in (
        ("load spec", load_ms),
        ("build maze", build_ms),
        ("unpickle maze", unpickle_ms),
        ("build pathfinder", pf_ms),
    ):
        print(f"{label:<22}{value:>10.2f}")
    print(f"(pickled maze: {len(data) / 1024:.0f} KiB)")
    print()
    print(f"{'query':<22}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'mean ms':>10}")
    for name, row in runs.items():
        print(f"{name:<22}{row['p50_ms']:>10.3f}{row['p99_ms']:>10.3f}{row['max_ms']:>10.3f}{row['mean_ms']:>10.3f}")
    path = write_result(
        "pathfinding",
        {
            "benchmark": "pathfinding",
            "command": f"python bench/pathfinding.py --pairs {args.pairs} --seed {args.seed} --town {args.town}",
            "town": {"name": spec.name, "width": maze.width, "height": maze.height, "walkable": len(walkable)},
            "pairs": args.pairs,
            "seed": args.seed,
            "path_steps": {"median": median(lengths), "p99": percentile(lengths, 99), "max": max(lengths)},
            "one_off_ms": {
                "load_spec": load_ms,
                "build_maze": build_ms,
                "unpickle_maze": unpickle_ms,
                "build_pathfinder": pf_ms,
            },
            "pickled_maze_bytes": len(data),
            "queries": runs,
        },
    )
    print(f"\nwritten {path}")


if __name__ == "__main__":
    main()
