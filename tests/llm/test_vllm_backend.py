"""The vLLM backend against a stand-in `vllm` module (vLLM needs CUDA; CI has none):
what it asks the engine for, and how the gateway batches chats through it."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from llm.errors import LLMConfigError
from llm.factory import build_backend
from llm.gateway import Gateway
from llm.tracing import MemoryRecorder


class FakeTokenizer:
    chat_template = "{{ messages }}"

    def apply_chat_template(self, messages: list[dict[str, str]], tokenize: bool, add_generation_prompt: bool) -> str:
        return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"


class FakeLLM:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.calls: list[tuple[list[str], Any]] = []

    def get_tokenizer(self) -> FakeTokenizer:
        return FakeTokenizer()

    def generate(self, prompts: list[str], sampling: Any, use_tqdm: bool = True) -> list[Any]:
        self.calls.append((list(prompts), sampling))
        outs = []
        for p in prompts:
            choices = [
                types.SimpleNamespace(text=f"answer {j} to {p[-20:]}", token_ids=[1, 2, 3], finish_reason="stop")
                for j in range(sampling.n)
            ]
            outs.append(types.SimpleNamespace(prompt_token_ids=[0] * 7, outputs=choices))
        return outs


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("vllm")
    module.LLM = FakeLLM  # type: ignore[attr-defined]
    module.SamplingParams = lambda **kw: types.SimpleNamespace(**kw)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", module)
    return module


def test_options_reach_the_engine_and_a_batch_is_one_generate_call(fake_vllm: types.ModuleType) -> None:
    backend = build_backend("vllm:/models/mistral?tensor_parallel_size=4&gpu_memory_utilization=0.85&dtype=bfloat16")
    llm = backend._llm  # type: ignore[attr-defined]
    assert llm.kwargs == {
        "model": "/models/mistral",
        "tensor_parallel_size": 4,
        "gpu_memory_utilization": 0.85,
        "dtype": "bfloat16",
    }
    recorder = MemoryRecorder()
    gw = Gateway(backend, recorder=recorder)
    chats = [[{"role": "user", "content": f"problem {i}"}] for i in range(5)]
    out = gw.chat_batch(chats, purpose="rise.eval", n=2, temperature=0.7, seed=3, items=[str(i) for i in range(5)])
    assert len(llm.calls) == 1
    prompts, sampling = llm.calls[0]
    assert prompts[0] == "<user>problem 0<assistant>" and len(prompts) == 5
    assert (sampling.n, sampling.temperature, sampling.seed) == (2, 0.7, 3)
    assert [len(c.texts) for c in out] == [2] * 5
    assert sum(t.completion_tokens for t in recorder.traces) == 5 * 2 * 3
    assert [t.item for t in recorder.traces] == ["0", "1", "2", "3", "4"]


def test_without_vllm_the_spec_fails_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm raises ImportError
    with pytest.raises(LLMConfigError, match=r"vLLM is not installed \(pip install vllm"):
        build_backend("vllm:/models/mistral")
