"""CPU per model call of the openai backend's HTTP path: httpx (what the openai client
uses, and what the backend falls back to behind a proxy) vs llm/backends/json_http.py.

Each client POSTs the same chat request to bench/fake_openai_server.py, one after
another and in bursts of 25 threads at once (as a 25-agent step does), with the server
answering at once and after 200 ms. Reported: the client process's CPU per call (the
time that delays the other calls of a burst) and the wall time per burst.

    python bench/http_client.py [--calls 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

BODY = {
    "model": "fake",
    "messages": [{"role": "user", "content": "Plan the next hour of Isabella's day. " * 40}],
    "max_tokens": 64,
    "response_format": {"type": "json_schema", "json_schema": {"name": "plan", "schema": {
        "type": "object", "properties": {"activity": {"type": "string"}}, "required": ["activity"]}}},
}  # fmt: skip
HEADERS = {"Authorization": "Bearer not-needed", "Accept": "application/json"}


def clients(base_url: str) -> dict[str, Any]:
    from llm.backends.json_http import JsonHttp

    try:
        import httpx2 as httpx
    except ImportError:  # pragma: no cover - older openai releases
        import httpx  # type: ignore[no-redef]

    pool: list[Any] = []  # one httpx client per call in flight, as the backend keeps them

    def via_httpx() -> None:
        client = pool.pop() if pool else httpx.Client()
        client.post(base_url + "/chat/completions", json=BODY, headers=HEADERS, timeout=30).read()
        pool.append(client)

    direct = JsonHttp(base_url, HEADERS)
    return {"httpx": via_httpx, "json_http": lambda: direct.post("/chat/completions", BODY, timeout=30).content}


def measure(call: Any, calls: int, burst: int) -> tuple[float, float]:
    """(client CPU ms per call, wall seconds per burst)."""
    with ThreadPoolExecutor(max(burst, 1)) as pool:
        list(pool.map(lambda _: call(), range(burst)))  # connections open, threads started
        rounds = max(1, calls // burst)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(rounds):
            list(pool.map(lambda _: call(), range(burst)))
        return (time.process_time() - cpu) / (rounds * burst) * 1000, (time.perf_counter() - wall) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200, help="calls per client and setting")
    args = parser.parse_args()
    from _common import write_result
    from fake_openai_server import serve_in_process

    from llm.servers import free_port

    results: dict[str, Any] = {}
    for delay in (0.0, 0.2):
        port = free_port()
        server = serve_in_process(port, delay)
        try:
            for name, call in clients(f"http://127.0.0.1:{port}/v1").items():
                for burst in (1, 25):
                    calls = args.calls if delay == 0 else max(burst, args.calls // 4)
                    cpu_ms, wall_s = measure(call, calls, burst)
                    key = f"{name} delay={delay} burst={burst}"
                    results[key] = {"cpu_ms_per_call": cpu_ms, "wall_s_per_burst": wall_s}
                    print(f"{name:9s} delay {delay * 1000:3.0f} ms, {burst:2d} at once: "
                          f"{cpu_ms:.2f} ms CPU per call, {wall_s * 1000:.1f} ms per burst")  # fmt: skip
        finally:
            server.terminate()
    print(f"written {write_result('http_client', results)}")


if __name__ == "__main__":
    main()
