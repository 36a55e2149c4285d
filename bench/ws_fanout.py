"""Websocket fan-out: latency from a step's commit to its frame at each of 50 viewers.

50 viewers (websockets clients, in a separate process of their own) watch
`/ws/sim/<sim>/` of one simulation served by one daphne process, each on a fresh
SQLite database in a temp folder (a fork of base_the_ville_n25, 25 agents). Two setups:

(a) redis: REDIS_URL set (a `redis-server` started here on a free port, no
    persistence), channels_redis as the channel layer. This bench process is the
    publisher, in a process of its own as a Celery worker would be: per step it
    commits the 25 Movement rows and the simulation's step/clock in one transaction
    (what the runner's save_step writes for the frame), notes the time the commit
    returned, and calls `reverie.live.publish_step(sim, step)`, one step every
    --interval seconds. Latency = arrival at a viewer - that commit time.
(b) in-memory: the default setup (no REDIS_URL, InMemoryChannelLayer), where only
    the server's own runner thread can publish. The bench signs in as a superuser
    (POST /accounts/login/), presses play through the control endpoint (CSRF header),
    and the real runner advances the simulation against bench/fake_openai_server.py
    (a separate process, zero delay), as fast as it can. The product records no
    commit time per step, so a thread here polls the Simulation row (step, updated)
    every --poll-ms: `updated` is set by save_step's sim.save() inside the step's
    transaction, just before it commits, so arrival - updated is an upper bound of
    commit-to-arrival (it includes the commit itself); arrival - the time the poller
    first saw the step is a lower bound (the poller sees it up to --poll-ms after the
    commit). Both are reported.

Both ends use this machine's clock (time.time(), the same CLOCK_REALTIME in every
process; `updated` is timezone.now()). A frame is lost when a viewer that was
connected when the step committed never receives it.

    python bench/ws_fanout.py [--viewers 50] [--steps 150] [--interval 0.1]
                              [--setups redis inmemory | --no-redis] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

BASE = "base_the_ville_n25"


# --- the viewers (run as `ws_fanout.py --viewers-process URL N OUT`) -------------------------


async def _viewers_main(url: str, origin: str, n: int, out: str) -> None:
    """Connect n viewers, say "connected" on stdout, record every frame until "stop <last step>"."""
    from websockets.asyncio.client import connect

    arrivals: list[list[tuple[float, str]]] = [[] for _ in range(n)]
    initial: list[int | None] = [None] * n
    errors: list[str] = []
    connected = 0
    all_connected = asyncio.Event()
    last_seen = [-(10**9)] * n
    done = asyncio.Event()
    stop_at: list[int] = []

    async def viewer(i: int) -> None:
        nonlocal connected
        try:
            async with connect(url, origin=origin, proxy=None, max_size=None, open_timeout=60) as ws:
                got_frame = False
                async for raw in ws:
                    t = time.time()  # first thing: the arrival time; parsing comes after
                    if not got_frame:
                        msg = json.loads(raw)
                        if msg.get("type") == "frame":
                            got_frame = True
                            initial[i] = msg["frame"]["step"]
                            connected += 1
                            if connected == n:
                                all_connected.set()
                        continue
                    arrivals[i].append((t, raw if isinstance(raw, str) else raw.decode()))
                    if stop_at and '"type": "frame"' in arrivals[i][-1][1][:30]:
                        step = json.loads(arrivals[i][-1][1])["frame"]["step"]
                        last_seen[i] = max(last_seen[i], step)
                        if all(s >= stop_at[0] for s in last_seen):
                            done.set()
        except Exception as exc:
            errors.append(f"viewer {i}: {type(exc).__name__}: {exc}")
            all_connected.set()

    tasks = []
    for i in range(n):  # a few at a time: the server answers each connect with two DB reads
        tasks.append(asyncio.create_task(viewer(i)))
        await asyncio.sleep(0.01)
    await asyncio.wait_for(all_connected.wait(), 120)
    print(f"connected {connected} {len(errors)}", flush=True)
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)  # "stop <last step>"
    parts = line.split()
    last = int(parts[1]) if len(parts) > 1 else -1
    stop_at.append(last)
    for i in range(n):  # what already arrived before "stop"
        for _, raw in arrivals[i]:
            msg = json.loads(raw)
            if msg.get("type") == "frame":
                last_seen[i] = max(last_seen[i], msg["frame"]["step"])
    if not all(s >= last for s in last_seen):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 10)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    frames: list[list[tuple[int, float]]] = []
    other: list[list[Any]] = []
    for i in range(n):
        mine, rest = [], []
        for t, raw in arrivals[i]:
            msg = json.loads(raw)
            if msg.get("type") == "frame":
                mine.append((msg["frame"]["step"], t))
            else:
                rest.append(msg)
        frames.append(mine)
        other.append(rest)
    Path(out).write_text(json.dumps({"frames": frames, "initial": initial, "errors": errors, "other": other}))


# --- helpers -------------------------------------------------------------------------------


def _start_redis(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    from replay_rps import free_port

    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server not found: install it (apt-get install redis-server) or skip (a) with --no-redis")
    for _ in range(3):
        port = free_port()
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(tmp), "--logfile", str(tmp / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        import socket

        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"*1\r\n$4\r\nPING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return proc, f"redis://127.0.0.1:{port}/0"
            except OSError:
                time.sleep(0.05)
        from replay_rps import stop_process

        stop_process(proc)
    sys.exit(f"redis-server did not start; log:\n{(tmp / 'redis.log').read_text(errors='replace')[-2000:]}")


class Viewers:
    """The viewer process: `start()` returns once every viewer has its first frame."""

    def __init__(self, base_url: str, sim: str, n: int, tmp: Path) -> None:
        self.url = base_url.replace("http://", "ws://") + f"/ws/sim/{urllib.parse.quote(sim, safe='')}/"
        self.origin, self.n = base_url, n
        self.out = tmp / f"viewers-{sim}.json"
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--viewers-process", self.url, self.origin, str(self.n), str(self.out)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("connected"):
            raise RuntimeError(f"the viewers did not connect (exit status {self.process.poll()}): {line!r}")
        _, ok, failed = line.split()
        if int(ok) != self.n:
            raise RuntimeError(f"only {ok} of {self.n} viewers connected ({failed} failed)")

    def finish(self, last_step: int) -> dict[str, Any]:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(f"stop {last_step}\n")
        self.process.stdin.flush()
        self.process.wait(timeout=60)
        return json.loads(self.out.read_text())

    def stop(self) -> None:
        if self.process is not None:
            from replay_rps import stop_process

            stop_process(self.process)


def _fork(name: str) -> Any:
    from reverie import services
    from reverie.models import Simulation

    Simulation.objects.filter(name=name).delete()
    return services.fork(BASE, name)


def _latency_report(
    name: str,
    data: dict[str, Any],
    commits: dict[int, float],
    expected: list[int],
    extra: dict[int, float] | None = None,
) -> dict[str, Any]:
    """Per (step, viewer) latency; lost = expected steps a viewer never got."""
    from _common import percentile

    lat: list[float] = []
    lat_extra: list[float] = []
    lost = duplicates = 0
    per_step_last: dict[int, float] = {}
    per_step_first: dict[int, float] = {}
    expected_set = set(expected)
    for frames in data["frames"]:
        steps = [s for s, _ in frames]
        duplicates += len(steps) - len(set(steps))
        lost += len(expected_set - set(steps))
        for step, t in frames:
            if step in expected_set and step in commits:
                lat.append(t - commits[step])
                per_step_last[step] = max(per_step_last.get(step, 0.0), t - commits[step])
                per_step_first[step] = min(per_step_first.get(step, 1e9), t - commits[step])
                if extra and step in extra:
                    lat_extra.append(t - extra[step])
    row = {
        "steps": len(expected), "viewers": len(data["frames"]), "deliveries": len(lat), "lost": lost,
        "duplicates": duplicates, "viewer_errors": data["errors"],
        "p50_ms": percentile(lat, 50) * 1000, "p99_ms": percentile(lat, 99) * 1000,
        "max_ms": max(lat, default=0) * 1000,
        "last_viewer_p50_ms": percentile(list(per_step_last.values()), 50) * 1000,
        # step, commit time (s after the first timed commit), first and last viewer's latency (ms)
        "per_step": [[s, round(commits[s] - commits[min(per_step_last)], 4), round(per_step_first[s] * 1000, 2),
                      round(per_step_last[s] * 1000, 2)] for s in sorted(per_step_last)],
    }  # fmt: skip
    if extra is not None:
        row.update(lower_p50_ms=percentile(lat_extra, 50) * 1000, lower_p99_ms=percentile(lat_extra, 99) * 1000)
    print(f"  {name}: {row['steps']} steps x {row['viewers']} viewers = {row['deliveries']} frames timed; "
          f"commit->arrival p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, max {row['max_ms']:.1f} ms "
          f"(last viewer per step p50 {row['last_viewer_p50_ms']:.1f} ms); lost {lost}, duplicates {duplicates}",
          flush=True)  # fmt: skip
    if extra is not None:
        print(f"    lower bound (arrival - first seen by the poller): p50 {row['lower_p50_ms']:.1f} ms, "
              f"p99 {row['lower_p99_ms']:.1f} ms")  # fmt: skip
    for error in data["errors"][:5]:
        print(f"    viewer error: {error}")
    return row


# --- (a) redis: a publisher process of its own -----------------------------------------------


def run_redis(args: argparse.Namespace, db_url: str, redis_url: str, tmp: Path) -> dict[str, Any]:
    from django.db import transaction
    from replay_rps import Daphne

    from reverie import live, selectors
    from reverie.models import Movement

    sim = _fork("bench-ws-redis")
    frame = selectors.initial_frame(sim)
    agents = {name: dict(a) for name, a in frame["agents"].items()}
    rng = random.Random(0)
    server = Daphne(db_url, debug=True, extra_env={"REDIS_URL": redis_url})
    viewers = Viewers("", sim.name, args.viewers, tmp)
    commits: dict[int, float] = {}
    publish_ms: list[float] = []
    try:
        server.start()
        viewers = Viewers(server.url, sim.name, args.viewers, tmp)
        viewers.start()
        next_at = time.perf_counter()
        for _ in range(args.warmup_steps + args.steps):
            step = sim.step
            for a in agents.values():  # a plausible step: about half the agents move one tile
                if rng.random() < 0.5:
                    dx, dy = rng.choice([(1, 0), (-1, 0), (0, 1), (0, -1)])
                    a["x"], a["y"] = a["x"] + dx, a["y"] + dy
            with transaction.atomic():
                Movement.objects.bulk_create(
                    [Movement(simulation=sim, step=step, persona=name, x=a["x"], y=a["y"], emoji=a["emoji"],
                              description=a["action"] or "idle", chat=a["chat"]) for name, a in agents.items()]
                )  # fmt: skip
                sim.step = step + 1
                sim.current_time = sim.start_time + timedelta(seconds=sim.sec_per_step * (step + 1))
                sim.save(update_fields=["step", "current_time", "updated"])
            commits[step] = time.time()
            live.publish_step(sim, step)
            publish_ms.append((time.time() - commits[step]) * 1000)
            next_at += args.interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
        data = viewers.finish(sim.step - 1)
        parts = _publish_parts(sim, sim.step - 1)
    finally:
        viewers.stop()
        log = server.log_text()
        server.stop()
    from _common import median

    timed = sorted(commits)[args.warmup_steps :]
    row = _latency_report("(a) redis, publisher in another process", data, commits, timed)
    first = sorted(commits)[0]
    first_ms = [(t - commits[first]) * 1000 for frames in data["frames"] for s, t in frames if s == first]
    row.update(interval_s=args.interval, warmup_steps=args.warmup_steps,
               publish_call_p50_ms=median(publish_ms[args.warmup_steps :]), first_step_p50_ms=median(first_ms),
               publish_parts_ms=parts, server_tracebacks=log.count("Traceback"))  # fmt: skip
    print(f"    publish_step call p50 {row['publish_call_p50_ms']:.1f} ms: frame query {parts['frame_at']:.1f} ms, "
          f"stats query {parts['step_stats']:.1f} ms, group_send via async_to_sync {parts['group_send']:.1f} ms; "
          f"first (untimed) step p50 {row['first_step_p50_ms']:.0f} ms")  # fmt: skip
    if row["server_tracebacks"]:
        print(f"    the server logged tracebacks:\n{log[-3000:]}")
    return row


def _publish_parts(sim: Any, step: int, repeat: int = 20) -> dict[str, float]:
    """Median ms of what publish_step does, piece by piece (sends to a group nobody is in)."""
    from _common import median
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from reverie import selectors

    times: dict[str, list[float]] = {"frame_at": [], "step_stats": [], "group_send": []}
    layer = get_channel_layer()
    for _ in range(repeat):
        t0 = time.perf_counter()
        frame = selectors.frame_at(sim, step)
        t1 = time.perf_counter()
        stats = selectors.step_stats(sim, step)
        t2 = time.perf_counter()
        async_to_sync(layer.group_send)("bench-nobody", {"type": "sim.frame", "frame": frame, "stats": stats})
        t3 = time.perf_counter()
        times["frame_at"].append(t1 - t0)
        times["step_stats"].append(t2 - t1)
        times["group_send"].append(t3 - t2)
    return {key: median(values) * 1000 for key, values in times.items()}


# --- (b) in-memory: the server's own runner, started through the control endpoint ------------


class Session:
    """A signed-in browser-like session (cookies + CSRF) over urllib."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def login(self, username: str, password: str) -> None:
        self.opener.open(f"{self.base}/accounts/login/", timeout=30).read()
        body = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": self.csrf()})
        with self.opener.open(f"{self.base}/accounts/login/", body.encode(), timeout=30) as resp:
            resp.read()
        if not any(c.name == "sessionid" for c in self.jar):
            raise RuntimeError("sign-in failed: no session cookie after POST /accounts/login/")

    def control(self, sim: str, action: str) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.base}/simulator_home/{urllib.parse.quote(sim, safe='')}/control/",
            data=urllib.parse.urlencode({"action": action}).encode(),
            headers={"X-CSRFToken": self.csrf()}, method="POST",
        )  # fmt: skip
        with self.opener.open(request, timeout=60) as resp:
            return json.loads(resp.read())


def run_inmemory(args: argparse.Namespace, db_url: str, tmp: Path) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from replay_rps import Daphne, free_port, stop_process

    from reverie.models import Simulation

    sim = _fork("bench-ws-inmemory")
    user_model = get_user_model()
    user_model.objects.filter(username="bench").delete()
    password = "bench-" + str(random.random())
    user_model.objects.create_superuser("bench", "bench@example.invalid", password)
    fake_port = free_port()
    fake = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_openai_server.py"), "--port", str(fake_port), "--delay", "0"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    fake_url = f"http://127.0.0.1:{fake_port}/v1"
    server = Daphne(db_url, debug=True, extra_env={
        "LLM_MODEL": "openai:fake", "LLM_BASE_URL": fake_url, "LLM_API_KEY": "bench", "EMBEDDING_MODEL": "openai:fake",
        "EMBEDDING_BASE_URL": fake_url, "LLM_CACHE": "off", "SIM_RUNNER": "thread",
    })  # fmt: skip
    viewers = Viewers("", sim.name, args.viewers, tmp)
    seen: dict[int, tuple[float, float]] = {}  # committed step -> (first seen by the poller, updated)
    stop = threading.Event()

    def poll() -> None:
        from django.db import close_old_connections

        rows = Simulation.objects.filter(pk=sim.pk).values_list("step", "updated")
        try:
            while not stop.is_set():
                step, updated = rows.all()[0]
                now = time.time()
                if step > 0 and step - 1 not in seen:
                    seen[step - 1] = (now, updated.timestamp())
                time.sleep(args.poll_ms / 1000)
        finally:
            close_old_connections()

    poller = threading.Thread(target=poll, daemon=True)
    session: Session | None = None
    try:
        server.start()
        viewers = Viewers(server.url, sim.name, args.viewers, tmp)
        viewers.start()
        poller.start()
        session = Session(server.url)
        session.login("bench", password)
        started = time.time()
        answer = session.control(sim.name, "play")
        if answer.get("state") != "playing":
            raise RuntimeError(f"play was refused: {answer}")
        target = args.warmup_steps + args.steps
        deadline = time.monotonic() + args.timeout
        while True:
            sim.refresh_from_db(fields=["step", "run_state", "run_error"])
            if sim.step >= target:
                break
            if sim.run_error:
                raise RuntimeError(f"the run stopped with an error: {sim.run_error}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {sim.step} of {target} steps after {args.timeout:.0f} s")
            time.sleep(0.05)
        session.control(sim.name, "pause")
        for _ in range(200):  # the step in flight still commits
            sim.refresh_from_db(fields=["step", "runner"])
            if not sim.runner:
                break
            time.sleep(0.05)
        time.sleep(0.2)
        elapsed = time.time() - started
        data = viewers.finish(sim.step - 1)
    finally:
        stop.set()
        if session is not None and server.process is not None and server.process.poll() is None:
            with contextlib.suppress(Exception):
                session.control(sim.name, "pause")
        viewers.stop()
        log = server.log_text()
        server.stop()
        stop_process(fake)
    poller.join(timeout=5)
    committed = list(range(0, sim.step))
    measured = [s for s in committed if s >= args.warmup_steps]
    missing = [s for s in measured if s not in seen]
    updated = {s: u for s, (_, u) in seen.items()}
    observed = {s: o for s, (o, _) in seen.items()}
    name = "(b) in-memory layer, the server's runner thread (fake model, zero delay)"
    row = _latency_report(name, data, updated, measured, extra=observed)
    timed_seen = sorted(o for s, o in observed.items() if s >= args.warmup_steps)
    steps_per_s = (len(timed_seen) - 1) / (timed_seen[-1] - timed_seen[0]) if len(timed_seen) > 1 else float("nan")
    row.update(steps_per_s=steps_per_s, warmup_steps=args.warmup_steps, steps_without_timestamp=len(missing),
               server_tracebacks=log.count("Traceback"))  # fmt: skip
    print(f"    run speed {steps_per_s:.1f} steps/s over the timed steps ({len(committed)} steps in {elapsed:.0f} s, "
          f"the first {args.warmup_steps} not timed: planning the day); "
          f"{len(missing)} timed steps the poller missed")  # fmt: skip
    if row["server_tracebacks"]:
        print(f"    the server logged tracebacks:\n{log[-3000:]}")
    return row


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--viewers-process":
        url, origin, n, out = sys.argv[2:6]
        asyncio.run(_viewers_main(url, origin, int(n), out))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--steps", type=int, default=150, help="timed steps per setup (>= 100 for the figures)")
    parser.add_argument("--interval", type=float, default=0.1, help="(a): seconds between published steps")
    parser.add_argument("--warmup-steps", type=int, default=2, help="steps run before timing ((b): the day plan)")
    parser.add_argument("--poll-ms", type=float, default=2.0, help="(b): how often the Simulation row is read")
    parser.add_argument("--timeout", type=float, default=300.0, help="(b): give up after this many seconds")
    parser.add_argument("--setups", nargs="+", choices=["redis", "inmemory"], default=["redis", "inmemory"])
    parser.add_argument("--no-redis", action="store_true", help="skip (a)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 viewers, 20 steps")
    args = parser.parse_args()
    if args.quick:
        args.viewers, args.steps = 10, 20
    setups = [s for s in args.setups if not (args.no_redis and s == "redis")]
    if not setups:
        parser.error("nothing to run")
    from replay_rps import setup_django, stop_process

    results: dict[str, Any] = {}
    load_before = os.getloadavg()
    redis_proc: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="bench-ws-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            if "redis" in setups:
                redis_proc, redis_url = _start_redis(tmp)
                os.environ["REDIS_URL"] = redis_url  # this process publishes through channels_redis
            db_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
            setup_django(db_url)
            from _common import write_result

            print(f"{args.viewers} viewers, one daphne process, 25 agents (fork of {BASE}), SQLite in a temp dir")
            if "redis" in setups:
                results["redis"] = run_redis(args, db_url, os.environ["REDIS_URL"], tmp)
            if "inmemory" in setups:
                results["inmemory"] = run_inmemory(args, db_url, tmp)
        finally:
            if redis_proc is not None:
                stop_process(redis_proc)
    path = write_result("ws_fanout_quick" if args.quick else "ws_fanout", {
        "viewers": args.viewers, "steps": args.steps, "quick": args.quick,
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(), **results,
    })  # fmt: skip
    print(f"written {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
