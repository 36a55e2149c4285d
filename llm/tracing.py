"""Traces of model calls, and the accounting built from them.

Each gateway call produces one `Trace`: purpose, the run/step/item it belongs to,
prompt, raw answers (repairs included), parsed result, outcome, tokens and seconds.
A `Recorder` stores them (the Django one writes them to the database); `Accounting`
keeps per run and purpose totals in memory.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from llm.types import Outcome

log = logging.getLogger(__name__)


@dataclass
class Trace:
    purpose: str
    kind: str  # complete | chat | structured | embed
    model: str
    run: str = ""
    step: int | None = None
    item: str = ""
    prompt: str = ""  # the prompt, or the messages as JSON
    raw: list[str] = field(default_factory=list)
    parsed: Any = None
    outcome: Outcome = Outcome.OK
    attempts: int = 1
    error: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # time inside the backend (waiting for a free slot not included)
    cached: bool = False
    created: float = field(default_factory=time.time)
    # Failed attempts of this call, retried or not: [{"kind", "error", "wait"}], where
    # wait is the pause before the next attempt (None for the attempt that gave up).
    faults: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0


class Recorder(Protocol):
    def record(self, trace: Trace) -> None: ...

    def flush(self) -> None: ...


class NullRecorder:
    def record(self, trace: Trace) -> None:
        pass

    def flush(self) -> None:
        pass


class MemoryRecorder:
    def __init__(self) -> None:
        self.traces: list[Trace] = []
        self._lock = threading.Lock()

    def record(self, trace: Trace) -> None:
        with self._lock:
            self.traces.append(trace)

    def flush(self) -> None:
        pass


TraceListener = Callable[[Trace], None]

# Who hears of each finished call in this context (a runner showing a step's progress).
# A context variable, so it follows the call into the gateway's worker threads and tasks.
_listener: ContextVar[TraceListener | None] = ContextVar("llm_trace_listener", default=None)


@contextmanager
def trace_listener(listener: TraceListener) -> Iterator[None]:
    """Call `listener(trace)` after every model call finished inside the block (cache
    hits and errors too), in whichever thread finished it. It must be quick."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def notify(trace: Trace) -> None:
    """Tell the context's listener of a finished call; a failing listener is only logged."""
    listener = _listener.get()
    if listener is None:
        return
    try:
        listener(trace)
    except Exception:
        log.warning("a trace listener failed", exc_info=True)


@dataclass
class Totals:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # time inside the backend (waiting for a free slot not included)
    cache_hits: int = 0
    repairs: int = 0
    fallbacks: int = 0
    errors: int = 0
    retries: int = 0

    def add(self, trace: Trace) -> None:
        self.calls += 1
        self.retries += trace.retries
        self.prompt_tokens += trace.prompt_tokens
        self.completion_tokens += trace.completion_tokens
        self.seconds += trace.seconds
        self.cache_hits += int(trace.cached)
        self.repairs += int(trace.outcome == Outcome.REPAIRED)
        self.fallbacks += int(trace.outcome == Outcome.FALLBACK)
        self.errors += int(trace.outcome == Outcome.ERROR)


class Accounting:
    """Thread-safe totals per (run, purpose)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], Totals] = {}
        self._lock = threading.Lock()

    def add(self, trace: Trace) -> None:
        with self._lock:
            self._rows.setdefault((trace.run, trace.purpose), Totals()).add(trace)

    def rows(self, run: str | None = None) -> dict[tuple[str, str], Totals]:
        with self._lock:
            return {k: Totals(**vars(v)) for k, v in self._rows.items() if run is None or k[0] == run}

    def total(self, run: str | None = None) -> Totals:
        out = Totals()
        for row in self.rows(run).values():
            for name, value in vars(row).items():
                setattr(out, name, getattr(out, name) + value)
        return out


COLUMNS = (
    "calls",
    "prompt_tokens",
    "completion_tokens",
    "seconds",
    "cache_hits",
    "repairs",
    "fallbacks",
    "retries",
    "errors",
)


def format_table(rows: Iterable[tuple[str, str, Totals]]) -> str:
    """A fixed-width table of (run, purpose, totals) rows with a total line."""
    rows = list(rows)
    header = (
        "run",
        "purpose",
        "calls",
        "prompt tok",
        "compl tok",
        "seconds",
        "cache",
        "repairs",
        "fallbacks",
        "retries",
        "errors",
    )
    body: list[tuple[str, ...]] = []
    grand = Totals()
    for run, purpose, t in rows:
        body.append(_cells(run or "-", purpose, t))
        for name in COLUMNS:
            setattr(grand, name, getattr(grand, name) + getattr(t, name))
    body.append(_cells("TOTAL", "", grand))
    return render_table(header, body)


def render_table(header: Sequence[str], body: Iterable[Sequence[str]]) -> str:
    """Fixed-width columns: the first two (run, purpose) left-aligned, numbers right-aligned."""
    rows = [tuple(header), *(tuple(r) for r in body)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _cells(run: str, purpose: str, t: Totals) -> tuple[str, ...]:
    return (
        run,
        purpose,
        str(t.calls),
        str(t.prompt_tokens),
        str(t.completion_tokens),
        f"{t.seconds:.2f}",
        str(t.cache_hits),
        str(t.repairs),
        str(t.fallbacks),
        str(t.retries),
        str(t.errors),
    )
