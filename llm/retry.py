"""Retries per fault kind: exponential backoff with full jitter, bounded by attempts and a deadline.

Each kind of fault (see `llm.errors.FAULT_KINDS`) has its own attempt count, so a
burst of mixed faults (a 500, a 500, a dropped connection) is judged kind by kind
instead of by whichever fault happened last. Every failed attempt is reported to
`on_fault`, so the gateway can put it on the call's trace.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from llm.errors import LLMRateLimited, LLMTimeout, LLMUnavailable, RetryableError

T = TypeVar("T")


def _default_attempts() -> dict[str, int]:
    return {
        # Nothing listening rarely heals in seconds: say so quickly (the run loop then
        # waits for the server, or stops at once when it was never reached).
        "refused": 3,
        "dropped": 6,
        # Each timed-out attempt already cost LLM_TIMEOUT seconds.
        "timeout": 3,
        "rate_limited": 8,
        "server_error": 6,
        "bad_response": 4,
    }


@dataclass(frozen=True)
class RetryPolicy:
    attempts: dict[str, int] = field(default_factory=_default_attempts)
    base_delay: float = 0.5
    max_delay: float = 30.0

    def limit(self, kind: str) -> int:
        return max(1, self.attempts.get(kind, 6))

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_delay)
        return random.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


@dataclass(frozen=True)
class Fault:
    """One failed attempt of a call: its kind, the error, and the wait before the next
    attempt (None when it was the last)."""

    kind: str
    error: str
    wait: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "error": self.error[:300],
            "wait": None if self.wait is None else round(self.wait, 3),
        }


def with_retries(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    deadline: float,
    describe: str,
    sleep: Callable[[float], None] = time.sleep,
    on_fault: Callable[[Fault], None] | None = None,
) -> T:
    """Call `fn`, retrying RetryableError until it succeeds, that kind's attempts run
    out, or the deadline passes; then raise LLMUnavailable (or a subclass) naming what
    happened."""
    counts: dict[str, int] = {}
    while True:
        try:
            return fn()
        except RetryableError as exc:
            counts[exc.kind] = counts.get(exc.kind, 0) + 1
            tries = counts[exc.kind]
            wait = policy.delay(tries - 1, exc.retry_after)
            last = tries >= policy.limit(exc.kind) or time.monotonic() + wait > deadline
            if on_fault is not None:
                on_fault(Fault(exc.kind, str(exc), None if last else wait))
            if last:
                raise _give_up(exc, counts, describe) from None
            sleep(wait)


def _give_up(exc: RetryableError, counts: dict[str, int], describe: str) -> LLMUnavailable:
    total = sum(counts.values())
    others = ", ".join(f"{n} {k}" for k, n in counts.items() if k != exc.kind)
    tally = f"gave up after {counts[exc.kind]} {exc.kind} of {total} attempts" + (f"; also {others}" if others else "")
    message = f"{describe}: {exc} ({tally})"
    if exc.kind == "rate_limited":
        return LLMRateLimited(f"{message}; lower LLM_CONCURRENCY or raise the server's limits", faults=counts)
    if exc.kind == "timeout":
        return LLMTimeout(message, faults=counts)
    return LLMUnavailable(message, kind=exc.kind, faults=counts)
