"""Synthetic embeddings for the vector store tests: clustered, seeded, 384-d."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from django.conf import settings

BASE_TIME = datetime(2023, 2, 13, 8, 0, tzinfo=UTC)


def clustered(n: int, *, seed: int, clusters: int = 8, spread: float = 0.35) -> np.ndarray:
    """n float32 vectors drawn around `clusters` random centres (not normalised)."""
    rng = np.random.default_rng(seed)
    dim = settings.VECTOR_DIM
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    labels = rng.integers(0, clusters, size=n)
    noise = rng.standard_normal((n, dim)).astype(np.float32) * spread
    return centres[labels] + noise


def minutes(i: int) -> datetime:
    return BASE_TIME + timedelta(minutes=i)


def exact_top(matrix: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    """Row indices of the k rows most cosine-similar to query (ties: lower index first)."""
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    scores = unit @ (query / np.linalg.norm(query))
    order = np.lexsort((np.arange(len(scores)), -scores))
    return order[:k].tolist()
