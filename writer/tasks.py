"""Celery tasks: a project's queued steps are written in a worker (SIM_RUNNER=celery)."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="writer.run")
def run(project_pk: int) -> dict[str, Any]:
    """Write the project's queued jobs until none is left (each saved as it finishes)."""
    from writer.runner import run_loop

    return {"project": project_pk, "jobs": run_loop(project_pk)}
