"""Play, pause and step a simulation in the background; the browser only asks.

Smallville's adapter to the shared runner (environment.runs, which states what the
lease guarantees): a simulation's unit is one committed step, run by
`services.GuardedStepper` under an `llm.resilience.RunGuard` that reports a
model-server outage on the row; its pages hear of every change through
`live.publish_state`; with SIM_RUNNER=celery the `reverie.play` task runs it.
"""

from __future__ import annotations

from typing import Any

from environment import runs
from environment.runs import RunBusy, lease, lease_alive, owner_id
from llm.resilience import RunGuard
from reverie import live
from reverie.models import Simulation

__all__ = ["RunBusy", "ensure_runner", "lease", "lease_alive", "owner_id", "request", "run_loop", "wait_idle"]


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
    from reverie.services import GuardedStepper, _gateway

    def start(sim: Simulation, owner: str) -> Any:
        gw = _gateway(gateway)
        return GuardedStepper(sim, gw, _page_guard(guard or RunGuard(gw), sim_pk, owner)).step

    return runs.run_loop(Simulation, sim_pk, start=start, position=_position, publish=live.publish_state)


def _page_guard(guard: RunGuard, sim_pk: int, owner: str) -> RunGuard:
    """The guard, reporting outages on the row (and to the pages), and ending a wait
    when the run is paused or its lease lost."""
    return runs.row_guard(guard, Simulation, sim_pk, owner, live.publish_state)
