"""Build backends, embedders and gateways from spec strings (no Django here)."""

from __future__ import annotations

from collections.abc import Callable

from llm.backends.base import Backend
from llm.cache import ResponseCache
from llm.embeddings import Embedder, OpenAIEmbedder, SentenceTransformerEmbedder
from llm.gateway import Gateway
from llm.retry import RetryPolicy
from llm.spec import parse_embedding_spec, parse_model_spec
from llm.tracing import Recorder


def build_backend(model: str, *, base_url: str = "", api_key: str = "") -> Backend:
    spec = parse_model_spec(model)
    if spec.backend == "llama_cpp":
        from llm.backends.llama_cpp_backend import LlamaCppBackend

        return LlamaCppBackend(spec)
    if spec.backend == "openai":
        from llm.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(spec, base_url=base_url, api_key=api_key)
    if spec.backend == "vllm":
        from llm.backends.vllm_backend import VLLMBackend

        return VLLMBackend(spec)
    from llm.backends.transformers_backend import TransformersBackend

    return TransformersBackend(spec)


def build_embedder(embedding_model: str, *, base_url: str = "", api_key: str = "") -> Embedder:
    spec = parse_embedding_spec(embedding_model)
    if spec.backend == "openai":
        return OpenAIEmbedder(spec, base_url=base_url, api_key=api_key)
    return SentenceTransformerEmbedder(spec)


def build_gateway(
    model: str = "llama_cpp:bundled",
    *,
    base_url: str = "",
    api_key: str = "",
    embedding_model: str = "sentence_transformers:bundled",
    embedding_base_url: str = "",
    cache: ResponseCache | None = None,
    recorder: Recorder | None = None,
    cache_policy: str = "auto",
    timeout: float = 120.0,
    concurrency: int | None = None,
    outage_window: float = 60.0,
    retry_base_delay: float = 0.5,
) -> Gateway:
    """A gateway for `model`; the embeddings model loads on first `embed` call.

    Both specs are parsed now, so a typo fails at start-up rather than mid-run.
    """
    parse_embedding_spec(embedding_model)
    backend = build_backend(model, base_url=base_url, api_key=api_key)
    factory: Callable[[], Embedder] = lambda: build_embedder(  # noqa: E731
        embedding_model, base_url=embedding_base_url or base_url, api_key=api_key
    )
    return Gateway(
        backend,
        embedder_factory=factory,
        cache=cache,
        recorder=recorder,
        cache_policy=cache_policy,
        timeout=timeout,
        concurrency=concurrency or None,
        outage_window=outage_window,
        retry=RetryPolicy(base_delay=retry_base_delay),
    )
