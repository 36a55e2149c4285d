"""A real Celery worker without Redis: kombu's SQLAlchemy transport on a SQLite file.

This is the single-machine default: `celery -A environment worker` with no REDIS_URL.
The test process queues `environment.health` through the project's Celery app and
reads the answer back from a SQLAlchemy (SQLite) result backend.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeoutError

from environment.celery import app as project_app

REPO = Path(__file__).resolve().parents[2]
RESULT_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15
WORKER_ARGS = ["-m", "celery", "-A", "environment", "worker", "--pool=solo", "--concurrency=1", "-l", "warning"]
WORKER_QUIET = ["--without-gossip", "--without-mingle", "--without-heartbeat"]  # no fanout on the SQLite broker


def worker_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of a worker process: its own SQLite files under tmp_path."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "environment.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "true",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "CELERY_RESULT_BACKEND": "",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LLM_MODEL": "worker-test-model",
        **overrides,
    }


class Worker:
    """`celery -A environment worker --pool=solo` in its own process group, logging to a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, *WORKER_ARGS, *WORKER_QUIET, f"--hostname=test-{uuid.uuid4().hex[:8]}@%h"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:]) or "(empty worker log)"

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL to its process group if it hangs."""
        try:
            if self.process.poll() is None:
                self._signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGKILL)
                    self.process.wait(timeout=STOP_TIMEOUT_S)
        finally:
            self._log.close()

    def _signal(self, signum: int) -> None:
        # The group is the worker's own (start_new_session) and is only signalled
        # while its leader has not been reaped, so the id cannot belong to anyone else.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)


@contextmanager
def running_worker(env: dict[str, str], log_path: Path) -> Iterator[Worker]:
    worker = Worker(env, log_path)
    try:
        yield worker
    finally:
        worker.stop()


@contextmanager
def configured(app: Celery, **conf: Any) -> Iterator[Celery]:
    """Point the project's Celery app at other URLs for a while, then put it back.

    The app caches its broker connection pool and its result backend (shared or per
    thread); both are dropped on the way in and on the way out so the new URLs take effect.
    """
    saved = {key: app.conf.get(key) for key in conf}

    def reset_connections() -> None:
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.__dict__.pop("amqp", None)  # holds the producer pool
        app._backend_cache = None
        app._local.__dict__.pop("backend", None)

    reset_connections()
    app.conf.update(conf)
    try:
        yield app
    finally:
        reset_connections()
        app.conf.update(saved)


def get_result(result: Any, worker: Worker) -> Any:
    """The task's return value; fails fast, with the worker's log, if the worker dies."""
    deadline = time.monotonic() + RESULT_TIMEOUT_S
    while True:
        try:
            return result.get(timeout=2)
        except CeleryTimeoutError:
            if worker.process.poll() is not None:
                pytest.fail(f"the worker exited ({worker.process.returncode}); log:\n{worker.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no result in {RESULT_TIMEOUT_S} s; worker log:\n{worker.log_tail()}")
        except Exception as exc:
            pytest.fail(f"the task failed ({type(exc).__name__}: {exc}); worker log:\n{worker.log_tail()}")


@pytest.fixture
def sqlite_celery(tmp_path: Path) -> Iterator[tuple[Celery, dict[str, str]]]:
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    backend = f"db+sqlite:///{tmp_path / 'results.sqlite3'}"
    env = worker_env(tmp_path, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=backend)
    with configured(project_app, broker_url=broker, result_backend=backend, task_always_eager=False) as app:
        yield app, env


def test_worker_runs_health_over_the_sqlite_broker(
    sqlite_celery: tuple[Celery, dict[str, str]], tmp_path: Path
) -> None:
    app, env = sqlite_celery
    # Queue the task before any worker exists: the broker keeps it (and both SQLite
    # files get their tables from this one process, before the worker opens them).
    queued = app.send_task("environment.health")
    assert queued.state == "PENDING"

    with running_worker(env, tmp_path / "worker.log") as worker:
        first = get_result(queued, worker)
        again = get_result(app.send_task("environment.health"), worker)

    assert first["pid"] == worker.process.pid  # ran in the worker, not in this process
    assert first["pid"] != os.getpid()
    assert first["database"] == "sqlite"
    assert first["model"] == "worker-test-model"
    assert again["pid"] == first["pid"]
    assert worker.process.returncode is not None


def test_configured_restores_the_app(tmp_path: Path) -> None:
    before = (project_app.conf.broker_url, project_app.conf.result_backend)
    with configured(
        project_app, broker_url=f"sqla+sqlite:///{tmp_path / 'b.sqlite3'}", result_backend="cache+memory://"
    ):
        assert project_app.conf.result_backend == "cache+memory://"
    assert (project_app.conf.broker_url, project_app.conf.result_backend) == before
