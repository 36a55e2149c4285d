"""Celery tasks: a simulation advances in a worker, never waiting for a browser.

Each step is committed as it finishes (see services.run_steps), so a worker that
dies mid-task loses only the step in flight; re-queueing the task resumes the run.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from reverie import services


@shared_task(name="reverie.advance", bind=True)
def advance(self: Any, simulation: str, steps: int) -> dict[str, Any]:
    sim = services.get_simulation(simulation)

    def progress(done: int, total: int) -> None:
        self.update_state(state="PROGRESS", meta={"done": done, "total": total})

    sim = services.run_steps(sim, steps, progress=progress if self.request.id else None)
    return {"simulation": sim.name, "step": sim.step, "game_time": sim.current_time.isoformat()}


@shared_task(name="reverie.play")
def play(simulation_pk: int) -> dict[str, Any]:
    """Run a simulation while its page says "playing" (SIM_RUNNER=celery)."""
    from reverie.runner import run_loop

    steps = run_loop(simulation_pk)
    return {"simulation": simulation_pk, "steps": steps}
