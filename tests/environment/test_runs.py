"""The shared run lease and runner loop (environment.runs), through Smallville's Simulation.

Any model inheriting LeasedRun gets the same behaviour; a second concrete model would
need a migration, so the generic functions are driven here with plain callables on a
Simulation row instead of Smallville's stepper.
"""

import socket
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from environment import runs
from llm.resilience import GuardEvent, RunGuard, RunStopped
from reverie.models import Simulation

pytestmark = pytest.mark.django_db(transaction=True)


def _row(name="leased-row", **fields):
    now = timezone.now()
    return Simulation.objects.create(name=name, start_time=now, current_time=now, **fields)


def _advance(pk):
    """One unit: the generic loop's 'advance' callable, moving the row's position on."""

    def advance():
        row = Simulation.objects.get(pk=pk)
        Simulation.objects.filter(pk=pk).update(step=row.step + 1)

    return advance


def test_simulation_takes_its_run_fields_from_the_shared_mixin():
    own = {f.name for f in Simulation._meta.local_fields}
    shared = {f.name for f in runs.LeasedRun._meta.fields}
    assert shared == {"run_state", "run_until", "run_error", "waiting_since", "waiting_reason", "runner", "runner_seen"}
    assert shared <= own and issubclass(Simulation, runs.LeasedRun)


def test_the_lease_is_held_for_the_block_and_refused_to_a_second_holder():
    row = _row()
    with runs.lease(row, owner="me:1:1") as owner:
        assert owner == "me:1:1"
        held = Simulation.objects.get(pk=row.pk)
        assert held.runner == "me:1:1" and held.runner_seen is not None
        assert runs.lease_alive(held)
        with pytest.raises(runs.RunBusy, match="'leased-row' is being run by me:1:1"), runs.lease(row, owner="you:2:2"):
            pass
        assert runs.claim(Simulation, row.pk, "me:1:1")  # the holder itself may claim again
    freed = Simulation.objects.get(pk=row.pk)
    assert freed.runner == "" and freed.runner_seen is None and not runs.lease_alive(freed)


def test_a_silent_or_dead_holder_loses_the_lease(settings):
    settings.SIM_RUNNER_LEASE_SECONDS = 60
    row = _row(runner="other-host:1:1", runner_seen=timezone.now() - timedelta(seconds=61))
    assert not runs.lease_alive(row)
    assert runs.claim(Simulation, row.pk, "me:1:1")
    dead_here = _row("dead-here", runner=f"{socket.gethostname()}:999999:1", runner_seen=timezone.now())
    assert not runs.lease_alive(dead_here)
    alive_elsewhere = _row("alive", runner="other-host:1:1", runner_seen=timezone.now())
    assert runs.lease_alive(alive_elsewhere) and not runs.claim(Simulation, alive_elsewhere.pk, "me:1:1")


def test_record_action_writes_play_pause_and_one_more_step():
    row = _row(step=4)
    row = runs.record_action(row, "step", position=lambda r: r.step)
    assert (row.run_state, row.run_until) == ("playing", 5)
    row = runs.record_action(row, "step", position=lambda r: r.step)
    assert row.run_until == 6  # asked twice: two more units
    row = runs.record_action(row, "play", position=lambda r: r.step)
    assert (row.run_state, row.run_until) == ("playing", None)
    with pytest.raises(ValueError, match="the simulation is playing; pause it before stepping"):
        runs.record_action(row, "step", position=lambda r: r.step)
    row = runs.record_action(row, "pause", position=lambda r: r.step)
    assert (row.run_state, row.run_until) == ("paused", None)
    with pytest.raises(KeyError, match="unknown action 'rewind'"):
        runs.record_action(row, "rewind", position=lambda r: r.step, error=KeyError)


def test_run_loop_advances_until_run_until_and_publishes_the_final_state():
    row = _row(run_state="playing", run_until=3)
    published, started = [], []

    def start(obj, owner):
        started.append(owner)
        return _advance(obj.pk)

    done = runs.run_loop(Simulation, row.pk, start=start, position=lambda r: r.step, publish=published.append)
    row.refresh_from_db()
    assert done == 3 and row.step == 3 and len(started) == 1
    assert (row.run_state, row.run_until, row.runner) == ("paused", None, "")
    assert [p.step for p in published] == [3]


def test_run_loop_records_an_error_and_ends_a_stopped_wait_quietly():
    row = _row(run_state="playing")

    def broken(obj, owner):
        def advance():
            raise RuntimeError("disk full")

        return advance

    assert runs.run_loop(Simulation, row.pk, start=broken, position=lambda r: r.step, publish=lambda r: None) == 0
    row.refresh_from_db()
    assert row.run_state == "paused" and row.run_error == "RuntimeError: disk full" and row.runner == ""

    Simulation.objects.filter(pk=row.pk).update(
        run_state="playing", run_error="", waiting_since=timezone.now(), waiting_reason="model server down"
    )

    def stopped(obj, owner):
        def advance():
            raise RunStopped("paused while waiting")

        return advance

    runs.run_loop(Simulation, row.pk, start=stopped, position=lambda r: r.step, publish=lambda r: None)
    row.refresh_from_db()
    assert row.run_error == "" and row.waiting_since is None and row.waiting_reason == ""


def test_run_loop_does_nothing_while_another_holder_is_alive():
    row = _row(run_state="playing", runner="other-host:1:1", runner_seen=timezone.now())
    start_calls = []
    done = runs.run_loop(
        Simulation, row.pk, start=lambda o, w: start_calls.append(w), position=lambda r: r.step, publish=lambda r: None
    )
    assert done == 0 and start_calls == []


def test_row_guard_reports_an_outage_on_the_row_and_stops_on_pause():
    row = _row(run_state="playing", runner="me:1:1", runner_seen=timezone.now())
    published = []
    guard = runs.row_guard(RunGuard(gateway=None), Simulation, row.pk, "me:1:1", published.append)
    guard.on_event(GuardEvent(kind="waiting", message="connection refused", since=time.time()))
    row.refresh_from_db()
    assert row.waiting_since is not None and row.waiting_reason == "connection refused"
    assert not guard.should_stop()
    guard.on_event(GuardEvent(kind="resumed", message="back"))
    row.refresh_from_db()
    assert row.waiting_since is None and row.waiting_reason == ""
    assert len(published) == 2
    Simulation.objects.filter(pk=row.pk).update(run_state="paused")
    assert guard.should_stop()


def test_ensure_runner_starts_one_thread_per_row_and_wait_idle_joins_it():
    row = _row(run_state="playing")
    ran = []

    def loop(pk):
        time.sleep(0.2)
        ran.append(pk)

    runs.ensure_runner(row, loop, thread_name="test-runner")
    runs.ensure_runner(row, loop)  # the first is still running: no second thread
    assert runs.wait_idle(row, 10)
    assert ran == [row.pk]
    Simulation.objects.filter(pk=row.pk).update(run_state="paused")
    runs.ensure_runner(row, loop)  # not playing: nothing to run
    assert runs.wait_idle(row, 10) and ran == [row.pk]
