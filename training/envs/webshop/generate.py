"""Rewrite the shipped catalogue and sample tasks from the generators.

python -m training.envs.webshop.generate          # writes training/envs/data/webshop_*
python -m training.envs.webshop.generate --check  # exit 1 if the shipped files differ
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training.envs.webshop.catalogue import CATALOGUE_PATH, catalogue_json, generate_catalogue
from training.envs.webshop.tasks import SAMPLE_PATH, generate_tasks, tasks_jsonl


def generated_files() -> dict[Path, str]:
    """Each shipped file and the text the generators produce for it."""
    products = generate_catalogue()
    return {CATALOGUE_PATH: catalogue_json(products), SAMPLE_PATH: tasks_jsonl(generate_tasks(products))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only compare with the shipped files")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated_files().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if args.check and stale:
        print("out of date: " + ", ".join(str(p) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
