"""Unit tests of the gateway around a scripted backend (no model, no database)."""

import asyncio
import json
import time
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from llm.cache import MemoryCache
from llm.context import call_context
from llm.errors import LLMRateLimited, LLMTimeout, LLMUnavailable, RetryableError
from llm.gateway import Gateway
from llm.retry import RetryPolicy
from llm.structured import json_schema_for
from llm.tracing import MemoryRecorder, format_table
from llm.types import GenParams, Outcome
from tests.llm.fakes import FakeEmbedder, ScriptedBackend

FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01)


class Place(BaseModel):
    place: Literal["cafe", "park", "home"]
    minutes: int = Field(ge=5, le=15)


FALLBACK = Place(place="home", minutes=15)


def make(script=None, **kwargs):
    backend = ScriptedBackend(
        script, **{k: v for k, v in kwargs.items() if k in {"delay", "concurrency", "native_batch", "default"}}
    )
    recorder = MemoryRecorder()
    gw = Gateway(
        backend,
        recorder=recorder,
        retry=FAST_RETRY,
        embedder=kwargs.get("embedder"),
        cache=kwargs.get("cache"),
        cache_policy=kwargs.get("cache_policy", "auto"),
        concurrency=kwargs.get("gw_concurrency"),
    )
    return gw, backend, recorder


# ---------------------------------------------------------------- structured
def test_structured_first_try_passes_the_schema_to_the_backend():
    gw, backend, rec = make(['{"place": "cafe", "minutes": 10}'])
    result = gw.structured(Place, prompt="Where?", fallback=FALLBACK, purpose="plan.place")
    assert result.value == Place(place="cafe", minutes=10)
    assert result.outcome == Outcome.FIRST_TRY and result.ok
    assert backend.calls[0]["schema"]["properties"]["place"]["enum"] == ["cafe", "park", "home"]
    assert rec.traces[0].outcome == Outcome.FIRST_TRY
    assert rec.traces[0].parsed == {"place": "cafe", "minutes": 10}


def test_structured_repair_quotes_the_validation_errors():
    gw, backend, _rec = make(['{"place": "cafe", "minutes": 99}', 'sure! {"place": "park", "minutes": 5} done'])
    result = gw.structured(Place, prompt="Where?\nJSON: ", fallback=FALLBACK, purpose="plan.place")
    assert result.outcome == Outcome.REPAIRED and result.value.place == "park"
    repair = backend.calls[1]["payload"]
    assert repair.startswith("Where?\nJSON: ")
    assert "minutes: Input should be less than or equal to 15" in repair
    assert '"minutes": 99' in repair
    assert gw.accounting.total().repairs == 1


def test_structured_chat_repair_appends_turns():
    gw, backend, _ = make(["not json at all", '{"place": "home", "minutes": 7}'])
    msgs = [{"role": "user", "content": "Where?"}]
    result = gw.structured(Place, messages=msgs, fallback=FALLBACK, purpose="p")
    assert result.outcome == Outcome.REPAIRED
    follow_up = backend.calls[1]["payload"]
    assert [m["role"] for m in follow_up] == ["user", "assistant", "user"]
    assert "no JSON object found" in follow_up[-1]["content"]


def test_structured_falls_back_after_bounded_repairs_and_never_raises():
    gw, backend, _rec = make(default="garbage ]]] {not json")
    result = gw.structured(Place, prompt="Where?", fallback=lambda: FALLBACK, purpose="p", max_repairs=2)
    assert result.value == FALLBACK and result.outcome == Outcome.FALLBACK
    assert len(backend.calls) == 3 and result.attempts == 3
    assert len(result.errors) == 3
    assert gw.accounting.total().fallbacks == 1


def test_structured_timeout_raises_instead_of_falling_back():
    # An agent must not act on a fallback because the model was slow: the step fails
    # and the run loop runs it again (llm.resilience).
    gw, backend, rec = make([LLMTimeout("too slow")])
    with pytest.raises(LLMTimeout, match="too slow"):
        gw.structured(Place, prompt="Where?", fallback=FALLBACK, purpose="p")
    assert len(backend.calls) == 1 and rec.traces[-1].outcome == Outcome.ERROR


def test_structured_raises_when_the_server_is_gone_and_records_an_error():
    gw, _, rec = make([RetryableError("refused", kind="refused")] * 5)
    with pytest.raises(LLMUnavailable, match="refused"):
        gw.structured(Place, prompt="Where?", fallback=FALLBACK, purpose="p")
    assert rec.traces[-1].outcome == Outcome.ERROR


def test_structured_needs_exactly_one_of_prompt_or_messages():
    gw, _, _ = make()
    with pytest.raises(ValueError):
        gw.structured(Place, fallback=FALLBACK, purpose="p")


# ---------------------------------------------------------------- retries
def test_rate_limits_back_off_then_succeed():
    gw, backend, _ = make([RetryableError("429", kind="rate_limited", retry_after=0.01)] * 2 + ["fine"])
    assert gw.complete("hi", purpose="p").text == "fine"
    assert len(backend.calls) == 3


def test_endless_rate_limits_end_in_a_clear_error():
    gw, _, _ = make([RetryableError("429", kind="rate_limited", retry_after=0.0)] * 20)
    with pytest.raises(LLMRateLimited, match="LLM_CONCURRENCY"):
        gw.complete("hi", purpose="p")


def test_refused_connections_give_up_after_few_attempts():
    gw, backend, _ = make([RetryableError("refused", kind="refused")] * 10)
    with pytest.raises(LLMUnavailable) as err:
        gw.complete("hi", purpose="p")
    assert len(backend.calls) == FAST_RETRY.limit("refused") == 3
    assert err.value.kind == "refused" and "gave up after 3 refused of 3 attempts" in str(err.value)


def test_each_fault_kind_has_its_own_attempt_count():
    # Two 500s then a dropped connection used to end the call on the connection limit
    # (the last error decided). Now each kind is counted on its own, and the call lives.
    script = [RetryableError("500", kind="server_error")] * 2 + [RetryableError("drop", kind="dropped")]
    script += [RetryableError("500", kind="server_error")] * 2 + [RetryableError("drop", kind="dropped")] + ["fine"]
    gw, backend, rec = make(script)
    assert gw.complete("hi", purpose="p").text == "fine"
    assert len(backend.calls) == 7
    trace = rec.traces[-1]
    assert trace.retries == 6 and [f["kind"] for f in trace.faults] == ["server_error"] * 2 + ["dropped"] + [
        "server_error"
    ] * 2 + ["dropped"]
    assert all(f["wait"] is not None for f in trace.faults)
    assert gw.accounting.total().retries == 6


def test_a_call_that_gives_up_names_every_fault_it_saw():
    script = [RetryableError("dropped mid-body", kind="dropped")] * 2 + [RetryableError("500", kind="server_error")] * 6
    gw, _, rec = make(script)
    with pytest.raises(LLMUnavailable) as err:
        gw.complete("hi", purpose="p")
    assert err.value.kind == "server_error" and err.value.faults == {"dropped": 2, "server_error": 6}
    assert "gave up after 6 server_error of 8 attempts; also 2 dropped" in str(err.value)
    trace = rec.traces[-1]
    assert trace.outcome == Outcome.ERROR and trace.retries == 7 and trace.faults[-1]["wait"] is None


def test_timeouts_from_a_server_are_retried_then_raise_a_timeout():
    gw, backend, _ = make([RetryableError("no answer within 1s", kind="timeout")] * 5)
    with pytest.raises(LLMTimeout):
        gw.complete("hi", purpose="p")
    assert len(backend.calls) == 3


def test_unknown_fault_kinds_are_a_programming_error():
    with pytest.raises(ValueError, match="unknown fault kind"):
        RetryableError("x", kind="connection")


def test_backoff_grows_and_respects_retry_after():
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    assert policy.delay(0, retry_after=3.0) == 3.0
    assert all(0 <= policy.delay(5, None) <= 8.0 for _ in range(50))


# ---------------------------------------------------------------- cache
def test_temperature_zero_is_cached_by_default():
    gw, backend, rec = make(["first", "second"])
    assert gw.complete("same", purpose="p").text == "first"
    again = gw.complete("same", purpose="p")
    assert again.text == "first" and again.cached and len(backend.calls) == 1
    assert rec.traces[-1].cached and rec.traces[-1].completion_tokens == 0


def test_sampling_is_not_cached_unless_asked_and_seed_is_part_of_the_key():
    gw, backend, _ = make(["a", "b", "c", "d"])
    gw.complete("x", purpose="p", temperature=0.8)
    gw.complete("x", purpose="p", temperature=0.8)
    assert len(backend.calls) == 2
    gw.complete("x", purpose="p", temperature=0.8, seed=1, cache=True)
    assert gw.complete("x", purpose="p", temperature=0.8, seed=1, cache=True).text == "c"
    assert gw.complete("x", purpose="p", temperature=0.8, seed=2, cache=True).text == "d"


def test_cache_policy_off_never_caches():
    gw, backend, _ = make(["a", "b"], cache_policy="off")
    gw.complete("x", purpose="p")
    gw.complete("x", purpose="p", cache=True)
    assert len(backend.calls) == 2


VALID = '{"place": "park", "minutes": 10}'


def test_a_structured_answer_is_cached_only_once_it_validated():
    gw, backend, _ = make([VALID])
    first = gw.structured(Place, prompt="Where?", fallback=FALLBACK, purpose="p")
    again = gw.structured(Place, prompt="Where?", fallback=FALLBACK, purpose="p")
    assert first.outcome == again.outcome == Outcome.FIRST_TRY and again.value.place == "park"
    assert len(backend.calls) == 1 and len(gw.cache) == 1


def test_a_fallback_is_never_cached_so_the_next_call_asks_again():
    gw, backend, _ = make(["nonsense"] * 3 + [VALID])
    first = gw.structured(Place, prompt="Where?", fallback=FALLBACK, purpose="p")
    assert first.outcome == Outcome.FALLBACK and len(gw.cache) == 0
    again = gw.structured(Place, prompt="Where?", fallback=FALLBACK, purpose="p")
    assert again.outcome == Outcome.FIRST_TRY and len(backend.calls) == 4


def test_a_repaired_answer_is_cached_under_the_original_request():
    gw, backend, rec = make(["nonsense", VALID])
    first = gw.structured(Place, prompt="Where?", fallback=FALLBACK, purpose="p")
    assert first.outcome == Outcome.REPAIRED and len(gw.cache) == 1
    again = gw.structured(Place, prompt="Where?", fallback=FALLBACK, purpose="p")
    # The next identical call gets the validated answer at once; the garbage is gone.
    assert again.outcome == Outcome.FIRST_TRY and again.value.place == "park" and rec.traces[-1].cached
    assert len(backend.calls) == 2


def test_an_error_is_never_cached():
    gw, _, _ = make([RetryableError("500", kind="server_error")] * 6 + [VALID])
    with pytest.raises(LLMUnavailable):
        gw.structured(Place, prompt="Where?", fallback=FALLBACK, purpose="p")
    assert len(gw.cache) == 0
    assert gw.structured(Place, prompt="Where?", fallback=FALLBACK, purpose="p").ok


def test_an_empty_text_answer_is_not_cached():
    gw, backend, _ = make(["   ", "words"])
    assert gw.complete("Say", purpose="p").text.strip() == ""
    assert gw.complete("Say", purpose="p").text == "words"
    assert len(backend.calls) == 2 and len(gw.cache) == 1
    assert gw.complete("Say", purpose="p").cached


def test_garbage_cached_by_an_older_version_is_asked_again_not_replayed():
    gw, backend, _ = make([VALID])
    key = gw._key("complete", "Where?", GenParams(256, 0.0, 1.0, (), None), 1, json_schema_for(Place))
    gw.cache.set(key, json.dumps([{"text": "garbage", "prompt_tokens": 1, "completion_tokens": 1}]))
    result = gw.structured(Place, prompt="Where?", fallback=FALLBACK, purpose="p")
    assert result.outcome == Outcome.FIRST_TRY and result.value.place == "park" and len(backend.calls) == 1
    assert json.loads(gw.cache.get(key))[0]["text"] == VALID  # the good answer replaced it


def test_broken_cache_does_not_break_calls():
    class Broken:
        def get(self, key):
            raise OSError("disk gone")

        def set(self, key, value):
            raise OSError("disk gone")

    gw, _, _ = make(["still works"], cache=Broken())
    assert gw.complete("x", purpose="p").text == "still works"


# ---------------------------------------------------------------- concurrency, batching, context
async def test_async_calls_run_concurrently_up_to_the_limit():
    gw, backend, _ = make(delay=0.1, concurrency=4)
    start = time.perf_counter()
    results = await asyncio.gather(*[gw.acomplete(f"p{i}", purpose="p") for i in range(12)])
    elapsed = time.perf_counter() - start
    assert len(results) == 12
    assert backend.peak == 4
    assert elapsed < 0.1 * 12 / 2  # far below the sequential 1.2 s


async def test_context_tags_follow_async_tasks():
    gw, _, rec = make(default="x", concurrency=8)

    async def agent(name: str) -> None:
        with call_context(run="sim:1", step=3, item=name):
            await gw.acomplete(f"hello from {name}", purpose="converse.line")

    await asyncio.gather(*[agent(n) for n in ["Isabella", "Maria", "Klaus"]])
    tagged = {(t.run, t.step, t.item) for t in rec.traces}
    assert tagged == {("sim:1", 3, "Isabella"), ("sim:1", 3, "Maria"), ("sim:1", 3, "Klaus")}
    assert all(t.prompt.endswith(t.item) for t in rec.traces)


def test_batch_fans_out_when_the_backend_cannot_batch():
    gw, backend, rec = make(default="x", delay=0.05, concurrency=5)
    start = time.perf_counter()
    out = gw.complete_batch([f"q{i}" for i in range(10)], purpose="p", n=2)
    assert len(out) == 10 and all(len(c.texts) == 2 for c in out)
    assert backend.peak > 1 and time.perf_counter() - start < 0.5
    assert len(rec.traces) == 10


def test_native_batch_sends_only_uncached_prompts():
    gw, backend, _ = make(default="x", native_batch=True)
    gw.complete("q1", purpose="p")
    out = gw.complete_batch(["q1", "q2", "q3"], purpose="p")
    assert backend.batches == [["q2", "q3"]]
    assert [c.cached for c in out] == [True, False, False]


def test_native_batch_served_wholly_from_the_cache_calls_nothing():
    gw, backend, rec = make(default="x", native_batch=True)
    gw.complete_batch(["q1", "q2"], purpose="p")
    out = gw.complete_batch(["q1", "q2"], purpose="p")
    assert backend.batches == [["q1", "q2"]]
    assert [c.cached for c in out] == [True, True] and len(rec.traces) == 4


def test_chat_batch_renders_chats_into_one_native_batch_and_names_each_item():
    gw, backend, rec = make(default="x", native_batch=True)
    backend.render_chat = lambda messages, params: (" | ".join(m["content"] for m in messages), params)
    chats = [[{"role": "user", "content": f"q{i}"}] for i in range(3)]
    out = gw.chat_batch(chats, purpose="rise.eval", items=["a", "b", "c"])
    assert backend.batches == [["q0", "q1", "q2"]] and len(out) == 3
    assert [t.item for t in rec.traces] == ["a", "b", "c"]


def test_chat_batch_fans_out_chats_where_the_backend_cannot_batch():
    gw, backend, rec = make(default="x", delay=0.05, concurrency=4)
    chats = [[{"role": "user", "content": f"q{i}"}] for i in range(4)]
    out = gw.chat_batch(chats, purpose="p", items=["a", "b", "c", "d"])
    assert len(out) == 4 and backend.peak > 1
    assert all(isinstance(c["payload"], list) for c in backend.calls)
    assert sorted(t.item for t in rec.traces) == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="2 item names for 4 prompts"):
        gw.chat_batch(chats, purpose="p", items=["a", "b"])


def test_structured_batch_returns_one_result_per_prompt():
    gw, _, _ = make(default='{"place": "park", "minutes": 5}')
    results = gw.structured_batch(Place, ["a", "b", "c"], purpose="p", fallback=FALLBACK)
    assert [r.value.place for r in results] == ["park"] * 3


def test_prompts_go_to_chat_for_chat_models():
    gw, backend, _ = make(default="hi")
    backend.prefers_chat = True
    gw.complete("Say hi", purpose="p")
    assert backend.calls[0]["payload"] == [{"role": "user", "content": "Say hi"}]


# ---------------------------------------------------------------- embeddings, accounting
def test_embeddings_are_normalised_and_each_text_embedded_once():
    embedder = FakeEmbedder()
    cache = MemoryCache()
    gw, _, _ = make(embedder=embedder, cache=cache)
    vectors = gw.embed(["alpha", "beta", "alpha"])
    assert vectors.shape == (3, 8)
    assert abs(float(vectors[0] @ vectors[0]) - 1.0) < 1e-5
    assert (vectors[0] == vectors[2]).all()
    assert embedder.encoded == ["alpha", "beta"]
    gw.embed(["beta", "gamma"])
    assert embedder.encoded == ["alpha", "beta", "gamma"]
    # A new process with the same persistent cache embeds nothing again.
    embedder2 = FakeEmbedder()
    gw2, _, _ = make(embedder=embedder2, cache=cache)
    assert (gw2.embed(["alpha"])[0] == vectors[0]).all()
    assert embedder2.encoded == []


def test_accounting_per_run_and_purpose():
    gw, _, _ = make(default='{"place": "cafe", "minutes": 5}')
    with call_context(run="r1"):
        gw.complete("a", purpose="plan.daily")
        gw.complete("b", purpose="plan.daily")
        gw.structured(Place, prompt="c", fallback=FALLBACK, purpose="plan.place")
    with call_context(run="r2"):
        gw.complete("d", purpose="plan.daily")
    rows = gw.accounting.rows()
    assert rows[("r1", "plan.daily")].calls == 2
    assert rows[("r1", "plan.daily")].prompt_tokens == 20
    assert rows[("r2", "plan.daily")].calls == 1
    assert gw.accounting.total("r1").calls == 3
    table = format_table([(r, p, t) for (r, p), t in sorted(rows.items())])
    assert "plan.place" in table and table.splitlines()[-1].startswith("TOTAL")


def test_traces_keep_prompt_raw_and_timing():
    gw, _, rec = make(["answer text"])
    gw.chat([{"role": "user", "content": "hi"}], purpose="demo.chat")
    trace = rec.traces[0]
    assert json.loads(trace.prompt) == [{"role": "user", "content": "hi"}]
    assert trace.raw == ["answer text"] and trace.kind == "chat" and trace.seconds >= 0


def test_small_integer_ranges_become_enums_for_the_grammar():
    from llm.backends.llama_cpp_backend import enumerate_small_int_ranges

    schema = {
        "properties": {
            "a": {"type": "integer", "minimum": 1, "maximum": 3},
            "b": {"type": "integer", "minimum": 0, "maximum": 10_000},
            "c": {"type": "array", "items": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 3}},
        }
    }
    out = enumerate_small_int_ranges(schema)
    assert out["properties"]["a"]["enum"] == [1, 2, 3]
    assert "enum" not in out["properties"]["b"]
    assert out["properties"]["c"]["items"]["enum"] == [1, 2]


async def test_traces_charge_model_time_not_queueing():
    gw, _, rec = make(delay=0.05, concurrency=1)
    await asyncio.gather(*[gw.acomplete(f"p{i}", purpose="p") for i in range(4)])
    # Four calls queue behind one slot: wall times grow to ~0.2 s, model time stays ~0.05 s each.
    assert all(0.04 <= t.seconds < 0.12 for t in rec.traces)
