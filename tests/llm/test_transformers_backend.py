"""The transformers backend on a tiny local model: chats rendered by a template that
writes BOS itself are not given a second BOS (training tokenises them with one)."""

from __future__ import annotations

from pathlib import Path

from llm.factory import build_backend
from llm.types import GenParams
from tests.training.rise.tinymodel import tiny_model_dir


def test_a_template_that_writes_bos_gets_no_second_one(tmp_path: Path) -> None:
    folder = tiny_model_dir(tmp_path / "m", chat_template=True)
    backend = build_backend(f"transformers:{folder}")
    params = GenParams(max_tokens=2, temperature=0.0, top_p=1.0, stop=(), seed=None)
    prompt, params = backend.render_chat([{"role": "user", "content": "What is 2 + 3?"}], params)  # type: ignore[attr-defined]
    tok = backend._tok  # type: ignore[attr-defined]
    assert prompt.startswith(tok.bos_token)
    once = len(tok(prompt, add_special_tokens=False)["input_ids"])
    [[gen]] = backend.complete_batch([prompt], params=params, n=1, schema=None, timeout=30)
    assert gen.prompt_tokens == once
    # A plain prompt still gets its BOS from the tokenizer.
    [[plain]] = backend.complete_batch(["What is 2 + 3?"], params=params, n=1, schema=None, timeout=30)
    assert plain.prompt_tokens == len(tok("What is 2 + 3?")["input_ids"])
    assert tok("What is 2 + 3?")["input_ids"][0] == tok.bos_token_id
