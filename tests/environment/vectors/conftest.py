from __future__ import annotations

import pytest

from environment.vectors.store import VectorStore, get_vector_store

BOTH = [
    pytest.param("default", marks=pytest.mark.django_db(databases=["default"]), id="numpy"),
    pytest.param("pg", marks=[pytest.mark.postgres, pytest.mark.django_db(databases=["default", "pg"])], id="pgvector"),
]


@pytest.fixture(params=BOTH)
def store(request: pytest.FixtureRequest) -> VectorStore:
    """The store of each backend: numpy over SQLite ("default"), pgvector ("pg")."""
    return get_vector_store(request.param)
