#!/usr/bin/env python
"""Memory retrieval latency: `reverie.engine.retrieve` over one persona's stream.

For each size N it builds a MemoryStream of N nodes (80% events, 20% thoughts, spread
over two game days, random poignancy, a third re-accessed later) with synthetic
384-d embeddings in an InMemoryVectorIndex, then times `retrieve(k=30)` for fresh
focal points (one focal point per call, touch=False so every call sees the same
stream) and reports p50/p99 in milliseconds. It also times three focal points per
call (what a reflection asks) and the keyword path `retrieve_for_perception`.

The target is < 50 ms p50 at 5,000 nodes (one persona after about two game days).

    python bench/retrieval.py
    python bench/retrieval.py --sizes 1000 5000 20000 --queries 200 --mode rank

Writes bench/results/retrieval.json.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta

import numpy as np
from _common import median, percentile, write_result

from reverie.engine.memory import MemoryStream
from reverie.engine.ports import InMemoryVectorIndex
from reverie.engine.retrieve import RetrievalConfig, retrieve, retrieve_for_perception

DIM = 384
K = 30
START = datetime(2023, 2, 13, 0, 0, 0)
PEOPLE = [f"Person {i}" for i in range(25)]
THINGS = [f"the_ville:sector {i % 12}:arena {i % 30}:object {i}" for i in range(200)]


def build_stream(n: int, rng: np.random.Generator) -> MemoryStream:
    stream = MemoryStream(InMemoryVectorIndex(DIM))
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    minutes = np.sort(rng.uniform(0, 48 * 60, size=n))
    for i in range(n):
        created = START + timedelta(minutes=float(minutes[i]))
        subject = PEOPLE[int(rng.integers(len(PEOPLE)))]
        obj = THINGS[int(rng.integers(len(THINGS)))]
        poignancy = int(rng.integers(1, 11))
        if i % 5 == 4:
            evidence = rng.integers(1, i + 1, size=3).tolist()
            node = stream.add_thought(
                subject, "thinks about", obj, f"thought {i}", created=created, poignancy=poignancy,
                evidence=evidence, embedding=vectors[i],
            )  # fmt: skip
        else:
            node = stream.add_event(
                subject, "is using", obj, f"event {i}", created=created, poignancy=poignancy, embedding=vectors[i]
            )
        if i % 3 == 0:
            stream.touch([node.id], created + timedelta(hours=float(rng.uniform(0, 6))))
    return stream


def timed(fn, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(median(samples), 3), "p99_ms": round(percentile(samples, 99), 3)}


def bench_size(n: int, queries: int, config: RetrievalConfig, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    stream = build_stream(n, rng)
    build_s = time.perf_counter() - t0
    now = START + timedelta(hours=49)
    focal = rng.normal(size=(queries, 3, DIM)).astype(np.float32)
    counter = iter(range(10**9))

    def one() -> None:
        q = focal[next(counter) % queries]
        retrieve(stream, None, {"focal": q[0]}, now, k=K, config=config, touch=False)

    def three() -> None:
        q = focal[next(counter) % queries]
        retrieve(stream, None, {"a": q[0], "b": q[1], "c": q[2]}, now, k=K, config=config, touch=False)

    perceived = stream.latest(3, ("event",))

    def perception() -> None:
        retrieve_for_perception(stream, perceived, k=K)

    for warm in (one, three, perception):
        warm()
    return {
        "nodes": n,
        "build_s": round(build_s, 3),
        "retrieve_1_focal": summary(timed(one, queries)),
        "retrieve_3_focal": summary(timed(three, max(1, queries // 2))),
        "retrieve_for_perception_3_events": summary(timed(perception, queries)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--mode", choices=["hours", "rank"], default="hours")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    config = RetrievalConfig(recency_mode=args.mode)

    rows = []
    print(f"retrieve(k={K}) over one persona's stream, {DIM}-d embeddings, recency_mode={args.mode}")
    print(f"{'nodes':>7} {'1 focal p50':>12} {'p99':>8} {'3 focal p50':>12} {'p99':>8} {'keywords p50':>13} {'p99':>8}")
    for n in args.sizes:
        row = bench_size(n, args.queries, config, args.seed)
        rows.append(row)
        one, three, kw = row["retrieve_1_focal"], row["retrieve_3_focal"], row["retrieve_for_perception_3_events"]
        print(
            f"{n:>7} {one['p50_ms']:>10.2f}ms {one['p99_ms']:>6.2f}ms {three['p50_ms']:>10.2f}ms "
            f"{three['p99_ms']:>6.2f}ms {kw['p50_ms']:>11.2f}ms {kw['p99_ms']:>6.2f}ms"
        )
    target = next((r for r in rows if r["nodes"] == 5000), None)
    if target is not None:
        p50 = target["retrieve_1_focal"]["p50_ms"]
        print(f"5,000 nodes: p50 {p50:.2f} ms (target < 50 ms: {'met' if p50 < 50 else 'MISSED'})")
    path = write_result(
        "retrieval", {"dim": DIM, "k": K, "recency_mode": args.mode, "queries": args.queries, "results": rows}
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
