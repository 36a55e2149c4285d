"""`python manage.py check_base <folder-or-name>`: validate a base simulation.

    python manage.py check_base base_the_ville_zh_3          # a base in storage/base
    python manage.py check_base path/to/my_base              # any folder

Prints each problem as `file:line: message` (warnings say so) and exits 1 when there
is an error. The checks are in reverie/base_check.py; the format in docs/base_simulations.md.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reverie.base_check import check_base


class Command(BaseCommand):
    help = "Check a base simulation folder (meta.yaml and personas.yaml); problems are printed as file:line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("base", help="a folder, or the name of a base in storage/base")

    def handle(self, *args: Any, **options: Any) -> None:
        given = str(options["base"])
        folder = Path(given)
        if not folder.is_dir():
            named = Path(settings.BASE_DIR) / "storage" / "base" / given
            if "/" in given or "\\" in given or given in (".", "..") or not named.is_dir():
                raise CommandError(f"no base folder {given!r} (neither a folder nor a base in storage/base)")
            folder = named
        problems = check_base(folder)
        out = options.get("stdout") or self.stdout
        for problem in problems:
            out.write(str(problem))
        errors = sum(p.level == "error" for p in problems)
        warnings = len(problems) - errors
        summary = f"{folder}: {errors} error(s), {warnings} warning(s)" if problems else f"{folder}: OK"
        out.write(summary)
        if errors:
            sys.exit(1)
