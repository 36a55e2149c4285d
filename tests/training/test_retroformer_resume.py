"""run_retroformer_eval killed with SIGKILL mid-run, then run again: it finishes, asks
nothing again for the tasks finished before the kill, continues part-played trials from
their saved steps, and ends with the same results as a run never interrupted."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.training.retro_server import HotpotServer

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)

# Tasks finished, and tasks whose current trial has played a step but not ended.
PROGRESS_SQL = """
SELECT
  (SELECT COUNT(*) FROM training_riseitem WHERE finished),
  (SELECT COUNT(*) FROM training_riseitem WHERE NOT finished
     AND json_extract(episode, '$.trials[#-1].reason') = ''
     AND json_array_length(json_extract(episode, '$.trials[#-1].steps')) > 0)
"""


def _progress(db: Path) -> tuple[int, int]:
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute(PROGRESS_SQL).fetchone()
    except sqlite3.OperationalError:
        return 0, 0  # not migrated yet, or being written: look again
    return (row[0], row[1]) if row else (0, 0)


def _migrated(server: HotpotServer, db: Path) -> dict[str, str]:
    """The environment of a command process on its own migrated database, talking to `server`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "environment.settings",
        "DATABASE_URL": f"sqlite:///{db}",
        "LLM_BASE_URL": server.base_url,
        "LLM_API_KEY": "test",
        "LLM_CACHE": "off",
        "LLM_CONCURRENCY": "2",  # slow enough to be stopped half way
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=180)
    return env


def _saved(db: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT problem_id, finished, episode FROM training_riseitem").fetchall()
    return {pid: {"finished": bool(done), "episode": json.loads(ep)} for pid, done, ep in rows}


def test_a_killed_run_resumes_without_replaying_and_ends_as_an_uninterrupted_one(tmp_path: Path) -> None:
    server = HotpotServer(delay=0.1)
    db = tmp_path / "run.sqlite3"
    env = _migrated(server, db)

    def command(log_dir: Path) -> list[str]:
        return [sys.executable, "manage.py", "run_retroformer_eval", "--env", "hotpotqa",
                "--actor", "openai:actor", "--reflector", "openai:reflector",
                "--limit", "12", "--trials", "3", "--log_dir", str(log_dir)]  # fmt: skip

    killed_dir = tmp_path / "killed"
    try:
        proc = subprocess.Popen(command(killed_dir), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        finished = part_played = 0
        deadline = time.monotonic() + 120
        # After the first trials' wins (4 tasks) and while some retry is half played.
        while not (finished >= 4 and part_played > 0) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
            finished, part_played = _progress(db)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert finished >= 4 and part_played > 0, "the run was not caught half way"
        at_kill = _saved(db)
        asked_before = len(server.requests)

        resumed = subprocess.run(command(killed_dir), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        assert "12 tasks" in resumed.stdout
        after = server.requests[asked_before:]

        questions = {t["episode"]["task_id"]: t for t in at_kill.values()}
        done_questions = {_question(pid) for pid, t in questions.items() if t["finished"]}
        # Nothing is asked again about a task finished before the kill.
        assert done_questions and not [r for r in after if r[1] in done_questions]
        # A part-played trial goes on from its saved steps: its first step is not asked again.
        for pid, saved in at_kill.items():
            trials = saved["episode"]["trials"]
            if saved["finished"] or not trials or trials[-1]["reason"] or not trials[-1]["steps"]:
                continue
            memories = len([r for r in saved["episode"]["reflections"] if r])
            assert ("act", _question(pid), memories, 0) not in after, pid
        # At most the round in flight was asked twice: one request per open task.
        twice = {key: n for key, n in Counter(server.requests).items() if n > 1}
        open_at_kill = {_question(pid) for pid, t in at_kill.items() if not t["finished"]}
        assert all(key[1] in open_at_kill and n == 2 for key, n in twice.items()), twice

        whole_dir = tmp_path / "whole"
        whole = subprocess.run(command(whole_dir), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert whole.returncode == 0, whole.stderr
    finally:
        server.stop()
    resumed_json = json.loads((killed_dir / "retroformer_eval.json").read_text())
    whole_json = json.loads((whole_dir / "retroformer_eval.json").read_text())
    assert resumed_json["success"] == whole_json["success"] == pytest.approx([4 / 12, 8 / 12, 1.0])
    assert resumed_json["mean_reward"] == whole_json["mean_reward"]
    assert resumed_json["episodes"] == whole_json["episodes"]
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT finished_items, turns_played FROM training_riserun ORDER BY id").fetchall()
    assert runs[0] == runs[1] == (12, 4 * 1 + 4 * 2 + 4 * 3)


def _question(task_id: str) -> str:
    from tests.training.retro_server import sample_tasks

    return next(t.data["question"] for t in sample_tasks() if t.id == task_id)


def test_ctrl_c_stops_after_saving_and_frees_the_run(tmp_path: Path) -> None:
    server = HotpotServer(delay=0.2)
    db = tmp_path / "run.sqlite3"
    env = _migrated(server, db)
    command = [sys.executable, "manage.py", "run_retroformer_eval", "--env", "hotpotqa", "--actor", "openai:actor",
               "--limit", "9", "--trials", "3", "--log_dir", str(tmp_path / "c")]  # fmt: skip
    try:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while _progress(db)[0] < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        server.stop()
    assert proc.returncode == 130, err
    assert "stopped:" in err and "tasks finished and saved in" in err and "run the same command again" in err
    with sqlite3.connect(db) as conn:
        state, runner, done = conn.execute("SELECT run_state, runner, finished_items FROM training_riserun").fetchone()
    assert state == "paused" and runner == "" and 3 <= done < 9
