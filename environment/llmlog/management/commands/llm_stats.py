"""Show model-call accounting per run and purpose, from the stored traces."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from environment.llmlog.selectors import stats_by_run_and_purpose
from llm.tracing import format_table


class Command(BaseCommand):
    help = "Model calls, tokens, seconds, cache hits, repairs and fallbacks per run and purpose."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", help="only this run (e.g. sim:3)")
        parser.add_argument("--hours", type=float, help="only calls from the last N hours")
        parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")

    def handle(self, *args: Any, **opts: Any) -> None:
        since = timezone.now() - timedelta(hours=opts["hours"]) if opts["hours"] else None
        rows = stats_by_run_and_purpose(run=opts["run"], since=since)
        if opts["json"]:
            self.stdout.write(json.dumps([{"run": r, "purpose": p, **vars(t)} for r, p, t in rows], indent=2))
            return
        if not rows:
            self.stdout.write("no model calls recorded yet")
            return
        self.stdout.write(format_table(rows))
