"""Any OpenAI-compatible server: vLLM, Ollama, llama.cpp's server, OpenAI itself.

Servers differ in how they constrain output to a JSON schema, so the backend tries
the richest form first and steps down when a server rejects it, remembering what
worked: for chat, `response_format` json_schema, then llama.cpp-style json_object
with a schema, then none; for completions, the schema in the extra body fields that
vLLM (`guided_json`), llama.cpp's server (`json_schema`) and llama-cpp-python's
server (`grammar`) read, then none. Validation after decoding covers all cases.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from llm.backends.base import Backend
from llm.errors import LLMConfigError, LLMError, LLMTimeout, RetryableError
from llm.spec import ModelSpec
from llm.types import Generation, GenParams, Message

CHAT_MODES = ("json_schema", "json_object", "none")
COMPLETION_MODES = ("extra", "none")
_FORMAT_WORDS = ("response_format", "json_schema", "guided_json", "grammar")


def _gbnf_for(schema: dict[str, Any]) -> str | None:
    try:
        from llama_cpp.llama_grammar import json_schema_to_gbnf
    except ImportError:
        return None
    try:
        return str(json_schema_to_gbnf(json.dumps(schema)))
    except Exception:
        return None


class OpenAIBackend(Backend):
    kind = "openai"
    default_concurrency = 16

    def __init__(self, spec: ModelSpec, *, base_url: str, api_key: str) -> None:
        import openai

        if not base_url and not api_key:
            raise LLMConfigError(
                f"LLM_MODEL={spec.raw!r} needs LLM_BASE_URL (an OpenAI-compatible server such as "
                "http://127.0.0.1:8000/v1) or LLM_API_KEY (for OpenAI itself)"
            )
        self.model_id = spec.target
        self.base_url = base_url or "https://api.openai.com/v1"
        self.default_concurrency = spec.option_int("concurrency", 16)
        self._client = openai.OpenAI(base_url=self.base_url, api_key=api_key or "not-needed", max_retries=0)
        self._openai = openai
        forced = spec.options.get("constrain")
        if forced and forced != "auto" and forced not in CHAT_MODES + COMPLETION_MODES:
            raise LLMConfigError(f"LLM_MODEL={spec.raw!r}: constrain={forced!r}; use auto, {', '.join(CHAT_MODES)}")
        self._chat_modes = [forced] if forced in CHAT_MODES else list(CHAT_MODES)
        self._completion_modes = [forced] if forced in COMPLETION_MODES else list(COMPLETION_MODES)
        self._lock = threading.Lock()
        api = spec.options.get("api", "chat")
        if api not in ("chat", "completions"):
            raise LLMConfigError(f"LLM_MODEL={spec.raw!r}: api={api!r}; use chat or completions")
        # Most served models are chat models; base models behind vLLM want ?api=completions.
        self.prefers_chat = api == "chat"

    # -- error mapping -------------------------------------------------------------
    def _call(self, fn: Any, **kwargs: Any) -> Any:
        o = self._openai
        where = f"LLM_BASE_URL={self.base_url}"
        try:
            return fn(**kwargs)
        except o.APITimeoutError:
            raise LLMTimeout(f"{where}: no answer within {kwargs.get('timeout', 0):.0f}s (LLM_TIMEOUT)") from None
        except o.APIConnectionError as exc:
            raise RetryableError(
                f"cannot reach {where} ({exc.__cause__ or exc}); is the server running?", kind="connection"
            ) from None
        except o.RateLimitError as exc:
            raise RetryableError(
                f"{where} answered 429 too many requests", retry_after=_retry_after(exc), kind="rate_limit"
            ) from None
        except o.AuthenticationError:
            raise LLMConfigError(f"{where} rejected the API key: set LLM_API_KEY") from None
        except o.PermissionDeniedError:
            raise LLMConfigError(f"{where} denied access for model {self.model_id!r}: check LLM_API_KEY") from None
        except o.NotFoundError:
            raise LLMConfigError(
                f"{where} has no model {self.model_id!r} (or no such endpoint): check LLM_MODEL and LLM_BASE_URL"
            ) from None
        except o.APIStatusError as exc:
            if exc.status_code >= 500 or exc.status_code == 408:
                raise RetryableError(
                    f"{where} answered {exc.status_code}: {_first_line(exc)}", retry_after=_retry_after(exc)
                ) from None
            raise

    # -- calls -------------------------------------------------------------------
    def complete(
        self, prompt: str, *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]:
        def build(mode: str) -> dict[str, Any]:
            kwargs = self._sampling(params, n, timeout)
            if schema is not None and mode == "extra":
                extra: dict[str, Any] = {"json_schema": schema, "guided_json": schema}
                gbnf = _gbnf_for(schema)
                if gbnf:
                    extra["grammar"] = gbnf
                kwargs["extra_body"] = extra
            return {"model": self.model_id, "prompt": prompt, **kwargs}

        resp = self._with_modes(self._completion_modes, schema, self._client.completions.create, build)
        texts = [(c.index, c.text or "", c.finish_reason or "stop") for c in resp.choices]
        return _split_usage(texts, resp.usage)

    def chat(
        self, messages: list[Message], *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]:
        def build(mode: str) -> dict[str, Any]:
            kwargs = self._sampling(params, n, timeout)
            if schema is not None and mode == "json_schema":
                kwargs["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": schema.get("title", "answer"), "schema": schema},
                }
            elif schema is not None and mode == "json_object":
                kwargs["response_format"] = {"type": "json_object", "schema": schema}
            return {"model": self.model_id, "messages": messages, **kwargs}

        resp = self._with_modes(self._chat_modes, schema, self._client.chat.completions.create, build)
        texts = [(c.index, c.message.content or "", c.finish_reason or "stop") for c in resp.choices]
        return _split_usage(texts, resp.usage)

    def embed(self, texts: list[str], *, model: str, timeout: float) -> list[list[float]]:
        resp = self._call(self._client.embeddings.create, model=model, input=texts, timeout=timeout)
        return [d.embedding for d in sorted(resp.data, key=lambda d: d.index)]

    # -- helpers -----------------------------------------------------------------
    @staticmethod
    def _sampling(params: GenParams, n: int, timeout: float) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "n": n,
            "timeout": timeout,
        }
        if params.stop:
            kwargs["stop"] = list(params.stop)
        if params.seed is not None:
            kwargs["seed"] = params.seed
        return kwargs

    def _with_modes(self, modes: list[str], schema: dict[str, Any] | None, fn: Any, build: Any) -> Any:
        """Try constraint modes in order; drop a mode for good once the server rejects it."""
        if schema is None:
            return self._call(fn, **build("none"))
        while True:
            mode = modes[0]
            try:
                return self._call(fn, **build(mode))
            except (self._openai.BadRequestError, self._openai.UnprocessableEntityError, RetryableError) as exc:
                # llama-cpp-python's server answers an unknown response_format with a
                # 500 that names it: that is a rejection too, not an outage.
                if isinstance(exc, RetryableError) and not any(w in str(exc) for w in _FORMAT_WORDS):
                    raise
                if mode == "none" or len(modes) == 1:
                    raise LLMError(f"LLM_BASE_URL={self.base_url} rejected the request: {_first_line(exc)}") from None
                with self._lock:
                    if modes and modes[0] == mode:
                        modes.pop(0)

    def describe(self) -> str:
        return f"openai:{self.model_id} at {self.base_url}"

    def close(self) -> None:
        self._client.close()


def _retry_after(exc: Any) -> float | None:
    try:
        value = exc.response.headers.get("retry-after")
        return float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


def _first_line(exc: Exception) -> str:
    """The error's text on one line (servers put the useful part on later lines)."""
    text = " ".join(str(exc).split())
    return text[:400] if text else type(exc).__name__


def _split_usage(choices: list[tuple[int, str, str]], usage: Any) -> list[Generation]:
    choices = sorted(choices)
    prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
    share = completion_tokens // max(len(choices), 1)
    out = []
    for i, (_, text, finish) in enumerate(choices):
        out.append(
            Generation(
                text=text,
                prompt_tokens=prompt_tokens if i == 0 else 0,
                completion_tokens=share + (completion_tokens - share * len(choices) if i == 0 else 0),
                finish_reason=finish,
            )
        )
    return out
