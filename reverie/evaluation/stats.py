"""Mean and a 95% confidence interval over repeated runs (Student's t).

For n runs with mean m and sample standard deviation s, the interval is
m +/- t(0.975, n - 1) * s / sqrt(n). The t quantiles for 1-30 degrees of freedom are
the usual table values; above 30 a Cornish-Fisher expansion around the normal
quantile is accurate to 1e-3. One run has no interval (None).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist, mean, stdev

_T975 = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
]  # fmt: skip


def t975(df: int) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    z = NormalDist().inv_cdf(0.975)
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def mean_interval(values: Sequence[float]) -> tuple[float, tuple[float, float] | None]:
    """(mean, (low, high)) with the 95% t-interval; (mean, None) for a single value."""
    if not values:
        raise ValueError("no values")
    m = mean(values)
    if len(values) < 2:
        return m, None
    half = t975(len(values) - 1) * stdev(values) / math.sqrt(len(values))
    return m, (m - half, m + half)
