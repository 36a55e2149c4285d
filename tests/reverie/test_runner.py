"""Play / pause / step in the background, with the lease that keeps one runner per run."""

import socket
import threading
import time

import pytest
from django.utils import timezone

from environment import runs
from reverie import runner, services
from reverie.models import Movement, PersonaSnapshot, Simulation

BASE = "base_the_ville_isabella_maria_klaus"
# Runner threads open their own database connections: the test's rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_step_runs_exactly_one_step_in_a_background_thread(scripted):
    sim = services.fork(BASE, "stepper")
    sim = runner.request(sim, "step")
    assert sim.run_state == "playing" and sim.run_until == 1
    assert runner.wait_idle(sim, 30)
    sim.refresh_from_db()
    assert sim.step == 1 and sim.run_state == "paused" and sim.run_until is None and sim.runner == ""
    assert Movement.objects.filter(simulation=sim).count() == 3
    runner.request(sim, "step")
    runner.request(Simulation.objects.get(pk=sim.pk), "step")  # asked twice: two more steps
    assert runner.wait_idle(sim, 30)
    sim.refresh_from_db()
    assert sim.step == 3 and sim.run_state == "paused"


def test_play_runs_until_pause_and_pause_lands_after_the_step_in_flight(scripted):
    sim = services.fork(BASE, "player")
    runner.request(sim, "play")
    assert wait_for(lambda: Simulation.objects.get(pk=sim.pk).step >= 3)
    runner.request(Simulation.objects.get(pk=sim.pk), "pause")
    assert runner.wait_idle(sim, 30)
    sim.refresh_from_db()
    steps = sim.step
    assert sim.run_state == "paused" and sim.runner == ""
    # Every committed step is whole (three agents each), none after the pause.
    counts = [Movement.objects.filter(simulation=sim, step=s).count() for s in range(steps)]
    assert counts == [3] * steps
    time.sleep(0.3)
    assert Simulation.objects.get(pk=sim.pk).step == steps


def test_a_failing_step_pauses_the_run_with_the_error(monkeypatch, scripted):
    sim = services.fork(BASE, "broken")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "save_step", boom)
    runner.request(sim, "play")
    assert runner.wait_idle(sim, 30)
    sim.refresh_from_db()
    assert sim.run_state == "paused" and "disk full" in sim.run_error and sim.step == 0 and sim.runner == ""


def test_requests_that_cannot_be_done_say_why(scripted):
    base = services.ensure_base(BASE)
    with pytest.raises(services.SimulationError, match="fork it first"):
        runner.request(base, "play")
    sim = services.fork(BASE, "asks")
    with pytest.raises(services.SimulationError, match="unknown action"):
        runner.request(sim, "rewind")


def test_one_runner_per_simulation_and_dead_holders_lose_the_lease(scripted):
    sim = services.fork(BASE, "leased")
    # A live holder elsewhere (another host, heard from just now): nobody else may run it.
    Simulation.objects.filter(pk=sim.pk).update(runner="other-host:1:1", runner_seen=timezone.now())
    sim.refresh_from_db()
    assert runner.lease_alive(sim)
    with pytest.raises(services.SimulationError, match="being run by other-host"):
        services.run_steps(sim, 1, gateway=scripted)
    assert runner.run_loop(sim.pk, gateway=scripted) == 0
    # A holder on this machine whose process is gone: the lease is void at once.
    Simulation.objects.filter(pk=sim.pk).update(runner=f"{socket.gethostname()}:999999:1")
    sim.refresh_from_db()
    assert not runner.lease_alive(sim)
    assert services.run_steps(sim, 1, gateway=scripted).step == 1
    # Two claimants racing for a free lease: exactly one wins.
    wins = []
    barrier = threading.Barrier(2)

    def claim(owner):
        barrier.wait()
        wins.append(runs.claim(Simulation, sim.pk, owner))

    threads = [threading.Thread(target=claim, args=(f"h:{i}:{i}",)) for i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(wins) == [False, True]


def test_snapshots_keep_plans_per_step_only_when_they_change(scripted):
    sim = services.fork(BASE, "snaps")
    services.run_steps(sim, 12, gateway=scripted)
    snaps = PersonaSnapshot.objects.filter(persona__simulation=sim, persona__name="Isabella Rodriguez")
    steps = list(snaps.values_list("step", flat=True))
    assert steps[0] == 0 and len(steps) < 12  # saved when the plans changed, not every step
    assert all("tile" not in s and "path" not in s for s in snaps.values_list("scratch", flat=True))
    copy = services.fork("snaps", "snaps-copy")
    assert (
        PersonaSnapshot.objects.filter(persona__simulation=copy).count()
        == PersonaSnapshot.objects.filter(persona__simulation=sim).count()
    )
