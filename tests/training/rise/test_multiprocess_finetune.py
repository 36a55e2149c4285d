"""`manage.py run_rise_finetune` under torchrun with two processes (CPU, gloo), as the
multi-GPU command runs it: the data is split between the processes (half the steps of
one process), only the main process reports and saves, and the saved model loads
through the gateway."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from llm.factory import build_gateway
from tests.training.rise.tinymodel import tiny_model_dir, write_episodes
from training.rise.convert import convert, read_episodes, write_samples

ROOT = Path(__file__).resolve().parents[3]


def test_two_processes_split_the_data_and_the_main_one_saves(tmp_path: Path) -> None:
    base = tiny_model_dir(tmp_path / "base", chat_template=True)
    episodes = read_episodes(write_episodes(tmp_path / "2_turns.json"))
    samples = tmp_path / "train.jsonl"
    assert write_samples(convert(episodes, criteria="all").samples, samples) == 4
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "environment.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ACCELERATE_USE_CPU": "1",
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    out = tmp_path / "ft"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port),
               "manage.py", "run_rise_finetune", "--model_name_or_path", str(base), "--data_path", str(samples),
               "--output_dir", str(out), "--lora", "--num_train_epochs", "1", "--per_device_train_batch_size", "1",
               "--learning_rate", "1e-3"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("Trained 4 of 4 samples") == 1  # the main process reports, once
    record = json.loads((out / "rise_finetune.json").read_text())
    # 4 samples, 1 per process per step: 2 steps with 2 processes (one process takes 4).
    assert record["status"] == "done" and record["global_step"] == 2
    gw = build_gateway(f"transformers:{out}", cache_policy="off", timeout=60)
    try:
        answer = gw.complete("What is 2 + 3?", purpose="rise.eval", max_tokens=3)
        assert len(answer.texts) == 1 and gw.model == "transformers:ft"
    finally:
        gw.close()
