"""The one gateway every model call in the project goes through.

    gw = Gateway(backend, embedder=..., cache=..., recorder=...)
    gw.complete("Q: ...\\nA:", purpose="demo.answer", max_tokens=32)
    gw.structured(Plan, prompt=..., fallback=Plan(items=[]), purpose="plan.daily")
    await gw.astructured(...)          # every call has an async twin
    gw.embed(["a sentence"])           # L2-normalised float32 rows

What it adds around a backend:
- a timeout on every call, retries with exponential backoff and jitter, counted per
  kind of fault (refused, dropped, timeout, rate limited, server error, bad response:
  see llm.errors), a concurrency limit per backend, and a circuit breaker that tells
  run loops when the server is down rather than flaky (llm.breaker, llm.resilience);
- structured output: JSON schema -> constrained decoding where the backend can ->
  validation -> repair prompts quoting the errors (bounded) -> the caller's fallback.
  Bad model output never raises;
- a response cache keyed by model, prompt, parameters and seed (on by default at
  temperature 0, opt-in otherwise) that keeps only answers that were used: a
  structured answer once it validated, a text answer unless it is empty; never a
  fallback or an error;
- a trace and accounting entry for every call, tagged with its purpose and the
  run/step/item from `llm.context.call_context`, with every failed attempt (kind,
  error, wait) on it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel

from llm.backends.base import Backend
from llm.breaker import CircuitBreaker
from llm.cache import MemoryCache, ResponseCache, cache_key
from llm.context import call_context, current_context
from llm.embeddings import Embedder
from llm.errors import LLMConfigError, LLMError, RetryableError
from llm.retry import Fault, RetryPolicy, with_retries
from llm.streaming import TextStream
from llm.structured import json_schema_for, repair_messages, repair_prompt, validate
from llm.tracing import Accounting, NullRecorder, Recorder, Trace, notify
from llm.types import Completion, Generation, GenParams, Message, Outcome, Structured

log = logging.getLogger(__name__)


@dataclass
class _CallStats:
    """What one gateway call spent: seconds inside the backend (queueing for a slot
    excluded, so a trace charges each call its own model time even when 25 agents share
    one context) and every failed attempt, retried or not."""

    busy: float = 0.0
    faults: list[Fault] = field(default_factory=list)


_stats: contextvars.ContextVar[_CallStats | None] = contextvars.ContextVar("llm_call_stats", default=None)
M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")

CACHE_POLICIES = ("auto", "all", "off")


class Gateway:
    def __init__(
        self,
        backend: Backend,
        *,
        embedder: Embedder | None = None,
        embedder_factory: Callable[[], Embedder] | None = None,
        cache: ResponseCache | None = None,
        recorder: Recorder | None = None,
        cache_policy: str = "auto",
        timeout: float = 120.0,
        concurrency: int | None = None,
        max_repairs: int = 2,
        retry: RetryPolicy | None = None,
        retry_budget: float = 300.0,
        embedding_cache_size: int = 50_000,
        outage_window: float = 60.0,
    ) -> None:
        if cache_policy not in CACHE_POLICIES:
            raise LLMConfigError(f"LLM_CACHE={cache_policy!r}: use one of {', '.join(CACHE_POLICIES)}")
        self.backend = backend
        self.cache: ResponseCache = cache if cache is not None else MemoryCache()
        self.recorder: Recorder = recorder if recorder is not None else NullRecorder()
        self.cache_policy = cache_policy
        self.timeout = timeout
        self.max_repairs = max_repairs
        self.retry = retry or RetryPolicy()
        self.retry_budget = retry_budget
        self.accounting = Accounting()
        self.breaker = CircuitBreaker(window=outage_window)
        self.concurrency = max(1, concurrency or backend.default_concurrency)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        # Async callers and fan-out both run blocking backend calls on these threads;
        # the semaphore, not the pool size, limits what reaches the backend.
        self._executor = ThreadPoolExecutor(max_workers=max(16, 2 * self.concurrency), thread_name_prefix="llm")
        self._embedder = embedder
        self._embedder_factory = embedder_factory
        self._embedder_lock = threading.Lock()
        self._embeddings: OrderedDict[str, np.ndarray] = OrderedDict()
        self._embedding_cache_size = embedding_cache_size
        self._embeddings_lock = threading.Lock()

    @property
    def model(self) -> str:
        return f"{self.backend.kind}:{self.backend.model_id}"

    # ----------------------------------------------------------------- text calls
    def complete(
        self,
        prompt: str,
        *,
        purpose: str,
        max_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Sequence[str] = (),
        seed: int | None = None,
        n: int = 1,
        cache: bool | None = None,
        timeout: float | None = None,
    ) -> Completion:
        params = GenParams(max_tokens, temperature, top_p, tuple(stop), seed)
        return self._text_call("complete", prompt, params, n, purpose, cache, timeout)

    def chat(
        self,
        messages: list[Message],
        *,
        purpose: str,
        max_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Sequence[str] = (),
        seed: int | None = None,
        n: int = 1,
        cache: bool | None = None,
        timeout: float | None = None,
    ) -> Completion:
        params = GenParams(max_tokens, temperature, top_p, tuple(stop), seed)
        return self._text_call("chat", messages, params, n, purpose, cache, timeout)

    def complete_batch(
        self,
        prompts: Sequence[str],
        *,
        purpose: str,
        max_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Sequence[str] = (),
        seed: int | None = None,
        n: int = 1,
        cache: bool | None = None,
        timeout: float | None = None,
        items: Sequence[str] | None = None,
    ) -> list[Completion]:
        """Many prompts (and `n` samples each) in one call: one batch where the backend
        batches natively, else spread over the backend's concurrency limit. `items`
        names the item each prompt belongs to, for its trace."""
        params = GenParams(max_tokens, temperature, top_p, tuple(stop), seed)
        prompts = list(prompts)
        names = _item_names(items, len(prompts))
        if not self.backend.native_batch:
            return self._fan_out(
                lambda job: _in_item(job[1], self._text_call, "complete", job[0], params, n, purpose, cache, timeout),
                list(zip(prompts, names, strict=True)),
            )
        return self._native_batch(prompts, params, n, purpose, cache, timeout, names)

    def chat_batch(
        self,
        conversations: Sequence[list[Message]],
        *,
        purpose: str,
        max_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Sequence[str] = (),
        seed: int | None = None,
        n: int = 1,
        cache: bool | None = None,
        timeout: float | None = None,
        items: Sequence[str] | None = None,
    ) -> list[Completion]:
        """Many conversations (and `n` samples each) in one call, as `complete_batch`:
        a backend that batches natively gets them rendered through its chat template as
        one padded batch; any other gets concurrent chat calls up to its limit.

        `items` names the item each conversation belongs to, for its trace (the call
        context's item otherwise). The first failure is raised; `chat_batch_settled`
        returns every answer that came back instead."""
        settled = self.chat_batch_settled(
            conversations,
            purpose=purpose,
            max_tokens=max_tokens,
            temperature=temperature,
            top_p=top_p,
            stop=stop,
            seed=seed,
            n=n,
            cache=cache,
            timeout=timeout,
            items=items,
        )
        for answer in settled:
            if isinstance(answer, LLMError):
                raise answer
        return settled  # type: ignore[return-value]  # no errors left

    def chat_batch_settled(
        self,
        conversations: Sequence[list[Message]],
        *,
        purpose: str,
        max_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Sequence[str] = (),
        seed: int | None = None,
        n: int = 1,
        cache: bool | None = None,
        timeout: float | None = None,
        items: Sequence[str] | None = None,
    ) -> list[Completion | LLMError]:
        """`chat_batch`, with each conversation's failure (after the gateway's retries) in
        its place instead of raised, so the answers that did come back are kept. A native
        batch succeeds or fails as one call: then every place holds its error."""
        params = GenParams(max_tokens, temperature, top_p, tuple(stop), seed)
        conversations = list(conversations)
        names = _item_names(items, len(conversations))
        render = getattr(self.backend, "render_chat", None)
        if not self.backend.native_batch or render is None or not conversations:

            def one(job: tuple[list[Message], str | None]) -> Completion | LLMError:
                try:
                    return _in_item(job[1], self._text_call, "chat", job[0], params, n, purpose, cache, timeout)
                except LLMConfigError:
                    raise
                except LLMError as exc:
                    return exc

            return self._fan_out(one, list(zip(conversations, names, strict=True)))
        rendered = [render(c, params) for c in conversations]
        try:
            done = self._native_batch([p for p, _ in rendered], rendered[0][1], n, purpose, cache, timeout, names)
        except LLMConfigError:
            raise
        except LLMError as exc:
            return [exc] * len(conversations)
        return list(done)

    def _text_call(
        self,
        kind: str,
        payload: str | list[Message],
        params: GenParams,
        n: int,
        purpose: str,
        cache: bool | None,
        timeout: float | None,
    ) -> Completion:
        trace = self._new_trace(purpose, kind, payload)
        start = time.perf_counter()
        with _call_stats() as stats:
            try:
                gens, cached, key = self._generate(kind, payload, params, n, None, cache, timeout)
            except LLMError as exc:
                self._finish(trace, start, stats, outcome=Outcome.ERROR, error=str(exc))
                raise
        if key and not cached and _usable(gens):
            self._cache_set(key, gens)  # an empty answer is never kept
        completion = _completion(gens, cached, time.perf_counter() - start)
        trace.raw = completion.texts
        self._finish(trace, start, stats, gens=gens, cached=cached)
        return completion

    def _native_batch(
        self,
        prompts: list[str],
        params: GenParams,
        n: int,
        purpose: str,
        cache: bool | None,
        timeout: float | None,
        names: list[str | None] | None = None,
    ) -> list[Completion]:
        names = names or [None] * len(prompts)
        start = time.perf_counter()
        use_cache = self._use_cache(cache, params)
        keys = [self._key("complete", p, params, n, None) for p in prompts]
        found: dict[int, list[Generation]] = {}
        if use_cache:
            for i, key in enumerate(keys):
                hit = self._cache_get(key)
                if hit is not None:
                    found[i] = hit
        todo = [i for i in range(len(prompts)) if i not in found]
        fresh: list[list[Generation]] = []
        stats = _CallStats()
        if todo:
            budget = timeout or self.timeout
            token = _stats.set(stats)
            try:
                fresh = self._with_backend(
                    lambda t: self.backend.complete_batch(
                        [prompts[i] for i in todo], params=params, n=n, schema=None, timeout=t
                    ),
                    budget,
                )
            except LLMError as exc:
                for i, p in enumerate(prompts):
                    trace = _in_item(names[i], self._new_trace, purpose, "complete", p)
                    # The batch's failed attempts are counted once, on the first prompt's trace.
                    mine = stats if i == 0 else _CallStats(stats.busy)
                    self._finish(trace, start, mine, outcome=Outcome.ERROR, error=str(exc))
                raise
            finally:
                _stats.reset(token)
        seconds = time.perf_counter() - start
        results: list[Completion] = []
        fresh_iter = iter(fresh)
        for i, prompt in enumerate(prompts):
            cached = i in found
            gens = found[i] if cached else next(fresh_iter)
            if not cached and use_cache and _usable(gens):
                self._cache_set(keys[i], gens)
            trace = _in_item(names[i], self._new_trace, purpose, "complete", prompt)
            trace.raw = [g.text for g in gens]
            # One batch, one clock: each prompt is charged its share of the time (the
            # batch's retries go on the first prompt's trace, so they are counted once).
            share = _CallStats(0.0 if cached else seconds / len(todo), stats.faults if todo and i == todo[0] else [])
            self._finish(trace, start, share, gens=gens, cached=cached)
            results.append(_completion(gens, cached, seconds))
        return results

    # ------------------------------------------------------------------ streaming
    def stream(
        self,
        prompt: str | None = None,
        *,
        messages: list[Message] | None = None,
        purpose: str,
        max_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Sequence[str] = (),
        seed: int | None = None,
        cache: bool | None = None,
        timeout: float | None = None,
    ) -> TextStream:
        """Text pieces as the model writes them (see llm.streaming): iterate the result,
        `cancel()` it from any thread; one trace is recorded when it ends."""
        if (prompt is None) == (messages is None):
            raise ValueError("stream() takes exactly one of a prompt or messages=")
        kind = "complete" if prompt is not None else "chat"
        payload: str | list[Message] = prompt if prompt is not None else list(messages or [])
        params = GenParams(max_tokens, temperature, top_p, tuple(stop), seed)
        use_cache = self._use_cache(cache, params)
        key = self._key(kind, payload, params, 1, None) if use_cache else ""
        hit = self._cache_get(key) if use_cache else None
        trace = self._new_trace(purpose, kind, payload)
        if kind == "complete" and self.backend.prefers_chat:
            kind, payload = "chat", [{"role": "user", "content": str(payload)}]
        backend = self.backend

        def open_stream(t: float) -> Iterator[str]:
            return backend.stream(kind, payload, params=params, timeout=t)

        return TextStream(self, trace, open_stream, timeout=timeout or self.timeout, cached=hit, cache_key=key)

    def astream(self, prompt: str | None = None, **kwargs: Any) -> TextStream:
        """The same stream, for `async for piece in gw.astream(...)`; leaving the loop early cancels it."""
        return self.stream(prompt, **kwargs)

    # ------------------------------------------------------------- structured calls
    def structured(
        self,
        schema: type[M],
        *,
        purpose: str,
        fallback: M | Callable[[], M],
        prompt: str | None = None,
        messages: list[Message] | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int | None = None,
        max_repairs: int | None = None,
        cache: bool | None = None,
        timeout: float | None = None,
    ) -> Structured[M]:
        """A validated `schema` instance, or `fallback` (never raises on bad output).

        Give either a completion `prompt` or chat `messages`. Transport failures that
        retries cannot fix (server down, key rejected) still raise LLMError.
        """
        if (prompt is None) == (messages is None):
            raise ValueError("structured() takes exactly one of prompt= or messages=")
        kind = "complete" if prompt is not None else "chat"
        payload: str | list[Message] = prompt if prompt is not None else list(messages or [])
        json_schema = json_schema_for(schema)
        params = GenParams(max_tokens, temperature, 1.0, (), seed)
        trace = self._new_trace(purpose, "structured", payload)
        start = time.perf_counter()
        with _call_stats() as stats:
            return self._structured_attempts(
                schema, kind, payload, json_schema, params, fallback, max_repairs, cache, timeout, trace, start, stats
            )

    def _structured_attempts(
        self,
        schema: type[M],
        kind: str,
        payload: str | list[Message],
        json_schema: dict[str, Any],
        params: GenParams,
        fallback: M | Callable[[], M],
        max_repairs: int | None,
        cache: bool | None,
        timeout: float | None,
        trace: Trace,
        start: float,
        stats: _CallStats,
    ) -> Structured[M]:
        raws: list[str] = []
        errors: list[str] = []
        usage = [0, 0]
        repairs = self.max_repairs if max_repairs is None else max(0, max_repairs)
        current = payload
        value: M | None = None
        outcome = Outcome.FALLBACK
        first_key = ""
        for attempt in range(repairs + 1):
            try:
                # A transport failure raises: an agent must not act on a fallback because
                # the network failed (the run loop retries the step instead).
                gens, cached, key = self._generate(kind, current, params, 1, json_schema, cache, timeout)
            except LLMError as exc:
                trace.raw, trace.attempts = raws, attempt + 1
                self._finish(trace, start, stats, outcome=Outcome.ERROR, error=str(exc), usage=usage)
                raise
            first_key = first_key or key
            text = gens[0].text
            usage[0] += sum(g.prompt_tokens for g in gens)
            usage[1] += sum(g.completion_tokens for g in gens)
            raws.append(text)
            value, problems = validate(schema, text)
            if value is None and cached:
                # Kept by an older version that cached every answer: ask the model instead.
                gens, cached, _ = self._generate(kind, current, params, 1, json_schema, cache, timeout, read=False)
                text = raws[-1] = gens[0].text
                value, problems = validate(schema, text)
            if value is not None:
                outcome = Outcome.FIRST_TRY if attempt == 0 else Outcome.REPAIRED
                trace.cached = cached
                if first_key and not (cached and attempt == 0):
                    # Only an answer that validated is kept, and under the original
                    # request: the next identical call gets it on its first try.
                    self._cache_set(first_key, gens)
                break
            errors.append("; ".join(problems))
            if attempt < repairs:
                # Each repair builds on the last, so the model sees every rejected answer.
                if isinstance(current, str):
                    current = repair_prompt(schema, current, text, problems)
                else:
                    current = repair_messages(schema, current, text, problems)
        if value is None:
            value = fallback() if callable(fallback) else fallback
        result = Structured(
            value=value,
            outcome=outcome,
            attempts=len(raws) or 1,
            errors=errors,
            raw=raws,
            prompt_tokens=usage[0],
            completion_tokens=usage[1],
            seconds=time.perf_counter() - start,
        )
        trace.raw, trace.attempts = raws, result.attempts
        trace.parsed = value.model_dump(mode="json")
        self._finish(trace, start, stats, outcome=outcome, error=" | ".join(errors), usage=usage)
        return result

    def structured_batch(
        self,
        schema: type[M],
        prompts: Sequence[str],
        *,
        purpose: str,
        fallback: M | Callable[[], M],
        **kwargs: Any,
    ) -> list[Structured[M]]:
        return self._fan_out(
            lambda p: self.structured(schema, prompt=p, purpose=purpose, fallback=fallback, **kwargs), list(prompts)
        )

    # ------------------------------------------------------------------ embeddings
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    if self._embedder_factory is None:
                        raise LLMConfigError("no embeddings model configured: set EMBEDDING_MODEL")
                    self._embedder = self._embedder_factory()
        return self._embedder

    def embed(self, texts: Sequence[str], *, purpose: str = "embed", timeout: float | None = None) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text; each text is embedded once
        per process (and once ever, with a persistent cache)."""
        texts = list(texts)
        embedder = self.embedder
        trace = self._new_trace(purpose, "embed", f"{len(texts)} texts")
        start = time.perf_counter()
        keys = [f"emb:{embedder.model_id}:{hashlib.sha256(t.encode('utf-8')).hexdigest()}" for t in texts]
        vectors: dict[str, np.ndarray] = {}
        with self._embeddings_lock:
            for key in keys:
                hit = self._embeddings.get(key)
                if hit is not None:
                    self._embeddings.move_to_end(key)
                    vectors[key] = hit
        missing = [k for k in dict.fromkeys(keys) if k not in vectors]
        if missing:
            for key, blob in _get_many(self.cache, missing).items():
                vectors[key] = np.frombuffer(bytes.fromhex(blob), dtype=np.float32)
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in vectors}
        stats = _CallStats()
        if todo:
            budget = timeout or self.timeout
            try:
                fresh = with_retries(
                    lambda: self._encode(embedder, list(todo.values()), budget),
                    policy=self.retry,
                    deadline=time.monotonic() + self.retry_budget,
                    describe=f"embeddings {embedder.model_id}",
                    on_fault=stats.faults.append,
                )
            except LLMError as exc:
                self._finish(trace, start, stats, outcome=Outcome.ERROR, error=str(exc))
                raise
            new_entries = {}
            for key, row in zip(todo, fresh, strict=True):
                vectors[key] = row
                new_entries[key] = row.astype(np.float32).tobytes().hex()
            _set_many(self.cache, new_entries)
        with self._embeddings_lock:
            for key in missing:
                self._embeddings[key] = vectors[key]
            while len(self._embeddings) > self._embedding_cache_size:
                self._embeddings.popitem(last=False)
        trace.cached = not todo
        tokens = sum(len(t.split()) for t in todo.values())
        stats.busy = time.perf_counter() - start
        self._finish(trace, start, stats, usage=[tokens, 0], cached=not todo)
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([vectors[k] for k in keys]).astype(np.float32, copy=False)

    def _encode(self, embedder: Embedder, texts: list[str], timeout: float) -> np.ndarray:
        if not getattr(embedder, "remote", False):
            return embedder.encode(texts, timeout=timeout)
        # An embeddings server is a model server too: an outage there is an outage.
        try:
            vectors = embedder.encode(texts, timeout=timeout)
        except RetryableError as exc:
            self.breaker.record_fault(exc.kind, str(exc))
            raise
        self.breaker.record_success()
        return vectors

    # ------------------------------------------------------------------- async twins
    async def acomplete(self, prompt: str, **kwargs: Any) -> Completion:
        return await self._in_thread(self.complete, prompt, **kwargs)

    async def achat(self, messages: list[Message], **kwargs: Any) -> Completion:
        return await self._in_thread(self.chat, messages, **kwargs)

    async def acomplete_batch(self, prompts: Sequence[str], **kwargs: Any) -> list[Completion]:
        return await self._in_thread(self.complete_batch, prompts, **kwargs)

    async def astructured(self, schema: type[M], **kwargs: Any) -> Structured[M]:
        return await self._in_thread(self.structured, schema, **kwargs)

    async def astructured_batch(self, schema: type[M], prompts: Sequence[str], **kwargs: Any) -> list[Structured[M]]:
        return await self._in_thread(self.structured_batch, schema, prompts, **kwargs)

    async def aembed(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        return await self._in_thread(self.embed, texts, **kwargs)

    async def _in_thread(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()  # keeps run/step/item tags in the worker thread
        return await loop.run_in_executor(self._executor, functools.partial(ctx.run, fn, *args, **kwargs))

    # ------------------------------------------------------------------- internals
    def _fan_out(self, fn: Callable[[Any], R], items: list[Any]) -> list[R]:
        if len(items) <= 1:
            return [fn(item) for item in items]
        # A pool of our own, so fan-out from inside an executor thread cannot deadlock.
        with ThreadPoolExecutor(max_workers=min(len(items), self.concurrency, 64)) as pool:
            futures = [pool.submit(contextvars.copy_context().run, fn, item) for item in items]
            return [f.result() for f in futures]

    def _use_cache(self, cache: bool | None, params: GenParams) -> bool:
        if self.cache_policy == "off":
            return False
        if cache is not None:
            return cache
        return self.cache_policy == "all" or params.temperature == 0

    def _key(self, kind: str, payload: Any, params: GenParams, n: int, schema: dict[str, Any] | None) -> str:
        return cache_key(model=self.model, kind=kind, payload=payload, params=params.as_key(), n=n, schema=schema)

    def _cache_get(self, key: str) -> list[Generation] | None:
        try:
            hit = self.cache.get(key)
        except Exception:
            log.warning("response cache read failed", exc_info=True)
            return None
        if hit is None:
            return None
        try:
            return [Generation(**g) for g in json.loads(hit)]
        except (ValueError, TypeError):
            return None

    def _cache_set(self, key: str, gens: list[Generation]) -> None:
        try:
            self.cache.set(key, json.dumps([vars(g) for g in gens]))
        except Exception:
            log.warning("response cache write failed", exc_info=True)

    def _with_backend(self, fn: Callable[[float], R], timeout: float) -> R:
        stats = _stats.get()

        def attempt() -> R:
            # The timeout starts once a slot is free: queueing behind other agents'
            # calls is not the model being slow.
            with self._slots:
                began = time.perf_counter()
                try:
                    result = fn(timeout)
                except RetryableError as exc:
                    self.breaker.record_fault(exc.kind, str(exc))
                    raise
                finally:
                    if stats is not None:
                        stats.busy += time.perf_counter() - began
            self.breaker.record_success()
            return result

        return with_retries(
            attempt,
            policy=self.retry,
            deadline=time.monotonic() + max(self.retry_budget, timeout),
            describe=self.backend.describe(),
            on_fault=stats.faults.append if stats is not None else None,
        )

    def probe(self, *, timeout: float = 10.0) -> None:
        """Ask the backend whether it answers at all (no retries, no trace); raises LLMError if not.

        The run loops call this while waiting out an outage (llm.resilience)."""
        try:
            self.backend.probe(timeout=timeout)
        except RetryableError as exc:
            self.breaker.record_fault(exc.kind, str(exc))
            raise
        self.breaker.record_success()

    def _generate(
        self,
        kind: str,
        payload: str | list[Message],
        params: GenParams,
        n: int,
        schema: dict[str, Any] | None,
        cache: bool | None,
        timeout: float | None,
        *,
        read: bool = True,
    ) -> tuple[list[Generation], bool, str]:
        """The backend's answers, whether they came from the cache, and the cache key
        ("" when this call is not cached). Writing the cache is the caller's decision:
        only answers that were used are kept."""
        use_cache = self._use_cache(cache, params)
        key = self._key(kind, payload, params, n, schema) if use_cache else ""
        if use_cache and read:
            hit = self._cache_get(key)
            if hit is not None:
                return hit, True, key
        budget = timeout or self.timeout
        if kind == "complete" and self.backend.prefers_chat:
            kind, payload = "chat", [{"role": "user", "content": str(payload)}]
        if kind == "complete":
            gens = self._with_backend(
                lambda t: self.backend.complete(payload, params=params, n=n, schema=schema, timeout=t),  # type: ignore[arg-type]
                budget,
            )
        else:
            gens = self._with_backend(
                lambda t: self.backend.chat(payload, params=params, n=n, schema=schema, timeout=t),  # type: ignore[arg-type]
                budget,
            )
        return gens, False, key

    def _new_trace(self, purpose: str, kind: str, payload: str | list[Message]) -> Trace:
        ctx = current_context()
        prompt = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        return Trace(
            purpose=purpose, kind=kind, model=self.model, run=ctx.run, step=ctx.step, item=ctx.item, prompt=prompt
        )

    def _finish(
        self,
        trace: Trace,
        start: float,
        stats: _CallStats | None = None,
        *,
        gens: list[Generation] | None = None,
        cached: bool | None = None,
        outcome: Outcome | None = None,
        error: str = "",
        usage: list[int] | None = None,
    ) -> None:
        trace.seconds = time.perf_counter() - start if stats is None else stats.busy
        if stats is not None:
            trace.faults = [f.as_dict() for f in stats.faults]
            trace.retries = sum(1 for f in stats.faults if f.wait is not None)
        if gens is not None:
            trace.prompt_tokens = sum(g.prompt_tokens for g in gens)
            trace.completion_tokens = sum(g.completion_tokens for g in gens)
        if usage is not None:
            trace.prompt_tokens, trace.completion_tokens = usage
        if cached is not None:
            trace.cached = cached
        if trace.cached:
            # A cache hit costs no model tokens; keep accounting honest.
            trace.prompt_tokens = trace.completion_tokens = 0
        if outcome is not None:
            trace.outcome = outcome
        trace.error = error
        self.accounting.add(trace)
        try:
            self.recorder.record(trace)
        except Exception:
            log.warning("trace recording failed", exc_info=True)
        notify(trace)

    def flush(self) -> None:
        self.recorder.flush()

    def close(self) -> None:
        """Flush traces, let calls already running finish, then free the model (freeing
        it under a running llama.cpp call would crash the process). A trace store that
        fails here (a database gone or never migrated) is logged, never raised: it must
        not hide the error the command is ending with."""
        try:
            self.flush()
        except Exception as exc:
            log.warning("could not store the last model-call traces: %s", " ".join(str(exc).split())[:300])
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.backend.close()


def _item_names(items: Sequence[str] | None, count: int) -> list[str | None]:
    if items is None:
        return [None] * count
    if len(items) != count:
        raise ValueError(f"{len(items)} item names for {count} prompts")
    return list(items)


def _in_item(item: str | None, fn: Callable[..., R], *args: Any) -> R:
    """`fn(*args)` with the call context's item set to `item` (unchanged when None)."""
    if item is None:
        return fn(*args)
    with call_context(item=item):
        return fn(*args)


@contextmanager
def _call_stats() -> Iterator[_CallStats]:
    stats = _CallStats()
    token = _stats.set(stats)
    try:
        yield stats
    finally:
        _stats.reset(token)


def _usable(gens: list[Generation]) -> bool:
    """Worth caching: every sampled answer has text."""
    return bool(gens) and all(g.text.strip() for g in gens)


def _completion(gens: list[Generation], cached: bool, seconds: float) -> Completion:
    return Completion(
        texts=[g.text for g in gens],
        prompt_tokens=sum(g.prompt_tokens for g in gens),
        completion_tokens=sum(g.completion_tokens for g in gens),
        seconds=seconds,
        cached=cached,
        finish_reasons=[g.finish_reason for g in gens],
    )


def _get_many(cache: ResponseCache, keys: list[str]) -> dict[str, str]:
    try:
        get_many = getattr(cache, "get_many", None)
        if get_many is not None:
            return dict(get_many(keys))
        return {k: v for k in keys if (v := cache.get(k)) is not None}
    except Exception:
        log.warning("embedding cache read failed", exc_info=True)
        return {}


def _set_many(cache: ResponseCache, entries: dict[str, str]) -> None:
    try:
        set_many = getattr(cache, "set_many", None)
        if set_many is not None:
            set_many(entries)
        else:
            for k, v in entries.items():
                cache.set(k, v)
    except Exception:
        log.warning("embedding cache write failed", exc_info=True)
