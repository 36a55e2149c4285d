"""The reflector's prompt, its answer and its gateway; environment calls with timeouts."""

from __future__ import annotations

import threading
import time

import pytest

from llm.errors import LLMError
from tests.training.retroformer.helpers import gateway, scripted, text_of
from tests.training.retroformer.toy_env import task
from training.retroformer.envcalls import TIMED_OUT, Call, EnvCalls
from training.retroformer.records import Step, Trial
from training.retroformer.reflector import EmptyReflection, clean_reflection, reflect, reflection_messages
from training.retroformer.settings import RetroSettings


def long_trial(steps: int = 40) -> Trial:
    return Trial(
        trial=1,
        steps=[Step(f"idea {i}", f"press red {i}", "x" * 200, "", False) for i in range(steps)],
        reward=0.25,
        reason="step cap",
    )


def test_the_reflector_sees_the_goal_the_latest_steps_and_the_outcome() -> None:
    settings = RetroSettings(reflector_context_chars=2_000)
    [message] = reflection_messages(task("toy-1"), "START", long_trial(), ["old plan"], settings=settings)
    text = message["content"]
    assert "The task: light the lamps of toy-1" in text
    assert "trial 2" in text and "step cap, after 40 steps, reward 0.25" in text
    assert "old plan" in text  # what earlier reflections concluded
    assert "press red 39" in text and "press red 0\n" not in text and "earlier steps left out" in text
    assert len(text) < 2_000 + 1_500  # the trajectory is bounded, whatever the trial's length
    assert "Diagnosis" in text and "Plan" in text
    plain = reflection_messages(task("toy-1"), "START", long_trial(1), [], settings=settings)[0]["content"]
    assert "earlier failed attempts" not in plain


def test_reflect_asks_the_reflector_gateway_and_cleans_the_answer() -> None:
    backend = scripted(lambda payload: '```\n"Diagnosis: pressed red.\n\n   Plan: try blue first."\n```')
    text = reflect(gateway(backend), task("toy-1"), long_trial(2), [], settings=RetroSettings(reflector_max_tokens=99))
    assert text == "Diagnosis: pressed red.\nPlan: try blue first."
    [call] = backend.calls
    assert call["params"].max_tokens == 99 and "press red 1" in text_of(call["payload"])
    with pytest.raises(EmptyReflection):
        reflect(gateway(scripted(lambda p: "   ")), task("toy-1"), long_trial(2), [], settings=RetroSettings())
    assert issubclass(EmptyReflection, LLMError)
    assert len(clean_reflection("word " * 2_000)) <= 2_000


def test_env_calls_run_together_and_a_hung_one_is_abandoned() -> None:
    release = threading.Event()
    late: list[object] = []

    def slow(value: str) -> str:
        time.sleep(0.5)
        return value

    calls = [
        Call(fn=lambda: slow("a"), timeout=5),
        Call(fn=lambda: slow("b"), timeout=5),
        Call(fn=lambda: release.wait(10) and "hung", timeout=0.3, late=late.append),
        Call(fn=lambda: 1 / 0, timeout=5),
    ]
    started = time.monotonic()
    results = EnvCalls(workers=4).run(calls)
    assert time.monotonic() - started < 1.0  # together, not 0.5 + 0.5 + 0.3
    assert results[:3] == ["a", "b", TIMED_OUT] and isinstance(results[3], ZeroDivisionError)
    release.set()
    for _ in range(100):
        if late:
            break
        time.sleep(0.01)
    assert late == ["hung"]  # the abandoned call's value reached its cleanup


def test_env_calls_respect_the_worker_limit() -> None:
    running, peak = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    EnvCalls(workers=2).run([Call(fn=work, timeout=5) for _ in range(6)])
    assert peak == 2
