"""Show model-call accounting per run and purpose, from the stored traces."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from environment.llmlog.selectors import faults_by_purpose, stats_by_run_and_purpose
from llm.errors import FAULT_KINDS
from llm.tracing import format_table, render_table


class Command(BaseCommand):
    help = (
        "Model calls, tokens, seconds, cache hits, repairs, fallbacks, retries and errors per run and purpose, "
        "then the failed attempts per kind of fault (refused, dropped, timeout, rate_limited, server_error, "
        "bad_response)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", help="only this run (e.g. sim:3)")
        parser.add_argument("--hours", type=float, help="only calls from the last N hours")
        parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")

    def handle(self, *args: Any, **opts: Any) -> None:
        since = timezone.now() - timedelta(hours=opts["hours"]) if opts["hours"] else None
        rows = stats_by_run_and_purpose(run=opts["run"], since=since)
        faults = faults_by_purpose(run=opts["run"], since=since)
        if opts["json"]:
            out = [{"run": r, "purpose": p, **vars(t), "faults": dict(faults.get((r, p), {}))} for r, p, t in rows]
            self.stdout.write(json.dumps(out, indent=2))
            return
        if not rows:
            self.stdout.write("no model calls recorded yet")
            return
        self.stdout.write(format_table(rows))
        if faults:
            self.stdout.write("\nfailed attempts by kind (retried, or the last one of a call that failed):")
            self.stdout.write(fault_table(faults))


def fault_table(faults: dict[tuple[str, str], Any]) -> str:
    kinds = [k for k in FAULT_KINDS if any(c.get(k) for c in faults.values())]
    header = ["run", "purpose", *kinds]
    body = [[run or "-", purpose, *(str(c.get(k, 0)) for k in kinds)] for (run, purpose), c in sorted(faults.items())]
    body.append(["TOTAL", "", *(str(sum(c.get(k, 0) for c in faults.values())) for k in kinds)])
    return render_table(header, body)
