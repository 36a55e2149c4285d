"""Retrieval: which memories come to mind for a focal point.

For every candidate node (active events and thoughts by default) and a focal point
with embedding q (Park et al. 2023, section 4.1):

    recency     decay ** (game hours since the node was last accessed)       [hours]
                decay ** rank, rank 0 = most recently accessed               [rank]
    importance  the node's poignancy (1-10)
    relevance   cosine(q, node embedding), from the injected VectorIndex;
                a node with no embedding counts as cosine 0

Each component is min-max normalised over the candidates to [0, 1]. When a
component has the same value for every candidate (one candidate, or all equally
recent) it carries no information; it becomes 0.5 for all of them, so it shifts
every score equally and leaves the order to the other components (the original code
made the same choice). Then

    score = w_recency * recency + w_relevance * relevance + w_importance * importance

and the top k by score are returned, best first. Ties (scores equal to 12 decimal
places, so float noise does not decide) go to the more recently accessed node, then
to the newer node (higher id). After retrieving, the returned nodes' last_accessed is
set to `now`; with several focal points all are scored against the same snapshot
first and touched together at the end, so the answer does not depend on their order.

Defaults follow the paper: decay 0.995 per game hour, weights 1, 1, 1. The original
code differs: recency 0.99 ** rank over candidates sorted by last access, and global
weights [0.5, 3, 2] (recency, relevance, importance); `RetrievalConfig.original_code()`
reproduces those settings, with rank 0 for the most recently accessed node.

How it runs (no per-node Python loop): the stream keeps its nodes as column
arrays (ids, last access in integer microseconds, poignancy, kind, predicate, idle
and active flags; see memory.py), so the candidates are one cached boolean mask,
recency and importance are array expressions, and `InMemoryVectorIndex.
similarity_arrays` returns every candidate's cosine for all focal points at once
(one product over the stored matrix, read once for all focal points). Another
VectorIndex is asked through its dict protocol, one focal point at a time. The top
k come from a partition, and only the few scores near the cut are rounded and
sorted by the tie rule. `exclude_predicates` drops thoughts by predicate (the
ablations: "reflects" for reflections, "plans" for plan notes).

`retrieve_for_perception` is the cheap keyword path the perceive/react step uses:
for each newly perceived event, the events and thoughts sharing a keyword with the
event's subject, predicate or object.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np

from reverie.engine.memory import Candidates, Kind, MemoryNode, MemoryStream, Triple, keyword_set, time_code
from reverie.engine.ports import InMemoryVectorIndex, VectorIndex
from reverie.engine.quantised import kth_largest, scratch

__all__ = [
    "FocalPoints",
    "InMemoryVectorIndex",
    "PerceptionContext",
    "RetrievalConfig",
    "ScoredNode",
    "VectorIndex",
    "min_max_normalise",
    "retrieve",
    "retrieve_for_perception",
    "retrieve_one",
]

RecencyMode = Literal["hours", "rank"]
FocalPoints = Mapping[str, np.ndarray] | Sequence[tuple[str, np.ndarray]]

DEFAULT_K = 30
DEFAULT_KINDS: tuple[Kind, ...] = ("event", "thought")
TIE_DECIMALS = 12  # scores equal to this many decimals are ties


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """Weights and recency settings for `retrieve`. Defaults: the paper."""

    recency_weight: float = 1.0
    relevance_weight: float = 1.0
    importance_weight: float = 1.0
    recency_decay: float = 0.995
    recency_mode: RecencyMode = "hours"
    # Length of one decay step in game seconds for "hours" mode (one game hour).
    recency_unit_seconds: float = 3600.0
    # The original left "... is idle" memories out of retrieval: they are filler.
    skip_idle: bool = True

    def __post_init__(self) -> None:
        for name in ("recency_weight", "relevance_weight", "importance_weight"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not 0 < self.recency_decay <= 1:
            raise ValueError(f"recency_decay must be in (0, 1], got {self.recency_decay!r}")
        if self.recency_mode not in ("hours", "rank"):
            raise ValueError(f"recency_mode must be 'hours' or 'rank', got {self.recency_mode!r}")
        if not self.recency_unit_seconds > 0:
            raise ValueError(f"recency_unit_seconds must be positive, got {self.recency_unit_seconds!r}")

    @classmethod
    def paper(cls) -> RetrievalConfig:
        """Park et al. 2023: 0.995 per game hour since last access, all weights 1."""
        return cls()

    @classmethod
    def original_code(cls) -> RetrievalConfig:
        """The original implementation's settings: 0.99 ** rank, weights [0.5, 3, 2]."""
        return cls(
            recency_weight=0.5, relevance_weight=3.0, importance_weight=2.0, recency_decay=0.99, recency_mode="rank"
        )


@dataclass(frozen=True, slots=True)
class ScoredNode:
    """A retrieved node with its score and why: the three normalised components
    (0-1, before weighting) and the raw values they came from."""

    node: MemoryNode
    score: float
    recency: float
    relevance: float
    importance: float
    raw_recency: float  # decay ** hours (or ** rank)
    similarity: float  # cosine to the focal point; 0.0 when the node has no embedding

    def to_dict(self) -> dict[str, Any]:
        """Trace form for inspectable thinking."""
        return {
            "id": self.node.id,
            "description": self.node.description,
            "score": self.score,
            "recency": self.recency,
            "relevance": self.relevance,
            "importance": self.importance,
            "raw_recency": self.raw_recency,
            "similarity": self.similarity,
            "poignancy": self.node.poignancy,
        }


def min_max_normalise(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] by (v - min) / (max - min); all 0.5 when max == min."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return values.copy()
    return _normalise_between(values, float(values.min()), float(values.max()))


def _focal_items(focal_points: FocalPoints) -> list[tuple[str, np.ndarray]]:
    if isinstance(focal_points, Mapping):
        return list(focal_points.items())
    # The answer is keyed by text, so a repeated focal point (a model asking the same
    # question twice) is retrieved once: the first vector given for it is used.
    items: dict[str, np.ndarray] = {}
    for text, vector in focal_points:
        items.setdefault(str(text), vector)
    return list(items.items())


def _raw_recency(ages_seconds: np.ndarray, ids: np.ndarray, config: RetrievalConfig) -> np.ndarray:
    if config.recency_mode == "hours":
        # A last access "in the future" (clock skew in restored data) counts as now.
        # decay ** (age / unit) as exp(age * log(decay) / unit), in place: the same
        # value to ~1e-16 and several times faster than np.power on a large stream.
        exponent = np.maximum(ages_seconds, 0.0)
        exponent *= math.log(config.recency_decay) / config.recency_unit_seconds
        return np.exp(exponent, out=exponent)
    # rank: 0 for the most recently accessed node, ties in last access by newer id.
    # Candidates come in ascending id order, so a stable sort of the reversed ages
    # breaks ties by the newer id; access mostly follows id order, which the stable
    # sort (timsort) exploits.
    n = len(ids)
    reversed_order = np.argsort(ages_seconds[::-1], kind="stable")
    ranks = np.empty(n, dtype=np.float64)
    ranks[n - 1 - reversed_order] = np.arange(n, dtype=np.float64)
    return np.power(config.recency_decay, ranks)


def retrieve(
    stream: MemoryStream,
    index: VectorIndex | None,
    focal_points: FocalPoints,
    now: datetime,
    *,
    k: int = DEFAULT_K,
    kinds: Iterable[Kind] = DEFAULT_KINDS,
    config: RetrievalConfig | None = None,
    touch: bool = True,
    exclude_predicates: Collection[str] = (),
) -> dict[str, list[ScoredNode]]:
    """The top `k` memories for each focal point, best first (see the module docstring).

    `focal_points` maps focal text -> embedding (or is a list of (text, embedding);
    a repeated text is retrieved once, with its first embedding).
    `index` defaults to `stream.index`. `touch=False` leaves last_accessed alone (an
    interview that must not change memory). `exclude_predicates` leaves out thoughts
    whose predicate is one of these strings (the ablations: "reflects" for
    reflections, "plans" for plan notes). Returns {focal text: [ScoredNode, ...]}
    in the order the focal points were given.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    config = config or RetrievalConfig()
    index = index if index is not None else stream.index
    items = _focal_items(focal_points)
    result: dict[str, list[ScoredNode]] = {text: [] for text, _ in items}
    if isinstance(kinds, str):  # retrieve(kinds="event") means the one kind, not its letters
        kinds = (kinds,)  # type: ignore[assignment]
    found = stream.candidates(kinds, skip_idle=config.skip_idle, exclude_predicates=exclude_predicates)
    if not len(found) or k == 0 or not items:
        return result

    ids = found.ids
    parts = _Components(found, stream.access_codes(found.positions), time_code(now), config)
    vectors = [vector for _, vector in items]
    bounded = getattr(index, "similarity_bounds", None)
    estimates = bounded(vectors, ids) if bounded is not None else None
    similarities = None if estimates is not None else _similarities(index, vectors, ids)

    touched: dict[int, None] = {}
    for j, (text, vector) in enumerate(items):
        picked: _Picked | None = None
        if estimates is not None:
            picked = _top_k_bounded(index, vector, ids, estimates[0][j], float(estimates[1][j]), parts, k, config)
        if picked is None:
            similarity = similarities[j] if similarities is not None else _similarities(index, [vector], ids)[0]
            every = parts.every()
            relevance = min_max_normalise(similarity)
            scores = config.relevance_weight * relevance
            scores += every.base
            best = np.asarray(_top_k(scores, every.ages, ids, k), dtype=np.intp)
            picked = _Picked(best, scores[best], relevance[best], similarity[best], every.take(best))
        result[text] = [
            ScoredNode(
                node=stream.get(int(ids[i])),
                score=float(picked.scores[n]),
                recency=float(picked.parts.recency[n]),
                relevance=float(picked.relevance[n]),
                importance=float(picked.parts.importance[n]),
                raw_recency=float(picked.parts.raw_recency[n]),
                similarity=float(picked.similarity[n]),
            )
            for n, i in enumerate(picked.positions)
        ]
        touched.update((int(ids[i]), None) for i in picked.positions)

    if touch:
        stream.touch(touched, now)
    return result


@dataclass(frozen=True, slots=True)
class _Exact:
    """Recency and importance of some candidates, as the exact path computes them."""

    ages: np.ndarray  # seconds since last access
    raw_recency: np.ndarray
    recency: np.ndarray  # normalised over all candidates
    importance: np.ndarray  # normalised over all candidates
    base: np.ndarray  # recency_weight * recency + importance_weight * importance

    def take(self, positions: np.ndarray) -> _Exact:
        return _Exact(*(getattr(self, name)[positions] for name in self.__slots__))


@dataclass(frozen=True, slots=True)
class _Picked:
    """The top k of one focal point: candidate positions, best first, and their values."""

    positions: np.ndarray
    scores: np.ndarray
    relevance: np.ndarray
    similarity: np.ndarray
    parts: _Exact


class _Components:
    """Recency and importance of the candidates of one retrieval.

    `every()` is every candidate's exact values (float64, the exact path). The estimate
    path needs exact values only for the few rows it rescores (`at`), and otherwise
    `base_estimate()`: every candidate's base as float32 with an error margin. In
    "hours" mode that skips the float64 passes over the whole stream: the min-max
    normalisation needs only the extremes, and decay ** age is monotone in the last
    access, so its extremes are those of the newest and the oldest access.
    """

    def __init__(self, found: Candidates, access: np.ndarray, now_code: int, config: RetrievalConfig) -> None:
        self.found, self.access, self.now_code, self.config = found, access, now_code, config
        self._every: _Exact | None = None
        self._extremes: tuple[float, float, float, float] | None = None

    def _ages(self, access: np.ndarray) -> np.ndarray:
        # Integer microseconds, so ages equal (now - last_accessed).total_seconds() exactly.
        return np.subtract(self.now_code, access) / 1e6

    def every(self) -> _Exact:
        if self._every is None:
            ages = self._ages(self.access)
            raw = _raw_recency(ages, self.found.ids, self.config)
            recency = min_max_normalise(raw)
            importance = min_max_normalise(self.found.poignancy)
            base = self.config.recency_weight * recency
            base += self.config.importance_weight * importance
            self._every = _Exact(ages, raw, recency, importance, base)
        return self._every

    def extremes(self) -> tuple[float, float, float, float]:
        """(lowest, highest raw recency, lowest, highest poignancy) over all candidates ("hours" mode)."""
        if self._extremes is None:
            ends = self._ages(np.array([self.access.max(), self.access.min()], dtype=np.int64))
            newest, oldest = _raw_recency(ends, ends, self.config)
            poignancy = self.found.poignancy
            self._extremes = float(oldest), float(newest), float(poignancy.min()), float(poignancy.max())
        return self._extremes

    def at(self, positions: np.ndarray) -> _Exact:
        """Exact values at these candidate positions: the same numbers as `every()` there."""
        if self._every is not None or self.config.recency_mode != "hours":
            return self.every().take(positions)
        low, high, least, most = self.extremes()
        ages = self._ages(self.access[positions])
        raw = _raw_recency(ages, ages, self.config)
        recency = _normalise_between(raw, low, high)
        importance = _normalise_between(self.found.poignancy[positions], least, most)
        base = self.config.recency_weight * recency
        base += self.config.importance_weight * importance
        return _Exact(ages, raw, recency, importance, base)

    def base_estimate(self) -> tuple[np.ndarray, float]:
        """(every candidate's base, float32, margin): |exact base - estimate| <= margin."""
        config = self.config
        if config.recency_mode != "hours":
            return self.every().base.astype(np.float32), 1e-6 * (config.recency_weight + config.importance_weight)
        low, high, least, most = self.extremes()
        n = len(self.access)
        ages = np.subtract(self.now_code, self.access, out=scratch("retrieve.ages", n, np.int64))
        if self.access.max() > self.now_code:  # an access "in the future" counts as now
            np.maximum(ages, 0, out=ages)
        # exp(age * log(decay) / unit) in float32. Its error: the exponent x is off by
        # three float32 roundings (the age, the factor, the product), |x| * 1.8e-7, and
        # exp adds a few units in the last place: raw * (|x| + 1) * 2.4e-7 <= 2.4e-7,
        # since raw = e^x and e^x (1 - x) <= 1 for x <= 0. Normalising divides that by
        # the span; the margins below are twice the worst case.
        scale = math.log(config.recency_decay) / config.recency_unit_seconds / 1e6
        base = scratch("retrieve.base", n, np.float32)
        np.copyto(base, ages, casting="unsafe")  # a plain cast: faster than casting inside the multiply
        base *= np.float32(scale)
        np.exp(base, out=base)
        margin = 0.0
        if high - low > 0.0:
            base -= np.float32(low)
            base *= np.float32(config.recency_weight / (high - low))
            margin += config.recency_weight * (1e-6 / (high - low) + 1e-6)
        else:
            base.fill(np.float32(0.5 * config.recency_weight))
        base += self._importance32(least, most)
        margin += 1e-6 * (config.recency_weight + config.importance_weight)
        return base, margin

    def _importance32(self, least: float, most: float) -> np.ndarray:
        """importance_weight * normalised poignancy as float32, kept with the candidates
        (they change only when a node is added or expires)."""
        weight = self.config.importance_weight
        key = ("importance32", weight)
        cached = self.found.memo.get(key)
        if cached is None:
            if most - least > 0.0:
                cached = ((self.found.poignancy - least) * (weight / (most - least))).astype(np.float32)
            else:
                cached = np.full(len(self.found), 0.5 * weight, dtype=np.float32)
            cached.flags.writeable = False
            self.found.memo[key] = cached
        return cached


def _normalise_between(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """(v - low) / (high - low), all 0.5 when high == low: `min_max_normalise` with the
    min and max given, so a few rows of a larger set get the same numbers as the whole."""
    values = np.asarray(values, dtype=np.float64)
    if high - low <= 0.0:
        return np.full(values.shape, 0.5)
    scaled = values - low
    scaled /= high - low
    return scaled


def _similarities(index: VectorIndex, vectors: Sequence[np.ndarray], ids: np.ndarray) -> np.ndarray:
    """Exact cosines, shape (len(vectors), len(ids)); 0.0 where a node has no embedding."""
    similarity_arrays = getattr(index, "similarity_arrays", None)
    if similarity_arrays is not None:  # InMemoryVectorIndex: arrays in, arrays out
        return np.asarray(similarity_arrays(vectors, ids))
    id_list = ids.tolist()  # any other VectorIndex: the dict protocol
    out = np.zeros((len(vectors), len(id_list)), dtype=np.float64)
    for j, vector in enumerate(vectors):
        answer = index.similarities(vector, id_list)
        out[j] = np.fromiter((answer.get(i, 0.0) for i in id_list), dtype=np.float64, count=len(id_list))
    return out


def _top_k_bounded(
    index: VectorIndex,
    vector: np.ndarray,
    ids: np.ndarray,
    estimate: np.ndarray,
    bound: float,
    parts: _Components,
    k: int,
    config: RetrievalConfig,
) -> _Picked | None:
    """The exact top k from cosine estimates within +-bound of the exact cosines,
    computing exact cosines only where the bound leaves the answer open
    (reverie.engine.quantised).

    1. The exact max cosine M is at least max(estimate) - bound, so only rows with
       estimate + bound >= max(estimate) - bound can hold it; likewise the min. Their
       exact cosines give the exact min-max normalisation.
    2. Then every row's score is v = base + scale * estimate (scale = weight / span),
       shifted by a constant, within +-(scale * bound + the float32 margin m). The k-th
       best exact score is at least the k-th largest v minus that, so only rows with
       v >= k-th largest v - 2 (scale * bound + m) can be in the top k (or tie with it):
       their exact scores, ranked by `_top_k`, are the answer.
    Returns None when all cosines are equal (no normalisation span), which the caller
    handles exactly.
    """
    n = len(ids)
    flags = scratch("retrieve.flags", n, np.bool_)

    def exact(positions: np.ndarray) -> np.ndarray:
        return _similarities(index, [vector], ids[positions])[0]

    highest, lowest = float(estimate.max()), float(estimate.min())
    np.greater_equal(estimate, np.float32(highest - 2 * bound), out=flags)
    ends = np.flatnonzero(flags)
    np.less_equal(estimate, np.float32(lowest + 2 * bound), out=flags)
    ends = np.union1d(ends, np.flatnonzero(flags))
    end_cosines = exact(ends)
    top_cosine, bottom_cosine = float(end_cosines.max()), float(end_cosines.min())
    span = top_cosine - bottom_cosine
    if span <= 0.0:
        return None
    weight = config.relevance_weight
    scale = weight / span
    base, margin = parts.base_estimate()
    values = scratch("retrieve.scores", n, np.float32)
    np.multiply(estimate, np.float32(scale), out=values)
    values += base
    # float32 rounding of the line above, relative to the largest magnitudes in it.
    # (|base| <= the two weights: its parts are normalised to [0, 1].)
    largest = max(abs(highest), abs(lowest)) * scale + config.recency_weight + config.importance_weight
    margin += 1e-6 * largest + 1e-9
    threshold = kth_largest(values, k) - 2 * (scale * bound + margin) if k < n else -np.inf
    np.greater_equal(values, np.float32(threshold), out=flags)
    open_rows = np.flatnonzero(flags)
    similarity = exact(open_rows)
    exact_parts = parts.at(open_rows)
    # The same arithmetic as min_max_normalise and the exact path, so equal inputs give equal scores.
    relevance = similarity - bottom_cosine
    relevance /= span
    scores = weight * relevance
    scores += exact_parts.base
    best = np.asarray(_top_k(scores, exact_parts.ages, ids[open_rows], k), dtype=np.intp)
    return _Picked(open_rows[best], scores[best], relevance[best], similarity[best], exact_parts.take(best))


def _top_k(scores: np.ndarray, ages: np.ndarray, ids: np.ndarray, k: int) -> list[int]:
    """Positions of the k best: score (rounded to TIE_DECIMALS) desc, then last access
    most recent, then id desc.

    Only a short list is rounded and sorted: everything scoring at least the k-th
    best raw score minus 2e-12. Rounding moves a score by at most 0.5e-12, so any
    score whose rounded value reaches the k-th best rounded value is on that list.
    """
    n = len(scores)
    candidates = np.arange(n)
    if k < n:
        threshold = np.partition(scores, n - k)[n - k]
        candidates = np.flatnonzero(scores >= threshold - 2 * 10.0**-TIE_DECIMALS)
    rounded = np.round(scores[candidates], TIE_DECIMALS)
    order = np.lexsort((-ids[candidates], ages[candidates], -rounded))
    return candidates[order[:k]].tolist()


def retrieve_one(
    stream: MemoryStream,
    index: VectorIndex | None,
    focal_text: str,
    focal_vector: np.ndarray,
    now: datetime,
    **options: Any,
) -> list[ScoredNode]:
    """`retrieve` for a single focal point; same options."""
    return retrieve(stream, index, [(focal_text, focal_vector)], now, **options)[focal_text]


# --- keyword retrieval for perception ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class PerceptionContext:
    """What a newly perceived event brings to mind, by shared keywords."""

    event: MemoryNode | Triple
    events: list[MemoryNode]
    thoughts: list[MemoryNode]

    @property
    def triple(self) -> Triple:
        return self.event.triple if isinstance(self.event, MemoryNode) else self.event


def retrieve_for_perception(
    stream: MemoryStream, events: Iterable[MemoryNode | Sequence[str]], k: int | None = None
) -> list[PerceptionContext]:
    """For each perceived event (a node or an (s, p, o) triple), the active events and
    thoughts that share a keyword with its subject, predicate or object (terms
    normalised like node keywords), newest first, at most `k` of each kind.

    The event's own node is left out of its answer. Nothing is touched: this is
    association, not deliberate recall. One answer per input, in input order.
    """
    if k is not None and k < 0:
        raise ValueError(f"k must be >= 0 or None, got {k}")
    answers: list[PerceptionContext] = []
    for event in events:
        if isinstance(event, MemoryNode):
            triple, own_id = event.triple, event.id
            key: MemoryNode | Triple = event
        else:
            parts = tuple(event)
            if len(parts) != 3 or not all(isinstance(p, str) for p in parts):
                raise ValueError(f"a perceived event is a MemoryNode or an (s, p, o) triple of strings, got {event!r}")
            triple, own_id = (parts[0], parts[1], parts[2]), None
            key = triple
        keywords = keyword_set(triple)  # Chinese terms add their character n-grams
        found: dict[str, list[MemoryNode]] = {}
        for kind in ("event", "thought"):
            nodes = [n for n in stream.by_keywords(keywords, (kind,)) if n.id != own_id]
            found[kind] = nodes if k is None else nodes[:k]
        answers.append(PerceptionContext(event=key, events=found["event"], thoughts=found["thought"]))
    return answers
