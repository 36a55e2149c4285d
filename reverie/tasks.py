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


# --- "Make the demo": compress_sim as a background job ---------------------------------
#
# The job's state lives in a small file beside the demo (<demo>.job.json), so the page
# that waits for it reads the same answer whether the job runs in a thread of the web
# server or in a Celery worker (SIM_RUNNER=celery): {"state": "running" | "failed",
# "error": ..., "step": the simulation's step when asked}. A finished job removes it; the
# demo file is then the answer.

JOB_STALE_SECONDS = 600.0  # a "running" job older than this died with its process


def demo_job_path(sim: Any) -> Any:
    from reverie.compress import demo_path

    path = demo_path(sim)
    return path.with_name(path.name + ".job.json")


def demo_job(sim: Any) -> dict[str, Any] | None:
    """The demo job of `sim` as last written (None: none asked, or it finished)."""
    import json
    import time

    path = demo_job_path(sim)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        age = time.time() - path.stat().st_mtime
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("state") == "running" and age > JOB_STALE_SECONDS:
        return None
    return data


def _write_job(sim: Any, data: dict[str, Any]) -> None:
    import json
    import os

    path = demo_job_path(sim)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def start_demo(sim: Any) -> bool:
    """Ask for `sim`'s demo to be (re)written in the background; False when a job for it
    is already running (the caller just waits for that one)."""
    from django.conf import settings

    job = demo_job(sim)
    if job is not None and job.get("state") == "running":
        return False
    _write_job(sim, {"state": "running", "step": sim.step})
    if settings.SIM_RUNNER == "celery":
        make_demo.delay(sim.pk)
    else:
        _spawn(sim.pk)
    return True


def _spawn(pk: int) -> None:
    """Run the job in a thread of this process (SIM_RUNNER=thread)."""
    import threading

    threading.Thread(target=_demo_thread, args=(pk,), name=f"demo-{pk}", daemon=True).start()


def _demo_thread(pk: int) -> None:
    from django.db import close_old_connections

    try:
        make_demo(pk)
    finally:
        close_old_connections()


@shared_task(name="reverie.make_demo")
def make_demo(simulation_pk: int) -> dict[str, Any]:
    """Write the simulation's compressed demo (what `manage.py compress_sim` does)."""
    from reverie import compress
    from reverie.models import Simulation

    sim = Simulation.objects.filter(pk=simulation_pk).first()
    if sim is None:
        return {"simulation": simulation_pk, "error": "deleted"}
    try:
        written = compress.write_demo(sim)
    except Exception as exc:  # the page shows it; the job must not die silently
        message = str(exc) if isinstance(exc, compress.NothingToCompress) else f"{type(exc).__name__}: {exc}"
        _write_job(sim, {"state": "failed", "error": message[:2000], "step": sim.step})
        return {"simulation": sim.name, "error": message}
    demo_job_path(sim).unlink(missing_ok=True)
    return {"simulation": sim.name, "steps": written.steps, "bytes": written.gz_bytes}
