"""The chaos test: a real `manage.py reverie` run against a misbehaving model server.

The 3-agent base runs 200 steps against bench/chaos_server.py with 40% of requests
faulted (garbage, broken JSON, empty choices, content null, 429, 500/502/503 HTML
pages, slow answers past the timeout, connections dropped mid-body) and a 10-second
outage (every connection refused) that begins at the first request after step 2 is
committed (later in the run requests thin out, as the agents carry out actions they
have already planned, so a later step may see no request at all). It must:

- exit 0, having run all 200 steps;
- store every step whole (three movements per step, each step once, memories in order);
- show the outage as one "waiting" line and one "resumed" line;
- account for every injected fault: llm_stats' failed attempts per kind equal what the
  server says it injected, and its fallbacks equal the garbage chains the server
  answered to the end of the repair budget.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from llm.servers import free_port
from tests.chaos import load_chaos_server

ROOT = Path(__file__).resolve().parents[2]
BASE = "base_the_ville_isabella_maria_klaus"
STEPS = 200
OUTAGE_AT_STEP = 2
OUTAGE_SECONDS = 10.0


def _manage(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.timeout(600)
def test_two_hundred_steps_against_a_misbehaving_server_lose_nothing(tmp_path: Path) -> None:
    chaos = load_chaos_server()
    config = chaos.ChaosConfig(fault_rate=0.4, seed=7, slow_seconds=3.5, retry_after=0.1)
    server = chaos.ChaosServer(free_port(), config).start()
    db = tmp_path / "chaos.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "LLM_MODEL": "openai:chaos",
        "LLM_BASE_URL": server.base_url,
        "EMBEDDING_MODEL": "openai:chaos-embed",
        "LLM_TIMEOUT": "2",
        "LLM_RETRY_BASE_DELAY": "0.05",
        "LLM_OUTAGE_SECONDS": "5",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the command's own settings, not the test suite's
    try:
        migrated = _manage("migrate", "-v", "0", env=env, timeout=120)
        assert migrated.returncode == 0, migrated.stderr
        done = server.arm_outage_at_step(db, OUTAGE_AT_STEP, OUTAGE_SECONDS)
        started = time.monotonic()
        run = _manage(
            "reverie", "--fork", BASE, "--name", "chaos", "--command", f"run {STEPS}", "--command", "fin",
            env=env, timeout=480,
        )  # fmt: skip
        done.set()
        wall = time.monotonic() - started
        stats = server.stats()
    finally:
        server.stop()
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    assert f"ran {STEPS} step(s): chaos is at step {STEPS}" in run.stdout

    # The outage shows as one wait and one resume.
    lines = [line.strip() for line in run.stdout.replace("\r", "\n").splitlines()]
    waits = [line for line in lines if "waiting for the model server" in line and "waiting since" in line]
    resumes = [line for line in lines if line.startswith("resumed: the model server answers again after")]
    assert len(stats["outages"]) == 1, stats
    assert len(waits) == 1 and "stopped accepting connections" in waits[0], lines
    assert len(resumes) == 1, lines
    waited = float(resumes[0].rsplit("after ", 1)[1].rstrip("s"))
    assert OUTAGE_SECONDS * 0.5 <= waited <= OUTAGE_SECONDS + 30
    assert wall > OUTAGE_SECONDS

    with sqlite3.connect(db) as conn:
        sim_id, step = conn.execute("SELECT id, step FROM reverie_simulation WHERE name = 'chaos'").fetchone()
        assert step == STEPS
        # Every stored step is whole: three movements for each step, no step twice or missing.
        per_step = dict(
            conn.execute(
                "SELECT step, COUNT(*) FROM reverie_movement WHERE simulation_id = ? GROUP BY step", (sim_id,)
            ).fetchall()
        )
        assert per_step == dict.fromkeys(range(STEPS), 3)
        # Memories are whole too: each persona's node ids run 1..n with none lost or doubled.
        for (persona,) in conn.execute("SELECT id FROM reverie_persona WHERE simulation_id = ?", (sim_id,)):
            query = "SELECT node_id FROM reverie_memorynode WHERE persona_id = ?"
            ids = [r[0] for r in conn.execute(query, (persona,))]
            assert sorted(ids) == list(range(1, len(ids) + 1))
        # Every call in this fresh database is the command's: the run's, and the fork's own
        # (its starting relationships are embedded before the simulation exists, so they
        # carry no run). The server counted them all, so they are all counted here.
        calls = conn.execute("SELECT kind, outcome, cached, raw FROM llmlog_llmcall").fetchall()

    report = _manage("llm_stats", "--json", env=env, timeout=60)
    assert report.returncode == 0, report.stderr
    rows = json.loads(report.stdout)
    faults: Counter[str] = Counter()
    for row in rows:
        faults.update(row["faults"])
    # Every fault the server injected was seen, retried and counted under its kind...
    assert {k: v for k, v in faults.items() if k != "refused"} == stats["gateway_kinds"], (faults, stats)
    # ...and the outage's refused connections are there too.
    assert faults["refused"] >= 1
    assert sum(row["retries"] for row in rows) + sum(row["errors"] for row in rows) == sum(faults.values())
    # Every garbage structured answer was rejected by validation (repaired or ended in a
    # fallback), and the fallbacks are exactly the chains garbage to the end.
    invalid = 0
    for kind, outcome, cached, raw in calls:
        if kind == "structured" and not cached:
            invalid += len(json.loads(raw)) - (1 if outcome in ("first_try", "repaired") else 0)
    assert invalid == stats["garbage_structured"]
    assert sum(row["fallbacks"] for row in rows) == stats["fallbacks_caused"]
    assert stats["garbage_structured"] + sum(stats["gateway_kinds"].values()) >= 10  # faults really happened


def _env(db: Path, base_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "LLM_MODEL": "openai:chaos",
        "LLM_BASE_URL": base_url,
        "EMBEDDING_MODEL": "openai:chaos-embed",
        "LLM_RETRY_BASE_DELAY": "0.05",
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def _run_reverie(env: dict[str, str], *extra: str, steps: int = 50) -> subprocess.CompletedProcess[str]:
    assert _manage("migrate", "-v", "0", env=env, timeout=120).returncode == 0
    args = ["reverie", "--fork", BASE, "--name", "cfg", *extra, "--command", f"run {steps}", "--command", "fin"]
    return _manage(*args, env=env, timeout=300)


def test_nothing_listening_at_the_start_stops_at_once_with_one_line(tmp_path: Path) -> None:
    started = time.monotonic()
    run = _run_reverie(_env(tmp_path / "db.sqlite3", f"http://127.0.0.1:{free_port()}/v1"))
    assert run.returncode == 1 and time.monotonic() - started < 60
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "nothing is listening at LLM_BASE_URL" in errors[0], run.stderr
    # The fork of a base embeds its starting relationships, so it is the first to find the server gone.
    assert "cannot embed the starting relationships" in errors[0] and "Traceback" not in run.stderr
    assert "waiting for the model server" not in run.stdout


def test_a_rejected_key_stops_at_once_with_one_line(tmp_path: Path) -> None:
    from tests.llm.http_fake import FakeOpenAIServer

    with FakeOpenAIServer() as srv:
        for _ in range(20):
            srv.add(401, {"error": {"message": "invalid api key"}})
        run = _run_reverie(_env(tmp_path / "db.sqlite3", srv.base_url, LLM_API_KEY="wrong"))
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "rejected the API key: set LLM_API_KEY" in errors[0], run.stderr


def test_stop_on_outage_ends_the_run_with_one_line_and_keeps_the_finished_steps(tmp_path: Path) -> None:
    chaos = load_chaos_server()
    server = chaos.ChaosServer(free_port(), chaos.ChaosConfig(fault_rate=0.0, seed=2)).start()
    db = tmp_path / "db.sqlite3"
    done = server.arm_outage_at_step(db, 5, 60.0)
    try:
        run = _run_reverie(_env(db, server.base_url), "--stop-on-outage", steps=200)
    finally:
        done.set()
        server.stop()
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "the model server is down" in errors[0] and "--stop-on-outage" in errors[0]
    assert "waiting for the model server" not in run.stdout
    with sqlite3.connect(db) as conn:
        sim_id, step = conn.execute("SELECT id, step FROM reverie_simulation WHERE name = 'cfg'").fetchone()
        per_step = dict(
            conn.execute(
                "SELECT step, COUNT(*) FROM reverie_movement WHERE simulation_id = ? GROUP BY step", (sim_id,)
            ).fetchall()
        )
    assert 5 <= step < 200 and per_step == dict.fromkeys(range(step), 3)
    assert f"stopped at step {step}" in errors[0]
