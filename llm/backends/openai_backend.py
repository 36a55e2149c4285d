"""Any OpenAI-compatible server: vLLM, Ollama, llama.cpp's server, OpenAI itself.

Servers differ in how they constrain output to a JSON schema, so the backend tries
the richest form first and steps down when a server rejects it, remembering what
worked: for chat, `response_format` json_schema, then llama.cpp-style json_object
with a schema, then none; for completions, the schema in the extra body fields that
vLLM (`guided_json`), llama.cpp's server (`json_schema`) and llama-cpp-python's
server (`grammar`) read, then none. Validation after decoding covers all cases.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

try:  # the HTTP client the openai package is built on (httpx2 from openai 3 on)
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older openai releases
    import httpx  # type: ignore[no-redef]

from llm.backends.base import Backend
from llm.backends.json_http import JsonHttp, TransportError
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


# What a JSON embedding may hold: numbers (the types json.loads makes; a bool is not
# one). A set test over the element types is ~4x faster than an isinstance per element,
# and a 25-agent step parses dozens of 384-1,024-float answers in one burst.
_NUMBERS = frozenset((int, float))


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
        self._openai = openai
        self._lock = threading.Lock()
        self._clients: list[Any] = []  # every HTTP client made, to close
        self._idle: list[Any] = []
        # Streams and probes go through the openai client; a URL it refuses fails here.
        self._shared = openai.OpenAI(base_url=self.base_url, api_key=api_key or "not-needed", max_retries=0)
        self._url = str(self._shared.base_url).rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {api_key or 'not-needed'}",
            "Accept": "application/json",
            "User-Agent": f"OpenAI/Python {openai.__version__}",
        }
        for header, value in (("OpenAI-Organization", self._shared.organization),
                              ("OpenAI-Project", self._shared.project)):  # fmt: skip
            if value:
                self._headers[header] = value
        # Straight to the server on the standard library's HTTP (json_http says why);
        # through httpx when the environment names a proxy for it.
        self._direct = JsonHttp(self._url, self._headers) if JsonHttp.usable_for(self._url) else None
        forced = spec.options.get("constrain")
        if forced and forced != "auto" and forced not in CHAT_MODES + COMPLETION_MODES:
            raise LLMConfigError(f"LLM_MODEL={spec.raw!r}: constrain={forced!r}; use auto, {', '.join(CHAT_MODES)}")
        self._chat_modes = [forced] if forced in CHAT_MODES else list(CHAT_MODES)
        self._completion_modes = [forced] if forced in COMPLETION_MODES else list(COMPLETION_MODES)
        self._stream_usage = True  # ask streams for token usage until a server rejects the option
        api = spec.options.get("api", "chat")
        if api not in ("chat", "completions"):
            raise LLMConfigError(f"LLM_MODEL={spec.raw!r}: api={api!r}; use chat or completions")
        # Most served models are chat models; base models behind vLLM want ?api=completions.
        self.prefers_chat = api == "chat"

    # -- requests and error mapping -----------------------------------------------
    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        """An HTTP client used by one call at a time, taken from the idle ones (a new one
        when all are busy) and given back after the call.

        One client per call in flight instead of one shared by all: a shared client's
        connection pool scans (and polls the socket of) every idle connection each time
        it places or releases a request, which at 64 calls in flight cost more CPU than
        the rest of the request; each of these has one connection to scan.
        """
        with self._lock:
            client = self._idle.pop() if self._idle else None
        if client is None:
            client = httpx.Client()
            with self._lock:
                self._clients.append(client)
        try:
            yield client
        finally:
            with self._lock:
                self._idle.append(client)

    def _post(self, path: str, body: dict[str, Any], *, timeout: float) -> Any:
        """POST `body` as JSON to `path`; a transport failure or an error status is
        raised as one of our errors, an answer is returned with its body read.

        Plain HTTP rather than the openai client's typed endpoints, which walk every
        message and schema to "transform" them and build their options as models. With
        the client per call (`_connection`), this cut the CPU time of a 25-agent planning
        step from 0.80 to 0.50 s, time that had delayed every other request of the burst
        (bench/orchestration.py). Streams and probes still go through the openai client.
        The POST itself goes over json_http (HTTP/1.1 on a buffered socket, 0.2 instead
        of 1.2-1.6 ms of CPU a call, bench/http_client.py), or httpx when a proxy is
        configured.
        """
        response: Any
        if self._direct is not None:
            try:
                response = self._direct.post(path, body, timeout=timeout)
            except TransportError as exc:
                raise self._transport_fault(exc, timeout) from None
        else:
            with self._connection() as client:
                try:
                    response = client.post(self._url + path, json=body, headers=self._headers, timeout=timeout)
                except httpx.TimeoutException as exc:
                    raise self._timeout_fault(isinstance(exc, httpx.ConnectTimeout), timeout) from None
                except httpx.HTTPError as exc:
                    raise _connection_fault(exc, self._where) from None
        if response.status_code >= 400:
            raise self._status_fault(response.status_code, response, _json_or_none(response), fallback=response.text)
        return response

    def _request(self, path: str, body: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        """POST one request and parse the answer here, so that a cut-off or non-JSON body
        is a `bad_response` fault instead of a JSONDecodeError or a half-built object."""
        text = _body_text(self._post(path, body, timeout=timeout))
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

    def _call(self, request: Callable[[], Any], timeout: float) -> Any:
        """`request()` through the openai client (streams, probes), every failure mapped
        to our errors as `_post` maps them (`timeout` is the one it was given)."""
        o = self._openai
        try:
            return request()
        except o.APITimeoutError as exc:
            raise self._timeout_fault(isinstance(exc.__cause__, httpx.ConnectTimeout), timeout) from None
        except o.APIConnectionError as exc:
            raise _connection_fault(exc.__cause__ or exc, self._where) from None
        except o.APIStatusError as exc:
            raise self._status_fault(exc.status_code, exc.response, exc.body, fallback=_first_line(exc)) from None
        except httpx.HTTPError as exc:  # the client let a transport error through
            raise _connection_fault(exc, self._where) from None
        except o.APIError as exc:  # anything else the client raises (e.g. a response it could not read)
            raise RetryableError(
                f"{self._where} sent an unusable answer: {_first_line(exc)}", kind="bad_response"
            ) from None

    def _transport_fault(self, exc: TransportError, timeout: float) -> RetryableError:
        if exc.kind in ("connect_timeout", "timeout"):
            return self._timeout_fault(exc.kind == "connect_timeout", timeout)
        return _connection_fault(exc.cause, self._where, refused=exc.kind == "refused")

    def _timeout_fault(self, connecting: bool, timeout: float) -> RetryableError:
        if connecting:
            return RetryableError(
                f"cannot connect to {self._where} within {timeout:.0f}s; is the server running?", kind="refused"
            )
        return RetryableError(f"{self._where}: no answer within {timeout:.0f}s (LLM_TIMEOUT)", kind="timeout")

    def _status_fault(self, status: int, response: Any, body: Any, *, fallback: str) -> LLMError:
        """The error for an answer with an error status (`body`: its JSON, if any)."""
        where = self._where
        if status == 429:
            return RetryableError(
                f"{where} answered 429 too many requests", retry_after=_retry_after(response), kind="rate_limited"
            )
        if status == 401:
            return LLMConfigError(f"{where} rejected the API key: set LLM_API_KEY")
        if status == 403:
            return LLMConfigError(f"{where} denied access for model {self.model_id!r}: check LLM_API_KEY")
        if status == 404:
            return LLMConfigError(
                f"{where} has no model {self.model_id!r} (or no such endpoint): check LLM_MODEL and LLM_BASE_URL"
            )
        text = _status_text(response, body, fallback)
        if status >= 500 or status in RETRY_STATUSES:
            return RetryableError(
                f"{where} answered {status}: {text}", retry_after=_retry_after(response), kind="server_error"
            )
        if status in (400, 422):
            return RequestRejected(f"{where} rejected the request ({status}): {text}")
        return LLMError(f"{where} answered {status}: {text}")

    # -- calls -------------------------------------------------------------------
    def complete(
        self, prompt: str, *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]:
        def build(mode: str) -> dict[str, Any]:
            body = {"model": self.model_id, "prompt": prompt, **self._sampling(params, n)}
            if schema is not None and mode == "extra":
                body.update(json_schema=schema, guided_json=schema)
                gbnf = _gbnf_for(schema)
                if gbnf:
                    body["grammar"] = gbnf
            return body

        body = self._with_modes(self._completion_modes, schema, "/completions", build, timeout)
        texts = [
            (i, _field(c, "text", self._where), c.get("finish_reason") or "stop")
            for i, c in _choices(body, self._where)
        ]
        return _split_usage(texts, body.get("usage"))

    def chat(
        self, messages: list[Message], *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]:
        def build(mode: str) -> dict[str, Any]:
            body = {"model": self.model_id, "messages": messages, **self._sampling(params, n)}
            if schema is not None and mode == "json_schema":
                name = schema.get("title", "answer")
                body["response_format"] = {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
            elif schema is not None and mode == "json_object":
                body["response_format"] = {"type": "json_object", "schema": schema}
            return body

        body = self._with_modes(self._chat_modes, schema, "/chat/completions", build, timeout)
        texts = [
            (i, _field(c.get("message"), "content", self._where), c.get("finish_reason") or "stop")
            for i, c in _choices(body, self._where)
        ]
        return _split_usage(texts, body.get("usage"))

    def embed(self, texts: list[str], *, model: str, timeout: float) -> list[list[float]]:
        body = self._request("/embeddings", {"model": model, "input": texts}, timeout=timeout)
        data = body.get("data")
        rows: list[tuple[int, list[float]]] = []
        if isinstance(data, list):
            for position, d in enumerate(data):
                vector = d.get("embedding") if isinstance(d, dict) else None
                if not isinstance(vector, list) or not vector or not _NUMBERS.issuperset(map(type, vector)):
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
        kwargs = self._sampling(params, 1)
        kwargs["stream"] = True
        chat = kind == "chat"
        client = self._shared
        endpoint = client.chat.completions if chat else client.completions
        body = {"messages": payload} if chat else {"prompt": payload}
        while True:
            if self._stream_usage:
                kwargs["stream_options"] = {"include_usage": True}
            try:
                response = self._call(
                    functools.partial(endpoint.create, model=self.model_id, timeout=timeout, **body, **kwargs), timeout
                )
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
            self._call(functools.partial(self._shared.models.with_raw_response.list, timeout=timeout), timeout)
        except LLMConfigError:
            return  # it answered (401/403/404): up, whatever it thinks of us

    # -- helpers -----------------------------------------------------------------
    @staticmethod
    def _sampling(params: GenParams, n: int) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "n": n,
        }
        if params.stop:
            kwargs["stop"] = list(params.stop)
        if params.seed is not None:
            kwargs["seed"] = params.seed
        return kwargs

    def _with_modes(
        self,
        modes: list[str],
        schema: dict[str, Any] | None,
        path: str,
        build: Callable[[str], dict[str, Any]],
        timeout: float,
    ) -> dict[str, Any]:
        """Try constraint modes in order; drop a mode for good once the server rejects it."""
        if schema is None:
            return self._request(path, build("none"), timeout=timeout)
        while True:
            mode = modes[0]
            try:
                return self._request(path, build(mode), timeout=timeout)
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
        with self._lock:
            clients, self._clients, self._idle = self._clients, [], []
        for client in clients:
            client.close()
        if self._direct is not None:
            self._direct.close()
        self._shared.close()


class RequestRejected(LLMError):
    """The server refused this request as malformed (400/422): not worth retrying as is."""


def _connection_fault(cause: BaseException, where: str, *, refused: bool = False) -> RetryableError:
    """Refused (nothing listening, unknown host; `refused` when the caller knows it
    failed while connecting) or dropped (the connection broke)."""
    if refused or isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | ConnectionRefusedError):
        return RetryableError(f"nothing is listening at {where} ({cause}); is the server running?", kind="refused")
    detail = _first_line(cause) if str(cause) else type(cause).__name__
    return RetryableError(f"{where} dropped the connection before the answer was complete ({detail})", kind="dropped")


def _body_text(response: Any) -> str:
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


def _status_text(response: Any, body: Any, fallback: str) -> str:
    """What the error body says: the title of a proxy's HTML page, or the JSON message."""
    try:
        text = response.text if response is not None else ""
    except Exception:
        text = ""
    if "<html" in text[:500].lower() or text.lstrip().startswith("<"):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        name = " ".join(title.group(1).split()) if title else "no title"
        return f"an HTML error page ({name[:120]})"
    if isinstance(body, dict):
        error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else body.get("message") or error
        if message:
            return " ".join(str(message).split())[:300]
    return " ".join(fallback.split())[:400] or "no details"


def _json_or_none(response: Any) -> Any:
    try:
        return json.loads(response.text)
    except (ValueError, UnicodeDecodeError):
        return None


def _retry_after(response: Any) -> float | None:
    try:
        value = response.headers.get("retry-after")
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
