"""N concurrent structured calls against an OpenAI-compatible server vs one at a time.

Starts `python -m llama_cpp.server` with the bundled model on a free loopback port,
then sends the same N structured calls (a) one after another and (b) all at once
through the gateway's async API, and reports the throughput ratio. A server that
batches (vLLM, llama.cpp's server with --parallel) gains from (b); llama-cpp-python's
server evaluates one request at a time, so on it the ratio shows what concurrency
costs or saves in HTTP and queueing alone.
    python bench/concurrent_structured.py [--n 8]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Literal

from _common import write_result
from pydantic import BaseModel

from llm.factory import build_gateway
from llm.servers import llama_cpp_server
from llm.tracing import MemoryRecorder

PEOPLE = ["Isabella", "Maria", "Klaus", "Sam", "Tom", "Jennifer", "Carmen", "Adam", "Ayesha", "Wolfgang",
          "Mei", "John", "Eddy", "Jane", "Tamara", "Carlos"]  # fmt: skip


class Choice(BaseModel):
    place: Literal["cafe", "park", "library", "home", "pub", "market"]


def prompt(name: str) -> str:
    return (
        "Pick where each person goes next.\n"
        'Person: Klaus wants to read.\nJSON: {"place": "library"}\n'
        f"Person: {name} wants lunch with a friend.\nJSON: "
    )


async def run_concurrent(gw, names):  # type: ignore[no-untyped-def]
    return await asyncio.gather(
        *[
            gw.astructured(Choice, prompt=prompt(n), purpose="bench.concurrent", fallback=Choice(place="home"),
                           max_tokens=16)
            for n in names
        ]
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=8)
    args = parser.parse_args()
    names = [PEOPLE[i % len(PEOPLE)] + (f" {i}" if i >= len(PEOPLE) else "") for i in range(args.n)]
    with llama_cpp_server() as server:
        gw = build_gateway(
            "openai:bundled?api=completions", base_url=server.base_url, recorder=MemoryRecorder(),
            cache_policy="off", concurrency=args.n,
        )  # fmt: skip
        gw.structured(Choice, prompt=prompt("warm-up"), purpose="bench.warmup", fallback=Choice(place="home"))
        start = time.perf_counter()
        sequential = [
            gw.structured(Choice, prompt=prompt(n), purpose="bench.sequential", fallback=Choice(place="home"),
                          max_tokens=16)
            for n in names
        ]  # fmt: skip
        seq_s = time.perf_counter() - start
        start = time.perf_counter()
        concurrent = asyncio.run(run_concurrent(gw, names))
        con_s = time.perf_counter() - start
        gw.close()
    ok_seq = sum(r.ok for r in sequential)
    ok_con = sum(r.ok for r in concurrent)
    ratio = seq_s / con_s
    print(f"sequential: {args.n} calls in {seq_s:.2f}s ({args.n / seq_s:.2f} calls/s), {ok_seq} valid")
    print(f"concurrent: {args.n} calls in {con_s:.2f}s ({args.n / con_s:.2f} calls/s), {ok_con} valid")
    print(f"throughput ratio concurrent/sequential = {ratio:.2f}x (llama_cpp.server, 2 threads)")
    path = write_result(
        "concurrent_structured",
        {"n": args.n, "sequential_s": seq_s, "concurrent_s": con_s, "ratio": ratio, "valid": [ok_seq, ok_con]},
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
