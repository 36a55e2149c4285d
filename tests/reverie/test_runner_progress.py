"""A step visible while it runs (progress as model calls finish) and whispers planted
between steps, never during one."""

import itertools
import threading
import time

import pytest

from llm.tracing import Trace
from reverie import live, runner, services
from reverie import whisper as talk
from reverie.models import MemoryNode, Simulation, Whisper
from tests.reverie.test_runner import wait_for

BASE = "base_the_ville_isabella_maria_klaus"
MARIA = "Maria Lopez"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch):
    sent: list[tuple[float, dict]] = []
    lock = threading.Lock()

    def record(pk, progress):
        with lock:
            sent.append((time.monotonic(), dict(progress)))

    monkeypatch.setattr(live, "publish_progress", record)
    return sent


def test_a_step_tells_the_pages_who_thinks_about_what_as_calls_finish(scripted, published):
    sim = services.fork(BASE, "progress-1")
    scripted.backend.delay = 0.1  # the step takes a couple of seconds, like a slow one
    before = len(scripted.recorder.traces)
    runner.request(sim, "step")
    assert runner.wait_idle(sim, 60)
    step_traces = [t for t in scripted.recorder.traces[before:] if t.step == 0]
    assert step_traces, "the step made no model call"
    states = [p for _, p in published]
    assert states[0]["running"] is True and states[0]["step"] == 0 and states[0]["calls"] == 0
    during = [p for p in states if p["running"] and p["calls"]]
    assert during, states
    names = {p.name for p in sim.personas.all()}
    # Who is thinking: a persona, or nobody yet when the step's only calls so far are
    # the world's own (its names' embeddings, made at the first step).
    assert all(p["item"] in names or (p["item"] is None and p["purpose"] == "world.names") for p in during)
    assert any(p["item"] in names for p in during)
    assert all(p["purpose"] and "." in p["purpose"] for p in during)
    last = states[-1]
    assert last["running"] is False and last["step"] == 0
    assert last["calls"] == len(step_traces)  # every call of the step was counted
    assert last["tokens"] == sum(t.prompt_tokens + t.completion_tokens for t in step_traces)


def test_progress_is_throttled_and_counts_cached_calls():
    sent = []
    progress = runner.StepProgress(1, interval=0.2, publish=lambda pk, p: sent.append((time.monotonic(), p)))
    progress.begin(7)
    start = time.monotonic()
    for i in range(100):  # 100 calls over about a second
        progress.on_trace(Trace(purpose="plan.daily", kind="chat", model="m", item="Maria Lopez",
                                prompt_tokens=3, completion_tokens=2, cached=i % 4 == 0))  # fmt: skip
        time.sleep(0.01)
    progress.end()
    progress.close()
    took = time.monotonic() - start
    assert len(sent) <= took / 0.2 + 4, f"{len(sent)} messages in {took:.2f} s"
    final = sent[-1][1]
    assert final == {**final, "running": False, "step": 7, "calls": 100, "cached": 25, "tokens": 500,
                     "purpose": "plan.daily", "item": "Maria Lopez"}  # fmt: skip
    # Between the urgent ones (begin, end), messages keep the interval.
    middle = [t for t, p in sent if p["running"] and p["calls"]]
    gaps = [b - a for a, b in itertools.pairwise(middle)]
    assert all(g >= 0.15 for g in gaps), gaps


def test_a_step_begins_and_ends_on_the_pages_as_it_was_even_if_the_sender_runs_late(monkeypatch):
    """The sending thread may start after a fast step's first calls (or its end): the
    pages still get the step's beginning at 0 calls, then its end."""
    held: list[threading.Thread] = []
    start = threading.Thread.start

    class LateThread(threading.Thread):
        def start(self) -> None:
            held.append(self)  # started below, after the whole step

    monkeypatch.setattr(runner.threading, "Thread", LateThread)
    sent: list[dict] = []
    progress = runner.StepProgress(1, interval=0.05, publish=lambda pk, p: sent.append(p))
    progress.begin(3)
    for _ in range(4):
        progress.on_trace(Trace(purpose="plan.daily", kind="chat", model="m", item="Maria Lopez"))
    progress.end()
    assert held and sent == []
    start(held[0])
    progress.close()
    assert [(p["running"], p["calls"]) for p in sent] == [(True, 0), (False, 4)]
    assert sent[0]["step"] == sent[1]["step"] == 3


def test_a_whisper_while_paused_is_planted_at_once_and_traced(scripted):
    sim = services.fork(BASE, "whisper-now")
    Simulation.objects.filter(pk=sim.pk).update(step=4)
    sim.refresh_from_db()
    before = len(scripted.recorder.traces)
    row = talk.whisper(sim, MARIA, "  You secretly love jazz.  ", author="ann")
    assert row.status == "applied" and row.step == 4 and row.author == "ann"
    node = MemoryNode.objects.get(persona__simulation=sim, persona__name=MARIA, node_id=row.node_id)
    assert node.description == "You secretly love jazz." and node.step == 4 and node.kind == "thought"
    assert row.node_id in talk.whispered_ids(sim, MARIA)
    from environment.vectors.models import VectorItem

    owner = sim.personas.get(name=MARIA).vector_owner
    assert VectorItem.objects.filter(owner=owner, ref=str(row.node_id)).exists()  # with its embedding
    traces = scripted.recorder.traces[before:]
    assert {"whisper.poignancy", "whisper.embed"} <= {t.purpose for t in traces}
    assert all(t.run == sim.run_label and t.step == 4 and t.item == MARIA for t in traces)
    assert Simulation.objects.get(pk=sim.pk).runner == ""  # the lease was given back


def test_a_whisper_during_a_step_waits_for_the_step_to_commit(scripted, published):
    sim = services.fork(BASE, "whisper-later")
    scripted.backend.delay = 0.1  # a step takes a while
    runner.request(sim, "step")
    assert wait_for(lambda: any(p["running"] and p["calls"] for _, p in published))  # step 0 is thinking
    row = talk.whisper(Simulation.objects.get(pk=sim.pk), MARIA, "The bakery closes early today.")
    assert row.status == "queued" and row.node_id is None  # the runner holds the run
    assert not MemoryNode.objects.filter(description="The bakery closes early today.").exists()
    assert runner.wait_idle(sim, 60)
    row.refresh_from_db()
    sim.refresh_from_db()
    assert sim.step == 1
    assert row.status == "applied" and row.step == 1  # after step 0, not inside it
    node = MemoryNode.objects.get(persona__simulation=sim, description="The bakery closes early today.")
    assert node.step == 1 and node.node_id == row.node_id
    assert sim.runner == ""


def test_a_whisper_queued_before_a_restart_is_planted_before_the_next_step(scripted):
    sim = services.fork(BASE, "whisper-restart")
    row = Whisper.objects.create(simulation=sim, persona=MARIA, text="Remember the party.")  # queued, never planted
    runner.request(sim, "step")
    assert runner.wait_idle(sim, 60)
    row.refresh_from_db()
    assert row.status == "applied" and row.step == 0  # before step 0 ran, so step 0 could use it
    assert MemoryNode.objects.get(persona__simulation=sim, persona__name=MARIA, node_id=row.node_id).step == 0
    assert Simulation.objects.get(pk=sim.pk).step == 1


def test_bad_whispers_and_questions_are_refused_and_nothing_is_stored(scripted):
    sim = services.fork(BASE, "whisper-bad")
    base = Simulation.objects.get(name=BASE)
    cases = [
        (sim, MARIA, "   ", "empty"),
        (sim, MARIA, "x" * 1001, "at most 1,000"),
        (sim, MARIA, 5, "must be text"),
        (sim, "Nobody", "hi", "no agent named 'Nobody'"),
        (base, MARIA, "hi", "base simulation"),
    ]
    for target, persona, text, message in cases:
        with pytest.raises(services.SimulationError, match=message):
            talk.whisper(target, persona, text)
        with pytest.raises(services.SimulationError, match=message.replace("whisper", "question")):
            talk.interview(target, persona, text, gateway=scripted)
    assert not Whisper.objects.exists()


def test_an_interview_answers_from_memories_and_changes_nothing(scripted):
    sim = services.fork(BASE, "interview-1")
    memories = MemoryNode.objects.filter(persona__simulation=sim).count()
    before = len(scripted.recorder.traces)
    answer = talk.interview(sim, MARIA, "What are you up to?", history=[["hi", "hello"], "junk", [1, 2]])
    assert isinstance(answer, str) and answer.strip()
    assert MemoryNode.objects.filter(persona__simulation=sim).count() == memories
    purposes = {t.purpose for t in scripted.recorder.traces[before:]}
    assert any(p.startswith("interview.") for p in purposes), purposes


def test_play_pressed_while_a_whisper_is_planted_still_starts_the_run(scripted):
    sim = services.fork(BASE, "whisper-then-play")
    Whisper.objects.create(simulation=sim, persona=MARIA, text="Plant me first.")
    # Play (one step) was recorded while the whisper held the lease: no runner started.
    Simulation.objects.filter(pk=sim.pk).update(run_state="playing", run_until=1)
    assert talk.drain(Simulation.objects.get(pk=sim.pk)) == 1
    assert wait_for(lambda: Simulation.objects.get(pk=sim.pk).step == 1)
    assert runner.wait_idle(sim, 60)
    sim.refresh_from_db()
    assert sim.run_state == "paused" and Whisper.objects.get().step == 0
