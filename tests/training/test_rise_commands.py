"""run_rise_gen and run_rise_eval end to end against an OpenAI-compatible student server:
the real gateway, backend, graders, database and files; resume after SIGKILL."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.training.student_server import StudentServer, gsm8k_answers, gsm8k_student
from training.envs import get_env
from training.models import RiseRun

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def student(settings: Any) -> Iterator[StudentServer]:
    with gsm8k_student(settings) as server:
        yield server


def run(command: str, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue()


def test_eval_plays_every_turn_and_writes_metrics_json_and_plots(student: StudentServer, tmp_path: Path) -> None:
    log_dir = tmp_path / "eval"
    out = run("run_rise_eval", "--model", "openai:student", "--limit", "4", "--max_turns", "3",
              "--num_of_samples", "1", "1", "1", "--log_dir", str(log_dir))  # fmt: skip
    # The student is wrong at turn 1 and right afterwards, on every problem.
    assert "m1@t1 0.0%" in out and "m1@t3 100.0%" in out and "p1@t3 100.0%" in out
    assert Counter(turn for _, turn in student.requests) == {1: 4, 2: 4, 3: 4}
    episodes = json.loads((log_dir / "3_turns.json").read_text())
    assert len(episodes) == 4
    assert {"observations", "actions", "rewards"} <= set(episodes[0])
    assert all(ep["rewards"] == [0, 1, 1] for ep in episodes)
    metrics = json.loads((log_dir / "metrics.json").read_text())["metrics"]
    assert metrics["p1"] == [0.0, 1.0, 1.0] and metrics["accuracy"] == [0.0, 1.0, 1.0]
    assert (log_dir / "accuracy_by_turn.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (log_dir / "accuracy_by_turn.svg").read_text()
    run_row = RiseRun.objects.get()
    assert run_row.finished is not None and run_row.finished_items == 4 and run_row.kind == "eval"
    # The same command again shows the stored results and asks the model nothing.
    before = len(student.requests)
    again = run("run_rise_eval", "--model", "openai:student", "--limit", "4", "--max_turns", "3",
                "--num_of_samples", "1", "1", "1", "--log_dir", str(log_dir))  # fmt: skip
    assert "finished already" in again and "m1@t3 100.0%" in again and len(student.requests) == before


def test_parallel_mode_reports_majority_and_any_of_the_samples(student: StudentServer, tmp_path: Path) -> None:
    out = run("run_rise_eval", "--model", "openai:student", "--limit", "3", "--max_turns", "1",
              "--num_of_samples", "5", "--log_dir", str(tmp_path / "par"))  # fmt: skip
    # Turn 1 is always wrong for this student: every sample and so the vote.
    assert "m5@t1 0.0%" in out and "p5@t1 0.0%" in out


def test_gen_stops_at_the_first_right_turn_and_never_leaks_the_answer(student: StudentServer, tmp_path: Path) -> None:
    log_dir = tmp_path / "gen"
    out = run("run_rise_gen", "--models", "openai:student", "--limit", "5", "--max_turns", "3",
              "--num_of_samples", "1", "2", "2", "--log_dir", str(log_dir))  # fmt: skip
    assert "5 episodes, 5 solved within 3 turns" in out
    env = get_env("gsm8k")
    episodes = json.loads((log_dir / "3_turns.json").read_text())
    for ep in episodes:
        assert ep["rewards"] == [0, 1]  # turn 2's best sample (sample 0) is right; no turn 3
        gold = env.gold_answer(ep["gold"])
        for feedback in ep["observations"][1:]:
            assert gold not in feedback and feedback == env.feedback()
    assert Counter(turn for _, turn in student.requests) == {1: 5, 2: 5}


def test_a_log_dir_with_other_settings_is_refused_unless_overwrite(student: StudentServer, tmp_path: Path) -> None:
    log_dir = str(tmp_path / "e")
    run("run_rise_eval", "--limit", "2", "--max_turns", "2", "--log_dir", log_dir)
    with pytest.raises(CommandError, match=r"holds a run with other settings \(limit: 2 -> 3"):
        run("run_rise_eval", "--limit", "3", "--max_turns", "2", "--log_dir", log_dir)
    out = run("run_rise_eval", "--limit", "3", "--max_turns", "2", "--log_dir", log_dir, "--overwrite")
    assert "3 problems" in out and RiseRun.objects.get().total == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "chess"], "chess"),
        (["--max_turns", "3", "--num_of_samples", "1", "1"], "--num_of_samples has 2 counts for --max_turns 3"),
        (["--max_turns", "3", "--context_window", "0"], "--context_window must be between 1 and --max_turns"),
        (["--max_turns", "2", "--context_window", "3"], "--context_window must be between 1 and --max_turns"),
        (["--data_path", "/nonexistent/gsm8k.jsonl"], "/nonexistent/gsm8k.jsonl"),
        (["--model", "llama_cpp:/nonexistent/model.gguf"], "cannot load"),
        (["--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_bad_input_is_one_line_and_creates_nothing(
    student: StudentServer, tmp_path: Path, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError) as caught:
        run("run_rise_eval", "--log_dir", str(tmp_path / "bad"), *args)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert not student.requests
    if "--model" not in args:
        assert not RiseRun.objects.exists()


def test_mismatched_models_and_samples_in_gen(student: StudentServer, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--models has 2 specs and --num_of_samples 3 counts"):
        run("run_rise_gen", "--models", "a", "b", "--max_turns", "3", "--num_of_samples", "1", "1", "1",
            "--log_dir", str(tmp_path / "g"))  # fmt: skip


def test_a_malformed_data_file_names_the_line(student: StudentServer, tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text('{"question": "1+1?", "answer": "#### 2"}\n{"question": "2+2?", \n', encoding="utf-8")
    with pytest.raises(CommandError, match="line 2"):
        run("run_rise_eval", "--data_path", str(data), "--log_dir", str(tmp_path / "m"))
    assert not RiseRun.objects.exists()


@pytest.mark.parametrize(("command_name", "model_flag"), [("run_rise_eval", "--model"), ("run_rise_gen", "--models")])
def test_sigkill_mid_run_loses_at_most_the_turn_in_flight(tmp_path: Path, command_name: str, model_flag: str) -> None:
    """A real process killed with SIGKILL mid-run; the same command resumes, asking the
    model again only for what was in flight."""
    server = StudentServer(gsm8k_answers(), delay=0.15)
    db = tmp_path / "run.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "environment.settings",
        "DATABASE_URL": f"sqlite:///{db}",
        "LLM_BASE_URL": server.base_url,
        "LLM_API_KEY": "test",
        "LLM_CACHE": "off",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=180)
    command = [sys.executable, "manage.py", command_name, model_flag, "openai:student", "--limit", "12",
               "--max_turns", "2", "--batch_size", "2", "--log_dir", str(tmp_path / "k")]  # fmt: skip
    try:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        finished = 0
        deadline = time.monotonic() + 120
        while finished < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                with sqlite3.connect(db) as conn:
                    row = conn.execute("SELECT finished_items FROM training_riserun").fetchone()
                finished = row[0] if row else 0
            except sqlite3.OperationalError:
                continue  # the table is being written; look again
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert finished >= 4, "the run never got going"
        asked_before = Counter(server.requests)
        resumed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        assert "12 problems" in resumed.stdout
        asked = Counter(server.requests)
        repeated = {key: n for key, n in asked.items() if n > 1}
        # Only the batch in flight (2 problems, one turn) may have been asked twice.
        assert len(repeated) <= 2, repeated
        assert sum(asked.values()) - sum(asked_before.values()) <= 24 - sum(asked_before.values()) + 2
        with sqlite3.connect(db) as conn:
            done = conn.execute("SELECT COUNT(*) FROM training_riseitem WHERE finished").fetchone()[0]
        assert done == 12
        assert len(json.loads((tmp_path / "k" / "2_turns.json").read_text())) == 12
    finally:
        server.stop()
