"""Smallville orchestration: concurrency gain and per-agent-step overhead.

Runs the 25-agent base against bench/fake_openai_server.py (valid answers after a
fixed delay), on a fresh SQLite database in a temp folder, through the real services
(every step committed):

1. latency 200 ms per call: wall time of the first steps (every agent plans its day)
   with the gateway's concurrency at 64 vs 1, and the ratio (target >= 20x); for each
   concurrent step, the longest per-agent chain of calls (the step's critical path if
   nothing made anyone wait; target: step time within 20% of chain x latency);
2. zero latency: mean wall time per agent-step over many steps, including perception,
   planning, pathfinding and persistence (target < 5 ms).

Each run's full garbage collections (count and longest pause) are printed too.

    python bench/orchestration.py [--steps 3] [--overhead-steps 100] [--preset compact|paper] [--explain]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def setup_django(db: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "environment.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def gateway(base_url: str, concurrency: int):  # type: ignore[no-untyped-def]
    from llm.factory import build_gateway
    from llm.tracing import MemoryRecorder

    return build_gateway(
        "openai:fake", base_url=base_url, embedding_model="openai:fake", recorder=MemoryRecorder(),
        cache_policy="off", concurrency=concurrency, timeout=30,
    )  # fmt: skip


def chains(traces: list, step: int, delay: float) -> dict[str, float]:  # type: ignore[type-arg]
    """Per agent: how many call latencies its calls in `step` occupy back to back.

    An agent's calls are its own (item = its name) and those of the conversations it
    took part in (item = "A & B"). Overlapping calls (run concurrently) count once: the
    busy time is the union of the calls' intervals, divided by the latency. The largest
    value is the step's critical path if nothing else made anyone wait. A trace is made
    when its call is asked for (`created`) and counts the time inside the backend
    (`seconds`): the interval is (created, created + seconds).
    """
    spans: dict[str, list[tuple[float, float]]] = {}
    for trace in traces:
        if trace.step != step or not trace.item:
            continue
        interval = (trace.created, trace.created + trace.seconds)
        for name in trace.item.split(" & "):
            spans.setdefault(name, []).append(interval)
    depth: dict[str, float] = {}
    for name, intervals in spans.items():
        busy, end = 0.0, float("-inf")
        for start, stop in sorted(intervals):
            if stop <= end:
                continue
            busy += stop - max(start, end)
            end = stop
        depth[name] = busy / delay
    return depth


def explain(traces: list, step: int, who: str) -> None:  # type: ignore[type-arg]
    """Print the calls on `who`'s chain in `step`, in start order: what the critical path is made of."""
    mine = [t for t in traces if t.step == step and who in t.item.split(" & ")]
    if not mine:
        return
    origin = min(t.created for t in mine)
    for trace in sorted(mine, key=lambda t: t.created):
        start = trace.created - origin
        print(f"      {start:6.2f} -> {start + trace.seconds:6.2f} s  {trace.purpose:24s} {trace.item}")


EXPLAIN = False


def run(
    name: str, base_url: str, concurrency: int, steps: int, delay: float = 0.0, preset: str = "compact"
) -> tuple[list[float], int]:
    from reverie import services

    gw = gateway(base_url, concurrency)
    sim = services.fork("base_the_ville_n25", name, preset=preset, gateway=gw)
    # A long-running process has its HTTP clients built, its connections open and its
    # worker threads started: warm them first (as many concurrent calls and embeddings
    # as the gateway allows), so the first step's time is the step's (unwarmed, it
    # started ~1 s late; with half the threads started, 0.2 s went to starting the rest).
    import asyncio

    from pydantic import BaseModel

    class Ready(BaseModel):
        ok: bool

    async def warm() -> None:
        await asyncio.gather(
            *[gw.astructured(Ready, prompt="ready?", fallback=Ready(ok=True), purpose="bench.warmup", max_tokens=8)
              for _ in range(concurrency)],
            *[gw.aembed([f"warm up {i}"], purpose="bench.warmup") for i in range(concurrency)],
        )  # fmt: skip

    asyncio.run(warm())
    gw.recorder.traces.clear()  # type: ignore[attr-defined]  # the fork's and warm-up's calls are not a step
    times: list[float] = []
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        nonlocal start
        times.append(time.perf_counter() - start)
        start = time.perf_counter()

    with full_collections() as pauses:
        services.run_steps(sim, steps, gateway=gw, progress=progress)
    PAUSES[name] = pauses
    calls = gw.accounting.total(run=sim.run_label).calls
    if delay:
        first = sim.step - steps
        for index, wall in enumerate(times):
            depth = chains(gw.recorder.traces, first + index, delay)  # type: ignore[attr-defined]
            if depth:
                who, longest = max(depth.items(), key=lambda item: item[1])
                print(
                    f"    step {first + index}: {wall:.2f} s; longest per-agent chain {longest:.1f} calls "
                    f"({who}) = {longest * delay:.2f} s; step / bound = {wall / (longest * delay):.2f}"
                )
                CHAINS.append({"step": first + index, "wall_s": wall, "chain_calls": longest, "agent": who})
                if EXPLAIN:
                    explain(gw.recorder.traces, first + index, who)  # type: ignore[attr-defined]
    gw.close()
    return times, calls


CHAINS: list[dict[str, object]] = []
PAUSES: dict[str, list[float]] = {}


@contextlib.contextmanager
def full_collections() -> Iterator[list[float]]:
    """The garbage collector's full passes while the block runs, in ms each: a pass walks
    every object the process holds (100+ ms here before reverie/heap.py kept the long-lived
    ones out of it) and stops every agent while it does."""
    pauses: list[float] = []
    started: list[float] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append((time.perf_counter() - started.pop()) * 1000)

    gc.callbacks.append(watch)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(watch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3, help="steps timed with 200 ms latency")
    parser.add_argument("--overhead-steps", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--preset", choices=("compact", "paper"), default="compact", help="the runs' agent settings")
    parser.add_argument("--explain", action="store_true", help="list the calls on each step's longest chain")
    args = parser.parse_args()
    global EXPLAIN
    EXPLAIN = args.explain
    from _common import write_result
    from fake_openai_server import serve_in_process

    from llm.servers import free_port

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp) / "bench.sqlite3")
        slow_port, fast_port = free_port(), free_port()
        # Model servers are other processes (vLLM, Ollama, llama.cpp's server): so is the fake one.
        servers = [serve_in_process(slow_port, args.delay), serve_in_process(fast_port, 0.0)]
        slow, fast = f"http://127.0.0.1:{slow_port}/v1", f"http://127.0.0.1:{fast_port}/v1"

        concurrent, calls_c = run("bench-concurrent", slow, 64, args.steps, args.delay, args.preset)
        sequential, calls_s = run("bench-sequential", slow, 1, args.steps, preset=args.preset)
        ratio = sum(sequential) / sum(concurrent)
        print(f"{args.delay * 1000:.0f} ms per call, 25 agents, preset {args.preset}, first {args.steps} steps:")
        print(
            f"  concurrency 64: {sum(concurrent):.1f} s ({calls_c} calls)  per step {[round(t, 2) for t in concurrent]}"
        )
        print(
            f"  concurrency 1:  {sum(sequential):.1f} s ({calls_s} calls)  per step {[round(t, 2) for t in sequential]}"
        )
        print(f"  ratio: {ratio:.1f}x")

        overhead, calls_o = run("bench-overhead", fast, 64, args.overhead_steps, preset=args.preset)
        per_agent_step_ms = sum(overhead) / (25 * len(overhead)) * 1000
        steady = overhead[1:] or overhead
        steady_ms = sum(steady) / (25 * len(steady)) * 1000
        print(
            f"zero latency, {args.overhead_steps} steps ({calls_o} calls): {per_agent_step_ms:.2f} ms per agent-step "
            f"({steady_ms:.2f} ms after the planning step)"
        )
        for name, pauses in PAUSES.items():
            longest = f", longest {max(pauses):.1f} ms" if pauses else ""
            print(f"full garbage collections in {name}: {len(pauses)}{longest}")
        path = write_result(f"orchestration_{args.preset}", {
            "preset": args.preset, "delay_s": args.delay, "steps": args.steps, "concurrent_s": concurrent,
            "sequential_s": sequential,
            "ratio": ratio, "chains": CHAINS, "overhead_steps": args.overhead_steps,
            "per_agent_step_ms": per_agent_step_ms,
            "per_agent_step_ms_after_first": steady_ms,
            "full_collections_ms": PAUSES,
        })  # fmt: skip
        print(f"written {path}")
        for server in servers:
            server.terminate()


if __name__ == "__main__":
    main()
