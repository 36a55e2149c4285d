"""The numpy store's per-owner cache stays in sync with rows it did not write."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection, transaction
from django.utils import timezone

from environment.vectors.models import VectorItem
from environment.vectors.store import NumpyVectorStore, get_vector_store
from tests.environment.vectors.data import clustered, minutes

pytestmark = pytest.mark.django_db

OWNER = "sim:1:persona:Maria Lopez"


@pytest.fixture
def store() -> NumpyVectorStore:
    found = get_vector_store("default")
    assert isinstance(found, NumpyVectorStore)
    return found


def _insert_behind_its_back(vectors: np.ndarray, *, owner: str = OWNER, kind: str = "event") -> list[int]:
    rows = VectorItem.objects.bulk_create(
        VectorItem(owner=owner, kind=kind, text=f"direct {i}", created_at=timezone.now(), embedding=vector)
        for i, vector in enumerate(vectors)
    )
    return [row.pk for row in rows]


def test_sqlite_column_is_float32_bytes() -> None:
    vector = clustered(1, seed=20)[0]
    pk = _insert_behind_its_back(vector[None, :])[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT embedding, typeof(embedding) FROM vectors_vectoritem WHERE id = %s", [pk])
        blob, kind = cursor.fetchone()
    assert kind == "blob"
    np.testing.assert_array_equal(np.frombuffer(blob, dtype="<f4"), vector)


def test_picks_up_rows_inserted_behind_its_back(store: NumpyVectorStore) -> None:
    vectors = clustered(40, seed=21)
    first = store.add(owner=OWNER, kind="event", vectors=vectors[:20])
    assert len(store.search(owner=OWNER, query=vectors[25], k=100)) == 20  # cache now loaded

    later = _insert_behind_its_back(vectors[20:])
    hits = store.search(owner=OWNER, query=vectors[25], k=100)
    assert {hit.id for hit in hits} == set(first) | set(later)
    assert hits[0].id == later[5] and hits[0].text == "direct 5"

    # Through the store again: appended straight to the cache, in order with the rest.
    more = store.add(owner=OWNER, kind="thought", vectors=vectors[:2] * 2)
    hits = store.search(owner=OWNER, query=vectors[0], k=3)
    assert [hit.id for hit in hits] == [first[0], more[0], more[1]] or hits[0].score == pytest.approx(1.0)
    assert {hit.id for hit in store.search(owner=OWNER, query=vectors[0], k=100, kinds=["thought"])} == set(more)


def test_rows_behind_its_back_before_its_own_add_are_not_lost(store: NumpyVectorStore) -> None:
    vectors = clustered(6, seed=22)
    mine = store.add(owner=OWNER, kind="event", vectors=vectors[:2])
    store.search(owner=OWNER, query=vectors[0], k=1)
    theirs = _insert_behind_its_back(vectors[2:4])
    mine += store.add(owner=OWNER, kind="event", vectors=vectors[4:])  # appends after the others' rows
    assert {hit.id for hit in store.search(owner=OWNER, query=vectors[0], k=10)} == set(mine) | set(theirs)
    assert {hit.id for hit in store.search(owner=None, query=vectors[0], k=10)} == set(mine) | set(theirs)


def test_picks_up_deletions_behind_its_back(store: NumpyVectorStore) -> None:
    vectors = clustered(30, seed=23)
    ids = store.add(owner=OWNER, kind="event", vectors=vectors)
    assert len(store.search(owner=OWNER, query=vectors[0], k=100)) == 30
    assert len(store.search(owner=None, query=vectors[0], k=100)) == 30

    VectorItem.objects.filter(pk__in=ids[:10]).delete()
    assert {hit.id for hit in store.search(owner=OWNER, query=vectors[0], k=100)} == set(ids[10:])
    assert {hit.id for hit in store.search(owner=None, query=vectors[0], k=100)} == set(ids[10:])

    # A deletion and an insert between two searches: the delete is still noticed.
    VectorItem.objects.filter(pk=ids[10]).delete()
    new = _insert_behind_its_back(vectors[:1])
    assert {hit.id for hit in store.search(owner=OWNER, query=vectors[0], k=100)} == set(ids[11:]) | set(new)


def test_other_owners_writes_do_not_disturb_a_cached_owner(store: NumpyVectorStore) -> None:
    vectors = clustered(10, seed=24)
    ids = store.add(owner=OWNER, kind="event", vectors=vectors)
    store.search(owner=OWNER, query=vectors[0], k=1)
    cache = store._caches[OWNER]
    _insert_behind_its_back(vectors, owner="sim:1:persona:Someone Else")
    VectorItem.objects.filter(owner="sim:1:persona:Someone Else").delete()
    assert {hit.id for hit in store.search(owner=OWNER, query=vectors[0], k=100)} == set(ids)
    assert store._caches[OWNER] is cache  # no reload


def test_state_from_a_rolled_back_transaction_is_dropped(store: NumpyVectorStore) -> None:
    vectors = clustered(6, seed=25)
    with pytest.raises(RuntimeError), transaction.atomic():
        rolled_back = store.add(owner=OWNER, kind="event", vectors=vectors[:3])
        assert len(store.search(owner=OWNER, query=vectors[0], k=10)) == 3
        raise RuntimeError("roll back")
    assert not VectorItem.objects.filter(pk__in=rolled_back).exists()
    # SQLite hands the rolled-back ids out again: same ids, max id and count, other vectors.
    reused = _insert_behind_its_back(vectors[3:])
    assert reused == rolled_back
    hits = store.search(owner=OWNER, query=vectors[4], k=1)
    assert hits[0].id == reused[1] and hits[0].text == "direct 1"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)


def test_kind_and_time_masks_on_a_delta_loaded_cache(store: NumpyVectorStore) -> None:
    vectors = clustered(20, seed=26)
    store.add(owner=OWNER, kind="event", vectors=vectors[:10], created_at=[minutes(i) for i in range(10)])
    store.search(owner=OWNER, query=vectors[0], k=1)
    rows = VectorItem.objects.bulk_create(
        VectorItem(owner=OWNER, kind="chat", created_at=minutes(10 + i), embedding=vectors[10 + i]) for i in range(10)
    )
    hits = store.search(owner=OWNER, query=vectors[15], k=100, kinds=["chat"], since=minutes(12), until=minutes(18))
    assert sorted(hit.id for hit in hits) == sorted(row.pk for row in rows[2:8])
    assert hits[0].id == rows[5].pk


def test_clear_cache_forces_a_reload(store: NumpyVectorStore) -> None:
    vectors = clustered(5, seed=27)
    store.add(owner=OWNER, kind="event", vectors=vectors)
    store.search(owner=OWNER, query=vectors[0], k=1)
    assert OWNER in store._caches
    store.clear_cache()
    assert store._caches == {}
    assert len(store.search(owner=OWNER, query=vectors[0], k=10)) == 5
