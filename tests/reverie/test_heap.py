"""reverie.heap: a running simulation keeps what lives for the whole run out of the
collector's full passes, and freezing never keeps a dropped session alive."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from reverie import heap, services
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_world import GOOD

BASE = "base_the_ville_isabella_maria_klaus"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    """Each test starts and ends with nothing frozen (other tests' objects included)."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def tracked(obj: object) -> bool:
    """Whether a full pass would walk `obj` (frozen objects are in no generation)."""
    return any(o is obj for o in gc.get_objects())


def test_a_stepped_session_is_freed_by_reference_counting_alone():
    """What makes freezing safe: a session holds no reference cycle, so dropping it frees
    it (and its agents, streams and memories) even while frozen and with no collection."""
    gw = routed_gateway(GOOD)
    sim = services.fork(BASE, "heap-1", gateway=gw)
    session = services.load_session(sim)
    asyncio.run(session.world.advance(gw))
    agent = next(iter(session.world.agents.values()))
    assert agent.stream.all()  # the step made memories
    refs = [weakref.ref(x) for x in (session, session.world, agent, agent.stream, agent.scratch, agent.spatial)]
    gc.disable()
    try:
        gc.freeze()
        del session, agent
        assert [r() for r in refs] == [None] * len(refs)
    finally:
        gc.enable()


def test_the_stepper_freezes_its_session_and_settles_again_after_a_reload_and_every_few_steps(monkeypatch):
    gw = routed_gateway(GOOD)
    sim = services.fork(BASE, "heap-2", gateway=gw)
    settles = []
    real = heap.settle
    monkeypatch.setattr(heap, "settle", lambda: (settles.append(1), real())[1])
    monkeypatch.setattr(heap, "RESETTLE_STEPS", 2)
    stepper = services.GuardedStepper(sim, gw, services.RunGuard(gw))
    assert len(settles) == 1 and gc.get_freeze_count() > 0
    assert not tracked(stepper.session.world) and not tracked(stepper.session.sim)
    for _ in range(4):
        stepper.step()
    assert len(settles) == 3  # at the start, then after steps 2 and 4
    stepper._reload()
    assert len(settles) == 4 and not tracked(stepper.session.world)


def test_settling_again_collects_what_was_dropped_before_freezing():
    """After the first freeze a full pass is cheap, and settle makes one: a cycle dropped
    since is freed, not frozen for good."""
    heap.settle()

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # type: ignore[attr-defined]
    ref = weakref.ref(a)
    del a, b
    assert ref() is not None  # a cycle: only a collection frees it
    heap.settle()
    assert ref() is None


def test_after_settling_a_full_pass_walks_only_what_is_new():
    assert tracked(services.GuardedStepper)  # a class: walked by every full pass
    heap.settle()
    assert not tracked(services.GuardedStepper) and not tracked(services.__dict__)
    fresh = [[i] for i in range(10)]
    assert all(tracked(x) for x in fresh)
