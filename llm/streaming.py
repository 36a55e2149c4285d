"""Streamed text: pieces as the model writes them, cancellable, accounted once at the end.

    stream = gw.stream("Once upon a time", purpose="writer.paragraph", max_tokens=400)
    for piece in stream:          # or: async for piece in gw.astream(...)
        show(piece)
        if reader_pressed_stop:
            stream.cancel()       # from any thread; generation stops after the next piece
    stream.completion             # the whole Completion once it ended (text, tokens, seconds)

An async reader that may leave the loop early closes it with `contextlib.aclosing`
(or calls `cancel()`); a cancelled task cancels the stream by itself.

A backend streams with `Backend.stream()`: a generator of text pieces that returns
the final `Generation` (text and token counts). What the gateway adds, as for any
call: a slot of the backend's concurrency limit held while the model writes, retries
(with the fault kinds of llm.retry) until the first piece arrives, a timeout, the
response cache (a cached answer comes as one piece), and one trace when the stream
ends, is cancelled or fails. After the first piece a failure cannot be retried
transparently (the reader has seen the text): it raises LLMUnavailable.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from llm.errors import LLMError, LLMUnavailable, RetryableError
from llm.retry import with_retries
from llm.types import Completion, Generation, Outcome

if TYPE_CHECKING:
    from llm.gateway import Gateway, _CallStats
    from llm.tracing import Trace

_DONE = object()


class TextStream:
    """One streamed call. Iterate it once (with `for` or `async for`)."""

    def __init__(
        self,
        gateway: Gateway,
        trace: Trace,
        open_stream: Callable[[float], Iterator[str]],
        *,
        timeout: float,
        cached: list[Generation] | None,
        cache_key: str,
    ) -> None:
        self._gw = gateway
        self._trace = trace
        self._open = open_stream
        self._timeout = timeout
        self._cached = cached
        self._cache_key = cache_key
        self._cancel = threading.Event()
        self._started = False
        self._pieces: list[str] = []
        self.completion: Completion | None = None
        self.outcome: Outcome | None = None
        self.first_piece_seconds: float | None = None

    # ----------------------------------------------------------------- reading
    @property
    def text(self) -> str:
        """What has been written so far (all of it once the stream ended)."""
        return "".join(self._pieces)

    @property
    def cancelled(self) -> bool:
        return self.outcome == Outcome.CANCELLED

    def cancel(self) -> None:
        """Stop the generation: safe from any thread, and after the end (then it does nothing)."""
        self._cancel.set()

    def __iter__(self) -> Iterator[str]:
        if self._started:
            raise RuntimeError("a TextStream can be read once")
        self._started = True
        return self._run()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._arun()

    # ----------------------------------------------------------------- internals
    def _run(self) -> Iterator[str]:
        from llm.gateway import _CallStats, _stats

        gw = self._gw
        start = time.perf_counter()
        stats = _CallStats()
        if self._cached is not None:
            text = self._cached[0].text
            self._pieces.append(text)
            self.first_piece_seconds = time.perf_counter() - start
            try:
                yield text
            except GeneratorExit:
                self._end(start, stats, Outcome.CANCELLED, self._cached[0], cached=True)
                raise
            self._end(start, stats, Outcome.OK, self._cached[0], cached=True)
            return
        token = _stats.set(stats)
        gen: Iterator[str] | None = None
        final: Generation | None = None
        outcome = Outcome.OK
        try:
            with gw._slots:
                began = time.perf_counter()
                try:
                    gen, first, final = self._first_piece(stats)
                    if first is not None:
                        yield from self._deliver(first, start)
                    while final is None and not self._cancel.is_set():
                        try:
                            piece = next(gen)
                        except StopIteration as stop:
                            final = stop.value if isinstance(stop.value, Generation) else Generation(self.text)
                            break
                        except RetryableError as exc:
                            gw.breaker.record_fault(exc.kind, str(exc))
                            raise LLMUnavailable(
                                f"{gw.backend.describe()}: the stream broke after {len(self.text)} characters ({exc})",
                                kind=exc.kind,
                                faults={exc.kind: 1},
                            ) from None
                        yield from self._deliver(piece, start)
                    if final is None:
                        outcome = Outcome.CANCELLED
                finally:
                    if gen is not None and hasattr(gen, "close"):
                        gen.close()  # a cancelled llama.cpp loop or HTTP response stops here
                    stats.busy += time.perf_counter() - began
        except LLMError as exc:
            self._end(start, stats, Outcome.ERROR, None, error=str(exc))
            raise
        except GeneratorExit:
            # The reader stopped iterating (closed the loop early): the same as cancel().
            self._end(start, stats, Outcome.CANCELLED, None)
            raise
        finally:
            _stats.reset(token)
        if outcome == Outcome.OK:
            gw.breaker.record_success()
        self._end(start, stats, outcome, final)

    def _first_piece(self, stats: _CallStats) -> tuple[Iterator[str], str | None, Generation | None]:
        """Open the backend's stream and read its first piece, retrying faults until then."""
        gw = self._gw

        def attempt() -> tuple[Iterator[str], str | None, Generation | None]:
            gen = self._open(self._timeout)
            try:
                return gen, next(gen), None
            except StopIteration as stop:  # nothing written at all
                return gen, None, stop.value if isinstance(stop.value, Generation) else Generation("")
            except RetryableError as exc:
                gw.breaker.record_fault(exc.kind, str(exc))
                raise

        return with_retries(
            attempt,
            policy=gw.retry,
            deadline=time.monotonic() + max(gw.retry_budget, self._timeout),
            describe=gw.backend.describe(),
            on_fault=stats.faults.append,
        )

    def _deliver(self, piece: str, start: float) -> Iterator[str]:
        if not piece:
            return
        if self.first_piece_seconds is None:
            self.first_piece_seconds = time.perf_counter() - start
        self._pieces.append(piece)
        yield piece

    def _end(
        self,
        start: float,
        stats: _CallStats,
        outcome: Outcome,
        final: Generation | None,
        *,
        cached: bool = False,
        error: str = "",
    ) -> None:
        gw, trace = self._gw, self._trace
        text = self.text
        gens = [
            Generation(
                text=text,
                prompt_tokens=final.prompt_tokens if final else 0,
                completion_tokens=final.completion_tokens if final and final.completion_tokens else len(self._pieces),
                finish_reason=(final.finish_reason if final else "cancelled"),
            )
        ]
        if outcome == Outcome.OK and not cached and self._cache_key and text.strip():
            gw._cache_set(self._cache_key, gens)  # a cancelled or failed stream is never kept
        trace.raw = [text]
        self.outcome = outcome
        self.completion = Completion(
            texts=[text],
            prompt_tokens=0 if cached else gens[0].prompt_tokens,
            completion_tokens=0 if cached else gens[0].completion_tokens,
            seconds=time.perf_counter() - start,
            cached=cached,
            finish_reasons=[gens[0].finish_reason],
        )
        gw._finish(trace, start, stats, gens=None if outcome == Outcome.ERROR else gens, cached=cached,
                   outcome=outcome, error=error)  # fmt: skip

    async def _arun(self) -> AsyncIterator[str]:
        """The same stream for async code: the model writes in the gateway's thread pool
        and hands each piece over only when the reader asks for it, so a reader that
        stops reading stops the model one piece later. Closing the loop (`aclosing`, or
        the task being cancelled) cancels the stream and waits for its trace."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)

        def hand_over(item: Any) -> None:
            asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

        def pump() -> None:
            try:
                for piece in self:  # stops by itself once cancel() is called
                    hand_over(piece)
                hand_over(_DONE)
            except BaseException as exc:  # handed to the reader, raised there
                hand_over(exc)

        ctx = contextvars.copy_context()  # run/step/item tags follow the call into the thread
        worker = loop.run_in_executor(self._gw._executor, ctx.run, pump)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.cancel()
            while not worker.done():  # let the pump finish: take what it still hands over
                while not queue.empty():
                    queue.get_nowait()
                await asyncio.sleep(0.005)
