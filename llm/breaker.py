"""A circuit breaker over the gateway's attempts: is the model server down, or just flaky?

Per-call retries absorb a flaky server. A run loop (Smallville's steps, the writer's
paragraphs, an eval's items) also needs to know when the server is *down*, so it
can stop spending steps and wait. The breaker opens when:

- most attempts (`ratio`, default 80%) have kept failing for `window` seconds
  (LLM_OUTAGE_SECONDS, default 60), with at least `min_failures` of them; or
- a connection was refused after the server had answered before: it went away.

`reset()` closes it again (after a probe got an answer); so does a success.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self,
        *,
        window: float = 60.0,
        ratio: float = 0.8,
        min_failures: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.ratio = ratio
        self.min_failures = min_failures
        self.clock = clock
        self.reached = False  # the server answered at least once (any HTTP answer counts)
        self._events: deque[tuple[float, bool]] = deque()
        self._failures = 0  # failed events in _events, kept as they come and go
        self._failing_since: float | None = None
        self._went_away = False
        self._last_fault = ""
        self._lock = threading.Lock()

    def record_success(self) -> None:
        with self._lock:
            self.reached = True
            self._went_away = False
            self._add(True)

    def record_fault(self, kind: str, error: str = "") -> None:
        with self._lock:
            if kind == "refused":
                self._went_away = self._went_away or self.reached
            else:
                self.reached = True  # it answered, if badly
            self._last_fault = error or kind
            self._add(False)

    def _add(self, ok: bool) -> None:
        now = self.clock()
        self._events.append((now, ok))
        self._failures += not ok
        # A running count, not a scan: a busy run keeps thousands of attempts in the window.
        while self._events and self._events[0][0] < now - self.window:
            self._failures -= not self._events.popleft()[1]
        failures = self._failures
        if failures < self.min_failures or failures < self.ratio * len(self._events):
            self._failing_since = None
        elif self._failing_since is None:
            self._failing_since = self._events[0][0]  # failing since the window began

    @property
    def is_open(self) -> bool:
        with self._lock:
            if self._went_away:
                return True
            return self._failing_since is not None and self.clock() - self._failing_since >= self.window

    @property
    def reason(self) -> str:
        with self._lock:
            if self._went_away:
                return f"the server stopped accepting connections ({self._last_fault})"
            return f"most calls failed for {self.window:.0f}s (last: {self._last_fault})"

    def reset(self) -> None:
        with self._lock:
            self._events.clear()
            self._failures = 0
            self._failing_since = None
            self._went_away = False
