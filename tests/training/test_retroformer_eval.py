"""run_retroformer_eval end to end against an OpenAI-compatible HotPotQA player
(tests/training/retro_server.py): the real gateway, environment, loop, database and
files; bad input; one run on the bundled model (`-m model`)."""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.training.retro_server import REFLECTION, WRONG, HotpotServer, hotpot_server, sample_tasks
from training.models import RiseItem, RiseRun
from training.retroformer.actor import MAX_RAW_CHARS

pytestmark = pytest.mark.django_db(transaction=True)

SPECS = ["--actor", "openai:actor", "--reflector", "openai:reflector"]


@pytest.fixture
def player(settings: Any) -> Iterator[HotpotServer]:
    with hotpot_server(settings) as server:
        yield server


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("run_retroformer_eval", *args, stdout=out, stderr=err)
    return out.getvalue()


def table_row(out: str, trial: int) -> str:
    return next(line for line in out.splitlines() if line.split()[:1] == [str(trial)])


def test_success_rises_by_trial_and_the_run_writes_its_table_json_and_plot(
    player: HotpotServer, tmp_path: Path
) -> None:
    log_dir = tmp_path / "retro"
    args = ["--env", "hotpotqa", *SPECS, "--limit", "6", "--trials", "3", "--log_dir", str(log_dir)]
    out = run(*args)
    # Question i needs i % 3 reflections: 2 of 6 won at trial 1, 4 by trial 2, all 6 by trial 3.
    assert "33.3%" in table_row(out, 1) and "66.7%" in table_row(out, 2) and "100.0%" in table_row(out, 3)
    assert "ReAct ~34%" in table_row(out, 1) and "Retroformer ~53-54% after 4 retries" in table_row(out, 3)
    assert "Reflexion ~50%" not in table_row(out, 1)

    needs = [i % 3 for i in range(6)]
    # The actor: a search and an answer per trial played; the reflector: once per failed trial.
    assert len(player.asked("act")) == sum(2 * (n + 1) for n in needs)
    assert len(player.asked("reflect")) == sum(needs)

    data = json.loads((log_dir / "retroformer_eval.json").read_text())
    assert data["success"] == pytest.approx([2 / 6, 4 / 6, 1.0])
    assert data["mean_reward"] == pytest.approx([2 / 6, 4 / 6, 1.0])
    assert data["settings"]["retro"]["trials"] == 3 and data["settings"]["actor"] == "openai:actor"
    assert data["settings"]["reflector"] == "openai:reflector"
    assert [f["method"] for f in data["paper"]["figures"]] == ["ReAct", "Reflexion", "Retroformer"]
    episodes = data["episodes"]
    assert [len(ep["trials"]) for ep in episodes] == [n + 1 for n in needs]
    for ep, n in zip(episodes, needs, strict=True):
        assert ep["reflections"] == [REFLECTION] * n
        assert [t["won"] for t in ep["trials"]] == [False] * n + [True]
        assert all(t["steps"][-1]["action"] == f"Finish[{WRONG}]" for t in ep["trials"][:-1])
        assert ep["trials"][0]["steps"][0]["action"].startswith("Search[")
    assert (log_dir / "success_by_trial.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (log_dir / "success_by_trial.svg").read_text()
    assert "<svg" in svg and "Retroformer" in svg  # the paper's line is drawn too

    row = RiseRun.objects.get()
    assert row.kind == "retro" and row.finished is not None and row.finished_items == 6 and row.total == 6
    assert row.turns_played == sum(n + 1 for n in needs)
    assert row.metrics["headline"] == pytest.approx({"success@1": 2 / 6, "success@3": 1.0})
    items = list(RiseItem.objects.filter(run=row).order_by("position"))
    assert [i.first_right for i in items] == [n + 1 for n in needs]
    assert all(i.solved and i.finished for i in items)
    assert [i.turns for i in items] == [n + 1 for n in needs]

    # The same command again shows the stored results and asks the models nothing.
    before = len(player.requests)
    again = run(*args)
    assert "finished already" in again and "100.0%" in table_row(again, 3) and len(player.requests) == before


def test_the_default_log_dir_and_a_run_with_other_settings(player: HotpotServer, tmp_path: Path, settings: Any) -> None:
    settings.STORAGE_DIR = tmp_path
    run("--env", "hotpotqa", *SPECS, "--limit", "2", "--trials", "2")
    assert (tmp_path / "retroformer" / "eval_hotpotqa" / "retroformer_eval.json").is_file()
    with pytest.raises(CommandError, match=r"holds a run with other settings \(.*retro.max_reflections: 3 -> 1"):
        run("--env", "hotpotqa", *SPECS, "--limit", "2", "--trials", "2", "--max_reflections", "1")
    out = run("--env", "hotpotqa", *SPECS, "--limit", "3", "--trials", "2", "--overwrite")
    assert "3 tasks" in out and RiseRun.objects.get().total == 3


def test_a_run_held_by_another_process_is_refused_with_who_holds_it(player: HotpotServer, tmp_path: Path) -> None:
    from environment.runs import lease
    from training import retroformer_runs as retro
    from training.retroformer.settings import RetroSettings

    log_dir = tmp_path / "held"
    request = retro.RetroRequest(env="hotpotqa", data_path=None, log_dir=log_dir, settings=RetroSettings(trials=2),
                                 actor="openai:actor", reflector="openai:reflector", limit=2)  # fmt: skip
    run_row = retro.open_run(retro.prepare(request))
    with lease(run_row, owner="another-host:4242:1"), pytest.raises(CommandError, match="another-host:4242:1"):
        run("--env", "hotpotqa", *SPECS, "--limit", "2", "--trials", "2", "--log_dir", str(log_dir))
    assert not player.requests
    out = run("--env", "hotpotqa", *SPECS, "--limit", "2", "--trials", "2", "--log_dir", str(log_dir))
    assert "2 tasks" in out and RiseRun.objects.get().finished is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "chess"], "unknown environment 'chess'"),
        (["--env", "hotpotqa", "--limit", "0"], "--limit must be at least 1"),
        (["--env", "hotpotqa", "--trials", "0"], "--trials must be at least 1"),
        (["--env", "hotpotqa", "--actor_temperature", "3"], "--actor_temperature must be between 0 and 2"),
        (["--env", "hotpotqa", "--data", "/nonexistent/hotpot.jsonl"], "/nonexistent/hotpot.jsonl"),
        (["--env", "hotpotqa", "--actor", "nonsense:thing"], "--actor: "),
        (["--env", "hotpotqa", "--reflector", "llama_cpp:/nonexistent/model.gguf"], "cannot load"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    player: HotpotServer, tmp_path: Path, args: list[str], message: str
) -> None:
    log_dir = tmp_path / "bad"
    with pytest.raises(CommandError) as caught:
        run("--log_dir", str(log_dir), *args)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert not player.requests and not RiseRun.objects.exists() and not log_dir.exists()


def test_a_malformed_data_file_names_its_line(player: HotpotServer, tmp_path: Path) -> None:
    good = (Path(__file__).resolve().parents[2] / "training/envs/data/hotpotqa_sample.jsonl").read_text()
    data = tmp_path / "hotpot.jsonl"
    data.write_text(good.splitlines()[0] + '\n{"_id": "x", "question": \n', encoding="utf-8")
    with pytest.raises(CommandError, match="line 2") as caught:
        run("--env", "hotpotqa", *SPECS, "--data", str(data), "--log_dir", str(tmp_path / "m"))
    assert str(data) in str(caught.value)
    assert not RiseRun.objects.exists() and not player.requests


def test_a_model_server_that_is_down_stops_the_run_with_one_line(settings: Any, tmp_path: Path) -> None:
    with hotpot_server(settings) as server:
        pass  # stopped: nothing listens on its port any more
    settings.LLM_RETRY_BASE_DELAY = 0.01
    with pytest.raises(CommandError) as caught:
        run("--env", "hotpotqa", *SPECS, "--limit", "2", "--log_dir", str(tmp_path / "down"))
    message = str(caught.value)
    assert message.startswith("the model server stopped answering (") and "\n" not in message
    assert "0 of 2 tasks are finished" in message and "run the same command again" in message
    row = RiseRun.objects.get()
    assert row.run_error and row.run_state == "paused" and row.runner == "" and not server.requests


def test_an_actor_that_never_writes_an_action_fails_its_trials_with_the_reason(settings: Any, tmp_path: Path) -> None:
    with hotpot_server(settings, mode="silent") as server:
        started = time.monotonic()
        out = run("--env", "hotpotqa", *SPECS, "--limit", "2", "--trials", "2", "--log_dir", str(tmp_path / "s"))
        took = time.monotonic() - started
    assert "0.0%" in table_row(out, 1) and "0.0%" in table_row(out, 2)
    episodes = json.loads((tmp_path / "s" / "retroformer_eval.json").read_text())["episodes"]
    for ep in episodes:
        assert [t["reason"] for t in ep["trials"]] == ["no valid action", "no valid action"]
        assert all(len(t["steps"]) == 6 and all(s["invalid"] for s in t["steps"]) for t in ep["trials"])
        assert ep["reflections"] == [REFLECTION]  # the failure is still reflected on
    # 6 steps x 2 trials x 2 tasks, then nothing more: it ends at the step cap.
    assert Counter(r[0] for r in server.requests) == {"act": 24, "reflect": 2}
    assert took < 60


def test_a_100_kb_answer_is_cut_and_the_trial_ends_at_the_step_cap(settings: Any, tmp_path: Path) -> None:
    """Finish[ + 100 KB: the text is cut before parsing, so the bracket never closes; the
    environment calls it invalid each time and the trial ends at its 6-action cap."""
    with hotpot_server(settings, mode="huge") as server:
        out = run("--env", "hotpotqa", *SPECS, "--limit", "2", "--trials", "1", "--log_dir", str(tmp_path / "h"))
    assert "0.0%" in table_row(out, 1)
    assert len(server.asked("act")) == 12
    for item in RiseItem.objects.all():
        (trial,) = item.episode["trials"]
        assert trial["reason"] == "step cap" and not trial["won"] and len(trial["steps"]) == 6
        for step in trial["steps"]:
            assert len(step["raw"]) <= MAX_RAW_CHARS and step["action"].startswith("Finish[very long answer")
            assert step["invalid"] and step["observation"].startswith("Invalid action")
        assert len(json.dumps(item.episode)) < 6 * (2 * MAX_RAW_CHARS) + 4_000


@pytest.mark.model
def test_the_bundled_model_as_actor_and_reflector(tmp_path: Path, settings: Any) -> None:
    """The whole command on the real bundled Gemma 3 270M (it rarely answers right; this
    proves the path: prompts, parsing, reflections, storage, outputs)."""
    pytest.importorskip("llama_cpp")
    settings.LLM_CACHE = "off"
    started = time.monotonic()
    log_dir = tmp_path / "bundled"
    out = run("--env", "hotpotqa", "--actor", "llama_cpp:bundled", "--reflector", "llama_cpp:bundled",
              "--limit", "2", "--trials", "2", "--actor_max_tokens", "48", "--reflector_max_tokens", "64",
              "--log_dir", str(log_dir))  # fmt: skip
    took = time.monotonic() - started
    data = json.loads((log_dir / "retroformer_eval.json").read_text())
    assert len(data["success"]) == 2 and len(data["episodes"]) == 2
    assert {t.id for t in sample_tasks()[:2]} == {ep["task_id"] for ep in data["episodes"]}
    for ep in data["episodes"]:
        assert ep["trials"] and all(t["reason"] for t in ep["trials"])
        assert all(t["steps"] for t in ep["trials"])
        if len(ep["trials"]) == 2:  # the first trial failed: the reflector was asked
            assert len(ep["reflections"]) == 1 and (ep["reflections"][0] or ep["reflection_errors"][0])
    assert "trial" in out and (log_dir / "success_by_trial.png").is_file()
    print(f"bundled run_retroformer_eval, 2 tasks x 2 trials: {took:.0f}s")
