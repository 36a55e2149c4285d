"""The openai backend over real HTTP: error mapping, retries, constraint fallback."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import BaseModel

from llm.errors import LLMConfigError, LLMUnavailable
from llm.factory import build_gateway
from llm.retry import RetryPolicy
from llm.servers import free_port
from llm.types import Outcome
from tests.llm.http_fake import FakeOpenAIServer, chat_body, completion_body, embeddings_body


class Answer(BaseModel):
    answer: str


def gateway(base_url: str, model: str = "openai:m"):
    gw = build_gateway(model, base_url=base_url, timeout=5)
    gw.retry = RetryPolicy(base_delay=0.01, max_delay=0.05)
    return gw


def test_chat_structured_uses_json_schema_response_format():
    with FakeOpenAIServer() as srv:
        srv.add(200, chat_body('{"answer": "honey"}'))
        result = gateway(srv.base_url).structured(
            Answer, prompt="What do bees make?", fallback=Answer(answer="?"), purpose="t"
        )
        path, body = srv.requests[0]
    assert result.outcome == Outcome.FIRST_TRY and result.value.answer == "honey"
    assert path == "/v1/chat/completions"
    assert body["messages"] == [{"role": "user", "content": "What do bees make?"}]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["properties"]["answer"]["type"] == "string"


def test_requests_carry_the_key_and_calls_in_flight_each_have_a_connection_reused_after():
    """Each call in flight has an HTTP client (and connection) of its own, taken from the
    idle ones: 4 at once open 4 connections, the 4 after them reuse those."""
    with FakeOpenAIServer() as srv:
        for _ in range(4):
            srv.add(200, chat_body('{"answer": "a"}'), x_fake_delay="0.3")
        for _ in range(4):
            srv.add(200, chat_body('{"answer": "b"}'))
        gw = build_gateway("openai:m", base_url=srv.base_url, api_key="sk-test", timeout=5, concurrency=4,
                           cache_policy="off")  # fmt: skip

        def ask(_: int) -> str:
            return gw.structured(Answer, prompt="?", fallback=Answer(answer="?"), purpose="t").value.answer

        with ThreadPoolExecutor(4) as pool:
            together = list(pool.map(ask, range(4)))
        after = [ask(i) for i in range(4)]
        gw.close()
    assert together == ["a"] * 4 and after == ["b"] * 4
    assert len(set(srv.ports[:4])) == 4  # at once: a connection each
    assert set(srv.ports[4:]) <= set(srv.ports[:4])  # after: the same connections again
    assert {h["authorization"] for h in srv.headers} == {"Bearer sk-test"}
    assert all(h["content-type"] == "application/json" for h in srv.headers)


def test_server_without_json_schema_support_is_asked_again_more_simply():
    with FakeOpenAIServer() as srv:
        srv.add(400, {"error": {"message": "response_format json_schema unsupported"}})
        srv.add(200, chat_body('{"answer": "a"}'))
        srv.add(200, chat_body('{"answer": "b"}'))
        gw = gateway(srv.base_url)
        first = gw.structured(Answer, prompt="q1", fallback=Answer(answer="?"), purpose="t")
        second = gw.structured(Answer, prompt="q2", fallback=Answer(answer="?"), purpose="t")
        formats = [body.get("response_format", {}).get("type") for _, body in srv.requests]
    assert (first.value.answer, second.value.answer) == ("a", "b")
    # Stepped down once, and remembered it for the next call.
    assert formats == ["json_schema", "json_object", "json_object"]


def test_completions_api_sends_schema_in_extra_fields():
    with FakeOpenAIServer() as srv:
        srv.add(200, completion_body(' {"answer": "x"}'))
        gw = gateway(srv.base_url, "openai:m?api=completions")
        result = gw.structured(Answer, prompt="Q: x\nJSON:", fallback=Answer(answer="?"), purpose="t")
        path, body = srv.requests[0]
    assert result.ok and path == "/v1/completions"
    assert body["guided_json"]["title"] == "Answer" and body["json_schema"]["title"] == "Answer"
    assert "grammar" in body  # llama-cpp-python's server reads a GBNF grammar


def test_rate_limit_and_server_errors_are_retried():
    with FakeOpenAIServer() as srv:
        srv.add(429, {"error": {"message": "slow down"}}, **{"retry-after": "0.05"})
        srv.add(503, {"error": {"message": "overloaded"}})
        srv.add(200, chat_body("hello"))
        completion = gateway(srv.base_url).complete("hi", purpose="t")
    assert completion.text == "hello" and completion.prompt_tokens == 9


def test_bad_api_key_is_a_config_error():
    with FakeOpenAIServer() as srv:
        srv.add(401, {"error": {"message": "invalid key"}})
        with pytest.raises(LLMConfigError, match="LLM_API_KEY"):
            gateway(srv.base_url).complete("hi", purpose="t")


def test_unknown_model_is_a_config_error():
    with FakeOpenAIServer() as srv:
        srv.add(404, {"error": {"message": "model not found"}})
        with pytest.raises(LLMConfigError, match="LLM_MODEL"):
            gateway(srv.base_url).complete("hi", purpose="t")


def test_unreachable_server_fails_fast_with_one_line():
    url = f"http://127.0.0.1:{free_port()}/v1"
    start = time.perf_counter()
    with pytest.raises(LLMUnavailable) as err:
        gateway(url).complete("hi", purpose="t")
    assert time.perf_counter() - start < 5
    message = str(err.value)
    assert "LLM_BASE_URL" in message and "\n" not in message


def test_openai_spec_without_url_or_key_says_what_to_set():
    with pytest.raises(LLMConfigError, match="LLM_BASE_URL"):
        build_gateway("openai:gpt-4o-mini", base_url="", api_key="")


def test_openai_embeddings_endpoint_is_normalised_and_cached():
    with FakeOpenAIServer() as srv:
        srv.add(200, embeddings_body([[3.0, 4.0], [0.0, 2.0]]))
        gw = build_gateway("openai:m", base_url=srv.base_url, embedding_model="openai:e")
        vectors = gw.embed(["a", "b", "a"])
        again = gw.embed(["b"])
        path, body = srv.requests[0]
    assert path == "/v1/embeddings" and body["input"] == ["a", "b"] and body["model"] == "e"
    assert vectors.shape == (3, 2) and abs(vectors[0][0] - 0.6) < 1e-6 and (vectors[0] == vectors[2]).all()
    assert (again[0] == vectors[1]).all() and len(srv.requests) == 1
