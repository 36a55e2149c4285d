"""A simulation advances in a real Celery worker process (no browser, no Redis).

The worker talks to an OpenAI-compatible fake server (bench/fake_openai_server.py),
so the test needs no model weights; everything else is the real stack: the worker,
the SQLite broker, the services, the database.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from environment.celery import app as project_app
from llm.servers import free_port
from tests.environment.test_celery_worker import configured, get_result, running_worker, worker_env

REPO = Path(__file__).resolve().parents[2]


def test_reverie_advance_runs_in_a_worker(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "bench/fake_openai_server.py", "--port", str(port), "--delay", "0"],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)  # fmt: skip
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    backend = f"db+sqlite:///{tmp_path / 'results.sqlite3'}"
    env = worker_env(
        tmp_path, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=backend, LLM_MODEL="openai:fake",
        LLM_BASE_URL=f"http://127.0.0.1:{port}/v1", EMBEDDING_MODEL="openai:fake", LLM_CACHE="off",
    )  # fmt: skip
    try:
        for _ in range(50):  # wait for the fake server
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=REPO, env=env, check=True, timeout=120)
        fork = ["reverie", "--fork", "base_the_ville_isabella_maria_klaus", "--name", "in-worker", "--command", "fin"]
        subprocess.run([*manage, *fork], cwd=REPO, env=env, check=True, timeout=120, capture_output=True)
        with configured(project_app, broker_url=broker, result_backend=backend, task_always_eager=False) as app:
            queued = app.send_task("reverie.advance", args=("in-worker", 4))
            with running_worker(env, tmp_path / "worker.log") as worker:
                result = get_result(queued, worker)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result["simulation"] == "in-worker" and result["step"] == 4
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        rows = conn.execute(
            "SELECT m.step, COUNT(*) FROM reverie_movement m JOIN reverie_simulation s ON s.id = m.simulation_id "
            "WHERE s.name = 'in-worker' GROUP BY m.step ORDER BY m.step"
        ).fetchall()
        traced = conn.execute("SELECT COUNT(*) FROM llmlog_llmcall WHERE purpose = 'plan.daily'").fetchone()[0]
    assert rows == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert traced == 3  # each agent planned its day, and the worker's traces were stored


def test_reverie_play_in_a_worker_runs_until_the_requested_step_then_pauses(tmp_path: Path) -> None:
    """SIM_RUNNER=celery: the page's "step" request is carried out by a worker."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "bench/fake_openai_server.py", "--port", str(port), "--delay", "0"],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)  # fmt: skip
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    backend = f"db+sqlite:///{tmp_path / 'results.sqlite3'}"
    env = worker_env(
        tmp_path, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=backend, LLM_MODEL="openai:fake",
        LLM_BASE_URL=f"http://127.0.0.1:{port}/v1", EMBEDDING_MODEL="openai:fake", LLM_CACHE="off",
        SIM_RUNNER="celery",
    )  # fmt: skip
    try:
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=REPO, env=env, check=True, timeout=120)
        fork = ["reverie", "--fork", "base_the_ville_isabella_maria_klaus", "--name", "played", "--command", "fin"]
        subprocess.run([*manage, *fork], cwd=REPO, env=env, check=True, timeout=120, capture_output=True)
        with sqlite3.connect(tmp_path / "db.sqlite3") as conn:  # what runner.request("step") x3 records
            conn.execute("UPDATE reverie_simulation SET run_state='playing', run_until=3 WHERE name='played'")
            pk = conn.execute("SELECT id FROM reverie_simulation WHERE name='played'").fetchone()[0]
        with configured(project_app, broker_url=broker, result_backend=backend, task_always_eager=False) as app:
            queued = app.send_task("reverie.play", args=(pk,))
            with running_worker(env, tmp_path / "worker.log") as worker:
                result = get_result(queued, worker)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result == {"simulation": pk, "steps": 3}
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        row = conn.execute(
            "SELECT step, run_state, run_until, runner FROM reverie_simulation WHERE id = ?", (pk,)
        ).fetchone()
    assert row == (3, "paused", None, "")  # stopped where asked, lease released
