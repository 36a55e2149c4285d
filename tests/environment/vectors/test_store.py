"""Behaviour every vector store must have, run on numpy (SQLite) and pgvector (PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.conf import settings
from django.test import override_settings

from environment.vectors.models import VectorItem
from environment.vectors.store import Hit, VectorBatch, VectorStore
from tests.environment.vectors.data import BASE_TIME, clustered, exact_top, minutes

OWNER = "sim:3:persona:Isabella Rodriguez"
OTHER = "sim:3:persona:Klaus Mueller"


def test_add_returns_ids_and_search_finds_nearest(store: VectorStore) -> None:
    vectors = clustered(60, seed=1)
    texts = [f"memory {i}" for i in range(60)]
    ids = store.add(
        owner=OWNER,
        kind="event",
        vectors=vectors,
        texts=texts,
        refs=[f"node_{i}" for i in range(60)],
        metadata=[{"poignancy": i % 10} for i in range(60)],
        created_at=[minutes(i) for i in range(60)],
    )
    assert len(ids) == 60 and ids == sorted(ids)
    assert store.count(owner=OWNER) == 60

    query = vectors[17] + 0.01
    hits = store.search(owner=OWNER, query=query, k=5)
    assert [hit.id for hit in hits] == [ids[i] for i in exact_top(vectors, query, 5)]
    best = hits[0]
    assert isinstance(best, Hit)
    assert (best.owner, best.kind, best.ref, best.text) == (OWNER, "event", "node_17", "memory 17")
    assert best.metadata == {"poignancy": 7}
    assert best.created_at == minutes(17)
    assert best.score == pytest.approx(
        float(np.dot(vectors[17], query) / np.linalg.norm(vectors[17]) / np.linalg.norm(query)), abs=1e-5
    )
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    with pytest.raises(AttributeError):
        best.score = 0.0  # type: ignore[misc]


def test_search_is_scoped_to_the_owner(store: VectorStore) -> None:
    mine = clustered(20, seed=2)
    noise = np.random.default_rng(12).standard_normal(mine.shape).astype(np.float32)
    theirs = mine + 0.2 * noise  # close to mine: they would show up if the owner filter leaked
    my_ids = store.add(owner=OWNER, kind="event", vectors=mine)
    their_ids = store.add(owner=OTHER, kind="event", vectors=theirs)

    hits = store.search(owner=OWNER, query=mine[3], k=50)
    assert {hit.id for hit in hits} == set(my_ids)
    everyone = store.search(owner=None, query=mine[3], k=50)
    assert {hit.id for hit in everyone} == set(my_ids) | set(their_ids)
    assert store.count() == 40
    assert store.search(owner="nobody", query=mine[3], k=5) == []


def test_add_many_stores_several_owners_at_once_each_searchable(store: VectorStore) -> None:
    """One insert for several owners (a simulation step's new memories): each batch's
    ids come back in order, and each owner's search (kept in memory by the numpy
    store, warmed first here) and the all-owners search find their own rows."""
    mine, theirs, more = clustered(12, seed=4), clustered(8, seed=5), clustered(5, seed=6)
    first = store.add(owner=OWNER, kind="event", vectors=mine[:2])
    store.search(owner=OWNER, query=mine[0], k=1)  # the numpy store's caches are built now
    store.search(owner=None, query=mine[0], k=1)
    ids = store.add_many([
        VectorBatch(OWNER, "event", mine[2:], refs=[f"m{i}" for i in range(2, 12)], created_at=minutes(3)),
        VectorBatch(OTHER, "thought", theirs, texts=[f"t{i}" for i in range(8)]),
        VectorBatch(OWNER, "chat", more),
    ])  # fmt: skip
    assert [len(batch) for batch in ids] == [10, 8, 5]
    flat = [i for batch in ids for i in batch]
    assert flat == sorted(flat) and min(flat) > max(first)
    mine_all = first + ids[0] + ids[2]
    assert {hit.id for hit in store.search(owner=OWNER, query=mine[5], k=50)} == set(mine_all)
    assert [hit.id for hit in store.search(owner=OWNER, query=mine[5], k=1)] == [ids[0][3]]
    hit = store.search(owner=OTHER, query=theirs[6], k=1)[0]
    assert (hit.id, hit.kind, hit.text) == (ids[1][6], "thought", "t6")
    assert {h.id for h in store.search(owner=None, query=mine[5], k=100)} == set(mine_all) | set(ids[1])
    assert store.add_many([]) == [] and store.add_many([VectorBatch(OWNER, "event", np.zeros((0, 8)))]) == [[]]


def test_filters_by_kind_and_time_range(store: VectorStore) -> None:
    vectors = clustered(90, seed=3)
    kinds = ["event", "thought", "chat"]
    ids_by_kind: dict[str, list[int]] = {}
    for offset, kind in enumerate(kinds):
        rows = list(range(offset, 90, 3))
        ids_by_kind[kind] = store.add(
            owner=OWNER, kind=kind, vectors=vectors[rows], created_at=[minutes(i) for i in rows]
        )
    row_of = {
        pk: row for kind in kinds for pk, row in zip(ids_by_kind[kind], range(kinds.index(kind), 90, 3), strict=True)
    }
    query = vectors[40]

    thoughts = store.search(owner=OWNER, query=query, k=100, kinds=["thought"])
    assert {hit.id for hit in thoughts} == set(ids_by_kind["thought"])
    assert {hit.kind for hit in store.search(owner=OWNER, query=query, k=100, kinds=["chat", "event"])} == {
        "chat",
        "event",
    }
    assert {hit.kind for hit in store.search(owner=OWNER, query=query, k=5, kinds="chat")} == {"chat"}
    assert store.search(owner=OWNER, query=query, k=5, kinds=["reflection"]) == []
    assert store.search(owner=OWNER, query=query, k=5, kinds=[]) == []

    window = store.search(owner=OWNER, query=query, k=100, since=minutes(30), until=minutes(60))
    assert sorted(row_of[hit.id] for hit in window) == list(range(30, 60))  # since inclusive, until exclusive
    late_thoughts = store.search(owner=OWNER, query=query, k=100, kinds=["thought"], since=minutes(45))
    assert sorted(row_of[hit.id] for hit in late_thoughts) == list(range(46, 90, 3))
    early = store.search(owner=OWNER, query=query, k=3, until=minutes(10))
    expected = exact_top(vectors[:10], query, 3)
    assert [row_of[hit.id] for hit in early] == expected
    assert store.search(owner=OWNER, query=query, k=5, since=minutes(200)) == []


def test_naive_datetimes_are_read_in_the_default_time_zone(store: VectorStore) -> None:
    vectors = clustered(4, seed=4)
    store.add(owner=OWNER, kind="event", vectors=vectors, created_at=[minutes(i) for i in range(4)])
    naive_since = (BASE_TIME + timedelta(minutes=2)).replace(tzinfo=None)  # TIME_ZONE is UTC
    assert len(store.search(owner=OWNER, query=vectors[0], k=10, since=naive_since)) == 2


def test_ties_are_broken_by_id(store: VectorStore) -> None:
    vector = clustered(1, seed=5)[0]
    ids = store.add(owner=OWNER, kind="event", vectors=np.stack([vector] * 6))
    hits = store.search(owner=OWNER, query=vector, k=4)
    assert [hit.id for hit in hits] == ids[:4]
    assert all(hit.score == pytest.approx(1.0, abs=1e-5) for hit in hits)


def test_single_created_at_and_defaults(store: VectorStore) -> None:
    vectors = clustered(3, seed=6)
    store.add(owner=OWNER, kind="paragraph", vectors=vectors.tolist(), created_at=minutes(5))
    hits = store.search(owner=OWNER, query=vectors[0], k=3)
    assert {hit.created_at for hit in hits} == {minutes(5)}
    assert {(hit.text, hit.ref) for hit in hits} == {("", "")}
    assert all(hit.metadata == {} for hit in hits)
    assert store.add(owner=OWNER, kind="event", vectors=np.empty((0, settings.VECTOR_DIM))) == []


def test_dimension_mismatch_is_a_clear_error(store: VectorStore) -> None:
    with pytest.raises(ValueError, match=r"VECTOR_DIM=384.*EMBEDDING_MODEL="):
        store.add(owner=OWNER, kind="event", vectors=np.ones((2, 768), dtype=np.float32))
    store.add(owner=OWNER, kind="event", vectors=clustered(2, seed=7))
    with pytest.raises(ValueError, match=r"has 128 dimensions but VECTOR_DIM=384"):
        store.search(owner=OWNER, query=np.ones(128), k=3)
    vector_384 = clustered(1, seed=8)
    with (
        override_settings(VECTOR_DIM=768, EMBEDDING_MODEL="openai:text-embedding-3-small"),
        pytest.raises(ValueError, match=r"384 dimensions but VECTOR_DIM=768 \(EMBEDDING_MODEL='openai"),
    ):
        store.add(owner=OWNER, kind="event", vectors=vector_384)
    assert store.count(owner=OWNER) == 2


def test_bad_arguments_are_rejected(store: VectorStore) -> None:
    vectors = clustered(2, seed=9)
    with pytest.raises(ValueError, match="texts has 1 entries for 2 vectors"):
        store.add(owner=OWNER, kind="event", vectors=vectors, texts=["only one"])
    with pytest.raises(ValueError, match="all zeros"):
        store.add(owner=OWNER, kind="event", vectors=np.zeros((1, settings.VECTOR_DIM)))
    with pytest.raises(ValueError, match="kind is 40 characters"):
        store.add(owner=OWNER, kind="k" * 40, vectors=vectors)
    with pytest.raises(ValueError, match="zero"):
        store.search(owner=OWNER, query=np.zeros(settings.VECTOR_DIM), k=3)
    with pytest.raises(TypeError):
        store.search(OWNER, vectors[0])  # type: ignore[misc]  # keyword-only
    assert store.count() == 0


def test_delete_by_ids_and_whole_owner(store: VectorStore) -> None:
    vectors = clustered(10, seed=10)
    ids = store.add(owner=OWNER, kind="event", vectors=vectors)
    other = store.add(owner=OTHER, kind="event", vectors=vectors[:3])
    store.search(owner=OWNER, query=vectors[0], k=3)  # warm any cache

    assert store.delete(owner=OWNER, ids=[ids[0], ids[1], other[0]]) == 2  # not another owner's row
    hits = store.search(owner=OWNER, query=vectors[0], k=10)
    assert {hit.id for hit in hits} == set(ids[2:])
    assert store.delete(owner=OWNER) == 8
    assert store.search(owner=OWNER, query=vectors[0], k=10) == []
    assert store.count() == 3


def test_embedding_round_trips_through_the_model(store: VectorStore) -> None:
    vectors = clustered(2, seed=11)
    ids = store.add(owner=OWNER, kind="event", vectors=vectors)
    row = VectorItem.objects.using(store.using).get(pk=ids[1])
    assert isinstance(row.embedding, np.ndarray) and row.embedding.dtype == np.float32
    np.testing.assert_array_equal(row.embedding, vectors[1])
