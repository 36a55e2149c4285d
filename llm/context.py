"""Which run, step and item a model call belongs to, carried by contextvars.

    with call_context(run="sim:7", step=120, item="Isabella Rodriguez"):
        gateway.structured(...)

Context variables follow asyncio tasks, and the gateway copies them into its worker
threads, so traces are attributed correctly under concurrency.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class CallContext:
    run: str = ""
    step: int | None = None
    item: str = ""


_current: ContextVar[CallContext] = ContextVar("llm_call_context", default=CallContext())  # noqa: B039


def current_context() -> CallContext:
    return _current.get()


@contextmanager
def call_context(*, run: str | None = None, step: int | None = None, item: str | None = None) -> Iterator[CallContext]:
    """Set (part of) the context; unspecified parts are inherited from the enclosing one."""
    base = _current.get()
    ctx = replace(
        base,
        run=base.run if run is None else run,
        step=base.step if step is None else step,
        item=base.item if item is None else item,
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
