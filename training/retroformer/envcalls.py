"""Environment calls off the loop's thread: several at once, each bounded by a timeout.

ALFWorld steps are slow and a broken environment may hang, so the loop never calls an
environment on its own thread. `EnvCalls.run` plays a list of calls (start a task,
replay a trial, one step) on daemon threads, at most `workers` at a time, and returns
each one's value, its exception, or TIMED_OUT once it has run longer than its timeout
(measured from when it started, not while it queued).

A call that overran is abandoned, not killed (Python cannot stop a thread): it no
longer holds a worker slot, and when it does finish its `late` callback gets its value
(the loop closes the session it was using). Daemon threads never keep the process
alive at exit.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


class _TimedOut:
    def __repr__(self) -> str:
        return "TIMED_OUT"


TIMED_OUT: Any = _TimedOut()
_PENDING = object()


@dataclass(frozen=True)
class Call:
    fn: Callable[[], Any]
    timeout: float
    late: Callable[[Any], None] | None = None  # gets the value (or exception) of an abandoned call


class EnvCalls:
    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)

    def run(self, calls: Sequence[Call]) -> list[Any]:
        results: list[Any] = [_PENDING] * len(calls)
        cond = threading.Condition()
        started: dict[int, float] = {}
        running: set[int] = set()
        next_call = 0

        def work(i: int) -> None:
            try:
                value: Any = calls[i].fn()
            except Exception as exc:  # a broken environment: the loop records it
                value = exc
            with cond:
                abandoned = results[i] is TIMED_OUT
                if not abandoned:
                    results[i] = value
                cond.notify_all()
            late = calls[i].late
            if abandoned and late is not None:
                # Cleaning up after an abandoned call must not surface anywhere.
                with contextlib.suppress(Exception):
                    late(value)

        with cond:
            while True:
                now = time.monotonic()
                for i in list(running):
                    if results[i] is not _PENDING:
                        running.discard(i)
                    elif now - started[i] > calls[i].timeout:
                        results[i] = TIMED_OUT
                        running.discard(i)
                while len(running) < self.workers and next_call < len(calls):
                    i = next_call
                    next_call += 1
                    started[i] = time.monotonic()
                    running.add(i)
                    threading.Thread(target=work, args=(i,), daemon=True, name=f"env-call-{i}").start()
                if not running:
                    break
                deadline = min(started[i] + calls[i].timeout for i in running)
                cond.wait(timeout=max(0.0, deadline - time.monotonic()) + 0.001)
        return results


__all__ = ["TIMED_OUT", "Call", "EnvCalls"]
