"""Ports: the small interfaces the engine talks through, and the in-process adapters.

The engine never imports Django, the vector store or the model gateway. It asks for
what it needs through protocols that the Django shell implements:

    ModelGateway    the part of llm.Gateway the engine calls: typed answers
                    (`astructured`) and embeddings (`aembed`);
    Town            the map: bounds, the address of a tile, paths and the tiles of an
                    address (reverie.town.Maze implements it);
    VectorIndex     the embeddings of one persona's memory nodes, keyed by node id;
                    answers "cosine of this query to each of these candidate nodes".

`InMemoryVectorIndex` is the numpy implementation used by the tests and by the
embedded default: a growing row-major float32 matrix of unit vectors plus an
id -> row map, so `similarities` is one matrix-vector product. It also offers
`similarity_array(query, ids)` (an array in, an array out, no per-id Python work),
which retrieval uses when an index has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from reverie.engine.quantised import Int8Rows

__all__ = ["InMemoryVectorIndex", "ModelGateway", "Tile", "Town", "VectorIndex", "as_unit_vector"]

Tile = tuple[int, int]
M = TypeVar("M")


class ModelGateway(Protocol):
    """What the engine asks of the model gateway (llm.Gateway satisfies it).

    `astructured` returns an llm.Structured: `.value` (the schema instance, or the
    fallback), `.ok` (False when the fallback was used). Keyword arguments are the
    gateway's: prompt, fallback, purpose, max_tokens, temperature.
    """

    async def astructured(self, schema: type[M], **kwargs: Any) -> Any: ...

    async def aembed(self, texts: list[str], **kwargs: Any) -> Any: ...


class Town(Protocol):
    """The map as the engine sees it."""

    world: str

    def in_bounds(self, x: int, y: int) -> bool: ...

    def address_at(self, x: int, y: int) -> str: ...

    def path_to_address(self, start: Tile, address: str, avoid: Any = ()) -> list[Tile]: ...

    def tiles_of(self, address: str) -> tuple[Tile, ...]: ...


@runtime_checkable
class VectorIndex(Protocol):
    """Embeddings of memory nodes, addressed by node id (unique within one persona's stream)."""

    def add(self, node_id: int, kind: str, vector: np.ndarray, created: datetime) -> None:
        """Store (or replace) the embedding of `node_id`."""
        ...

    def similarities(self, query: np.ndarray, node_ids: Sequence[int]) -> dict[int, float]:
        """Cosine similarity of `query` to each candidate that has an embedding.

        Ids with no stored embedding are left out of the answer (callers decide what a
        missing embedding means; retrieval treats it as similarity 0).
        """
        ...


def as_unit_vector(vector: np.ndarray | Sequence[float], *, dim: int | None = None, name: str = "vector") -> np.ndarray:
    """Validate one vector (shape (d,) or (1, d)) and return it L2-normalised as float32.

    Raises ValueError for a wrong shape, a dimension other than `dim`, NaN/inf, or a
    zero vector (cosine is undefined for it).
    """
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 1 or array.shape[0] == 0:
        raise ValueError(f"{name} must be one non-empty 1-d vector, got shape {array.shape}")
    if dim is not None and array.shape[0] != dim:
        raise ValueError(f"{name} has {array.shape[0]} dimensions; this index holds {dim}-dimensional vectors")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    norm = float(np.linalg.norm(array))
    if norm == 0.0:
        raise ValueError(f"{name} is all zeros: cosine similarity is undefined")
    return array / np.float32(norm)


# Below this many rows a single-threaded einsum beats BLAS: OpenBLAS splits even small
# matrix-vector products over threads, and on a busy 2-core machine waiting for the
# other thread turned a 0.1 ms product into 8 ms (measured here and in
# environment/vectors/store.py, which uses the same rule).
BLAS_MIN_ROWS = 32_768


def _matvec(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    if matrix.shape[0] < BLAS_MIN_ROWS:
        return np.einsum("ij,j->i", matrix, vector)
    return matrix @ vector


# Rows per block when several queries share one pass over a large matrix: 512 x 384
# float32 is 768 KiB, which stays in a core's L2 cache between the queries (3 queries
# over 100k rows: 17 ms in blocks of 512 vs 29 ms as one matrix-matrix product, one core).
CHUNK_ROWS = 512


def _matvec_chunked(matrix: np.ndarray, vectors: Sequence[np.ndarray]) -> np.ndarray:
    out = np.empty((len(vectors), matrix.shape[0]), dtype=np.float32)
    for start in range(0, matrix.shape[0], CHUNK_ROWS):
        block = matrix[start : start + CHUNK_ROWS]
        for j, vector in enumerate(vectors):
            np.matmul(block, vector, out=out[j, start : start + CHUNK_ROWS])
    return out


class InMemoryVectorIndex:
    """A numpy `VectorIndex`: unit rows in a growing matrix, one id -> row map.

    Algorithm: vectors are normalised on `add`, so cosine is a dot product. The matrix
    doubles its capacity when full (amortised O(1) appends). `similarities` gathers
    the candidates' rows and does one matrix-vector product; when the candidates are
    most of the index it multiplies the whole used block instead and picks the
    answers out, which avoids copying a large gathered block.

    `similarity_array` is the same computation for an array of ids: the rows come
    from a dense id -> row array (kept while ids are small non-negative integers,
    as memory node ids are) with one gather, and the answer is an array aligned with
    the ids, 0.0 for ids without a vector.

    Re-adding an id replaces its vector in place. The dimension is fixed by the
    first vector added (or by `dim`).
    """

    # Ids at or above this (or negative) turn the dense id -> row array off.
    _DENSE_ID_LIMIT = 1 << 26

    # Above this fraction of the rows, one product over all rows beats a gather + product.
    _FULL_PRODUCT_FRACTION = 0.5

    def __init__(self, dim: int | None = None, *, capacity: int = 1024) -> None:
        if dim is not None and dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self._dim = dim
        self._capacity = max(1, capacity)
        self._matrix: np.ndarray | None = None
        self._rows: dict[int, int] = {}
        self._kinds: list[str] = []
        self._created: list[datetime] = []
        # id -> row as a dense array (-1: no vector) while ids are small non-negative
        # ints, as memory node ids are; None once an id does not fit (the dict serves).
        self._row_of: np.ndarray | None = np.full(self._capacity, -1, dtype=np.intp)
        # The int8 copy for `similarity_bounds`, made on the first large query.
        self._int8: Int8Rows | None = None
        # (candidate ids array, rows used, its rows or None, every id has a row), see `_rows_for`.
        self._rows_cache: tuple[np.ndarray, int, np.ndarray | None, bool] | None = None

    @property
    def dim(self) -> int | None:
        return self._dim

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._rows

    def kind_of(self, node_id: int) -> str:
        return self._kinds[self._rows[node_id]]

    def vector(self, node_id: int) -> np.ndarray:
        """The stored (unit) vector of `node_id`, a copy."""
        assert self._matrix is not None
        return self._matrix[self._rows[node_id]].copy()

    def add(self, node_id: int, kind: str, vector: np.ndarray, created: datetime) -> None:
        unit = as_unit_vector(vector, dim=self._dim, name=f"embedding of node {node_id}")
        if self._matrix is None:
            self._dim = unit.shape[0]
            self._matrix = np.empty((self._capacity, self._dim), dtype=np.float32)
        row = self._rows.get(node_id)
        if row is not None:  # replace in place
            self._matrix[row] = unit
            self._kinds[row] = kind
            self._created[row] = created
            if self._int8 is not None:
                self._int8.replace(self._matrix, row)
            return
        row = len(self._rows)
        if row == self._matrix.shape[0]:
            grown = np.empty((2 * self._matrix.shape[0], self._matrix.shape[1]), dtype=np.float32)
            grown[:row] = self._matrix
            self._matrix = grown
        self._matrix[row] = unit
        self._rows[node_id] = row
        self._kinds.append(kind)
        self._created.append(created)
        self._set_dense_row(node_id, row)

    def _set_dense_row(self, node_id: int, row: int) -> None:
        row_of = self._row_of
        if row_of is None:
            return
        if not isinstance(node_id, (int, np.integer)) or not 0 <= node_id < self._DENSE_ID_LIMIT:
            self._row_of = None
            return
        if node_id >= row_of.shape[0]:
            grown = np.full(max(2 * row_of.shape[0], int(node_id) + 1), -1, dtype=np.intp)
            grown[: row_of.shape[0]] = row_of
            self._row_of = row_of = grown
        row_of[node_id] = row

    def similarities(self, query: np.ndarray, node_ids: Sequence[int]) -> dict[int, float]:
        if self._matrix is None or not len(node_ids):
            return {}
        q = as_unit_vector(query, dim=self._dim, name="query")
        rows_of = self._rows
        known = [i for i in node_ids if i in rows_of]
        if not known:
            return {}
        rows = np.fromiter((rows_of[i] for i in known), dtype=np.intp, count=len(known))
        used = len(rows_of)
        if len(rows) >= self._FULL_PRODUCT_FRACTION * used:
            scores = _matvec(self._matrix[:used], q)[rows]
        else:
            scores = _matvec(self._matrix[rows], q)
        # Rounding can push a unit-vector dot product a hair past 1.
        np.clip(scores, -1.0, 1.0, out=scores)
        return dict(zip(known, scores.tolist(), strict=True))

    # From this many candidates, `similarity_bounds` answers (an int8 pass and exact
    # rescoring of a few hundred rows beats reading every float32 row); below, None.
    # Measured on one core with the native kernel, int8 vs float32 path: about even at
    # 5k rows (0.48 vs 0.52 ms), 0.75 vs 1.0 ms at 10k, 1.4 vs 2.4 ms at 20k
    # (bench/retrieval.py's stream, one focal point).
    APPROX_MIN_ROWS = 8192

    def similarity_bounds(
        self, queries: Sequence[np.ndarray], node_ids: np.ndarray | Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Estimated cosines of each query to each of `node_ids`, with bounds: (estimates,
        bounds), shapes (len(queries), len(node_ids)) and (len(queries),), |exact -
        estimate| <= the query's bound for every id (reverie.engine.quantised says how).
        0.0 for ids with no vector. The estimates may be a reused buffer: use them
        before the next call on this thread.

        None when the exact `similarity_arrays` is the better way: fewer than
        APPROX_MIN_ROWS candidates, candidates that are a small part of the index, ids
        outside the dense id map, or no int8 kernel on this machine.
        """
        ids = np.asarray(node_ids, dtype=np.int64)
        used = len(self._rows)
        row_of = self._row_of
        if self._matrix is None or row_of is None or ids.shape[0] < self.APPROX_MIN_ROWS or not len(queries):
            return None
        if ids.shape[0] < self._FULL_PRODUCT_FRACTION * used or ids.min() < 0 or ids.max() >= row_of.shape[0]:
            return None
        if self._int8 is None:
            self._int8 = Int8Rows()
        self._int8.sync(self._matrix, used)
        rows, every = self._rows_for(ids, used)
        units = np.stack([as_unit_vector(query, dim=self._dim, name="query") for query in queries])
        if rows is None:  # the candidates are every row, in row order: no gathers
            return self._int8.estimate(units, None)
        answer = self._int8.estimate(units, rows if every else rows[rows >= 0])
        if answer is None or every:
            return answer
        known = rows >= 0
        estimates = np.zeros((len(queries), ids.shape[0]), dtype=np.float32)
        estimates[:, known] = answer[0]  # no vector: 0.0, inside any bound
        return estimates, answer[1]

    def _rows_for(self, ids: np.ndarray, used: int) -> tuple[np.ndarray | None, bool]:
        """(rows of `ids`, whether every id has a row); rows None when the ids map to
        rows 0..used-1 in order. A stream passes the same read-only candidate array
        until its next add, so the answer for it is kept while the index does not grow."""
        cached = self._rows_cache
        if cached is not None and cached[0] is ids and cached[1] == used:
            return cached[2], cached[3]
        assert self._row_of is not None
        rows = self._row_of[ids]
        every = bool(rows.min() >= 0)
        in_order = every and rows.shape[0] == used and int(rows[0]) == 0 and bool(np.all(np.diff(rows) == 1))
        answer = (None if in_order else rows), every
        if not ids.flags.writeable:  # a writable array could change under the same identity
            self._rows_cache = (ids, used, *answer)
        return answer

    def similarity_array(self, query: np.ndarray, node_ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """Cosine of `query` to each of `node_ids`, as a float64 array aligned with
        them; 0.0 for an id with no stored vector (what retrieval counts it as).
        Same values as `similarities`, without a per-id Python loop."""
        return self.similarity_arrays([query], node_ids)[0]

    def similarity_arrays(self, queries: Sequence[np.ndarray], node_ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """`similarity_array` for several queries at once: shape (len(queries), len(node_ids)).

        Above BLAS_MIN_ROWS rows the matrix is walked in cache-sized blocks, each
        multiplied by every query while it is in cache, so the stored vectors are read
        from memory once for all queries (reading them is what a large index spends
        its time on); below, one product per query, as `similarities` does.
        """
        ids = np.asarray(node_ids, dtype=np.int64)
        out = np.zeros((len(queries), ids.shape[0]), dtype=np.float64)
        if self._matrix is None or not ids.shape[0] or not len(queries):
            return out
        units = [as_unit_vector(query, dim=self._dim, name="query") for query in queries]
        row_of = self._row_of
        if row_of is not None:
            if ids.min() >= 0 and ids.max() < row_of.shape[0]:
                rows = row_of[ids]
            else:
                inside = (ids >= 0) & (ids < row_of.shape[0])
                rows = np.full(ids.shape[0], -1, dtype=np.intp)
                rows[inside] = row_of[ids[inside]]
        else:
            rows_of = self._rows
            rows = np.fromiter((rows_of.get(i, -1) for i in ids.tolist()), dtype=np.intp, count=ids.shape[0])
        known = None if rows.min() >= 0 else rows >= 0
        wanted = rows if known is None else rows[known]
        if not wanted.shape[0]:
            return out
        used = len(self._rows)
        full = wanted.shape[0] >= self._FULL_PRODUCT_FRACTION * used
        block = self._matrix[:used] if full else self._matrix[wanted]
        if len(units) > 1 and block.shape[0] >= BLAS_MIN_ROWS:
            columns = list(_matvec_chunked(block, units))
        else:
            columns = [_matvec(block, q) for q in units]
        for j, scores in enumerate(columns):
            if full:
                scores = scores[wanted]
            # Rounding can push a unit-vector dot product a hair past 1.
            np.clip(scores, -1.0, 1.0, out=scores)
            if known is None:
                out[j] = scores
            else:
                out[j, known] = scores
        return out
