"""Cosine estimates with a guaranteed error bound, from an int8 copy of the index rows.

Retrieval over a large stream spends its time reading the float32 embedding matrix:
at 100k nodes x 384 dimensions that is 150 MB per query, about 12 ms on one core at
the memory bandwidth this machine has. An int8 copy of the rows (one scale per row)
is a quarter of that. Two kernels multiply it by the query:

- native (`int8_kernel`, built for the machine on first use): the query rounded to
  int8 too, exact integer dot products with the CPU's int8 instructions (AVX-512
  VNNI or AVX2), about 1.7 ms for 100k x 384 on one core here;
- torch's weight-only int8 kernel (`_weight_int8pack_mm`, what int8 LLM inference
  uses for its weights) with a bf16 query, about 3 ms: used when the native one
  cannot be built.

The estimates are not the answer: retrieval needs exact cosines (min-max
normalisation and tie-breaking must match the float32 path). So the estimates come
with a bound `b` such that |exact - estimate| <= b for every row, and retrieval
computes exact cosines only for the rows the bound cannot rule out (the max, the
min, and the top-k frontier: usually a few hundred rows). See
`retrieve._top_k_bounded`.

The bound, for a unit query q rounded to q' and a row v stored as int8 codes c and a
scale s (rounded to bf16, as torch's kernel uses it), v' = s * c:
    |q.v - q'.v'| <= |q.(v - v')| + |(q - q').v'|
                  <= ||v - v'|| + ||q - q'|| * ||v'||        (Cauchy-Schwarz)
||v - v'|| and ||v'|| are computed per row when it is quantised; one bound per query
takes the largest of each over the rows. ||q - q'|| is computed for the query (int8)
or is at most 2^-9 (bf16 rounds each component of a unit vector to 8 bits). On top:
the output's rounding (2^-8 relative for torch's bf16 output, 2^-23 for the native
kernel's two float32 products) and a margin for float32 arithmetic.

The copy follows the float32 matrix lazily: rows appended since the last query are
quantised in one vectorised pass on the next one; a row replaced in place is
re-quantised at once. When neither kernel is available (torch's fails its self-test
on first use, or is missing) `estimate` returns None and retrieval uses the exact path.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from reverie.engine import int8_kernel

log = logging.getLogger(__name__)

# Relative rounding of a bf16 number (8 bits of mantissa, round to nearest).
_BF16_EPS = 2.0**-8
# ||q - q'|| for a unit query rounded to bf16 (half a unit in the last of 8 bits).
_QUERY_ROUNDING = 2.0**-9
# Covers the kernel's float32 accumulation over a few thousand dimensions and the
# float32 arithmetic of the bounds, with room.
_MARGIN = 1e-4

_kernel_state: dict[str, Any] = {}
_scratch = threading.local()


def scratch(tag: str, size: int, dtype: Any) -> np.ndarray:
    """A reused 1-d buffer of `size` items for this thread, named by `tag`. A fresh
    array the size of a large stream costs a page fault per 4 kB on every call (the
    allocator hands large blocks back to the system); retrieval reuses its buffers."""
    buffers: dict[tuple[str, str], np.ndarray] = _scratch.__dict__.setdefault("buffers", {})
    key = (tag, np.dtype(dtype).str)
    buffer = buffers.get(key)
    if buffer is None or buffer.shape[0] < size:
        buffer = np.empty(max(size, 1024), dtype=dtype)
        buffers[key] = buffer
    return buffer[:size]


def _torch() -> Any | None:
    """torch, when it has the int8 kernel and the kernel passes a self-test; else None."""
    if "torch" in _kernel_state:
        return _kernel_state["torch"]
    found: Any | None = None
    try:
        import torch

        op = getattr(torch.ops.aten, "_weight_int8pack_mm", None)
        if op is not None:
            rng = np.random.default_rng(0)
            codes = rng.integers(-127, 128, size=(64, 32), dtype=np.int8)
            scales = np.full(64, 0.01, dtype=np.float32)
            query = rng.normal(size=(1, 32)).astype(np.float32)
            got = op(
                torch.from_numpy(query).to(torch.bfloat16),
                torch.from_numpy(codes),
                torch.from_numpy(scales).to(torch.bfloat16),
            )
            want = (codes.astype(np.float32) * 0.01) @ query[0]
            if np.allclose(got.float().numpy()[0], want, rtol=0.02, atol=0.05):
                found = torch
    except Exception as exc:  # any failure means: use the exact path
        log.info("int8 retrieval kernel unavailable (%s); using float32 products", exc)
    _kernel_state["torch"] = found
    return found


def _to_bf16(values: np.ndarray) -> np.ndarray:
    """float32 values rounded to the nearest bf16, returned as float32 (round half to even)."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000)
    return rounded.view(np.float32)


class Int8Rows:
    """The int8 copy of a float32 matrix's leading rows, with per-row scales and error terms."""

    def __init__(self) -> None:
        self.codes = np.empty((0, 0), dtype=np.int8)
        self.scales = np.empty(0, dtype=np.float32)  # bf16-representable, as torch's kernel uses them
        self.rowsum = np.empty(0, dtype=np.int32)  # sum of each row's codes (the native kernel's offset)
        self.error = np.empty(0, dtype=np.float32)  # ||v - v'|| per row (rounded up)
        self.norm = np.empty(0, dtype=np.float32)  # ||v'|| per row (rounded up)
        self.rows = 0  # leading rows quantised so far
        self._tensors: tuple[Any, Any] | None = None  # (codes, bf16 scales) as torch tensors, for `rows`
        self._widest: tuple[float, float] | None = None  # the largest error and norm, kept until rows change

    def _grow(self, capacity: int, dim: int) -> None:
        if self.codes.shape[0] >= capacity and self.codes.shape[1] == dim:
            return
        kept = self.rows if self.codes.shape[1] == dim else 0
        codes = np.zeros((capacity, dim), dtype=np.int8)
        if kept:
            codes[:kept] = self.codes[:kept]
        self.codes, self.rows = codes, kept
        for name in ("scales", "rowsum", "error", "norm"):
            old = getattr(self, name)
            grown = np.zeros(capacity, dtype=old.dtype)
            grown[:kept] = old[:kept]
            setattr(self, name, grown)

    def _quantise(self, matrix: np.ndarray, start: int, stop: int) -> None:
        block = matrix[start:stop]
        peak = np.abs(block).max(axis=1)
        scales = _to_bf16(np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32))
        codes = np.clip(np.rint(block / scales[:, None]), -127, 127).astype(np.int8)
        restored = codes.astype(np.float32) * scales[:, None]
        self.codes[start:stop] = codes
        self.scales[start:stop] = scales
        self.rowsum[start:stop] = codes.sum(axis=1, dtype=np.int32)
        error = np.linalg.norm((block - restored).astype(np.float64), axis=1)
        norm = np.linalg.norm(restored.astype(np.float64), axis=1)
        self.error[start:stop] = np.nextafter(error.astype(np.float32), np.float32(np.inf))
        self.norm[start:stop] = np.nextafter(norm.astype(np.float32), np.float32(np.inf))

    def sync(self, matrix: np.ndarray, used: int) -> None:
        """Quantise the rows appended to `matrix` since the last sync (its first `used` rows count)."""
        if used > self.codes.shape[0] or matrix.shape[1] != self.codes.shape[1]:
            self._grow(max(used, 2 * self.codes.shape[0]), matrix.shape[1])
        if used > self.rows:
            self._quantise(matrix, self.rows, used)
            self.rows = used
            self._tensors = self._widest = None

    def replace(self, matrix: np.ndarray, row: int) -> None:
        """Row `row` of `matrix` changed in place: re-quantise it if it was copied already."""
        if row < self.rows:
            self._quantise(matrix, row, row + 1)
            self._tensors = self._widest = None

    def estimate(
        self, queries: np.ndarray, rows: np.ndarray | None, *, kernel: str = "auto"
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(estimates, bounds) for unit `queries` and the quantised rows `rows` (None: all
        of them, in order, without a gather): estimates (len(queries), len(rows)) float32,
        and one bound per query that holds for every row, |exact - estimate| <= bound.
        None when no kernel is available.

        One bound per query, from the widest row error and norm, rather than one per row:
        they differ little between rows (a row's error follows its largest component), and
        retrieval with one number per query makes a third of the passes over the rows.
        The estimates are a per-thread buffer, valid until this thread's next call.
        `kernel`: "auto" (the native one when it built, else torch's), "native", "torch".
        """
        if not self.rows:
            return None
        if self._widest is None:
            self._widest = (float(self.error[: self.rows].max()), float(self.norm[: self.rows].max()))
        native = int8_kernel.load() if kernel in ("auto", "native") else None
        if native is not None and queries.shape[1] <= native.max_dim:
            estimates, bounds = self._estimate_native(native, queries)
        elif kernel == "native":
            return None
        else:
            answer = self._estimate_torch(queries)
            if answer is None:
                return None
            estimates, bounds = answer
        if rows is not None:
            estimates = estimates[:, rows]
        return estimates, bounds

    def _estimate_native(self, native: int8_kernel.Int8Kernel, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each query rounded to int8 with one scale t (q' = t * p), integer dot products
        with the codes. |q.v - q'.v'| <= ||v - v'|| + ||q - q'|| ||v'||, with ||q - q'||
        computed for the query; the two float32 products at the end round by 2^-23."""
        error, norm = self._widest  # type: ignore[misc]
        units = np.asarray(queries, dtype=np.float64)
        peaks = np.abs(units).max(axis=1)
        steps = np.where(peaks > 0, peaks / 127.0, 1.0).astype(np.float32)
        codes = np.clip(np.rint(units / steps[:, None]), -127, 127).astype(np.int8)
        query_errors = np.linalg.norm(units - steps[:, None].astype(np.float64) * codes, axis=1)
        estimates = scratch("estimates", len(units) * self.rows, np.float32).reshape(len(units), self.rows)
        native.cosines(codes, steps, self.codes, self.rowsum, self.scales, estimates)
        largest = np.maximum(estimates.max(axis=1), -estimates.min(axis=1)).astype(np.float64)
        bounds = (error + query_errors * norm) * (1 + 2.0**-20) + 2.0**-22 * largest + _MARGIN
        return estimates, bounds.astype(np.float32)

    def _estimate_torch(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """torch's weight-only int8 kernel with the query in bf16: ||q - q'|| <= 2^-9, and
        the bf16 output rounds by 2^-8 (the module docstring)."""
        torch = _torch()
        if torch is None:
            return None
        if self._tensors is None:  # the codes are shared with numpy; the scales converted once
            self._tensors = (
                torch.from_numpy(self.codes[: self.rows]),
                torch.from_numpy(self.scales[: self.rows]).to(torch.bfloat16),
            )
        codes, scales = self._tensors
        try:
            query = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32)).to(torch.bfloat16)
            out = torch.ops.aten._weight_int8pack_mm(query, codes, scales)
        except Exception as exc:  # a shape the kernel refuses: exact path from now on
            log.info("int8 retrieval kernel failed (%s); using float32 products", exc)
            _kernel_state["torch"] = None
            return None
        estimates = scratch("estimates", out.numel(), np.float32).reshape(tuple(out.shape))
        torch.from_numpy(estimates).copy_(out)  # bf16 -> float32 into the reused buffer
        error, norm = self._widest  # type: ignore[misc]
        largest = np.maximum(estimates.max(axis=1), -estimates.min(axis=1))
        bounds = (error + _QUERY_ROUNDING * norm) * (1 + _BF16_EPS) + _BF16_EPS * (1 + _BF16_EPS) * largest + _MARGIN
        return estimates, bounds.astype(np.float32)


def kth_largest(values: np.ndarray, k: int) -> float:
    """The k-th largest of a float array (1 <= k <= len). torch's top-k keeps a k-long
    heap in one pass, several times faster than numpy's partition, which reorders a
    copy of the whole array; without torch, the partition."""
    n = values.shape[0]
    torch = _torch()
    if torch is not None and values.flags.writeable and values.strides[0] > 0:
        return float(torch.topk(torch.from_numpy(values), k, sorted=False).values.min())
    return float(np.partition(values, n - k)[n - k])
