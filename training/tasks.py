"""Celery tasks: a page-started RISE run is played in a worker (SIM_RUNNER=celery)."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="training.run")
def run(run_pk: int) -> dict[str, Any]:
    """Play the run batch by batch until it is finished or paused (each turn saved as it ends)."""
    from training.runner import run_loop

    return {"run": run_pk, "batches": run_loop(run_pk)}
