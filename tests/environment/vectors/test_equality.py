"""numpy (SQLite) and pgvector (PostgreSQL) give the same answers for the same rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pytest

from environment.vectors.store import Hit, PgVectorStore, VectorStore, get_vector_store
from tests.environment.vectors.data import clustered, minutes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(databases=["default", "pg"])]

OWNERS = [f"sim:7:persona:Agent {i}" for i in range(5)]
KINDS = ["event", "thought", "chat"]
N = 400


def _load(store: VectorStore, vectors: np.ndarray, owners: np.ndarray, kinds: np.ndarray) -> dict[int, int]:
    """Insert the rows group by group in one fixed order; map each store id to its row."""
    row_of: dict[int, int] = {}
    for owner_index, owner in enumerate(OWNERS):
        for kind in KINDS:
            rows = np.flatnonzero((owners == owner_index) & (kinds == kind))
            ids = store.add(
                owner=owner,
                kind=kind,
                vectors=vectors[rows],
                texts=[f"row {row}" for row in rows],
                created_at=[minutes(int(row)) for row in rows],
            )
            row_of.update(zip(ids, rows.tolist(), strict=True))
    return row_of


def _answer(hits: list[Hit], row_of: dict[int, int]) -> list[tuple[int, float]]:
    return [(row_of[hit.id], hit.score) for hit in hits]


@pytest.mark.parametrize("exact_below", [None, 0], ids=["owner-exact-scan", "hnsw-always"])
def test_numpy_and_pgvector_agree(exact_below: int | None) -> None:
    rng = np.random.default_rng(40)
    vectors = clustered(N, seed=41, clusters=12, spread=0.5)
    owners = rng.integers(0, len(OWNERS), size=N)
    kinds = rng.choice(KINDS, size=N)
    numpy_store, pg_store = get_vector_store("default"), PgVectorStore(using="pg", exact_below=exact_below)
    assert pg_store.uses_index(owner=OWNERS[0]) is (exact_below == 0)
    assert (numpy_store.vendor, pg_store.vendor) == ("sqlite", "postgresql")
    numpy_rows = _load(numpy_store, vectors, owners, kinds)
    pg_rows = _load(pg_store, vectors, owners, kinds)

    queries = clustered(12, seed=41, clusters=12, spread=0.6)  # same centres, fresh points
    filters: list[dict[str, Any]] = [
        {"owner": None},
        {"owner": OWNERS[0]},
        {"owner": OWNERS[1], "kinds": ["thought"]},
        {"owner": OWNERS[2], "kinds": ["event", "chat"], "since": minutes(50)},
        {"owner": OWNERS[3], "since": minutes(100), "until": minutes(300)},
        {"owner": None, "kinds": ["chat"], "until": minutes(200)},
    ]
    compared = 0
    for query in queries:
        for options in filters:
            for k in (1, 10, 25):
                expected = _answer(numpy_store.search(query=query, k=k, **options), numpy_rows)
                got = _answer(pg_store.search(query=query, k=k, **options), pg_rows)
                assert [row for row, _ in got] == [row for row, _ in expected], (options, k)
                np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)
                assert 0 < len(expected) <= k
                compared += 1
    assert compared == len(queries) * len(filters) * 3


def test_both_return_aware_times_and_the_same_fields() -> None:
    vectors = clustered(3, seed=42)
    stores = [get_vector_store("default"), get_vector_store("pg")]
    results = []
    for store in stores:
        store.add(
            owner="writer:9",
            kind="paragraph",
            vectors=vectors,
            texts=["a", "b", "c"],
            refs=["p1", "p2", "p3"],
            metadata=[{"n": 1}, {"n": 2}, {"n": [3]}],
            created_at=minutes(3),
        )
        results.append(store.search(owner="writer:9", query=vectors[2], k=3))
    for numpy_hit, pg_hit in zip(*results, strict=True):
        for hit in (numpy_hit, pg_hit):
            assert isinstance(hit.created_at, datetime) and hit.created_at.tzinfo is not None
        assert (numpy_hit.owner, numpy_hit.kind, numpy_hit.ref, numpy_hit.text, numpy_hit.metadata) == (
            pg_hit.owner,
            pg_hit.kind,
            pg_hit.ref,
            pg_hit.text,
            pg_hit.metadata,
        )
        assert numpy_hit.created_at == pg_hit.created_at
