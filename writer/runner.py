"""Write queued steps in the background, one at a time per project; the pages only ask.

The writer's adapter to the shared runner (environment.runs, which states what the
lease guarantees). A project plays while it has queued jobs: the unit is one job
(an opening, a step, a regeneration, a reader's step), run by `services.run_job`
under an `llm.resilience.RunGuard` that waits out a model-server outage (the page
shows "waiting for the model server"); when no job is left the project pauses
itself. With SIM_RUNNER=celery the `writer.run` task runs it in a worker.
"""

from __future__ import annotations

import logging
from typing import Any

from environment import runs
from llm.errors import LLMError
from llm.resilience import RunGuard
from reverie.engine.ports import InMemoryVectorIndex
from writer import services
from writer.models import Job, Project

log = logging.getLogger(__name__)


def _position(project: Project) -> int:
    return Job.objects.filter(project=project).exclude(state__in=Job.ACTIVE).count()


def _queue(pk: int) -> None:
    from writer.tasks import run

    run.delay(pk)


def ensure_runner(project: Project) -> None:
    """Start a runner unless a live one already holds the lease (it re-reads the row)."""
    runs.ensure_runner(project, run_loop, task=_queue, thread_name=f"writer-{project.pk}")


def wait_idle(project: Project, timeout: float = 30.0) -> bool:
    """Join this process's runner thread for `project` (tests and shutdown)."""
    return runs.wait_idle(project, timeout)


def resume(project: Project) -> None:
    """A project with queued jobs but no runner (a restarted server) starts again."""
    if services.active_jobs(project).exists():
        # A job left "running" by a dead runner is run again from the start: nothing of it was saved.
        if not runs.lease_alive(project):
            Job.objects.filter(project=project, state="running").update(state="queued", text="")
            Job.objects.filter(project=project, state="cancelling").update(state="cancelled")
        Project.objects.filter(pk=project.pk).update(run_state="playing", run_until=None)
        project.refresh_from_db()
        ensure_runner(project)


def run_loop(pk: int, *, gateway: Any = None, guard: RunGuard | None = None) -> int:
    """Run the project's queued jobs until none is left; returns the number run."""
    ran = 0

    def start(project: Project, owner: str) -> Any:
        gw = services._gw(gateway)
        page_guard = runs.row_guard(guard or RunGuard(gw), Project, pk, owner, services.publish_view)
        index = InMemoryVectorIndex()  # kept for the whole run: each entry is added once

        def advance() -> None:
            nonlocal ran
            job = services.next_job(project)
            if job is None:
                return  # the run paused itself: run_loop stops at its next look at the row
            ran += 1
            try:
                page_guard.run(lambda: services.run_job(job, gw, index=index), what=f"job {job.pk}")
            except LLMError as exc:
                services.fail_job(job, f"the model could not write this step: {exc}")
            except Exception as exc:
                services.fail_job(job, f"{type(exc).__name__}: {exc}")
                raise

        return advance

    runs.run_loop(Project, pk, start=start, position=_position, publish=services.publish_view)
    return ran
