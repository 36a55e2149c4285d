"""The whole RISE loop on CPU through the real commands: generate episodes (a student
model server), convert them into weighted samples, finetune a small model on them,
and evaluate the finetuned model through the gateway's transformers backend."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from environment.gateway import reset_gateway
from tests.training.rise.tinymodel import tiny_model_dir
from tests.training.student_server import StudentServer
from training.envs import get_env
from training.models import RiseRun

pytestmark = pytest.mark.django_db(transaction=True)


def run(command: str, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_gen_convert_finetune_eval(settings: Any, tmp_path: Path) -> None:
    env = get_env("gsm8k")
    server = StudentServer({p.question: env.gold_answer(p.gold) for p in env.load(None)})
    settings.LLM_BASE_URL, settings.LLM_API_KEY, settings.LLM_CACHE = server.base_url, "test", "off"
    reset_gateway()
    try:
        run("run_rise_gen", "--models", "openai:student", "--limit", "6", "--max_turns", "2",
            "--num_of_samples", "1", "2", "--log_dir", str(tmp_path / "gen"))  # fmt: skip
    finally:
        server.stop()
    episodes = json.loads((tmp_path / "gen" / "2_turns.json").read_text())
    assert len(episodes) == 6 and all(ep["rewards"] == [0, 1] for ep in episodes)

    base = tiny_model_dir(tmp_path / "base", chat_template=True)
    samples = tmp_path / "train.jsonl"
    out = run("run_rise_convert", "--filepath", str(tmp_path / "gen" / "2_turns.json"), "--output", str(samples),
              "--model_path", str(base), "--env", "gsm8k", "--criteria", "better")  # fmt: skip
    lines = [json.loads(line) for line in samples.read_text().splitlines()]
    assert len(lines) == 6, out  # the six improved turns (turn 2 of every episode)
    assert all(line["messages"][-1]["role"] == "assistant" and line["reward"] == 1 for line in lines)
    # The improved turn is trained in the context of the wrong one and its feedback.
    assert [m["role"] for m in lines[0]["messages"]] == ["user", "assistant", "user", "assistant"]

    model_dir = tmp_path / "ft"
    run("run_rise_finetune", "--model_name_or_path", str(base), "--data_path", str(samples),
        "--output_dir", str(model_dir), "--max_steps", "2", "--per_device_train_batch_size", "2",
        "--learning_rate", "1e-3", "--max_length", "2048")  # fmt: skip
    record = json.loads((model_dir / "rise_finetune.json").read_text())
    assert record["status"] == "done" and record["trained_samples"] == 6 and record["global_step"] == 2
    assert record["train_loss"] is not None and record["train_loss"] > 0

    eval_out = run("run_rise_eval", "--model", f"transformers:{model_dir}", "--limit", "2", "--max_turns", "2",
                   "--num_of_samples", "1", "1", "--max_tokens", "8", "--log_dir", str(tmp_path / "eval"))  # fmt: skip
    assert "m1@t1" in eval_out and "p1@t2" in eval_out
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["metrics"]["problems"] == 2
    evaluated = RiseRun.objects.get(kind="eval")
    assert evaluated.finished is not None and evaluated.config["rollout"]["models"] == [f"transformers:{model_dir}"]
    # The finetuned model really answered: its words are in the episodes.
    eval_episodes = json.loads((tmp_path / "eval" / "2_turns.json").read_text())
    assert all(len(ep["actions"]) == 2 for ep in eval_episodes)
    assert all(ep["models"] == [f"transformers:{model_dir}"] * 2 for ep in eval_episodes)
