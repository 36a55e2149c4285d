"""Command line for town specs: validate, summarise, draw, build.

    python -m reverie.town check the_ville             # validate; print a summary
    python -m reverie.town show the_ville [--region X Y W H]   # ASCII map
    python -m reverie.town tree the_ville              # the spatial tree as JSON
    python -m reverie.town build the_ville -o maze.pickle      # pickled Maze
    python -m reverie.town art the_ville [-o DIR]      # map.json + tileset.png (default: the town's folder)
    python -m reverie.town sprites "Isabella Rodriguez" -o DIR   # sprite sheet + portrait PNGs

A town is a name under static_dirs/towns/, a town folder, or a path to its town.yaml.
Exit status 1 and the list of problems when the spec is invalid.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

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
    parser = argparse.ArgumentParser(prog="python -m reverie.town", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("check", "show", "tree", "build", "art"):
        cmd = sub.add_parser(name)
        cmd.add_argument("town", help="town name under static_dirs/towns/, a folder, or a town.yaml path")
        if name == "show":
            cmd.add_argument("--region", nargs=4, type=int, metavar=("X", "Y", "W", "H"))
        if name == "build":
            cmd.add_argument("-o", "--output", required=True, help="where to write the pickled Maze")
        if name == "art":
            cmd.add_argument("-o", "--output", help="folder for map.json and tileset.png (default: the town's folder)")
            cmd.add_argument("--preview", metavar="PNG", help="also draw the whole map into this PNG file")
    cmd = sub.add_parser("sprites", help="draw characters' sprite sheets and portraits")
    cmd.add_argument("names", nargs="+", metavar="NAME", help="character names, e.g. 'Isabella Rodriguez'")
    cmd.add_argument("-o", "--output", required=True, help="folder to write <name>.sheet.png and <name>.portrait.png")
    args = parser.parse_args(argv)
    if args.command == "sprites":
        return write_sprites(args.names, Path(args.output))
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
    elif args.command == "art":
        return write_art(maze, args.town, args.output, args.preview)
    return 0


def write_art(maze: Maze, town: str, output: str | None, preview: str | None) -> int:
    # imported here so the other commands do not pay for Pillow
    from .art import build_town_art, render_map, town_folder

    started = time.perf_counter()
    art = build_town_art(maze)
    map_path, tileset_path = art.write(Path(output) if output else town_folder(town))
    seconds = time.perf_counter() - started
    image = art.tileset.image
    print(
        f"wrote {map_path} ({map_path.stat().st_size} bytes; {maze.width} x {maze.height} tiles of "
        f"{maze.tile_size} px; layers {', '.join(layer['name'] for layer in art.map_data['layers'])})"
    )
    size = f"{image.width} x {image.height} px, {art.tileset.tilecount} tiles"
    print(f"wrote {tileset_path} ({tileset_path.stat().st_size} bytes; {size})")
    print(f"generated in {seconds * 1000:.0f} ms")
    if preview:
        render_map(art.map_data, image).convert("RGB").save(preview)
        print(f"wrote {preview} (preview of the whole map)")
    return 0


def sprite_file_stem(name: str) -> str:
    """A safe file name for a character: letters, digits, '-' and '_' only, never a path.

    Spaces become '_'; when anything else had to go (or nothing is left), a short hash of
    the name keeps two such names from writing the same file.
    """
    stem = re.sub(r"[^\w-]+", "_", name.replace(" ", "_"), flags=re.ASCII).strip("_")
    if stem != name.replace(" ", "_") or not stem:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = f"{stem or 'character'}-{digest}"
    return stem


def write_sprites(names: list[str], folder: Path) -> int:
    from .art import portrait_png, sprite_sheet_png

    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        stem = sprite_file_stem(name)
        for suffix, data in ((".sheet.png", sprite_sheet_png(name)), (".portrait.png", portrait_png(name))):
            path = folder / (stem + suffix)
            path.write_bytes(data)
            print(f"wrote {path} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
