"""Gateway overhead per call, against calling the backend directly.

Two measurements:
1. An instant backend (returns at once): what the gateway itself costs per call
   (tracing, accounting, cache-key hashing, the concurrency slot, retries wrapper).
2. The bundled model: the same greedy 16-token completion through llama-cpp-python
   directly vs through the gateway, interleaved; the added time as a share.

Targets: < 1 ms and < 2 % added.
    python bench/gateway_overhead.py [--calls 40] [--instant-calls 5000]
"""

from __future__ import annotations

import argparse
import time

from _common import median, percentile, write_result
from tqdm import tqdm

from llm.backends.base import Backend
from llm.cache import MemoryCache
from llm.gateway import Gateway
from llm.spec import parse_model_spec
from llm.tracing import MemoryRecorder
from llm.types import Generation, GenParams

PROMPT = "Isabella Rodriguez is the owner of Hobbs Cafe. Her plan for today:"


class InstantBackend(Backend):
    kind = "instant"
    model_id = "instant"
    default_concurrency = 1

    def complete(self, prompt, *, params, n, schema, timeout):  # type: ignore[no-untyped-def]
        return [Generation("ok", 10, 2)]

    def chat(self, messages, *, params, n, schema, timeout):  # type: ignore[no-untyped-def]
        return [Generation("ok", 10, 2)]


def bench_instant(calls: int) -> dict[str, float]:
    backend = InstantBackend()
    gw = Gateway(backend, recorder=MemoryRecorder(), cache=MemoryCache(), cache_policy="off")
    params = GenParams(max_tokens=16)
    direct, through = [], []
    for i in range(calls):
        t = time.perf_counter()
        backend.complete(f"{PROMPT} {i}", params=params, n=1, schema=None, timeout=60)
        direct.append(time.perf_counter() - t)
        t = time.perf_counter()
        gw.complete(f"{PROMPT} {i}", purpose="bench.overhead", max_tokens=16)
        through.append(time.perf_counter() - t)
    return {
        "direct_us_p50": median(direct) * 1e6,
        "gateway_us_p50": median(through) * 1e6,
        "gateway_us_p99": percentile(through, 99) * 1e6,
        "overhead_us_p50": (median(through) - median(direct)) * 1e6,
    }


def bench_model(calls: int) -> dict[str, float]:
    from llm.backends.llama_cpp_backend import LlamaCppBackend

    backend = LlamaCppBackend(parse_model_spec("llama_cpp:bundled"))
    llm = backend.raw
    gw = Gateway(backend, recorder=MemoryRecorder(), cache_policy="off")
    try:
        # Warm up both paths once (first call evaluates the prompt from scratch).
        llm.create_completion(PROMPT, max_tokens=16, temperature=0.0)
        gw.complete(PROMPT, purpose="bench.overhead", max_tokens=16)
        direct, through = [], []
        for _ in tqdm(range(calls), desc="bundled model, interleaved", unit="pair"):
            t = time.perf_counter()
            llm.create_completion(PROMPT, max_tokens=16, temperature=0.0)
            direct.append(time.perf_counter() - t)
            t = time.perf_counter()
            gw.complete(PROMPT, purpose="bench.overhead", max_tokens=16)
            through.append(time.perf_counter() - t)
    finally:
        gw.close()  # free the model now, not during interpreter shutdown (a traceback)
    d, g = median(direct), median(through)
    return {
        "direct_ms_p50": d * 1e3,
        "gateway_ms_p50": g * 1e3,
        "added_ms_p50": (g - d) * 1e3,
        "added_percent": (g - d) / d * 100,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=40, help="interleaved pairs on the bundled model")
    parser.add_argument("--instant-calls", type=int, default=5000)
    args = parser.parse_args()
    instant = bench_instant(args.instant_calls)
    print(
        f"instant backend: direct {instant['direct_us_p50']:.1f} us, gateway {instant['gateway_us_p50']:.1f} us "
        f"(p99 {instant['gateway_us_p99']:.1f} us) -> overhead {instant['overhead_us_p50']:.1f} us per call"
    )
    model = bench_model(args.calls)
    print(
        f"bundled model, 16 tokens: direct {model['direct_ms_p50']:.1f} ms, gateway {model['gateway_ms_p50']:.1f} ms "
        f"-> added {model['added_ms_p50']:.2f} ms ({model['added_percent']:.2f} %)"
    )
    path = write_result("gateway_overhead", {"instant": instant, "bundled_model": model, "calls": args.calls})
    print(f"written {path}")


if __name__ == "__main__":
    main()
