"""Exponential backoff with full jitter, bounded by attempts and by a deadline."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from llm.errors import LLMRateLimited, LLMUnavailable, RetryableError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    # A refused connection rarely heals in seconds: give up sooner so a wrong
    # LLM_BASE_URL is reported quickly.
    max_connection_attempts: int = 3

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_delay)
        return random.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


def with_retries(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    deadline: float,
    describe: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fn`, retrying RetryableError until it succeeds, attempts run out or the deadline passes."""
    attempt = 0
    while True:
        try:
            return fn()
        except RetryableError as exc:
            attempt += 1
            limit = policy.max_connection_attempts if exc.kind == "connection" else policy.max_attempts
            wait = policy.delay(attempt - 1, exc.retry_after)
            if attempt >= limit or time.monotonic() + wait > deadline:
                if exc.kind == "rate_limit":
                    raise LLMRateLimited(
                        f"{describe}: still rate limited after {attempt} attempts ({exc}); "
                        "lower LLM_CONCURRENCY or raise the server's limits"
                    ) from None
                raise LLMUnavailable(f"{describe}: {exc} (gave up after {attempt} attempts)") from None
            sleep(wait)
