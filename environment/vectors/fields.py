"""The embedding column: pgvector's `vector(d)` on PostgreSQL, float32 bytes elsewhere."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.conf import settings
from pgvector.django import VectorField

FLOAT32_LE = np.dtype("<f4")


def vector_dim() -> int:
    return int(settings.VECTOR_DIM)


class EmbeddingField(VectorField):
    """A float32 embedding.

    PostgreSQL: a real `vector(dimensions)` column (pgvector), so HNSW indexes and
    distance operators work. Other databases (SQLite): a BLOB of little-endian
    float32 bytes, so a whole owner's rows load with one `np.frombuffer` over the
    concatenated blobs. Python values are 1-d float32 numpy arrays on both.

    `dimensions` defaults to `settings.VECTOR_DIM`, read when the column is created.
    """

    description = "Embedding vector (pgvector on PostgreSQL, float32 blob elsewhere)"

    @property
    def dim(self) -> int:
        return self.dimensions if self.dimensions is not None else vector_dim()

    def db_type(self, connection: Any) -> str:
        if connection.vendor == "postgresql":
            return f"vector({self.dim})"
        return "blob" if connection.vendor == "sqlite" else connection.data_types["BinaryField"]

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if connection.vendor == "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        array = np.asarray(value, dtype=FLOAT32_LE)
        if array.ndim != 1:
            raise ValueError(f"an embedding must be 1-d, got shape {array.shape}")
        return array.tobytes()

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> np.ndarray | None:
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)):
            return np.frombuffer(bytes(value), dtype=FLOAT32_LE).astype(np.float32)
        values = super().from_db_value(value, expression, connection)
        return None if values is None else np.asarray(values, dtype=np.float32)

    def to_python(self, value: Any) -> np.ndarray | None:
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)):
            return np.frombuffer(bytes(value), dtype=FLOAT32_LE).astype(np.float32)
        if isinstance(value, str):
            value = super().to_python(value)
        return np.asarray(value, dtype=np.float32)
