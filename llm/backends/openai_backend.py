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
import re
import threading
from collections.abc import Generator, Iterator
from typing import Any

try:  # the HTTP client the openai package is built on (httpx2 from openai 3 on)
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older openai releases
    import httpx  # type: ignore[no-redef]

from llm.backends.base import Backend
from llm.errors import LLMConfigError, LLMError, RetryableError
from llm.spec import ModelSpec
from llm.types import Generation, GenParams, Message

CHAT_MODES = ("json_schema", "json_object", "none")
COMPLETION_MODES = ("extra", "none")
_FORMAT_WORDS = ("response_format", "json_schema", "guided_json", "grammar")
# Besides 5xx: 408 (the server timed out reading the request) and 425 (too early).
RETRY_STATUSES = (408, 425)


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
        self._stream_usage = True  # ask streams for token usage until a server rejects the option
        api = spec.options.get("api", "chat")
        if api not in ("chat", "completions"):
            raise LLMConfigError(f"LLM_MODEL={spec.raw!r}: api={api!r}; use chat or completions")
        # Most served models are chat models; base models behind vLLM want ?api=completions.
        self.prefers_chat = api == "chat"

    # -- requests and error mapping -----------------------------------------------
    def _request(self, endpoint: Any, method: str = "create", **kwargs: Any) -> dict[str, Any]:
        """One request through the openai client, every failure mapped to our errors.

        The body is parsed here rather than by the client, so a cut-off or non-JSON
        body is a `bad_response` fault instead of a JSONDecodeError or a half-built
        object (the client builds response objects without validating them).
        """
        raw = self._call(getattr(endpoint.with_raw_response, method), **kwargs)
        text = _body_text(raw)
        try:
            body = json.loads(text)
        except ValueError:
            raise RetryableError(
                f"{self._where} answered 200 with a body that is not JSON: {_snippet(text)}", kind="bad_response"
            ) from None
        if not isinstance(body, dict):
            raise RetryableError(
                f"{self._where} answered 200 with JSON that is not an object: {_snippet(text)}", kind="bad_response"
            )
        return body

    @property
    def _where(self) -> str:
        return f"LLM_BASE_URL={self.base_url}"

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        o = self._openai
        where = self._where
        try:
            return fn(**kwargs)
        except o.APITimeoutError as exc:
            if isinstance(exc.__cause__, httpx.ConnectTimeout):
                raise RetryableError(
                    f"cannot connect to {where} within {kwargs.get('timeout', 0):.0f}s; is the server running?",
                    kind="refused",
                ) from None
            raise RetryableError(
                f"{where}: no answer within {kwargs.get('timeout', 0):.0f}s (LLM_TIMEOUT)", kind="timeout"
            ) from None
        except o.APIConnectionError as exc:
            raise _connection_fault(exc.__cause__ or exc, where) from None
        except o.RateLimitError as exc:
            raise RetryableError(
                f"{where} answered 429 too many requests", retry_after=_retry_after(exc), kind="rate_limited"
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
            status = exc.status_code
            if status >= 500 or status in RETRY_STATUSES:
                raise RetryableError(
                    f"{where} answered {status}: {_status_text(exc)}",
                    retry_after=_retry_after(exc),
                    kind="server_error",
                ) from None
            if status in (400, 422):
                raise RequestRejected(f"{where} rejected the request ({status}): {_status_text(exc)}") from None
            raise LLMError(f"{where} answered {status}: {_status_text(exc)}") from None
        except httpx.HTTPError as exc:  # the client let a transport error through
            raise _connection_fault(exc, where) from None
        except o.APIError as exc:  # anything else the client raises (e.g. a response it could not read)
            raise RetryableError(f"{where} sent an unusable answer: {_first_line(exc)}", kind="bad_response") from None

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

        body = self._with_modes(self._completion_modes, schema, self._client.completions, build)
        texts = [
            (i, _field(c, "text", self._where), c.get("finish_reason") or "stop")
            for i, c in _choices(body, self._where)
        ]
        return _split_usage(texts, body.get("usage"))

    def chat(
        self, messages: list[Message], *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]:
        def build(mode: str) -> dict[str, Any]:
            kwargs = self._sampling(params, n, timeout)
            # The format rides in extra_body: the same JSON on the wire, but the client
            # does not walk the schema to "transform" it (a third of a call's CPU time,
            # which delays every other request of a busy step).
            if schema is not None and mode == "json_schema":
                kwargs["extra_body"] = {"response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": schema.get("title", "answer"), "schema": schema},
                }}  # fmt: skip
            elif schema is not None and mode == "json_object":
                kwargs["extra_body"] = {"response_format": {"type": "json_object", "schema": schema}}
            return {"model": self.model_id, "messages": messages, **kwargs}

        body = self._with_modes(self._chat_modes, schema, self._client.chat.completions, build)
        texts = [
            (i, _field(c.get("message"), "content", self._where), c.get("finish_reason") or "stop")
            for i, c in _choices(body, self._where)
        ]
        return _split_usage(texts, body.get("usage"))

    def embed(self, texts: list[str], *, model: str, timeout: float) -> list[list[float]]:
        body = self._request(self._client.embeddings, model=model, input=texts, timeout=timeout)
        data = body.get("data")
        rows: list[tuple[int, list[float]]] = []
        if isinstance(data, list):
            for position, d in enumerate(data):
                vector = d.get("embedding") if isinstance(d, dict) else None
                if not isinstance(vector, list) or not vector or not all(isinstance(x, int | float) for x in vector):
                    break
                index = d.get("index")
                rows.append((index if isinstance(index, int) else position, vector))
        if not isinstance(data, list) or len(rows) != len(texts):
            got = "no data" if not isinstance(data, list) else f"{len(rows)} usable embeddings for {len(texts)} texts"
            raise RetryableError(f"{self._where} answered 200 with {got}", kind="bad_response")
        return [vector for _, vector in sorted(rows, key=lambda r: r[0])]

    def stream(
        self, kind: str, payload: str | list[Message], *, params: GenParams, timeout: float
    ) -> Generator[str, None, Generation]:
        """`stream=true` over server-sent events; closing the generator closes the response.

        Usage is asked for with `stream_options.include_usage`; a server that rejects the
        option is asked again without it (and token counts are then estimated)."""
        kwargs = self._sampling(params, 1, timeout)
        kwargs["stream"] = True
        chat = kind == "chat"
        endpoint = self._client.chat.completions if chat else self._client.completions
        body = {"messages": payload} if chat else {"prompt": payload}
        while True:
            if self._stream_usage:
                kwargs["stream_options"] = {"include_usage": True}
            try:
                response = self._call(endpoint.create, model=self.model_id, **body, **kwargs)
                break
            except RequestRejected as exc:
                if not self._stream_usage or "stream_options" not in str(exc):
                    raise
                self._stream_usage = False
                kwargs.pop("stream_options", None)
        pieces: list[str] = []
        usage: Any = None
        finish = "stop"
        try:
            for chunk in self._chunks(response):
                usage = getattr(chunk, "usage", None) or usage
                for choice in getattr(chunk, "choices", None) or []:
                    finish = getattr(choice, "finish_reason", None) or finish
                    holder = getattr(choice, "delta", None) if chat else choice
                    text = getattr(holder, "content" if chat else "text", None)
                    if isinstance(text, str) and text:
                        pieces.append(text)
                        yield text
        finally:
            response.close()
        text = "".join(pieces)
        prompt_tokens = _count(getattr(usage, "prompt_tokens", None))
        completion_tokens = _count(getattr(usage, "completion_tokens", None)) or len(pieces)
        return Generation(text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, finish_reason=finish)

    def _chunks(self, response: Any) -> Iterator[Any]:
        """The stream's chunks, its failures mapped like any other call's."""
        iterator = iter(response)
        while True:
            try:
                chunk = next(iterator)
            except StopIteration:
                return
            except httpx.HTTPError as exc:
                raise _connection_fault(exc, self._where) from None
            except self._openai.APITimeoutError:
                raise RetryableError(f"{self._where}: the stream stalled past LLM_TIMEOUT", kind="timeout") from None
            except self._openai.APIConnectionError as exc:  # the client's wrapper of a cut connection
                raise _connection_fault(exc.__cause__ or exc, self._where) from None
            except ValueError as exc:  # an event that is not JSON
                raise RetryableError(
                    f"{self._where} streamed an event that is not JSON ({_first_line(exc)})", kind="bad_response"
                ) from None
            except self._openai.APIError as exc:  # an error event in the stream
                raise RetryableError(
                    f"{self._where} streamed an error: {_first_line(exc)}", kind="server_error"
                ) from None
            yield chunk

    def probe(self, *, timeout: float) -> None:
        """Does the server answer? GET /models: any 2xx, or a 404 from a server without
        that endpoint, means it is up; refused, dropped, timed out, 429 or 5xx mean not yet."""
        try:
            self._call(self._client.models.with_raw_response.list, timeout=timeout)
        except LLMConfigError:
            return  # it answered (401/403/404): up, whatever it thinks of us

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

    def _with_modes(self, modes: list[str], schema: dict[str, Any] | None, endpoint: Any, build: Any) -> dict[str, Any]:
        """Try constraint modes in order; drop a mode for good once the server rejects it."""
        if schema is None:
            return self._request(endpoint, **build("none"))
        while True:
            mode = modes[0]
            try:
                return self._request(endpoint, **build(mode))
            except (RequestRejected, RetryableError) as exc:
                # llama-cpp-python's server answers an unknown response_format with a
                # 500 that names it: that is a rejection too, not an outage.
                if isinstance(exc, RetryableError) and not any(w in str(exc) for w in _FORMAT_WORDS):
                    raise
                if mode == "none" or len(modes) == 1:
                    raise LLMError(f"{self._where} rejected the request: {exc}") from None
                with self._lock:
                    if modes and modes[0] == mode:
                        modes.pop(0)

    def describe(self) -> str:
        return f"openai:{self.model_id} at {self.base_url}"

    def close(self) -> None:
        self._client.close()


class RequestRejected(LLMError):
    """The server refused this request as malformed (400/422): not worth retrying as is."""


def _connection_fault(cause: BaseException, where: str) -> RetryableError:
    """Refused (nothing listening, unknown host) or dropped (the connection broke)."""
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | ConnectionRefusedError):
        return RetryableError(f"nothing is listening at {where} ({cause}); is the server running?", kind="refused")
    detail = _first_line(cause) if str(cause) else type(cause).__name__
    return RetryableError(f"{where} dropped the connection before the answer was complete ({detail})", kind="dropped")


def _body_text(raw: Any) -> str:
    response = getattr(raw, "http_response", raw)
    try:
        return str(response.text)
    except (httpx.HTTPError, UnicodeDecodeError) as exc:
        raise RetryableError(f"the answer's body could not be read ({_first_line(exc)})", kind="dropped") from None


def _choices(body: dict[str, Any], where: str) -> list[tuple[int, dict[str, Any]]]:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not all(isinstance(c, dict) for c in choices):
        what = "no choices" if choices is None else "an empty choices list" if choices == [] else "malformed choices"
        raise RetryableError(f"{where} answered 200 with {what}: {_snippet(json.dumps(body))}", kind="bad_response")
    out = []
    for position, c in enumerate(choices):
        index = c.get("index")
        out.append((index if isinstance(index, int) else position, c))
    return out


def _field(holder: Any, name: str, where: str) -> str:
    value = holder.get(name) if isinstance(holder, dict) else None
    if not isinstance(value, str):
        what = "null" if value is None else type(value).__name__
        raise RetryableError(f"{where} answered 200 with {name}: {what}", kind="bad_response")
    return value


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat[:80] + ("..." if len(flat) > 80 else ""))


def _status_text(exc: Any) -> str:
    """What the error body says: the title of a proxy's HTML page, or the JSON message."""
    response = getattr(exc, "response", None)
    try:
        text = response.text if response is not None else ""
    except Exception:
        text = ""
    if "<html" in text[:500].lower() or text.lstrip().startswith("<"):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        name = " ".join(title.group(1).split()) if title else "no title"
        return f"an HTML error page ({name[:120]})"
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else body.get("message") or error
        if message:
            return " ".join(str(message).split())[:300]
    return _first_line(exc)


def _retry_after(exc: Any) -> float | None:
    try:
        value = exc.response.headers.get("retry-after")
        return float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


def _first_line(exc: BaseException) -> str:
    """The error's text on one line (servers put the useful part on later lines)."""
    text = " ".join(str(exc).split())
    return text[:400] if text else type(exc).__name__


def _split_usage(choices: list[tuple[int, str, str]], usage: Any) -> list[Generation]:
    choices = sorted(choices)
    usage = usage if isinstance(usage, dict) else {}
    prompt_tokens = _count(usage.get("prompt_tokens"))
    completion_tokens = _count(usage.get("completion_tokens"))
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


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
