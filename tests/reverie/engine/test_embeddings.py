"""The world's embedding memo: each distinct text is embedded once, concurrent requests share a call."""

import asyncio

import numpy as np
import pytest

from reverie.engine.embeddings import EmbeddingMemo


class CountingEmbedder:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    async def astructured(self, schema, **kwargs):  # pragma: no cover - not used here
        raise AssertionError("not used")

    async def aembed(self, texts, **kwargs):
        self.calls.append(list(texts))
        await asyncio.sleep(0.01)
        if self.fail:
            raise ConnectionError("embedding server down")
        return np.stack([np.full(4, float(len(t)), dtype=np.float32) for t in texts])


async def test_each_text_is_embedded_once_and_answers_keep_the_order():
    inner = CountingEmbedder()
    memo = EmbeddingMemo(inner)
    first = await memo.aembed(["Mei Lin", "Tom Moreno"], purpose="a")
    again = await memo.aembed(["Tom Moreno", "Mei Lin", "Tom Moreno", "Sam"], purpose="b")
    assert inner.calls == [["Mei Lin", "Tom Moreno"], ["Sam"]]  # only the new text went out
    assert [v[0] for v in again] == [10.0, 7.0, 10.0, 3.0]
    assert np.array_equal(first[0], again[1])
    assert (memo.hits, memo.misses) == (2, 3)  # per distinct text asked


async def test_concurrent_requests_for_a_text_share_one_call():
    inner = CountingEmbedder()
    memo = EmbeddingMemo(inner)
    answers = await asyncio.gather(*[memo.aembed(["Isabella Rodriguez is baking"]) for _ in range(10)])
    assert inner.calls == [["Isabella Rodriguez is baking"]]
    assert all(np.array_equal(a, answers[0]) for a in answers)


async def test_a_failed_call_reaches_every_waiter_and_is_not_remembered():
    inner = CountingEmbedder(fail=True)
    memo = EmbeddingMemo(inner)
    results = await asyncio.gather(*[memo.aembed(["x y"]) for _ in range(3)], return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    inner.fail = False
    assert (await memo.aembed(["x y"]))[0][0] == 3.0  # asked again once the server is back
    assert len(inner.calls) == 2


async def test_the_memo_is_bounded():
    inner = CountingEmbedder()
    memo = EmbeddingMemo(inner, capacity=2)
    await memo.aembed(["aa", "bbb", "cccc"])  # more than the capacity in one batch still answers
    await memo.aembed(["aa"])
    assert inner.calls[-1] == ["aa"]  # the oldest was forgotten
    with pytest.raises(ValueError):
        EmbeddingMemo(inner, capacity=0)
