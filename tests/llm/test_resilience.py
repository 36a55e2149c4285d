"""The circuit breaker and the run guard: faults cost time, never a run (no model, no database)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from llm.breaker import CircuitBreaker
from llm.errors import LLMConfigError, LLMOutage, LLMUnavailable, RetryableError
from llm.gateway import Gateway
from llm.resilience import GuardEvent, RunGuard, RunStopped
from llm.retry import RetryPolicy
from tests.llm.fakes import ScriptedBackend


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_only_after_most_calls_failed_for_the_whole_window():
    clock = Clock()
    breaker = CircuitBreaker(window=60, clock=clock)
    for second in range(0, 59, 5):
        clock.now = second
        breaker.record_fault("server_error", "500")
    assert not breaker.is_open  # failing, but not yet for 60 s
    clock.now = 61
    breaker.record_fault("server_error", "500")
    assert breaker.is_open and "most calls failed for 60s" in breaker.reason
    breaker.reset()
    assert not breaker.is_open


def test_breaker_stays_closed_while_enough_calls_succeed():
    clock = Clock()
    breaker = CircuitBreaker(window=60, clock=clock)
    for second in range(0, 200):
        clock.now = second
        if second % 2:
            breaker.record_success()
        else:
            breaker.record_fault("server_error")
    assert not breaker.is_open  # 50% failures is a flaky server, not a dead one


def test_breaker_forgets_failures_that_left_the_window():
    """It keeps a running count of the window's failures: the ones that age out of the
    window, or are reset, must stop counting."""
    clock = Clock()
    breaker = CircuitBreaker(window=60, clock=clock)
    for second in range(10):
        clock.now = second
        breaker.record_fault("server_error")
    clock.now = 100
    breaker.record_success()  # the early failures are out of the window now
    for second in (101, 102, 170):
        clock.now = second
        breaker.record_fault("server_error")
    assert not breaker.is_open  # one or two failures in any window: fewer than min_failures
    breaker.reset()
    for second in (171, 172):
        clock.now = second
        breaker.record_fault("server_error")
    clock.now = 232
    breaker.record_fault("server_error")
    assert not breaker.is_open  # two failures in the window since 172: the reset forgot the rest


def test_breaker_opens_at_once_when_a_server_that_answered_refuses_connections():
    breaker = CircuitBreaker(window=60)
    breaker.record_fault("refused")
    assert not breaker.is_open and not breaker.reached  # never reached: a configuration problem
    breaker.record_success()
    breaker.record_fault("refused", "nothing is listening")
    assert breaker.is_open and "stopped accepting connections" in breaker.reason


def gateway(script: list) -> Gateway:
    gw = Gateway(ScriptedBackend(script), retry=RetryPolicy(base_delay=0.0, max_delay=0.0))
    return gw


def refused() -> RetryableError:
    return RetryableError("nothing is listening", kind="refused")


def test_guard_reruns_a_failed_unit_after_rolling_it_back():
    gw = gateway([RetryableError("500", kind="server_error")] * 6 + ["ok"])
    events: list[GuardEvent] = []
    rolled = []
    guard = RunGuard(gw, on_event=events.append, sleep=lambda s: None)
    assert guard.run(lambda: gw.complete("x", purpose="p").text, rollback=lambda: rolled.append(1)) == "ok"
    assert rolled == [1] and [e.kind for e in events] == ["unit_failed"]


def test_guard_stops_a_unit_that_keeps_failing_without_an_outage():
    gw = gateway([])
    calls = []

    def unit() -> None:
        calls.append(1)
        raise LLMUnavailable("engine error", kind="server_error")

    guard = RunGuard(gw, unit_retries=2, sleep=lambda s: None)
    with pytest.raises(LLMUnavailable, match="step failed 3 times in a row; last: engine error"):
        guard.run(unit)
    assert len(calls) == 3


def test_guard_waits_out_an_outage_and_resumes_when_the_server_answers():
    gw = gateway(["first", refused(), refused(), refused(), "after"])
    gw.complete("warm up", purpose="p")  # the server answered once
    probes = iter([refused(), refused(), None])

    def probe(timeout: float) -> None:
        result = next(probes)
        if result is not None:
            raise result

    gw.backend.probe = probe  # type: ignore[method-assign]
    events: list[GuardEvent] = []
    guard = RunGuard(gw, on_event=events.append, sleep=lambda s: None)
    assert guard.run(lambda: gw.complete("x", purpose="p", cache=False).text) == "after"
    assert [e.kind for e in events] == ["waiting", "resumed"]
    assert "stopped accepting connections" in events[0].message and guard.waits == 1
    assert not gw.breaker.is_open


def test_guard_with_stop_on_outage_stops_with_one_line():
    gw = gateway(["first", refused(), refused(), refused()])
    gw.complete("warm up", purpose="p")
    guard = RunGuard(gw, stop_on_outage=True, sleep=lambda s: None)
    with pytest.raises(LLMOutage) as err:
        guard.run(lambda: gw.complete("x", purpose="p", cache=False))
    assert "--stop-on-outage" in str(err.value) and "\n" not in str(err.value)


def test_guard_raises_at_once_when_nothing_ever_answered():
    gw = gateway([refused()] * 3)
    slept: list[float] = []
    guard = RunGuard(gw, sleep=slept.append)
    with pytest.raises(LLMUnavailable, match="nothing is listening"):
        guard.run(lambda: gw.complete("x", purpose="p"))
    assert slept == []  # a wrong URL is said at once, not waited for


def test_guard_raises_config_errors_at_once():
    gw = gateway([LLMConfigError("rejected the API key: set LLM_API_KEY")])
    guard = RunGuard(gw, sleep=lambda s: None)
    with pytest.raises(LLMConfigError):
        guard.run(lambda: gw.complete("x", purpose="p"))


def test_guard_stops_waiting_when_told_to():
    gw = gateway(["first", refused(), refused(), refused()])
    gw.complete("warm up", purpose="p")
    gw.backend.probe = lambda timeout: (_ for _ in ()).throw(refused())  # type: ignore[method-assign]
    asked = iter([False, False, True])
    guard = RunGuard(gw, should_stop=lambda: next(asked), sleep=lambda s: None)
    with pytest.raises(RunStopped):
        guard.run(lambda: gw.complete("x", purpose="p", cache=False))


class RemoteEmbedder:
    """An embeddings server that answers, then goes away, then comes back."""

    model_id, dim, remote = "remote-embed", 2, True

    def __init__(self, script: list) -> None:
        self.script = script

    def encode(self, texts: list[str], *, timeout: float) -> Any:
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)


def test_an_embeddings_server_going_away_is_an_outage_too():
    gw = Gateway(
        ScriptedBackend([]),
        embedder=RemoteEmbedder(["ok", refused(), refused(), refused(), "ok"]),
        retry=RetryPolicy(base_delay=0.0, max_delay=0.0),
    )
    gw.embed(["first"])
    events: list[GuardEvent] = []
    guard = RunGuard(gw, on_event=events.append, sleep=lambda s: None)
    vectors = guard.run(lambda: gw.embed(["second"]))
    assert vectors.shape == (1, 2) and [e.kind for e in events] == ["waiting", "resumed"]


def test_an_in_process_embedder_does_not_count_as_reaching_the_server():
    from tests.llm.fakes import FakeEmbedder

    no_wait = RetryPolicy(base_delay=0.0, max_delay=0.0)
    gw = Gateway(ScriptedBackend([refused()] * 3), embedder=FakeEmbedder(), retry=no_wait)
    gw.embed(["local"])
    guard = RunGuard(gw, sleep=lambda s: None)
    with pytest.raises(LLMUnavailable, match="nothing is listening"):
        guard.run(lambda: gw.complete("x", purpose="p"))
