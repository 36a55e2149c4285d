"""A gateway wrapper that embeds each distinct text once (names, repeated events).

Why: in one step of the town, the same short texts are embedded again and again: the
name of the person an agent decides about or talks with is a focal point for every
agent who meets them, and "Mei Lin is sleeping" is perceived by everyone in the house.
Each of those was a model-server call on an agent's critical path. An embedding is a
pure function of the text (for one embedder), so `EmbeddingMemo` keeps the vectors of
recent texts and shares one call between concurrent requests for the same text.

`World.advance` wraps the gateway in one memo per world (the memo is dropped when a
different gateway is passed in), and at its first step embeds every agent's name in
one call running beside the agents' perception and planning, so that a name is ready
by the time anyone reacts to or talks with its owner.

Memo hits make no call, so they do not appear in traces or accounting; calls that do
go out keep the purpose of the first request for those texts.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from reverie.engine.ports import ModelGateway

__all__ = ["EmbeddingMemo"]

M = TypeVar("M")


class EmbeddingMemo:
    """`ModelGateway` over another one: `aembed` memoised per text (LRU, `capacity`
    texts), `astructured` passed through."""

    def __init__(self, gateway: ModelGateway, *, capacity: int = 4096) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.gateway = gateway
        self.capacity = capacity
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._pending: dict[str, asyncio.Future[np.ndarray]] = {}
        self.hits = 0
        self.misses = 0

    async def astructured(self, schema: type[M], **kwargs: Any) -> Any:
        return await self.gateway.astructured(schema, **kwargs)

    async def aembed(self, texts: list[str] | Sequence[str], **kwargs: Any) -> np.ndarray:
        texts = [str(t) for t in texts]
        distinct = list(dict.fromkeys(texts))
        found = {t: self._vectors[t] for t in distinct if t in self._vectors}
        waiting = {t: self._pending[t] for t in distinct if t not in found and t in self._pending}
        missing = [t for t in distinct if t not in found and t not in waiting]
        if missing:
            loop = asyncio.get_running_loop()
            mine = {t: loop.create_future() for t in missing}
            self._pending.update(mine)
            try:
                vectors = np.asarray(await self.gateway.aembed(missing, **kwargs))
            except BaseException as exc:
                for t, future in mine.items():
                    self._pending.pop(t, None)
                    future.set_exception(exc)
                    future.exception()  # marked retrieved: nobody may be waiting for it
                raise
            for t, vector in zip(missing, vectors, strict=True):
                self._pending.pop(t, None)
                mine[t].set_result(vector)
                found[t] = vector
                self._remember(t, vector)
        for t, future in waiting.items():
            found[t] = await future
        self.misses += len(missing)
        self.hits += len(distinct) - len(missing)
        for t in distinct:
            if t in self._vectors:
                self._vectors.move_to_end(t)
        return np.stack([found[t] for t in texts]) if texts else np.empty((0, 0), dtype=np.float32)

    def _remember(self, text: str, vector: np.ndarray) -> None:
        self._vectors[text] = vector
        self._vectors.move_to_end(text)
        while len(self._vectors) > self.capacity:
            self._vectors.popitem(last=False)
