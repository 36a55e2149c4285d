"""`python manage.py compress_sim <sim>`: write the demo page's compressed form.

    python manage.py compress_sim bench-demo-day

writes storage/compressed/<pk>.json.gz (see docs/frontend_api.md, "Compressed demo
form") and says how big it is. Run it again after more steps to refresh the file.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reverie import compress
from reverie.models import Simulation

BAR_FROM_STEPS = 2000  # smaller simulations compress in well under a second


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


class Command(BaseCommand):
    help = "Write a simulation's compressed replay (storage/compressed/<id>.json.gz) for the demo page."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sim", help="the simulation's name")

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["sim"]
        sim = Simulation.objects.filter(name=name).first()
        if sim is None:
            names = list(Simulation.objects.values_list("name", flat=True)[:11])
            known = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "") if names else "none yet"
            raise CommandError(f"no simulation named {name!r}; simulations: {known}")
        started = time.perf_counter()
        bar = None
        if sim.step >= BAR_FROM_STEPS and options.get("verbosity", 1) > 0 and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(total=sim.step, unit="step", file=sys.stderr, mininterval=0.5, leave=False)

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.total = total
                bar.update(done - bar.n)

        try:
            written = compress.write_demo(sim, progress=progress)
        except compress.NothingToCompress as exc:
            raise CommandError(str(exc)) from None
        finally:
            if bar is not None:
                bar.close()
        seconds = time.perf_counter() - started
        try:
            shown = written.path.relative_to(settings.BASE_DIR)
        except ValueError:
            shown = written.path
        last = written.first_step + written.steps - 1
        ratio = written.raw_bytes / max(1, written.gz_bytes)
        self.stdout.write(
            f"wrote {shown}\n"
            f"  simulation {sim.name}: steps {written.first_step}..{last} ({written.steps} steps), "
            f"{written.agents} agents\n"
            f"  size       {_size(written.raw_bytes)} JSON -> {_size(written.gz_bytes)} gzip ({ratio:.1f}x)\n"
            f"  time       {seconds:.2f} s"
        )
