"""Play, pause and step a simulation in the background; the browser only asks.

The pages write what they want into the Simulation row (`run_state`, `run_until`);
a runner (a thread in the web server, or a Celery worker with SIM_RUNNER=celery)
holds a lease on the row and advances one committed step at a time, re-reading the
row between steps. So a refresh, a closed tab or two tabs never disturb a run, a
pause takes effect after the step in flight, and one simulation never has two
runners: the lease is taken with one conditional UPDATE, renewed by a heartbeat, and
can be taken over only when its holder is dead (same host, pid gone) or silent for
SIM_RUNNER_LEASE_SECONDS.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from llm.resilience import GuardEvent, RunGuard, RunStopped
from reverie import live
from reverie.models import Simulation

log = logging.getLogger(__name__)

ACTIONS = ("play", "pause", "step")
_threads: dict[int, threading.Thread] = {}
_threads_lock = threading.Lock()


class RunBusy(Exception):
    """Another live process holds this simulation's lease."""


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lease_alive(sim: Simulation) -> bool:
    """Whether the recorded runner may still be running this simulation."""
    if not sim.runner or sim.runner_seen is None:
        return False
    host, _, rest = sim.runner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host == socket.gethostname() and pid_text.isdigit() and not _pid_alive(int(pid_text)):
        return False  # killed on this machine: its lease is void at once
    return timezone.now() - sim.runner_seen < timedelta(seconds=settings.SIM_RUNNER_LEASE_SECONDS)


def _claim(sim_pk: int, owner: str) -> bool:
    sim = Simulation.objects.get(pk=sim_pk)
    if sim.runner == owner:
        return True
    if lease_alive(sim):
        return False
    # Conditional on the row still showing the dead holder: two claimants cannot both win.
    taken = Simulation.objects.filter(pk=sim_pk, runner=sim.runner, runner_seen=sim.runner_seen).update(
        runner=owner, runner_seen=timezone.now()
    )
    return taken == 1


def _release(sim_pk: int, owner: str) -> None:
    Simulation.objects.filter(pk=sim_pk, runner=owner).update(runner="", runner_seen=None)


@contextmanager
def lease(sim: Simulation, owner: str | None = None) -> Iterator[str]:
    """Hold the simulation's lease (with a heartbeat) for the duration of the block."""
    owner = owner or owner_id()
    if not _claim(sim.pk, owner):
        sim.refresh_from_db(fields=["runner"])
        raise RunBusy(f"{sim.name!r} is being run by {sim.runner}; pause it there first (or wait for it to finish)")
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(min(15.0, settings.SIM_RUNNER_LEASE_SECONDS / 3)):
            try:
                Simulation.objects.filter(pk=sim.pk, runner=owner).update(runner_seen=timezone.now())
            except Exception:
                log.warning("lease heartbeat for %s failed", sim.name, exc_info=True)
            finally:
                close_old_connections()

    heart = threading.Thread(target=beat, name=f"lease-{sim.pk}", daemon=True)
    heart.start()
    try:
        yield owner
    finally:
        stop.set()
        heart.join(timeout=5)
        _release(sim.pk, owner)


# --- what the pages ask for ------------------------------------------------------------


def request(sim: Simulation, action: str) -> Simulation:
    """Record play / pause / step for `sim` and make sure a runner picks it up."""
    from reverie.services import SimulationError

    if action not in ACTIONS:
        raise SimulationError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    if sim.is_base:
        raise SimulationError(f"{sim.name!r} is a base simulation: fork it first and run the fork")
    with transaction.atomic():
        sim = Simulation.objects.select_for_update().get(pk=sim.pk)
        if action == "play":
            sim.run_state, sim.run_until = "playing", None
        elif action == "pause":
            sim.run_state, sim.run_until = "paused", None
        elif sim.run_state == "playing" and sim.run_until is None:
            raise SimulationError("the simulation is playing; pause it before stepping")
        else:  # step: one more step than already asked for
            sim.run_until = max(sim.run_until or 0, sim.step) + 1
            sim.run_state = "playing"
        sim.run_error = ""
        sim.save(update_fields=["run_state", "run_until", "run_error", "updated"])
    live.publish_state(sim)
    if sim.run_state == "playing":
        ensure_runner(sim)
    return sim


def ensure_runner(sim: Simulation) -> None:
    """Start a runner unless a live one already holds the lease (it re-reads the row)."""
    sim.refresh_from_db()
    if sim.run_state != "playing" or lease_alive(sim):
        return
    if settings.SIM_RUNNER == "celery":
        from reverie.tasks import play

        play.delay(sim.pk)
        return
    with _threads_lock:
        current = _threads.get(sim.pk)
        if current is not None and current.is_alive():
            return
        thread = threading.Thread(target=_thread_main, args=(sim.pk,), name=f"sim-{sim.pk}", daemon=True)
        _threads[sim.pk] = thread
        thread.start()


def _thread_main(sim_pk: int) -> None:
    try:
        run_loop(sim_pk)
    finally:
        close_old_connections()


def run_loop(sim_pk: int, *, gateway: Any = None, guard: RunGuard | None = None) -> int:
    """Advance while the row says "playing"; returns the number of steps run.

    A model-server outage does not stop the run: the row shows "waiting for the
    model server" (waiting_since, waiting_reason) until the server answers again,
    and a pause asked for meanwhile ends the wait.
    """
    from reverie.services import GuardedStepper, _gateway

    sim = Simulation.objects.get(pk=sim_pk)
    done = 0
    try:
        with lease(sim) as owner:
            stepper = None
            while True:
                sim = Simulation.objects.get(pk=sim_pk)
                if sim.runner != owner or sim.run_state != "playing":
                    break
                if sim.run_until is not None and sim.step >= sim.run_until:
                    Simulation.objects.filter(pk=sim_pk).update(run_state="paused", run_until=None)
                    break
                if stepper is None:
                    gw = _gateway(gateway)
                    stepper = GuardedStepper(sim, gw, _page_guard(guard or RunGuard(gw), sim_pk, owner))
                stepper.step()
                done += 1
    except RunBusy:
        return 0
    except RunStopped:
        pass  # paused (or taken over) while waiting for the model server
    except Exception as exc:
        log.exception("simulation %s stopped with an error", sim.name)
        message = f"{type(exc).__name__}: {exc}"
        Simulation.objects.filter(pk=sim_pk).update(run_state="paused", run_until=None, run_error=message[:2000])
    finally:
        Simulation.objects.filter(pk=sim_pk).exclude(waiting_since=None).update(waiting_since=None, waiting_reason="")
    sim = Simulation.objects.get(pk=sim_pk)
    live.publish_state(sim)
    return done


def _page_guard(guard: RunGuard, sim_pk: int, owner: str) -> RunGuard:
    """The guard, reporting outages on the row (and to the pages), and ending a wait
    when the run is paused or its lease lost."""

    def on_event(event: GuardEvent) -> None:
        if event.kind == "waiting":
            since = datetime.fromtimestamp(event.since, tz=UTC)
            Simulation.objects.filter(pk=sim_pk).update(waiting_since=since, waiting_reason=event.message[:2000])
        elif event.kind == "resumed":
            Simulation.objects.filter(pk=sim_pk).update(waiting_since=None, waiting_reason="")
        else:
            return
        live.publish_state(Simulation.objects.get(pk=sim_pk))

    def should_stop() -> bool:
        row = Simulation.objects.filter(pk=sim_pk).values("run_state", "runner").first()
        return row is None or row["run_state"] != "playing" or row["runner"] != owner

    guard.on_event, guard.should_stop = on_event, should_stop
    return guard


def wait_idle(sim: Simulation, timeout: float = 30.0) -> bool:
    """Join this process's runner thread for `sim` (tests and shutdown)."""
    thread = _threads.get(sim.pk)
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()
