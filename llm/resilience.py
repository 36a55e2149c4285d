"""Run loops that outlive a misbehaving model server: faults cost time, never a run.

Every long run (a Smallville simulation, a RecurrentGPT book, an eval) advances in
units of work that are committed whole: a step, a paragraph, an item. `RunGuard`
runs one unit:

- a call that still fails after the gateway's retries (`LLMUnavailable`) fails the
  unit; the caller's `rollback` throws away what the unit changed in memory (the
  database was never touched: units commit at their end) and the unit runs again
  after a backoff, up to `unit_retries` times in a row;
- when the gateway's circuit breaker says the server is down (most calls failing
  for LLM_OUTAGE_SECONDS, or connections refused after it had answered), the run
  goes to "waiting for the model server": it probes the server with backoff and
  resumes by itself once it answers. `on_event` hears "waiting" and "resumed" so a
  CLI can print a line and a page can show the state. With `stop_on_outage` it
  raises `LLMOutage` instead, for unattended scripts;
- a wrong configuration still stops at once: `LLMConfigError` (rejected key,
  unknown model) and a refused connection before the server ever answered (nothing
  listening at LLM_BASE_URL) are raised unchanged.

Fallbacks stay where they belong, in the gateway, for answers that fail validation.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from llm.errors import LLMConfigError, LLMError, LLMOutage, LLMUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


class RunStopped(Exception):
    """`should_stop` said to stop while waiting (the run was paused)."""


@dataclass(frozen=True)
class GuardEvent:
    kind: str  # "unit_failed" | "waiting" | "resumed"
    message: str
    since: float = 0.0  # time.time() when the failures or the wait began
    seconds: float = 0.0  # how long the wait lasted ("resumed")


@dataclass
class RunGuard:
    gateway: Any
    stop_on_outage: bool = False
    unit_retries: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    probe_timeout: float = 10.0
    on_event: Callable[[GuardEvent], None] | None = None
    should_stop: Callable[[], bool] | None = None
    sleep: Callable[[float], None] = time.sleep
    waits: int = 0  # outages waited out (for summaries and tests)

    def run(self, unit: Callable[[], T], *, rollback: Callable[[], None] | None = None, what: str = "step") -> T:
        failures = 0
        while True:
            try:
                return unit()
            except LLMConfigError:
                raise
            except LLMUnavailable as exc:
                if exc.kind == "refused" and not self.gateway.breaker.reached:
                    raise  # nothing ever answered: a wrong URL or a server not started
                if rollback is not None:
                    rollback()
                if self.gateway.breaker.is_open:
                    self._wait_for_server(exc)
                    failures = 0
                    continue
                failures += 1
                if failures > self.unit_retries:
                    raise LLMUnavailable(
                        f"{what} failed {failures} times in a row; last: {exc}", kind=exc.kind, faults=exc.faults
                    ) from None
                delay = random.uniform(0.5, 1.0) * min(self.max_delay, self.base_delay * 2 ** (failures - 1))
                self._emit(GuardEvent("unit_failed", f"{what} failed ({exc}); trying it again in {delay:.1f}s"))
                self.sleep(delay)

    def _wait_for_server(self, exc: LLMUnavailable) -> None:
        reason = self.gateway.breaker.reason
        if self.stop_on_outage:
            raise LLMOutage(
                f"the model server is down: {reason}; stopping (--stop-on-outage); finished work is saved",
                kind=exc.kind,
                faults=exc.faults,
            ) from None
        began, began_wall = time.monotonic(), time.time()
        self.waits += 1
        self._emit(GuardEvent("waiting", f"waiting for the model server: {reason}", since=began_wall))
        attempt = 0
        while True:
            if self.should_stop is not None and self.should_stop():
                raise RunStopped("stopped while waiting for the model server")
            delay = random.uniform(0.5, 1.0) * min(self.max_delay, self.base_delay * 2**attempt)
            self.sleep(delay)
            attempt += 1
            try:
                self.gateway.probe(timeout=self.probe_timeout)
            except LLMConfigError:
                raise
            except LLMError as probe_error:
                log.info("model server probe %d failed: %s", attempt, probe_error)
                continue
            break
        self.gateway.breaker.reset()
        seconds = time.monotonic() - began
        self._emit(GuardEvent("resumed", f"the model server answers again after {seconds:.1f}s", began_wall, seconds))

    def _emit(self, event: GuardEvent) -> None:
        if self.on_event is None:
            log.warning(event.message)  # a worker's log is where people will look
            return
        log.info(event.message)
        self.on_event(event)
