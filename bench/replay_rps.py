"""Replay data endpoint under load: requests/s, latency and size of `GET /api/sim/<sim>/frames/`.

One daphne process serves the project (as `make run` does) on a free loopback port;
a closed-loop asyncio load generator keeps C connections busy (keep-alive, each sends
its next request as soon as the previous answer is read) for D seconds, asking for
`?from=<random stored step>&count=M` of the 25-agent demo-day simulation
(bench/make_demo_day.py). Reported per count: requests/s, p50/p99 latency, errors
(non-200 answers and connection failures) and the response size.

    python bench/replay_rps.py [--counts 100 10] [--concurrency 16] [--duration 15]
                               [--client auto|httpx|raw] [--debug true|false] [--quick]

The client: httpx when it is importable (the `httpx2` package, which openai pulls in,
counts), else aiohttp, else a minimal HTTP/1.1 keep-alive client on asyncio streams
(`--client raw`). On a 2-core machine the load generator competes with the server
for CPU, so the raw client (the cheapest per request) shows more of the server; run
both to see the difference. The server helpers here (`Daphne`) are shared with
bench/demo_load.py and bench/ws_fanout.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

DEMO_SIM = "bench-demo-day"

# --- the server (shared with demo_load.py and ws_fanout.py) ------------------------------

# Variables of the bench process the server must not inherit unless asked.
_NOT_INHERITED = {
    "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_TASK_ALWAYS_EAGER",
    "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE", "DEBUG", "STATIC_ROOT",
}  # fmt: skip


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(explicit: str | None) -> str:
    """--database-url, else DATABASE_URL, else the project's default database (as the server uses)."""
    if explicit:
        return explicit
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from environment.config import default_database_url, load_dotenv_file

    load_dotenv_file()
    return os.environ.get("DATABASE_URL") or default_database_url()


def setup_django(db_url: str, *, migrate: bool = True) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "environment.settings")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


@dataclass
class Daphne:
    """`.venv/bin/daphne -b 127.0.0.1 -p <free port> environment.asgi:application` in a subprocess.

    debug=True is what `make run` serves (DEBUG defaults to true; WhiteNoise then finds
    static files through the finders and re-checks them on each request). debug=False is
    the production shape: `collectstatic` into a temp STATIC_ROOT first, WhiteNoise serves
    that, plain http allowed on loopback.
    """

    db_url: str
    debug: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        assert self.tmp is not None
        return Path(self.tmp.name) / "daphne.log"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        env.update(
            DJANGO_SETTINGS_MODULE="environment.settings", DATABASE_URL=self.db_url, PYTHONUNBUFFERED="1",
            ALLOWED_HOSTS="127.0.0.1,localhost", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
            LOG_LEVEL=os.environ.get("BENCH_SERVER_LOG_LEVEL", "WARNING"),
        )  # fmt: skip
        if self.debug:
            env["DEBUG"] = "true"
        else:
            assert self.tmp is not None
            env.update(
                DEBUG="false", SECRET_KEY="bench-" + secrets.token_urlsafe(48),
                STATIC_ROOT=str(Path(self.tmp.name) / "static"), SECURE_SSL_REDIRECT="false",
                SESSION_COOKIE_SECURE="false", CSRF_COOKIE_SECURE="false", SECURE_HSTS_SECONDS="0",
            )  # fmt: skip
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 90.0) -> Daphne:
        daphne = ROOT / ".venv" / "bin" / "daphne"
        binary = str(daphne) if daphne.exists() else shutil.which("daphne")
        if not binary:
            sys.exit("daphne not found: run `make setup` (it is in requirements.txt)")
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-daphne-")
        env = self.env()
        if not self.debug:
            collect = subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            if collect.returncode != 0:
                raise RuntimeError(f"collectstatic failed:\n{collect.stdout}\n{collect.stderr}")
        self.port = free_port()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [binary, "-b", "127.0.0.1", "-p", str(self.port), "environment.asgi:application"],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited with status {self.process.returncode}:\n{self.log_text()[-5000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not answer /healthz in {timeout:.0f} s:\n{self.log_text()[-5000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process(process)
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None

    def __enter__(self) -> Daphne:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_process(process: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def ensure_demo_day(db_url: str, name: str = DEMO_SIM, *, wait_s: float = 0.0, remake: bool = False) -> None:
    """Make sure `name` has its stored steps and compressed file; runs bench/make_demo_day.py if not.

    Call after setup_django. Waits up to `wait_s` for the script to appear (another
    engineer may be writing it) and for a run of it already in progress to finish.
    """
    from reverie.compress import demo_path
    from reverie.models import Simulation

    def ready() -> bool:
        sim = Simulation.objects.filter(name=name).first()
        return bool(
            sim and sim.step > 0 and demo_path(sim).is_file() and sim.movements.filter(step=sim.step - 1).exists()
        )

    if ready() and not remake:
        return
    script = ROOT / "bench" / "make_demo_day.py"
    deadline = time.monotonic() + wait_s
    while not script.exists():
        if time.monotonic() > deadline:
            sys.exit(f"{script.relative_to(ROOT)} does not exist (yet), and simulation {name!r} is not in {db_url}")
        print(f"waiting for {script.relative_to(ROOT)} to appear...", flush=True)
        time.sleep(10)
    print(f"running bench/make_demo_day.py --name {name} (a day of 25 agents; a minute or two)...", flush=True)
    run = subprocess.run([sys.executable, str(script), "--name", name, "--database-url", db_url], cwd=ROOT)
    if run.returncode != 0:
        sys.exit(f"bench/make_demo_day.py failed with status {run.returncode}")
    if not ready():
        sys.exit(f"bench/make_demo_day.py ran but {name!r} still has no stored steps or compressed file")


# --- load generators ----------------------------------------------------------------------


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class RawClient:
    """HTTP/1.1 keep-alive GETs over asyncio streams (Content-Length or chunked bodies)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            await self._connect()
        assert self.reader is not None and self.writer is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: */*\r\n\r\n".encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        else:  # read to close
            body = await self.reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def pick_client(name: str) -> str:
    if name != "auto":
        return name
    for module, kind in (("httpx", "httpx"), ("httpx2", "httpx"), ("aiohttp", "aiohttp")):
        try:
            __import__(module)
            return kind
        except ImportError:
            continue
    return "raw"


async def load(base: str, paths: Any, concurrency: int, duration: float, client: str) -> tuple[Sample, float]:
    """Closed loop: `concurrency` workers, each one request at a time, for `duration` s."""
    sample = Sample()
    host, port = base.split("//", 1)[1].split(":")
    stop_at = 0.0

    async def record(send: Any) -> None:
        while True:
            path = next(paths)
            t0 = time.perf_counter()
            if t0 >= stop_at:
                return
            try:
                status, size = await send(path)
            except Exception as exc:  # a refused or reset connection is an error, not a crash
                sample.errors.append(f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(0.01)
                continue
            sample.latencies.append(time.perf_counter() - t0)
            sample.sizes.append(size)
            if status != 200:
                sample.errors.append(f"HTTP {status} for {path}")

    if client == "httpx":
        try:
            import httpx  # type: ignore[import-not-found]
        except ImportError:
            import httpx2 as httpx  # type: ignore[import-not-found,no-redef]
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60, trust_env=False) as http:

            async def send(path: str) -> tuple[int, int]:
                response = await http.get(path)
                return response.status_code, len(response.content)

            await http.get("/healthz")
            stop_at = time.perf_counter() + duration
            started = time.perf_counter()
            await asyncio.gather(*(record(send) for _ in range(concurrency)))
    elif client == "aiohttp":
        import aiohttp  # type: ignore[import-not-found]

        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(base_url=base, connector=connector) as http:

            async def send(path: str) -> tuple[int, int]:
                async with http.get(path) as response:
                    return response.status, len(await response.read())

            stop_at = time.perf_counter() + duration
            started = time.perf_counter()
            await asyncio.gather(*(record(send) for _ in range(concurrency)))
    else:
        clients = [RawClient(host, int(port)) for _ in range(concurrency)]

        def sender(c: RawClient) -> Any:
            async def send(path: str) -> tuple[int, int]:
                try:
                    status, body = await c.get(path)
                except Exception:
                    await c.close()
                    raise
                return status, len(body)

            return send

        stop_at = time.perf_counter() + duration
        started = time.perf_counter()
        await asyncio.gather(*(record(sender(c)) for c in clients))
        for c in clients:
            await c.close()
    return sample, time.perf_counter() - started


def frame_paths(sim: str, last_step: int, count: int, seed: int, aligned: bool = False) -> Any:
    """Random `from` over the stored steps; aligned: a random multiple of count (replay.js's chunks)."""
    rng = random.Random(seed)
    top = max(0, last_step - count + 1)
    while True:
        start = rng.randint(0, last_step // count) * count if aligned else rng.randint(0, top)
        yield f"/api/sim/{sim}/frames/?from={start}&count={count}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sim", default=DEMO_SIM)
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 10], help="frames per request (each measured)")
    parser.add_argument("--concurrency", "-c", type=int, default=16)
    parser.add_argument("--duration", "-d", type=float, default=15.0, help="seconds per count")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    parser.add_argument("--client", choices=["auto", "httpx", "aiohttp", "raw"], default="auto")
    parser.add_argument(
        "--debug", choices=["true", "false"], default="true", help="the server's DEBUG (make run: true)"
    )
    parser.add_argument("--database-url", help="default: DATABASE_URL or the project's storage/db.sqlite3")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--from", dest="start", choices=["random", "aligned"], default="random",
        help="random: any stored step; aligned: multiples of count, as the replay page asks for chunks",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s per count, 4 connections, no warm-up")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.concurrency, args.warmup = 3.0, 4, 0.0
    if args.concurrency < 1 or args.duration <= 0:
        parser.error("--concurrency must be >= 1 and --duration > 0")
    db_url = database_url(args.database_url)
    setup_django(db_url)
    from _common import percentile, write_result

    from reverie.models import Simulation

    if args.sim == DEMO_SIM:
        ensure_demo_day(db_url, wait_s=600)
    sim = Simulation.objects.filter(name=args.sim).first()
    if sim is None or sim.step < 1:
        sys.exit(f"simulation {args.sim!r} has no stored steps in {db_url}")
    agents = sim.movements.filter(step=sim.step - 1).count()
    client = pick_client(args.client)
    if client == "aiohttp":
        try:
            import aiohttp  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            sys.exit("aiohttp is not installed: use --client raw or --client httpx")
    results: dict[str, Any] = {}
    load_before = os.getloadavg()
    server = Daphne(db_url, debug=args.debug == "true")
    print(f"{args.sim}: {agents} agents, steps 0..{sim.step - 1}; daphne (1 process, DEBUG={args.debug}), "
          f"{args.concurrency} connections, {args.duration:.0f} s per count, client {client}, "
          f"from={args.start}", flush=True)  # fmt: skip
    try:
        server.start()
        for count in args.counts:
            paths = frame_paths(args.sim, sim.step - 1, count, args.seed, aligned=args.start == "aligned")
            if args.warmup > 0:
                asyncio.run(load(server.url, paths, args.concurrency, args.warmup, client))
            sample, elapsed = asyncio.run(load(server.url, paths, args.concurrency, args.duration, client))
            n = len(sample.latencies)
            row = {
                "count": count, "requests": n, "seconds": round(elapsed, 2), "rps": n / elapsed,
                "p50_ms": percentile(sample.latencies, 50) * 1000, "p99_ms": percentile(sample.latencies, 99) * 1000,
                "errors": len(sample.errors), "error_examples": sorted(set(sample.errors))[:5],
                "bytes_mean": sum(sample.sizes) / max(1, len(sample.sizes)),
                "frames_per_s": n * count / elapsed,
            }  # fmt: skip
            results[str(count)] = row
            print(f"  count={count:<4} {row['rps']:7.1f} req/s ({row['frames_per_s']:,.0f} frames/s)  "
                  f"p50 {row['p50_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  errors {row['errors']}  "
                  f"response {row['bytes_mean'] / 1024:,.1f} KiB", flush=True)  # fmt: skip
            for example in row["error_examples"]:
                print(f"      error: {example}")
        if server.process is not None and server.process.poll() is not None:
            print(f"daphne exited during the run:\n{server.log_text()[-3000:]}")
    finally:
        log = server.log_text()
        server.stop()
    tracebacks = log.count("Traceback")
    if tracebacks:
        print(f"the server logged {tracebacks} traceback(s); last lines:\n{log[-3000:]}")
    name = "replay_rps" + ("" if args.client == "auto" else f"_{client}") + ("" if args.debug == "true" else "_nodebug")
    name += ("_aligned" if args.start == "aligned" else "") + ("_quick" if args.quick else "")
    path = write_result(name, {
        "sim": args.sim, "agents": agents, "stored_steps": sim.step, "server": "daphne, 1 process",
        "debug": args.debug == "true", "client": client, "from": args.start, "concurrency": args.concurrency,
        "duration_s": args.duration,
        "quick": args.quick, "results": results, "server_tracebacks": tracebacks,
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
    })  # fmt: skip
    print(f"written {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
