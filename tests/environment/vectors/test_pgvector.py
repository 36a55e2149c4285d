"""PostgreSQL specifics: the migration's extension and HNSW index, session settings, the plan."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from environment.vectors.store import PgVectorStore, get_vector_store
from tests.environment.vectors.data import clustered

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(databases=["default", "pg"])]


def _rows(sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with connections["pg"].cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def test_migration_creates_the_extension_column_and_hnsw_index() -> None:
    assert _rows("SELECT extname FROM pg_extension WHERE extname = 'vector'") == [("vector",)]
    column = _rows(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'vectors_vectoritem'::regclass AND attname = 'embedding'"
    )
    assert column == [("vector(384)",)]
    indexes = dict(_rows("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'vectors_vectoritem'"))
    definition = indexes["vectors_vectoritem_embedding_hnsw"]
    assert "USING hnsw (embedding vector_cosine_ops)" in definition
    assert "m='16'" in definition and "ef_construction='64'" in definition
    assert "vectors_owner_kind_created" in indexes


def test_new_sessions_get_hnsw_search_settings() -> None:
    fresh = connections.create_connection("pg")  # a new connection runs the connection_created hook
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SELECT current_setting('hnsw.ef_search'), current_setting('hnsw.iterative_scan')")
            assert cursor.fetchone() == ("100", "relaxed_order")
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            version = cursor.fetchone()[0]
    finally:
        fresh.close()
    assert tuple(int(part) for part in str(version).split(".")[:2]) >= (0, 8)
    # The suite's own connection was opened before migrations created the extension:
    # the post_migrate hook set it up anyway.
    assert _rows("SELECT current_setting('hnsw.iterative_scan')") == [("relaxed_order",)]


def test_get_vector_store_picks_by_vendor() -> None:
    assert isinstance(get_vector_store("pg"), PgVectorStore)
    assert get_vector_store("pg") is get_vector_store("pg")


def _search_sql_and_plan(store: PgVectorStore, *, owner: str | None, query: np.ndarray) -> tuple[str, str]:
    with CaptureQueriesContext(connections["pg"]) as captured:
        hits = store.search(owner=owner, query=query, k=10)
    assert hits and hits[0].score == pytest.approx(1.0, abs=1e-5)
    (sql,) = [q["sql"] for q in captured.captured_queries if "<=>" in q["sql"]]
    with connections["pg"].cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a 50-row table would be scanned otherwise
        cursor.execute(f"EXPLAIN {sql}")
        return sql, "\n".join(str(row[0]) for row in cursor.fetchall())


def test_searches_across_owners_and_of_big_owners_can_use_the_hnsw_index() -> None:
    store = get_vector_store("pg")
    assert isinstance(store, PgVectorStore)
    vectors = clustered(50, seed=30)
    store.add(owner="writer:1", kind="paragraph", vectors=vectors)
    sql, plan = _search_sql_and_plan(store, owner=None, query=vectors[0])
    assert "vectors_vectoritem_embedding_hnsw" in plan, plan
    big_owner = PgVectorStore(using="pg", exact_below=50)
    assert big_owner.uses_index(owner="writer:1")
    sql, _ = _search_sql_and_plan(big_owner, owner="writer:1", query=vectors[0])
    assert "+ 0" not in sql  # ORDER BY the bare operator: the planner may pick the HNSW index


def test_small_owners_are_searched_exactly() -> None:
    store = PgVectorStore(using="pg", exact_below=51)
    vectors = clustered(50, seed=31)
    store.add(owner="writer:2", kind="paragraph", vectors=vectors)
    assert not store.uses_index(owner="writer:2")
    sql, plan = _search_sql_and_plan(store, owner="writer:2", query=vectors[0])
    assert "+ 0" in sql
    assert "vectors_vectoritem_embedding_hnsw" not in plan, plan
