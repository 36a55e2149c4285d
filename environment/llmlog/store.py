"""Django-backed trace recorder and response cache for the llm gateway."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from django.core.exceptions import SynchronousOnlyOperation
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from environment.llmlog.models import CachedResponse, LLMCall
from llm.tracing import Trace

log = logging.getLogger(__name__)


class DjangoRecorder:
    """Buffers traces and writes them in bulk (every `batch` traces or `interval` s).

    Writes happen in whichever thread records or flushes, so a simulation step that
    flushes inside its transaction commits its traces with it.
    """

    def __init__(self, *, batch: int = 50, interval: float = 2.0, retention_days: int = 30) -> None:
        self.batch = batch
        self.interval = interval
        self.retention_days = retention_days
        self._buffer: list[Trace] = []
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._pruned = False
        atexit.register(self._flush_at_exit)

    def record(self, trace: Trace) -> None:
        with self._lock:
            self._buffer.append(trace)
            due = len(self._buffer) >= self.batch or time.monotonic() - self._last_flush > self.interval
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._buffer = self._buffer, []
            self._last_flush = time.monotonic()
        if not pending:
            return
        try:
            LLMCall.objects.bulk_create([_row(t) for t in pending])
        except SynchronousOnlyOperation:
            # Called from an event loop thread: keep them for the next flush elsewhere.
            with self._lock:
                self._buffer[:0] = pending
            return
        if not self._pruned and self.retention_days > 0:
            self._pruned = True
            prune_traces(self.retention_days)

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        except Exception:  # the database may already be gone at interpreter exit
            log.debug("could not flush traces at exit", exc_info=True)
        finally:
            close_old_connections()


def _row(t: Trace) -> LLMCall:
    return LLMCall(
        created=datetime.fromtimestamp(t.created, tz=UTC),
        run=t.run[:200],
        step=t.step,
        item=t.item[:200],
        purpose=t.purpose[:100],
        kind=t.kind,
        model=t.model[:300],
        outcome=str(t.outcome),
        attempts=t.attempts,
        cached=t.cached,
        prompt_tokens=t.prompt_tokens,
        completion_tokens=t.completion_tokens,
        seconds=t.seconds,
        error=t.error,
        retries=min(t.retries, 32767),
        faults=list(t.faults),
        prompt=t.prompt,
        raw=list(t.raw),
        parsed=t.parsed,
    )


def prune_traces(retention_days: int) -> int:
    """Clear the text of traces older than the retention period; keep their accounting."""
    cutoff = timezone.now() - timedelta(days=retention_days)
    return (
        LLMCall.objects.filter(created__lt=cutoff)
        .exclude(prompt="", raw=[], parsed=None)
        .update(prompt="", raw=[], parsed=None)
    )


class DjangoCache:
    """The response cache in the project's database (shared by every worker)."""

    def get(self, key: str) -> str | None:
        row = CachedResponse.objects.filter(key=key).values_list("value", flat=True).first()
        return row

    def set(self, key: str, value: str) -> None:
        try:
            with transaction.atomic():
                CachedResponse.objects.update_or_create(key=key, defaults={"value": value})
        except IntegrityError:  # another worker stored the same answer first
            pass

    def get_many(self, keys: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for start in range(0, len(keys), 500):  # stay under SQLite's variable limit
            chunk = keys[start : start + 500]
            out.update(CachedResponse.objects.filter(key__in=chunk).values_list("key", "value"))
        return out

    def set_many(self, entries: dict[str, str]) -> None:
        CachedResponse.objects.bulk_create(
            [CachedResponse(key=k, value=v) for k, v in entries.items()], ignore_conflicts=True, batch_size=500
        )
