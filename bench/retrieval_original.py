#!/usr/bin/env python
"""Retrieval against the original algorithm, side by side on one core.

The original Generative Agents code scores memories in `new_retrieve`: it walks the
event and thought nodes in Python, keeps every embedding as a Python list, computes
each cosine with numpy on those lists, min-max normalises three dicts, adds them up in
a fourth and sorts its items. `original_new_retrieve` below is OUR OWN
RE-IMPLEMENTATION of that algorithm, written from its description (the facts sheet
on the original code, "new_retrieve scoring"), for timing only; no code of the
original is used. It keeps the original's shape where that shape is the cost:

    candidates  every event and thought whose embedding key does not say "idle",
                as [last_accessed, node] pairs sorted by last access
    recency     {node id: decay ** i} for i = 1..N in that order (as written, the
                least recently accessed node gets the largest value)
    importance  {node id: poignancy}
    relevance   {node id: cosine(embedding list, focal list)}, one numpy call per node
    normalise   each dict min-max to [0, 1] (all 0.5 when flat) by looping its items
    score       0.5 * recency + 3 * relevance + 2 * importance, into a dict
    top         sorted(dict.items(), by score, descending)[:n]; touch those nodes

The focal embedding is given (the original fetched it from the embedding API on
every call; that network time is left out on both sides).

Both sides run on the same stream (bench/retrieval.py's `build_stream`: 80% events,
20% thoughts, 384-d vectors, a third re-accessed) and the same focal vectors, with
k = 30 and touch off, so every call sees the same memories. Ours runs twice: with
`RetrievalConfig.original_code()` (the same formula: 0.99 ** rank, weights 0.5, 3, 2)
and with the paper's settings (0.995 per game hour, weights 1). The original is
slow at large sizes, so it is timed on fewer calls (--original-calls). Two more
columns: ours with three focal points per call (what a reflection or a conversation
line asks), and the floor any exact method pays, one float32 matrix-vector product
over the same embeddings (numpy/BLAS, one thread).

A cross-check runs the re-implementation with the recency direction flipped (most
recently accessed first, as ours ranks) and counts how many of its top 30 ours
returns with `original_code()`; 30/30 means both compute the same thing.

The process pins itself to one CPU (`--cpu`, default 0) and limits BLAS/OpenMP to
one thread before numpy loads.

    python bench/retrieval_original.py
    python bench/retrieval_original.py --sizes 1000 20000 100000 --queries 200 --original-calls 20 5 3

Writes bench/results/retrieval_original.json.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before numpy loads: one core means one BLAS thread

import argparse  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from _common import median, percentile, write_result  # noqa: E402
from retrieval import DIM, START, build_stream  # noqa: E402

from reverie.engine.memory import MemoryStream  # noqa: E402
from reverie.engine.retrieve import RetrievalConfig, retrieve  # noqa: E402

K = 30
GLOBAL_WEIGHTS = (0.5, 3.0, 2.0)  # recency, relevance, importance, as hard-coded in the original
DECAY = 0.99


# --- the re-implementation (for timing; see the module docstring) ------------------------


@dataclass
class OldNode:
    """A node as the original kept it: plain attributes, embedding looked up by key."""

    node_id: str
    last_accessed: datetime
    poignancy: int
    embedding_key: str


def original_cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def original_normalise(scores: dict[str, float]) -> dict[str, float]:
    low, high = min(scores.values()), max(scores.values())
    spread = high - low
    if spread == 0:
        return {key: 0.5 for key in scores}
    return {key: (value - low) / spread for key, value in scores.items()}


def original_new_retrieve(
    events: list[OldNode],
    thoughts: list[OldNode],
    embeddings: dict[str, list[float]],
    focal_points: list[tuple[str, list[float]]],
    now: datetime,
    *,
    n_count: int = K,
    recent_first: bool = False,
    touch: bool = False,
) -> dict[str, list[OldNode]]:
    answer: dict[str, list[OldNode]] = {}
    for focal_text, focal_vector in focal_points:
        pairs = [[node.last_accessed, node] for node in events + thoughts if "idle" not in node.embedding_key]
        pairs = sorted(pairs, key=lambda pair: pair[0], reverse=recent_first)
        nodes: list[OldNode] = [pair[1] for pair in pairs]

        recency: dict[str, float] = {}
        for i, node in enumerate(nodes, start=1):
            recency[node.node_id] = DECAY**i
        importance: dict[str, float] = {}
        for node in nodes:
            importance[node.node_id] = node.poignancy
        relevance: dict[str, float] = {}
        for node in nodes:
            relevance[node.node_id] = original_cosine(embeddings[node.embedding_key], focal_vector)

        recency = original_normalise(recency)
        importance = original_normalise(importance)
        relevance = original_normalise(relevance)

        w_rec, w_rel, w_imp = GLOBAL_WEIGHTS
        total: dict[str, float] = {}
        for key in recency:
            total[key] = w_rec * recency[key] + w_rel * relevance[key] + w_imp * importance[key]
        best = sorted(total.items(), key=lambda item: item[1], reverse=True)[:n_count]
        by_id = {node.node_id: node for node in nodes}
        chosen = [by_id[key] for key, _ in best]
        if touch:
            for node in chosen:
                node.last_accessed = now
        answer[focal_text] = chosen
    return answer


def as_original(stream: MemoryStream) -> tuple[list[OldNode], list[OldNode], dict[str, list[float]]]:
    """The same memories in the original's layout: node lists and key -> list embeddings."""
    index: Any = stream.index
    embeddings: dict[str, list[float]] = {}
    lists: dict[str, list[OldNode]] = {"event": [], "thought": []}
    for node in stream.all():
        if node.kind not in lists:
            continue
        key = node.description  # the original keyed embeddings by the node's text
        embeddings[key] = index.vector(node.id).astype(np.float64).tolist()
        lists[node.kind].append(OldNode(str(node.id), node.last_accessed, node.poignancy, key))
    # The original kept the newest node first in its per-kind sequences.
    return lists["event"][::-1], lists["thought"][::-1], embeddings


# --- timing ----------------------------------------------------------------------------


def timed_ms(fn: Any, calls: int) -> list[float]:
    samples = []
    for i in range(calls):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def bench_size(n: int, queries: int, original_calls: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    stream = build_stream(n, rng)
    now = START + timedelta(hours=49)
    focal = rng.normal(size=(queries, DIM)).astype(np.float32)
    focal_lists = [v.astype(np.float64).tolist() for v in focal]
    events, thoughts, embeddings = as_original(stream)
    original_config, paper_config = RetrievalConfig.original_code(), RetrievalConfig.paper()

    def ours(config: RetrievalConfig) -> Any:
        return lambda i: retrieve(stream, None, {"q": focal[i % queries]}, now, k=K, config=config, touch=False)

    def original(i: int) -> Any:
        return original_new_retrieve(events, thoughts, embeddings, [("q", focal_lists[i % queries])], now)

    # The floor: one float32 matrix-vector product over the same embeddings, which any
    # exact retrieval must do (it reads every stored vector once).
    matrix = np.stack([stream.index.vector(node.id) for node in stream.all()])  # type: ignore[attr-defined]
    units = focal / np.linalg.norm(focal, axis=1, keepdims=True)

    def floor(i: int) -> Any:
        return matrix @ units[i % queries]

    def ours_three(i: int) -> Any:
        points = {f"q{j}": focal[(3 * i + j) % queries] for j in range(3)}
        return retrieve(stream, None, points, now, k=K, config=paper_config, touch=False)

    for warm in (ours(original_config), ours(paper_config), ours_three, original, floor):
        warm(0)
    ours_original = timed_ms(ours(original_config), queries)
    ours_paper = timed_ms(ours(paper_config), queries)
    ours_paper_three = timed_ms(ours_three, max(1, queries // 2))
    floor_ms = timed_ms(floor, queries)
    old = timed_ms(original, original_calls)

    # Cross-check: the same formula on both sides should pick the same memories.
    agree = []
    for i in range(min(3, queries)):
        mine = retrieve(stream, None, {"q": focal[i]}, now, k=K, config=original_config, touch=False)["q"]
        theirs = original_new_retrieve(events, thoughts, embeddings, [("q", focal_lists[i])], now, recent_first=True)[
            "q"
        ]
        agree.append(len({s.node.id for s in mine} & {int(node.node_id) for node in theirs}))

    def stats(samples: list[float]) -> dict[str, float]:
        return {
            "p50_ms": round(median(samples), 3),
            "p95_ms": round(percentile(samples, 95), 3),
            "calls": len(samples),
        }

    return {
        "nodes": n,
        "candidates": len(events) + len(thoughts),
        "original": stats(old),
        "ours_original_code": stats(ours_original),
        "ours_paper": stats(ours_paper),
        "ours_paper_3_focal": stats(ours_paper_three),
        "matvec_floor": stats(floor_ms),
        "speedup_original_code": round(median(old) / median(ours_original), 1),
        "speedup_paper": round(median(old) / median(ours_paper), 1),
        "top30_agreement": agree,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000, 100000])
    parser.add_argument("--queries", type=int, default=200, help="timed calls of ours per size")
    parser.add_argument(
        "--original-calls", type=int, nargs="+", default=[20, 5, 3], help="timed calls of the original, per size"
    )
    parser.add_argument("--cpu", type=int, default=0, help="CPU to pin to (-1: do not pin)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pinned = "not pinned"
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
        pinned = f"pinned to CPU {args.cpu}"
    calls = args.original_calls + [args.original_calls[-1]] * max(0, len(args.sizes) - len(args.original_calls))

    print(f"retrieve(k={K}), one focal point, {DIM}-d, touch off; {pinned}, BLAS/OpenMP threads 1")
    print(
        f"{'nodes':>7} {'original p50':>13} {'ours (orig. formula) p50/p95':>29} {'speed-up':>9}"
        f" {'ours (paper) p50/p95':>21} {'speed-up':>9} {'3 focal p50':>12} {'matvec p50':>11} {'top-30 agree':>13}"
    )
    rows = []
    for n, original_calls in zip(args.sizes, calls, strict=False):
        row = bench_size(n, args.queries, original_calls, args.seed)
        rows.append(row)
        old, mine, paper = row["original"], row["ours_original_code"], row["ours_paper"]
        print(
            f"{n:>7} {old['p50_ms']:>11.1f}ms {mine['p50_ms']:>17.2f} / {mine['p95_ms']:>6.2f}ms"
            f" {row['speedup_original_code']:>8.0f}x {paper['p50_ms']:>10.2f} / {paper['p95_ms']:>6.2f}ms"
            f" {row['speedup_paper']:>8.0f}x {row['ours_paper_3_focal']['p50_ms']:>10.2f}ms"
            f" {row['matvec_floor']['p50_ms']:>9.2f}ms {'/'.join(str(a) for a in row['top30_agreement']):>13}"
        )
    path = write_result(
        "retrieval_original", {"dim": DIM, "k": K, "pinning": pinned, "queries": args.queries, "results": rows}
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
