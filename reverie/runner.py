"""Play, pause and step a simulation in the background; the browser only asks.

Smallville's adapter to the shared runner (environment.runs, which states what the
lease guarantees): a simulation's unit is one committed step, run by
`services.GuardedStepper` under an `llm.resilience.RunGuard` that reports a
model-server outage on the row; its pages hear of every change through
`live.publish_state`; with SIM_RUNNER=celery the `reverie.play` task runs it.

While a step runs, `StepProgress` tells the pages which agent thinks about what and how
many model calls have finished (at most a few messages a second), so a step of a
minute is visibly at work. Between steps the runner plants the whispers queued from the
pages (reverie.whisper), so no step sees half of one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from environment import runs
from environment.runs import RunBusy, lease, lease_alive, owner_id
from llm.resilience import RunGuard
from llm.tracing import Trace, trace_listener
from reverie import live
from reverie.models import Simulation

log = logging.getLogger(__name__)

__all__ = [
    "RunBusy",
    "StepProgress",
    "ensure_runner",
    "lease",
    "lease_alive",
    "owner_id",
    "request",
    "run_loop",
    "wait_idle",
]


def _position(sim: Simulation) -> int:
    return sim.step


def request(sim: Simulation, action: str) -> Simulation:
    """Record play / pause / step for `sim` and make sure a runner picks it up."""
    from reverie.services import SimulationError

    if action in runs.ACTIONS and sim.is_base:
        raise SimulationError(f"{sim.name!r} is a base simulation: fork it first and run the fork")
    sim = runs.record_action(sim, action, position=_position, error=SimulationError)
    live.publish_state(sim)
    if sim.run_state == "playing":
        ensure_runner(sim)
    return sim


def _queue(sim_pk: int) -> None:
    from reverie.tasks import play

    play.delay(sim_pk)


def ensure_runner(sim: Simulation) -> None:
    """Start a runner unless a live one already holds the lease (it re-reads the row)."""
    runs.ensure_runner(sim, run_loop, task=_queue, thread_name=f"sim-{sim.pk}")


def wait_idle(sim: Simulation, timeout: float = 30.0) -> bool:
    """Join this process's runner thread for `sim` (tests and shutdown)."""
    return runs.wait_idle(sim, timeout)


def run_loop(sim_pk: int, *, gateway: Any = None, guard: RunGuard | None = None) -> int:
    """Advance while the row says "playing"; returns the number of steps run.

    A model-server outage does not stop the run: the row shows "waiting for the
    model server" (waiting_since, waiting_reason) until the server answers again,
    and a pause asked for meanwhile ends the wait.
    """
    from reverie import whisper
    from reverie.services import GuardedStepper, _gateway

    progress = StepProgress(sim_pk)

    def start(sim: Simulation, owner: str) -> Callable[[], int]:
        gw = _gateway(gateway)
        stepper = GuardedStepper(sim, gw, _page_guard(guard or RunGuard(gw), sim_pk, owner))

        def advance() -> int:
            session = stepper.session
            try:
                whisper.apply_queued(session.sim, gw, session=session)  # between steps, never during one
            except Exception:  # a whisper must not stop the run; it stays queued or failed
                log.warning("could not plant the whispers of simulation %s", sim_pk, exc_info=True)
            progress.begin(stepper.session.world.step)
            try:
                with trace_listener(progress.on_trace):
                    return stepper.step()
            finally:
                progress.end()

        return advance

    done = 0
    try:
        while True:
            done += runs.run_loop(Simulation, sim_pk, start=start, position=_position, publish=live.publish_state)
            # A whisper queued while the last step ran found the lease taken; plant it now.
            sim = Simulation.objects.filter(pk=sim_pk).first()
            if sim is None:
                break
            try:
                whisper.drain(sim, gateway=gateway, restart=False)
            except Exception:
                log.warning("could not plant the whispers of simulation %s", sim_pk, exc_info=True)
            sim.refresh_from_db()
            # Play pressed while they were planted found the lease taken: go on here.
            if sim.run_state != "playing" or lease_alive(sim):
                break
    finally:
        progress.close()
    return done


class StepProgress:
    """A step's model calls as they finish, told to the pages at most once per
    `interval` seconds (and at once when a step begins or ends).

    `on_trace` runs in whichever thread finished the call and only counts; a thread of
    its own sends, so a slow channel layer never holds up a model call.
    """

    def __init__(
        self,
        sim_pk: int,
        *,
        interval: float = 0.3,
        publish: Callable[[int, dict[str, Any]], None] | None = None,
    ) -> None:
        self.sim_pk, self.interval = sim_pk, interval
        self.publish = publish or (lambda pk, progress: live.publish_progress(pk, progress))
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._state: dict[str, Any] = {"running": False}
        self._sent: dict[str, Any] | None = None
        self._thread: threading.Thread | None = None
        self._urgent: list[dict[str, Any]] = []  # states to send as they were (a step's begin and end)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._state)

    def begin(self, step: int) -> None:
        with self._lock:
            self._state = {
                "running": True,
                "step": step,
                "calls": 0,
                "cached": 0,
                "tokens": 0,
                "purpose": None,
                "item": None,
                "since": datetime.now(UTC).isoformat(),
            }
        self._kick(urgent=True)

    def on_trace(self, trace: Trace) -> None:
        with self._lock:
            if not self._state.get("running"):
                return
            state = self._state
            state["calls"] += 1
            state["cached"] += int(trace.cached)
            state["tokens"] += trace.prompt_tokens + trace.completion_tokens
            state["purpose"] = trace.purpose or state["purpose"]
            state["item"] = trace.item or state["item"]
        self._kick()

    def end(self) -> None:
        with self._lock:
            self._state = {**self._state, "running": False}
        self._kick(urgent=True)

    def close(self) -> None:
        """Send what is left and stop the sending thread."""
        with self._lock:
            self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _kick(self, *, urgent: bool = False) -> None:
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name=f"sim-{self.sim_pk}-progress", daemon=True)
                self._thread.start()
            if urgent:
                # As it is now: a fast step's first calls may finish before the sending
                # thread runs, and the pages must still see the step begin at 0 calls.
                self._urgent.append(dict(self._state))
        self._wake.set()

    def _run(self) -> None:
        last = 0.0
        while True:
            self._wake.wait()
            with self._lock:
                closed, urgent = self._closed, bool(self._urgent)
            if not urgent and not closed:
                pause = self.interval - (time.monotonic() - last)
                if pause > 0:
                    time.sleep(pause)  # throttle: the calls that finish meanwhile join this message
            with self._lock:
                self._wake.clear()
                states, self._urgent = [*self._urgent, dict(self._state)], []
            for state in states:
                if state == self._sent:
                    continue
                try:
                    self.publish(self.sim_pk, state)
                except Exception:
                    log.warning("could not publish the progress of simulation %s", self.sim_pk, exc_info=True)
                self._sent = state
                last = time.monotonic()
            if closed:
                return


def _page_guard(guard: RunGuard, sim_pk: int, owner: str) -> RunGuard:
    """The guard, reporting outages on the row (and to the pages), and ending a wait
    when the run is paused or its lease lost."""
    return runs.row_guard(guard, Simulation, sim_pk, owner, live.publish_state)
