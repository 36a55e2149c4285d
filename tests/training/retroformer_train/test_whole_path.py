"""The README's whole path in one run: collect reflections, train SFT, a reward model
and the policy on them (tiny model, CPU), then evaluate with the trained reflector on
the real bundled Gemma 3 270M as the actor. It proves the links: what collect writes
is what the trainers read, and what the trainers save is what `--reflector` loads."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

pytest.importorskip("torch")

from tests.training.retroformer_train import scripted

TINY = ["--max_steps", "1", "--batch_size", "2", "--lr", "1e-2", "--warmup_ratio", "0", "--max_length", "4096"]


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def spec_printed(text: str) -> str:
    return text.strip().rsplit("--reflector ", 1)[1].strip()


@pytest.mark.model
@pytest.mark.django_db(transaction=True)
def test_collect_train_then_evaluate_with_the_trained_reflector(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    pytest.importorskip("llama_cpp")
    settings.LLM_CACHE = "off"
    data = tmp_path / "reflections.jsonl"
    with monkeypatch.context() as scripted_models:  # collect with scripted models: rewards that differ
        made: dict[str, Any] = {}

        def build(spec: str) -> Any:
            made[spec] = scripted.learner_actor() if spec == "actor" else scripted.reflector()
            return made[spec]

        scripted_models.setattr("training.services._gateway_from_settings", build)
        run("retroformer_collect", "--env", "hotpotqa", "--actor", "actor", "--reflector", "reflector",
            "--trials", "2", "--limit", "3", "--out", str(data))  # fmt: skip
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    assert len(rows) == 3 and all(row["reward"] == 1.0 for row in rows)

    sft = spec_printed(run("retroformer_sft", "--data", str(data), "--base", str(tiny), "--out",
                           str(tmp_path / "sft"), *TINY))  # fmt: skip
    assert sft == f"transformers:{(tmp_path / 'sft').resolve()}"
    # Pairs need reflections of one task with different rewards: add worse ones.
    worse = [{**row, "reflection": "Try again.", "return_after": 0.0, "reward": 0.0} for row in rows]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows + worse))
    run("retroformer_reward", "--data", str(data), "--base", str(tiny), "--out", str(tmp_path / "rm"),
        "--min_pairs", "2", *TINY)  # fmt: skip
    policy = spec_printed(run("retroformer_policy", "--data", str(data), "--base", str(tiny), "--out",
                              str(tmp_path / "policy"), "--reward_model", str(tmp_path / "rm"),
                              "--num_generations", "2", "--max_completion_length", "8", *TINY))  # fmt: skip

    log_dir = tmp_path / "eval"
    out = run("run_retroformer_eval", "--env", "hotpotqa", "--actor", "llama_cpp:bundled", "--reflector", policy,
              "--limit", "1", "--trials", "2", "--actor_max_tokens", "32", "--reflector_max_tokens", "16",
              "--log_dir", str(log_dir))  # fmt: skip
    result = json.loads((log_dir / "retroformer_eval.json").read_text())
    [episode] = result["episodes"]
    assert episode["trials"] and all(trial["steps"] for trial in episode["trials"])
    if len(episode["trials"]) == 2:  # trial 1 failed: the trained reflector wrote the memory of trial 2
        assert episode["reflections"][0] or episode["reflection_errors"][0]
    assert "trial" in out and (log_dir / "success_by_trial.png").is_file()
