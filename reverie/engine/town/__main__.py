"""Command line for town specs: validate, summarise, draw, build.

    python -m reverie.engine.town check the_ville             # validate; print a summary
    python -m reverie.engine.town show the_ville [--region X Y W H]   # ASCII map
    python -m reverie.engine.town tree the_ville              # the spatial tree as JSON
    python -m reverie.engine.town build the_ville -o maze.pickle      # pickled Maze

A town is a name under static_dirs/towns/, a town folder, or a path to its town.yaml.
Exit status 1 and the list of problems when the spec is invalid.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter

from .maze import Maze, load_maze
from .spec import SpecError


def summary(maze: Maze, seconds: float) -> str:
    spec = maze.spec
    kinds = Counter(sector.kind for sector in spec.sectors)
    objects = Counter(obj.kind for _, _, obj in spec.objects())
    walkable = int((maze.collision == 0).sum())
    lines = [
        f"{spec.source}: town {spec.name!r} (world {spec.world!r}) is valid; built in {seconds * 1000:.0f} ms",
        f"  size {spec.width} x {spec.height} tiles of {spec.tile_size} px; {walkable} walkable tiles",
        f"  {len(maze.legends['sector'])} sectors, {len(maze.legends['arena'])} arenas, "
        f"{len(maze.legends['game_object'])} objects, {len(maze.spawns)} spawns",
        "  sector kinds: " + ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items())),
        "  object kinds: " + ", ".join(f"{k} x{n}" for k, n in sorted(objects.items())),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reverie.engine.town", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("check", "show", "tree", "build"):
        cmd = sub.add_parser(name)
        cmd.add_argument("town", help="town name under static_dirs/towns/, a folder, or a town.yaml path")
        if name == "show":
            cmd.add_argument("--region", nargs=4, type=int, metavar=("X", "Y", "W", "H"))
        if name == "build":
            cmd.add_argument("-o", "--output", required=True, help="where to write the pickled Maze")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        maze = load_maze(args.town)
    except (SpecError, FileNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    if args.command == "check":
        print(summary(maze, seconds))
    elif args.command == "show":
        print(maze.render(tuple(args.region) if args.region else None))
    elif args.command == "tree":
        print(json.dumps(maze.spatial_tree(), indent=2, ensure_ascii=False))
    elif args.command == "build":
        maze.save(args.output)
        print(f"wrote {args.output} ({len(maze.to_bytes())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
