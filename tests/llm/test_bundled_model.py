"""The gateway driving the real bundled model (Gemma 3 270M GGUF) in process, through
llama-cpp-python's server, and through transformers; and the bundled embeddings."""

import asyncio
from typing import Literal

import numpy as np
import pytest
from pydantic import BaseModel, Field

from llm.errors import LLMConfigError, LLMTimeout
from llm.factory import build_gateway
from llm.servers import llama_cpp_server
from llm.tracing import MemoryRecorder
from llm.types import Outcome

pytestmark = pytest.mark.model

PLACES_PROMPT = (
    "Pick the place where each person goes.\n\n"
    'Person: Klaus wants to read a book.\nJSON: {"place": "library"}\n\n'
    'Person: Maria wants to play football.\nJSON: {"place": "park"}\n\n'
    "Person: Isabella wants a cup of coffee.\nJSON: "
)


class Place(BaseModel):
    place: Literal["cafe", "park", "library", "home", "pub"]


class Free(BaseModel):
    answer: str = Field(max_length=30)


@pytest.fixture(scope="module")
def gw():
    gateway = build_gateway("llama_cpp:bundled", recorder=MemoryRecorder(), timeout=60)
    yield gateway
    gateway.close()


def test_completion_returns_text_and_counts_tokens(gw):
    out = gw.complete("The capital of France is", purpose="t.complete", max_tokens=12)
    assert out.text.strip() and out.completion_tokens > 0 and out.prompt_tokens > 0


def test_structured_output_is_constrained_to_the_schema(gw):
    result = gw.structured(Place, prompt=PLACES_PROMPT, fallback=Place(place="home"), purpose="t.place", max_tokens=24)
    assert result.outcome == Outcome.FIRST_TRY
    assert result.value.place in {"cafe", "park", "library", "home", "pub"}


def test_chat_on_a_base_model_without_template(gw):
    assert not gw.backend.has_chat_template
    out = gw.chat(
        [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a colour."}],
        purpose="t.chat",
        max_tokens=12,
    )
    assert out.completion_tokens > 0


def test_n_samples_per_prompt_are_distinct_samples(gw):
    out = gw.complete("Once upon a time", purpose="t.n", n=3, temperature=0.9, seed=7, max_tokens=8, cache=False)
    assert len(out.texts) == 3 and len(set(out.texts)) >= 2
    assert out.completion_tokens >= 3


def test_timeout_raises_for_text_and_structured(gw):
    with pytest.raises(LLMTimeout, match="LLM_TIMEOUT"):
        gw.complete("Write a long story about a town.", purpose="t.timeout", max_tokens=400, timeout=0.05, cache=False)
    # A slow model is a fault, not bad output: no fallback (the run loop retries the step).
    with pytest.raises(LLMTimeout, match="LLM_TIMEOUT"):
        gw.structured(
            Free,
            prompt="Say something: ",
            fallback=Free(answer="fallback"),
            purpose="t.timeout",
            timeout=0.05,
            cache=False,
            max_tokens=200,
        )


async def test_concurrent_async_calls_share_one_context_safely(gw):
    outs = await asyncio.gather(*[gw.acomplete(f"Number {i} is", purpose="t.async", max_tokens=6) for i in range(4)])
    assert all(o.completion_tokens > 0 for o in outs)


def test_missing_gguf_file_is_one_clear_line():
    with pytest.raises(LLMConfigError) as err:
        build_gateway("llama_cpp:/nonexistent/model.gguf")
    assert "not found" in str(err.value) and "LLM_MODEL" in str(err.value) and "\n" not in str(err.value)


def test_bundled_embeddings_rank_related_sentences_higher(gw):
    vectors = gw.embed(["Isabella runs the cafe.", "Isabella owns a coffee shop.", "Quarterly tax law changes."])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_missing_embeddings_model_is_one_clear_line():
    gw = build_gateway("llama_cpp:bundled", embedding_model="sentence_transformers:/nonexistent/minilm")
    with pytest.raises(LLMConfigError) as err:
        gw.embed(["x"])
    assert "EMBEDDING_MODEL" in str(err.value) and "\n" not in str(err.value)
    gw.close()


def test_openai_backend_against_a_real_llama_cpp_server():
    with llama_cpp_server() as server:
        gw = build_gateway("openai:bundled", base_url=server.base_url, timeout=60)
        result = gw.structured(
            Place, prompt=PLACES_PROMPT, fallback=Place(place="home"), purpose="t.server", max_tokens=24
        )
        text = gw.complete("The capital of France is", purpose="t.server", max_tokens=8)
        gw.close()
    assert result.ok, result.errors
    assert text.completion_tokens > 0


def test_streaming_on_the_bundled_model_writes_the_same_text_piece_by_piece(gw):
    prompt = "The old lighthouse keeper climbed the stairs and"
    # llama.cpp's first pass over a prompt can differ in the last bits from a pass that
    # reuses the cached prefix, and greedy decoding may then part ways: compare warm runs.
    gw.complete(prompt, purpose="t.stream", max_tokens=24, cache=False)
    whole = gw.complete(prompt, purpose="t.stream", max_tokens=24, cache=False).text
    stream = gw.stream(prompt, purpose="t.stream", max_tokens=24, cache=False)
    pieces = list(stream)
    assert len(pieces) > 3 and "".join(pieces) == whole == stream.completion.text
    assert stream.completion.prompt_tokens > 5 and stream.completion.completion_tokens > 3
    assert stream.first_piece_seconds is not None and stream.first_piece_seconds < stream.completion.seconds


def test_cancelling_a_bundled_model_stream_stops_it_and_frees_the_model(gw):
    stream = gw.stream("Write a long story about a town by the sea.", purpose="t.stream", max_tokens=200, cache=False)
    got = []
    for piece in stream:
        got.append(piece)
        if len(got) == 3:
            stream.cancel()
    assert len(got) <= 4 and stream.cancelled and stream.completion.completion_tokens <= 6
    assert gw.complete("Bees make", purpose="t.stream", max_tokens=3, cache=False).completion_tokens > 0


def test_transformers_backend_loads_the_gguf_and_batches():
    gw = build_gateway("transformers:bundled", timeout=120)
    outs = gw.complete_batch(["The capital of France is", "Bees make"], purpose="t.hf", max_tokens=4)
    assert len(outs) == 2 and all(o.completion_tokens > 0 for o in outs)
    result = gw.structured(
        Place, prompt=PLACES_PROMPT, fallback=Place(place="home"), purpose="t.hf", max_tokens=12, max_repairs=0
    )
    assert result.attempts == 1 and isinstance(result.value, Place)
    # Streaming through a TextIteratorStreamer writes what generate() writes, and cancels.
    whole = gw.complete("Bees make", purpose="t.hf", max_tokens=8, cache=False).text
    stream = gw.stream("Bees make", purpose="t.hf", max_tokens=8, cache=False)
    assert "".join(stream) == whole and stream.completion.completion_tokens > 0
    long = gw.stream("Once upon a time", purpose="t.hf", max_tokens=64, cache=False)
    for i, _ in enumerate(long):
        if i == 1:
            long.cancel()
    assert long.cancelled and long.completion.completion_tokens < 64
    gw.close()


class Rated(BaseModel):
    rating: int = Field(ge=1, le=10)


def test_integer_bounds_are_enforced_by_the_grammar(gw):
    # The base model, asked for a 0-100 score, would write 0 or 75; the grammar
    # built from ge=1/le=10 must keep it inside the range on the first try.
    prompt = (
        "Rate how important this memory is.\n"
        'Memory: brushed teeth.\nJSON: {"rating": 0}\n'
        "Memory: won the lottery.\nJSON: "
    )
    result = gw.structured(Rated, prompt=prompt, fallback=Rated(rating=5), purpose="t.bounds", max_tokens=16)
    assert result.outcome == Outcome.FIRST_TRY and 1 <= result.value.rating <= 10
