"""retroformer_collect: the real loop on the HotPotQA sample set with scripted actor and
reflector gateways; one row per reflection with its return difference, resuming by
task id, and the command's one-line errors."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.training.retroformer_train import scripted
from training.envs import get_text_env
from training.retroformer.settings import RetroSettings
from training.retroformer_train.collect import collect, done_task_ids, episodes_path
from training.retroformer_train.data import read_reflections

ENV = get_text_env("hotpotqa")
TASKS = ENV.load(None, limit=4)
# Task 1 is solved after a reflection, task 2 never, task 3 at once, task 4 after one.
NEVER = frozenset({TASKS[1].data["question"]})
AT_ONCE = frozenset({TASKS[2].data["question"]})


def actor() -> Any:
    return scripted.learner_actor(always_wrong=NEVER, always_right=AT_ONCE)


def test_rows_carry_the_return_difference_of_each_reflection(tmp_path: Path) -> None:
    out = tmp_path / "reflections.jsonl"
    result = collect(ENV, TASKS[:3], actor(), scripted.reflector(), settings=RetroSettings(trials=3), out=out)
    assert (result.tasks, result.already, result.finished) == (3, 0, 3)
    rows = read_reflections(out)  # what the trainers read
    summary = [(r.task_id, r.trial, r.return_before, r.return_after, r.reward) for r in rows]
    assert summary == [
        (TASKS[0].id, 0, 0.0, 1.0, 1.0),  # the reflection made the next trial win
        (TASKS[1].id, 0, 0.0, 0.0, 0.0),  # it did not; no row after the last trial
        (TASKS[1].id, 1, 0.0, 0.0, 0.0),
    ]
    assert result.rows == 3
    assert all(r.reflection == scripted.REFLECTION and r.env == "hotpotqa" for r in rows)
    # The prompt is the reflector's whole prompt for that trial, as it was sent.
    assert rows[0].prompt[-1]["role"] == "user" and TASKS[0].data["question"] in rows[0].prompt[-1]["content"]
    episodes = [json.loads(line) for line in episodes_path(out).read_text().splitlines()]
    assert sorted(e["task_id"] for e in episodes) == sorted(t.id for t in TASKS[:3])  # task 3 too: no row, but done
    won_at_once = next(e for e in episodes if e["task_id"] == TASKS[2].id)
    assert len(won_at_once["trials"]) == 1 and won_at_once["reflections"] == []


def test_a_second_run_plays_only_the_tasks_not_written(tmp_path: Path) -> None:
    out = tmp_path / "reflections.jsonl"
    first = actor()
    collect(ENV, TASKS[:2], first, scripted.reflector(), settings=RetroSettings(trials=2), out=out)
    assert scripted.asked(first) > 0
    with out.open("a") as f:
        f.write('{"env": "hotpotqa", "task_id": "cut by a ki')  # a kill in the middle of a write
    again = actor()
    result = collect(ENV, TASKS[:4], again, scripted.reflector(), settings=RetroSettings(trials=2), out=out)
    assert (result.already, result.finished) == (2, 2)
    assert scripted.asked(again) == 1 + 2  # task 3 won at once; task 4 twice (then a reflection)
    rows = read_reflections(out)  # the cut line is gone
    assert [(r.task_id, r.trial) for r in rows] == [(TASKS[0].id, 0), (TASKS[1].id, 0), (TASKS[3].id, 0)]
    assert done_task_ids(out, env="hotpotqa") == {t.id for t in TASKS}
    nothing = actor()
    assert (
        collect(ENV, TASKS[:4], nothing, scripted.reflector(), settings=RetroSettings(trials=2), out=out).finished == 0
    )
    assert scripted.asked(nothing) == 0


def test_a_file_of_another_env_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    out.write_text(json.dumps({"env": "webshop", "task_id": "webshop-1"}) + "\n")
    with pytest.raises(ValueError, match=r"line 1: a row of env 'webshop', not hotpotqa; use another --out"):
        done_task_ids(out, env="hotpotqa")


@pytest.fixture
def gateways(monkeypatch: pytest.MonkeyPatch) -> None:
    made = {"actor": actor, "reflector": scripted.reflector}
    monkeypatch.setattr("training.services._gateway_from_settings", lambda spec: made[spec]())


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("retroformer_collect", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_command_writes_rows_and_resumes(gateways: None, tmp_path: Path) -> None:
    out = tmp_path / "reflections.jsonl"
    common = ["--env", "hotpotqa", "--actor", "actor", "--reflector", "reflector", "--trials", "3", "--out", str(out)]
    text = run(*common, "--limit", "2")
    assert f"Finished 2 task(s) (0 done before): 3 reflection row(s) written to {out}." in text
    assert "retroformer_sft --data" in text
    text = run(*common, "--limit", "3")
    assert "Resuming: 2 of 3 tasks are already in" in text and "Finished 1 task(s) (2 done before)" in text
    assert "All 3 tasks are already in" in run(*common, "--limit", "3")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "chess"], "unknown environment 'chess'"),
        (["--env", "hotpotqa", "--limit", "0"], "--limit must be at least 1"),
        (["--env", "hotpotqa", "--trials", "1"], "--trials must be at least 2"),
        (["--env", "hotpotqa", "--data", "/nowhere.jsonl"], "/nowhere.jsonl: no such file"),
        (["--env", "hotpotqa", "--max_reflections", "-1"], "--max_reflections must be at least 0"),
    ],
)
def test_command_errors_are_one_line(gateways: None, tmp_path: Path, args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as info:
        run(*args, "--actor", "actor", "--reflector", "reflector", "--out", str(tmp_path / "r.jsonl"))
    assert message in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "r.jsonl").exists()
