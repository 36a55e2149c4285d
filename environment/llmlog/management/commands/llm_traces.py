"""List stored model-call traces, or prune old trace text."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from environment.llmlog.selectors import traces
from environment.llmlog.store import prune_traces


class Command(BaseCommand):
    help = "Show recent model-call traces (filter by run, step, item, purpose, outcome), or --prune old ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run")
        parser.add_argument("--step", type=int)
        parser.add_argument("--item")
        parser.add_argument("--purpose", help="a purpose or its prefix, e.g. plan.")
        parser.add_argument("--outcome", choices=["ok", "first_try", "repaired", "fallback", "error"])
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--full", action="store_true", help="print prompts and raw answers too")
        parser.add_argument(
            "--prune", action="store_true", help="clear prompt/answer text older than LLM_TRACE_RETENTION_DAYS"
        )

    def handle(self, *args: Any, **o: Any) -> None:
        if o["prune"]:
            n = prune_traces(settings.LLM_TRACE_RETENTION_DAYS)
            self.stdout.write(f"pruned the text of {n} traces older than {settings.LLM_TRACE_RETENTION_DAYS} days")
            return
        qs = traces(run=o["run"], step=o["step"], item=o["item"], purpose=o["purpose"], outcome=o["outcome"])
        for t in qs[: o["limit"]]:
            where = ":".join(str(x) for x in (t.run, t.step, t.item) if x not in ("", None)) or "-"
            self.stdout.write(
                f"{t.created:%Y-%m-%d %H:%M:%S} {t.purpose} [{t.outcome}{', cached' if t.cached else ''}] "
                f"{where} {t.prompt_tokens}+{t.completion_tokens} tok {t.seconds:.2f}s"
                + (f" {t.retries} retries" if t.retries else "")
            )
            for fault in t.faults or []:
                wait = fault.get("wait")
                then = f"retried after {wait:.2f}s" if wait is not None else "gave up"
                self.stdout.write(f"  fault: {fault.get('kind')}: {fault.get('error', '')} ({then})")
            if o["full"]:
                self.stdout.write("  prompt: " + t.prompt.replace("\n", "\n          "))
                for raw in t.raw:
                    self.stdout.write("  answer: " + str(raw).replace("\n", "\n          "))
                if t.parsed is not None:
                    self.stdout.write("  parsed: " + json.dumps(t.parsed, ensure_ascii=False))
                if t.error:
                    self.stdout.write("  error: " + t.error)
