"""Every transport and parse fault of an OpenAI-compatible server maps to a named error.

Each case runs over real HTTP (tests/llm/http_fake.py) for chat, completions and
embeddings: once where the fault heals (the call succeeds, the fault is on the
trace with its kind and wait), once where it never does (the gateway raises
LLMUnavailable of that kind with a one-line message; nothing from the HTTP client
or the JSON parser escapes).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from llm.errors import LLMError, LLMRateLimited, LLMTimeout, LLMUnavailable
from llm.factory import build_gateway
from llm.retry import RetryPolicy
from llm.servers import free_port
from llm.tracing import MemoryRecorder
from tests.llm.http_fake import FakeOpenAIServer, chat_body, completion_body, embeddings_body

ENDPOINTS = ("chat", "completions", "embeddings")
TIMEOUT = 0.4

HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"


def good(endpoint: str) -> dict[str, Any]:
    if endpoint == "chat":
        return chat_body("fine")
    if endpoint == "completions":
        return completion_body("fine")
    return embeddings_body([[1.0, 0.0]])


def without_choices(endpoint: str) -> dict[str, Any]:
    body = good(endpoint)
    body.pop("data" if endpoint == "embeddings" else "choices")
    return body


def empty_choices(endpoint: str) -> dict[str, Any]:
    body = good(endpoint)
    body["data" if endpoint == "embeddings" else "choices"] = []
    return body


def null_content(endpoint: str) -> dict[str, Any]:
    body = good(endpoint)
    if endpoint == "chat":
        body["choices"][0]["message"]["content"] = None
    elif endpoint == "completions":
        body["choices"][0]["text"] = None
    else:
        body["data"][0]["embedding"] = None
    return body


# name -> (step for FakeOpenAIServer.add as (status, body, headers), the fault kind)
FAULTS: dict[str, tuple[Any, str]] = {
    "dropped mid-body": (lambda e: (200, good(e), {"x_fake_drop": "1"}), "dropped"),
    "read timeout": (lambda e: (200, good(e), {"x_fake_delay": str(TIMEOUT * 2.5)}), "timeout"),
    "408": (lambda e: (408, {"error": {"message": "request timeout"}}, {}), "server_error"),
    "425": (lambda e: (425, {"error": {"message": "too early"}}, {}), "server_error"),
    "429": (lambda e: (429, {"error": {"message": "slow down"}}, {"retry_after": "0.01"}), "rate_limited"),
    "500 json": (lambda e: (500, {"error": {"message": "engine crashed"}}, {}), "server_error"),
    "502 html": (lambda e: (502, HTML_502, {"content_type": "text/html"}), "server_error"),
    "200 not json": (lambda e: (200, b"<html>oops</html>", {"content_type": "text/html"}), "bad_response"),
    "200 cut-off json": (lambda e: (200, b'{"id": "x", "choices": [{"index": 0, "te', {}), "bad_response"),
    "200 without choices": (lambda e: (200, without_choices(e), {}), "bad_response"),
    "200 empty choices": (lambda e: (200, empty_choices(e), {}), "bad_response"),
    "200 content null": (lambda e: (200, null_content(e), {}), "bad_response"),
}


def gateway(base_url: str) -> Any:
    gw = build_gateway(
        "openai:m",
        base_url=base_url,
        embedding_model="openai:e",
        timeout=TIMEOUT,
        recorder=MemoryRecorder(),
        cache_policy="off",
    )
    gw.retry = RetryPolicy(base_delay=0.001, max_delay=0.01)
    return gw


def call(gw: Any, endpoint: str, srv_url: str) -> Any:
    if endpoint == "chat":
        return gw.chat([{"role": "user", "content": "hi"}], purpose="t.fault").text
    if endpoint == "completions":
        completions = build_gateway("openai:m?api=completions", base_url=srv_url, timeout=TIMEOUT,
                                    recorder=gw.recorder, cache_policy="off")  # fmt: skip
        completions.retry = gw.retry
        return completions.complete("hi", purpose="t.fault").text
    return gw.embed(["hi"], purpose="t.fault")


def add(srv: FakeOpenAIServer, step: tuple[int, Any, dict[str, str]]) -> None:
    status, body, headers = step
    srv.add(status, body, **headers)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_that_heals_is_retried_and_recorded_with_its_kind(fault: str, endpoint: str) -> None:
    make_step, kind = FAULTS[fault]
    with FakeOpenAIServer() as srv:
        add(srv, make_step(endpoint))
        add(srv, (200, good(endpoint), {}))
        gw = gateway(srv.base_url)
        result = call(gw, endpoint, srv.base_url)
        traces = gw.recorder.traces
    if endpoint == "embeddings":
        assert result.shape == (1, 2)
    else:
        assert result == "fine"
    trace = traces[-1]
    assert [f["kind"] for f in trace.faults] == [kind], trace.faults
    assert trace.retries == 1 and trace.faults[0]["wait"] is not None


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_that_never_heals_raises_a_named_one_line_error(fault: str, endpoint: str) -> None:
    make_step, kind = FAULTS[fault]
    with FakeOpenAIServer() as srv:
        for _ in range(10):
            add(srv, make_step(endpoint))
        gw = gateway(srv.base_url)
        with pytest.raises(LLMError) as err:
            call(gw, endpoint, srv.base_url)
    assert isinstance(err.value, LLMUnavailable) and err.value.kind == kind
    assert type(err.value) is {"timeout": LLMTimeout, "rate_limited": LLMRateLimited}.get(kind, LLMUnavailable)
    message = str(err.value)
    assert "\n" not in message and "LLM_BASE_URL" in message and "gave up after" in message
    if fault == "502 html":
        assert "HTML error page (502 Bad Gateway)" in message and "<center>" not in message
    if fault == "200 content null" and endpoint == "chat":
        assert "content: null" in message


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_refused_connection_gives_up_fast_and_says_nothing_is_listening(endpoint: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    gw = gateway(url)
    start = time.perf_counter()
    with pytest.raises(LLMUnavailable) as err:
        call(gw, endpoint, url)
    assert time.perf_counter() - start < 5
    assert err.value.kind == "refused" and err.value.faults == {"refused": 3}
    assert "nothing is listening at LLM_BASE_URL" in str(err.value) and "\n" not in str(err.value)
    assert not gw.breaker.reached  # the run loop treats this as a configuration error


def test_a_bad_request_without_a_schema_is_a_named_error_not_a_client_exception() -> None:
    with FakeOpenAIServer() as srv:
        srv.add(400, {"error": {"message": "context length exceeded"}})
        gw = gateway(srv.base_url)
        with pytest.raises(LLMError, match="rejected the request \\(400\\): context length exceeded"):
            gw.chat([{"role": "user", "content": "hi"}], purpose="t")


def test_probe_answers_from_models_endpoint_and_refuses_when_down() -> None:
    with FakeOpenAIServer() as srv:
        gw = gateway(srv.base_url)
        gw.probe(timeout=1)
        assert srv.requests[-1][0] == "/v1/models" and gw.breaker.reached
    down = gateway(f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(LLMError):
        down.probe(timeout=1)


@pytest.mark.parametrize("element", ["0.5", True, None, [0.5], {"x": 0.5}])
def test_an_embedding_with_anything_but_numbers_in_it_is_a_bad_response(element: Any) -> None:
    """JSON numbers only: a quoted number, a boolean (a Python int's subclass), a null or
    a nested value in a vector is a broken answer, retried, not a vector."""
    bad = embeddings_body([[1.0, 0.0]])
    bad["data"][0]["embedding"] = [1.0, element]
    with FakeOpenAIServer() as srv:
        srv.add(200, bad)
        srv.add(200, embeddings_body([[0.0, 2.0]]))
        gw = gateway(srv.base_url)
        vectors = gw.embed(["hi"], purpose="t.fault")
        trace = gw.recorder.traces[-1]
    assert vectors.tolist() == [[0.0, 1.0]]
    assert [f["kind"] for f in trace.faults] == ["bad_response"]
