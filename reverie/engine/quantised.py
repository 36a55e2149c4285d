"""Cosine estimates with a guaranteed error bound, from an int8 copy of the index rows.

Retrieval over a large stream spends its time reading the float32 embedding matrix:
at 100k nodes x 384 dimensions that is 150 MB per query, about 12 ms on one core at
the memory bandwidth this machine has. An int8 copy of the rows (one scale per row)
is a quarter of that, and torch's weight-only int8 kernel (`_weight_int8pack_mm`,
what int8 LLM inference uses for its weights) multiplies it by a bf16 query in about
3.5 ms on one core.

The estimates are not the answer: retrieval needs exact cosines (min-max
normalisation and tie-breaking must match the float32 path). So every estimate comes
with a bound `b` such that |exact - estimate| <= b, and retrieval computes exact
cosines only for the rows the bounds cannot rule out (the max, the min, and the
top-k frontier: usually a few hundred rows). See `retrieve._top_k_bounded`.

The bound, for a unit query q and a row v stored as int8 codes c and a scale s (the
scale rounded to bf16, as the kernel uses it), v' = s * c:
    |q.v - q'.v'| <= |q.(v - v')| + |(q - q').v'|          (q' = q rounded to bf16)
                  <= ||v - v'|| + ||q - q'|| * ||v'||        (Cauchy-Schwarz)
plus the rounding of the bf16 output (2^-8 relative) and a margin for the kernel's
float32 accumulation. ||q - q'|| <= 2^-9 for a unit query (bf16 rounds each component
to 8 bits), so everything but the output rounding is a per-row constant, computed
when the row is quantised; a query adds 2^-8 |estimate|. The work is in float32: the
margin covers its rounding.

The copy follows the float32 matrix lazily: rows appended since the last query are
quantised in one vectorised pass on the next one; a row replaced in place is
re-quantised at once. When torch or the kernel is missing (or fails its self-test on
first use) `estimate` returns None and retrieval uses the exact path.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Relative rounding of a bf16 number (8 bits of mantissa, round to nearest).
_BF16_EPS = 2.0**-8
# ||q - q'|| for a unit query rounded to bf16 (half a unit in the last of 8 bits).
_QUERY_ROUNDING = 2.0**-9
# Covers the kernel's float32 accumulation over a few thousand dimensions and the
# float32 arithmetic of the bounds, with room.
_MARGIN = 1e-4

_kernel_state: dict[str, Any] = {}


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
    """The int8 copy of a float32 matrix's leading rows, with per-row scales and norms."""

    def __init__(self) -> None:
        self.codes = np.empty((0, 0), dtype=np.int8)
        self.scales = np.empty(0, dtype=np.float32)  # bf16-representable, as the kernel uses them
        self.bound = np.empty(0, dtype=np.float32)  # the query-independent part of each row's bound
        self.rows = 0  # leading rows quantised so far
        self._tensors: tuple[Any, Any] | None = None  # (codes, bf16 scales) as torch tensors, for `rows`

    def _grow(self, capacity: int, dim: int) -> None:
        if self.codes.shape[0] >= capacity and self.codes.shape[1] == dim:
            return
        codes = np.zeros((capacity, dim), dtype=np.int8)
        scales = np.zeros(capacity, dtype=np.float32)
        bound = np.zeros(capacity, dtype=np.float32)
        kept = self.rows if self.codes.shape[1] == dim else 0
        if kept:
            codes[:kept] = self.codes[:kept]
            scales[:kept] = self.scales[:kept]
            bound[:kept] = self.bound[:kept]
        self.codes, self.scales, self.bound, self.rows = codes, scales, bound, kept

    def _quantise(self, matrix: np.ndarray, start: int, stop: int) -> None:
        block = matrix[start:stop]
        peak = np.abs(block).max(axis=1)
        scales = _to_bf16(np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32))
        codes = np.clip(np.rint(block / scales[:, None]), -127, 127).astype(np.int8)
        restored = codes.astype(np.float32) * scales[:, None]
        self.codes[start:stop] = codes
        self.scales[start:stop] = scales
        error = np.linalg.norm((block - restored).astype(np.float64), axis=1)
        norm = np.linalg.norm(restored.astype(np.float64), axis=1)
        self.bound[start:stop] = (error + _QUERY_ROUNDING * norm) * (1 + _BF16_EPS) + _MARGIN

    def sync(self, matrix: np.ndarray, used: int) -> None:
        """Quantise the rows appended to `matrix` since the last sync (its first `used` rows count)."""
        if used > self.codes.shape[0] or matrix.shape[1] != self.codes.shape[1]:
            self._grow(max(used, 2 * self.codes.shape[0]), matrix.shape[1])
        if used > self.rows:
            self._quantise(matrix, self.rows, used)
            self.rows = used
            self._tensors = None

    def replace(self, matrix: np.ndarray, row: int) -> None:
        """Row `row` of `matrix` changed in place: re-quantise it if it was copied already."""
        if row < self.rows:
            self._quantise(matrix, row, row + 1)
            self._tensors = None

    def estimate(self, queries: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(estimates, bounds), both (len(queries), len(rows)) float32, for unit `queries`
        and the quantised rows `rows`; None when the kernel is not available."""
        torch = _torch()
        if torch is None or not self.rows:
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
        estimates = out.float().numpy()[:, rows]
        bounds = np.abs(estimates)
        bounds *= np.float32(_BF16_EPS * (1 + _BF16_EPS))
        bounds += self.bound[rows]
        return estimates, bounds
