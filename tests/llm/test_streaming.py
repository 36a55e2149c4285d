"""Streaming through the gateway: pieces, cancel, retries before the first piece, one trace (no model)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading

import pytest

from llm.context import call_context
from llm.errors import LLMUnavailable, RetryableError
from llm.factory import build_gateway
from llm.gateway import Gateway
from llm.retry import RetryPolicy
from llm.tracing import MemoryRecorder
from llm.types import Outcome
from tests.llm.fakes import MidStream, ScriptedBackend
from tests.llm.http_fake import FakeOpenAIServer

TEXT = "the fox ran over the hill and into the wood"


def make(
    script=None, *, concurrency: int = 1, piece_delay: float = 0.0
) -> tuple[Gateway, ScriptedBackend, MemoryRecorder]:
    backend = ScriptedBackend(script, default=TEXT, concurrency=concurrency)
    backend.piece_delay = piece_delay
    recorder = MemoryRecorder()
    gw = Gateway(backend, recorder=recorder, retry=RetryPolicy(base_delay=0.0, max_delay=0.0))
    return gw, backend, recorder


def test_pieces_arrive_one_by_one_and_one_trace_is_recorded_at_the_end():
    gw, _, rec = make()
    stream = gw.stream("Once", purpose="writer.paragraph", cache=False)
    pieces = []
    for piece in stream:
        pieces.append(piece)
        assert rec.traces == []  # nothing is recorded while the model writes
    assert len(pieces) == 10 and "".join(pieces) == TEXT == stream.text
    assert stream.outcome == Outcome.OK and stream.completion is not None
    assert stream.completion.text == TEXT and stream.completion.completion_tokens == 10
    assert stream.first_piece_seconds is not None
    [trace] = rec.traces
    assert trace.purpose == "writer.paragraph" and trace.outcome == Outcome.OK and trace.raw == [TEXT]
    assert trace.prompt_tokens == 10 and trace.completion_tokens == 10
    assert gw.accounting.total().calls == 1


def test_chat_messages_stream_too():
    gw, backend, _ = make()
    text = "".join(gw.stream(messages=[{"role": "user", "content": "hi"}], purpose="p", cache=False))
    assert text == TEXT and backend.calls[0]["payload"] == [{"role": "user", "content": "hi"}]


def test_cancel_from_another_thread_stops_the_model_and_records_what_was_written():
    gw, backend, rec = make(piece_delay=0.02)
    stream = gw.stream("Once", purpose="p", cache=False)
    got = []
    for piece in stream:
        got.append(piece)
        if len(got) == 3:
            threading.Thread(target=stream.cancel).start()
            threading.Event().wait(0.05)
    assert 3 <= len(got) < 10 and stream.cancelled and backend.closed == 1
    [trace] = rec.traces
    assert trace.outcome == Outcome.CANCELLED and trace.raw == [stream.text] and trace.completion_tokens == len(got)
    # The backend's slot is free again (concurrency 1): the next call does not wait forever.
    assert gw.complete("next", purpose="p", cache=False).text == TEXT


def test_leaving_the_loop_early_is_a_cancel():
    gw, backend, rec = make()
    stream = gw.stream("Once", purpose="p", cache=False)
    iterator = iter(stream)
    assert next(iterator) == "the "
    iterator.close()  # what a `break` does to the generator
    assert stream.cancelled and backend.closed == 1 and rec.traces[-1].outcome == Outcome.CANCELLED


def test_faults_before_the_first_piece_are_retried_and_on_the_trace():
    gw, _, rec = make([RetryableError("502 from the proxy", kind="server_error"), TEXT])
    assert "".join(gw.stream("Once", purpose="p", cache=False)) == TEXT
    trace = rec.traces[-1]
    assert trace.outcome == Outcome.OK and [f["kind"] for f in trace.faults] == ["server_error"] and trace.retries == 1


def test_a_stream_that_breaks_midway_raises_and_records_an_error():
    gw, _, rec = make([MidStream(TEXT, 4, RetryableError("connection cut", kind="dropped"))])
    got = []
    with pytest.raises(LLMUnavailable, match="the stream broke after") as err:
        for piece in gw.stream("Once", purpose="p", cache=False):
            got.append(piece)
    assert len(got) == 4 and err.value.kind == "dropped"
    trace = rec.traces[-1]
    assert trace.outcome == Outcome.ERROR and trace.raw == ["".join(got)] and "connection cut" in trace.error


def test_a_finished_stream_is_cached_and_replayed_as_one_piece_but_a_cancelled_one_is_not():
    gw, backend, rec = make()
    first = gw.stream("Once", purpose="p")
    it = iter(first)
    next(it)
    it.close()  # cancelled: not cached
    assert len(gw.cache) == 0
    assert "".join(gw.stream("Once", purpose="p")) == TEXT  # at temperature 0: cached now
    again = gw.stream("Once", purpose="p")
    assert list(again) == [TEXT] and again.completion.cached and rec.traces[-1].cached
    assert len(backend.calls) == 2


def test_a_stream_is_read_once():
    gw, _, _ = make()
    stream = gw.stream("Once", purpose="p", cache=False)
    list(stream)
    with pytest.raises(RuntimeError):
        list(stream)


def test_stream_takes_a_prompt_or_messages():
    gw, _, _ = make()
    with pytest.raises(ValueError):
        gw.stream(purpose="p")


async def test_async_streams_keep_their_context_and_cancel_when_the_reader_leaves():
    gw, backend, rec = make(piece_delay=0.01)
    with call_context(run="book:1", step=3):
        pieces = [p async for p in gw.astream("Once", purpose="p", cache=False)]
    assert "".join(pieces) == TEXT and (rec.traces[-1].run, rec.traces[-1].step) == ("book:1", 3)

    async def read_two() -> list[str]:
        got = []
        async with contextlib.aclosing(aiter(gw.astream("Twice", purpose="p", cache=False))) as pieces:
            async for piece in pieces:
                got.append(piece)
                if len(got) == 2:
                    break
        return got

    got = await read_two()
    assert len(got) == 2 and rec.traces[-1].outcome == Outcome.CANCELLED and backend.closed == 1


async def test_cancelling_the_reading_task_cancels_the_stream():
    gw, backend, rec = make(piece_delay=0.05)
    started = asyncio.Event()

    async def read() -> None:
        async for _ in gw.astream("Once", purpose="p", cache=False):
            started.set()

    task = asyncio.create_task(read())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rec.traces[-1].outcome == Outcome.CANCELLED and backend.closed == 1


# ------------------------------------------------------------ over real HTTP (openai backend)
def sse(events: list[dict], *, done: bool = True) -> bytes:
    lines = [f"data: {json.dumps(e)}\n\n" for e in events] + (["data: [DONE]\n\n"] if done else [])
    return "".join(lines).encode()


def chat_chunks(pieces: list[str], usage: dict | None = None) -> list[dict]:
    base = {"id": "s", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}]
    events += [{**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if usage:
        events.append({**base, "choices": [], "usage": usage})
    return events


def completion_chunks(pieces: list[str]) -> list[dict]:
    base = {"id": "s", "object": "text_completion", "created": 0, "model": "m"}
    return [{**base, "choices": [{"index": 0, "text": p, "finish_reason": None}]} for p in pieces]


def http_gateway(url: str, model: str = "openai:m") -> Gateway:
    gw = build_gateway(model, base_url=url, timeout=5, recorder=MemoryRecorder(), cache_policy="off")
    gw.retry = RetryPolicy(base_delay=0.001, max_delay=0.01)
    return gw


def test_openai_chat_streams_server_sent_events_with_usage():
    usage = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
    with FakeOpenAIServer() as srv:
        srv.add(200, sse(chat_chunks(["Once", " upon", " a time"], usage)), content_type="text/event-stream")
        gw = http_gateway(srv.base_url)
        pieces = list(gw.stream(messages=[{"role": "user", "content": "go"}], purpose="p"))
        path, body = srv.requests[0]
    assert pieces == ["Once", " upon", " a time"]
    assert path == "/v1/chat/completions" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    trace = gw.recorder.traces[-1]
    assert trace.outcome == Outcome.OK and (trace.prompt_tokens, trace.completion_tokens) == (12, 3)


def test_openai_completions_stream_and_a_server_without_stream_options_is_asked_again():
    with FakeOpenAIServer() as srv:
        srv.add(400, {"error": {"message": "Unrecognized request argument: stream_options"}})
        srv.add(200, sse(completion_chunks(["The ", "end"])), content_type="text/event-stream")
        srv.add(200, sse(completion_chunks(["Again"])), content_type="text/event-stream")
        gw = http_gateway(srv.base_url, "openai:m?api=completions")
        assert "".join(gw.stream("Write", purpose="p")) == "The end"
        assert "".join(gw.stream("Write", purpose="p")) == "Again"
        bodies = [body for _, body in srv.requests]
    assert "stream_options" in bodies[0] and "stream_options" not in bodies[1] and "stream_options" not in bodies[2]
    assert gw.recorder.traces[-2].completion_tokens == 2  # counted from the pieces when the server gives no usage


def test_openai_stream_faults_before_the_first_piece_are_retried():
    with FakeOpenAIServer() as srv:
        srv.add(503, {"error": {"message": "overloaded"}})
        srv.add(200, sse(chat_chunks(["ok"])), content_type="text/event-stream")
        gw = http_gateway(srv.base_url)
        assert "".join(gw.stream("go", purpose="p")) == "ok"
    assert [f["kind"] for f in gw.recorder.traces[-1].faults] == ["server_error"]


def test_openai_stream_cut_midway_is_a_named_error():
    with FakeOpenAIServer() as srv:
        srv.add(200, sse(chat_chunks(["one", " two", " three"] * 50)), content_type="text/event-stream",
                x_fake_drop="1")  # fmt: skip
        gw = http_gateway(srv.base_url)
        got = []
        with pytest.raises(LLMUnavailable) as err:
            for piece in gw.stream("go", purpose="p"):
                got.append(piece)
    assert got and err.value.kind == "dropped" and "dropped the connection" in str(err.value)
    assert gw.recorder.traces[-1].outcome == Outcome.ERROR
