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

from reverie.engine.memory import Kind, MemoryNode, MemoryStream, Triple, keyword_set, time_code
from reverie.engine.ports import InMemoryVectorIndex, VectorIndex

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
    low, high = float(values.min()), float(values.max())
    if high - low <= 0.0:
        return np.full(values.shape, 0.5)
    scaled = values - low
    scaled /= high - low
    return scaled


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
    # Integer microseconds, so ages equal (now - last_accessed).total_seconds() exactly.
    ages = np.subtract(time_code(now), stream.access_codes(found.positions)) / 1e6
    raw_recency = _raw_recency(ages, ids, config)
    recency = min_max_normalise(raw_recency)
    importance = min_max_normalise(found.poignancy)
    base = config.recency_weight * recency
    base += config.importance_weight * importance
    vectors = [vector for _, vector in items]
    bounded = getattr(index, "similarity_bounds", None)
    estimates = bounded(vectors, ids) if bounded is not None else None
    similarities = None if estimates is not None else _similarities(index, vectors, ids)

    touched: dict[int, None] = {}
    for j, (text, vector) in enumerate(items):
        picked: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        if estimates is not None:
            picked = _top_k_bounded(index, vector, ids, estimates[0][j], estimates[1][j], base, ages, k, config)
        if picked is None:
            similarity = similarities[j] if similarities is not None else _similarities(index, [vector], ids)[0]
            relevance = min_max_normalise(similarity)
            scores = config.relevance_weight * relevance
            scores += base
            best = np.asarray(_top_k(scores, ages, ids, k), dtype=np.intp)
            picked = (best, scores[best], relevance[best], similarity[best])
        top, top_scores, top_relevance, top_similarity = picked
        result[text] = [
            ScoredNode(
                node=stream.get(int(ids[i])),
                score=float(top_scores[n]),
                recency=float(recency[i]),
                relevance=float(top_relevance[n]),
                importance=float(importance[i]),
                raw_recency=float(raw_recency[i]),
                similarity=float(top_similarity[n]),
            )
            for n, i in enumerate(top)
        ]
        touched.update((int(ids[i]), None) for i in top)

    if touch:
        stream.touch(touched, now)
    return result


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
    bound: np.ndarray,
    base: np.ndarray,
    ages: np.ndarray,
    k: int,
    config: RetrievalConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The exact top k from cosine estimates with error bounds, computing exact cosines
    only where the bounds leave the answer open (reverie.engine.quantised).

    1. The exact max cosine is among the rows whose upper bound reaches the largest
       lower bound; likewise the min. Exact cosines of those rows give the exact
       min-max normalisation.
    2. With it, every row's score has bounds. The k-th best exact score is at least
       the k-th largest lower bound L, so only rows whose upper bound reaches L can
       be in the top k (or tie with it): their exact scores, ranked by `_top_k`,
       are the answer.
    Returns (positions, scores, relevance, similarity) of the top k, or None when all
    cosines are equal (no normalisation span), which the caller handles exactly.
    """
    low = estimate - bound
    high = estimate + bound

    def exact(positions: np.ndarray) -> np.ndarray:
        return _similarities(index, [vector], ids[positions])[0]

    near_max = np.flatnonzero(high >= low.max())
    near_min = np.flatnonzero(low <= high.min())
    top_cosine, bottom_cosine = float(exact(near_max).max()), float(exact(near_min).min())
    span = top_cosine - bottom_cosine
    if span <= 0.0:
        return None
    # Score bounds without clipping relevance to [0, 1]: still bounds, one pass fewer.
    # float32, as the estimates: the bounds' margin covers its rounding.
    weight = config.relevance_weight
    scale = np.float32(weight / span)
    score_low = low
    score_low -= np.float32(bottom_cosine)
    score_low *= scale
    score_low += base
    n = len(ids)
    floor = np.partition(score_low, n - k)[n - k] if k < n else -np.inf
    # score_high = score_low + 2 * bound * scale; compared without building it.
    spread = bound * (2 * scale)
    spread += score_low
    open_rows = np.flatnonzero(spread >= floor - 1e-6)
    similarity = exact(open_rows)
    # The same arithmetic as min_max_normalise and the exact path, so equal inputs give equal scores.
    relevance = similarity - bottom_cosine
    relevance /= span
    scores = weight * relevance
    scores += base[open_rows]
    best = np.asarray(_top_k(scores, ages[open_rows], ids[open_rows], k), dtype=np.intp)
    return open_rows[best], scores[best], relevance[best], similarity[best]


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
