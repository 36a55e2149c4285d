"""The demo page of a game day of 25 agents: compressed size and time to a drawn town.

Uses the simulation `bench-demo-day` (25 agents x 8,640 steps, one game day) made by
bench/make_demo_day.py, which writes its compressed form too (reverie.compress); it is
run first when the simulation or its file is missing (or with --remake). Reports:

1. the compressed form: raw JSON bytes, gzip bytes (the file served), bytes per
   agent-step, and for scale the same steps as the replay endpoint's frames JSON;
2. `GET /api/sim/<sim>/demo/` from a plain loopback client: bytes on the wire and
   time to first byte (median of --ttfb-runs);
3. headless chromium (Playwright, Debian's /usr/bin/chromium) opening
   `/demo/<sim>/0/3/`: time from navigation start to `document.body.dataset.ready ===
   "1"` (town.js sets it after the first rendered frame once the map, the sprites
   and the decoded demo data are in), over --runs fresh browser contexts (cold HTTP
   cache each), after one untimed warm-up load (the server's first requests import
   and cache). Target: p50 < 2 s. Phases per run, from the page's own clocks
   (Resource Timing, a MutationObserver on body[data-step]/[data-ready], a wrapped
   Response.json and the Long Tasks API): HTML, scripts, map + tileset, sprites, the
   demo fetch, its decode, the first frame and the render.

Served by one daphne process on a free loopback port, on the database the data is in
(DATABASE_URL, default storage/db.sqlite3). --debug true (the default) is what `make
run` serves: WhiteNoise finds static files through the finders and re-checks them;
--debug false collects them first and serves STATIC_ROOT, as in production.

    python bench/demo_load.py [--runs 5] [--debug true|false] [--remake] [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import socket
import sys
import time
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
TARGET_S = 2.0

# Runs in the page before its own scripts: times the milestones the page itself marks.
INSTRUMENT = """
(() => {
  const marks = window.__bench = { step: null, ready: null, json: [], longtasks: [] };
  const watch = () => {
    const b = document.body;
    if (!b) return false;
    const check = () => {
      if (marks.step === null && b.dataset.step !== undefined) marks.step = performance.now();
      if (marks.ready === null && b.dataset.ready === "1") marks.ready = performance.now();
    };
    new MutationObserver(check).observe(b, { attributes: true, attributeFilter: ["data-step", "data-ready"] });
    check();
    return true;
  };
  if (!watch()) document.addEventListener("DOMContentLoaded", watch);
  const json = Response.prototype.json;
  Response.prototype.json = async function () {
    const start = performance.now();
    const value = await json.call(this);
    marks.json.push({ url: this.url, start, end: performance.now() });
    return value;
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) marks.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) {}
})();
"""

COLLECT = """
() => {
  const nav = performance.getEntriesByType("navigation")[0] || {};
  const res = performance.getEntriesByType("resource").map((r) => ({
    name: r.name, start: r.startTime, ttfb: r.responseStart, end: r.responseEnd,
    transfer: r.transferSize, body: r.encodedBodySize, decoded: r.decodedBodySize,
  }));
  const err = document.getElementById("town-error");
  return {
    nav: { ttfb: nav.responseStart, html_end: nav.responseEnd, dcl: nav.domContentLoadedEventEnd,
           load: nav.loadEventEnd },
    res, marks: window.__bench, error: err && !err.hidden ? err.textContent : null,
    renderer: window.smallville && window.smallville.town && window.smallville.town.game
      ? (window.smallville.town.game.config.renderType === 2 ? "WebGL" : "Canvas") : null,
  };
}
"""


def compressed_sizes(sim: Any) -> dict[str, Any]:
    from reverie import selectors
    from reverie.compress import demo_path, load

    path = demo_path(sim)
    packed = path.read_bytes()
    raw = gzip.decompress(packed)
    data = load(sim)
    agents, steps = len(data["personas"]), int(data["steps"])
    entries = {key: sum(len(t[key]) for t in data["tracks"].values()) for key in ("pos", "act", "chat")}
    # For scale: the same steps as the replay endpoint's frames (one JSON object per frame), and gzipped.
    frames_bytes = 0
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    frames_gz = 0
    for start in range(0, steps, 500):
        for frame in selectors.frames(sim, data["first_step"] + start, 500):
            text = json.dumps(frame, ensure_ascii=False).encode() + b","
            frames_bytes += len(text)
            frames_gz += len(packer.compress(text))
    frames_gz += len(packer.flush())
    agent_steps = agents * steps
    return {
        "agents": agents, "steps": steps, "agent_steps": agent_steps, "raw_bytes": len(raw), "gz_bytes": len(packed),
        "raw_bytes_per_agent_step": len(raw) / agent_steps, "gz_bytes_per_agent_step": len(packed) / agent_steps,
        "entries": entries, "frames_json_bytes": frames_bytes,
        "frames_gz_bytes": frames_gz,
    }  # fmt: skip


def endpoint_timing(base: str, path: str, runs: int) -> dict[str, Any]:
    """Raw socket GET (Connection: close): bytes on the wire, time to first byte, total."""
    from _common import median

    host, port = base.split("//", 1)[1].split(":")
    ttfb, total, wire, body, status = [], [], 0, 0, ""
    for _ in range(runs):
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
            )
            t0 = time.perf_counter()
            sock.sendall(request.encode())
            first = sock.recv(65536)
            t1 = time.perf_counter()
            chunks = [first]
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            t2 = time.perf_counter()
        data = b"".join(chunks)
        head, _, payload = data.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode()
        ttfb.append(t1 - t0)
        total.append(t2 - t0)
        wire, body = len(data), len(payload)
    return {"status": status, "wire_bytes": wire, "body_bytes": body, "ttfb_ms": median(ttfb) * 1000,
            "total_ms": median(total) * 1000, "runs": runs}  # fmt: skip


def phases(m: dict[str, Any], demo_url: str) -> dict[str, float | None]:
    """Milestones in ms from navigation start."""

    def last_end(pred: Any) -> float | None:
        ends = [r["end"] for r in m["res"] if pred(r["name"])]
        return max(ends) if ends else None

    demo = [r for r in m["res"] if r["name"].endswith(demo_url)]
    decode = [j for j in m["marks"]["json"] if j["url"].endswith(demo_url)]
    ready = m["marks"]["ready"]
    long_before_ready = sum(d for s, d in m["marks"]["longtasks"] if ready is not None and s < ready)
    return {
        "html_ttfb": m["nav"]["ttfb"], "html_end": m["nav"]["html_end"],
        "scripts_end": last_end(lambda n: n.endswith(".js")),
        "dom_content_loaded": m["nav"]["dcl"],
        "demo_fetch_start": demo[0]["start"] if demo else None,
        "demo_ttfb": demo[0]["ttfb"] if demo else None,
        "demo_fetch_end": demo[0]["end"] if demo else None,
        "demo_decode_ms": (decode[0]["end"] - decode[0]["start"]) if decode else None,
        "demo_decoded": decode[0]["end"] if decode else None,
        "map_end": last_end(lambda n: "/towns/" in n),
        "sprites_start": min((r["start"] for r in m["res"] if "/sprites/" in r["name"]), default=None),
        "sprites_end": last_end(lambda n: "/sprites/" in n),
        "first_frame": m["marks"]["step"],
        "ready": ready,
        "long_tasks_ms": long_before_ready,
    }  # fmt: skip


GROUPS = (  # resource groups of the page, by URL
    ("phaser", "/vendor/phaser/"), ("page js+css", "/static/js/"), ("page js+css", "/static/css/"),
    ("map+tileset", "/static/towns/"), ("sprite sheets", "sheet.png"), ("portraits", "portrait.png"),
    ("demo data", "/api/sim/"),
)  # fmt: skip


def resource_groups(m: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per group: requests, bytes (decoded), first start, last end, and the longest wait for a first byte."""
    out: dict[str, dict[str, float]] = {}
    for r in m["res"]:
        group = next((g for g, key in GROUPS if key in r["name"]), "other")
        g = out.setdefault(group, {"n": 0, "bytes": 0, "start": r["start"], "end": r["end"], "max_wait": 0.0})
        g["n"] += 1
        g["bytes"] += r["decoded"] or 0
        g["start"], g["end"] = min(g["start"], r["start"]), max(g["end"], r["end"])
        g["max_wait"] = max(g["max_wait"], (r["ttfb"] or r["start"]) - r["start"])
    return out


def browser_runs(base: str, page_path: str, demo_url: str, runs: int, timeout_s: float) -> dict[str, Any]:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    results: list[dict[str, Any]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            for i in range(runs + 1):  # run 0: warm-up, not counted
                context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
                page = context.new_page()
                errors: list[str] = []
                page.on("console", lambda msg, e=errors: e.append(msg.text) if msg.type == "error" else None)
                page.on("pageerror", lambda exc, e=errors: e.append(f"uncaught: {exc}"))
                page.on("requestfailed", lambda req, e=errors: e.append(f"request failed: {req.url} {req.failure}"))
                page.add_init_script(INSTRUMENT)
                ok = True
                try:
                    page.goto(page_path, wait_until="commit")
                    page.wait_for_function("() => document.body && document.body.dataset.ready === '1'",
                                           timeout=timeout_s * 1000)  # fmt: skip
                except PlaywrightError as exc:
                    ok = False
                    errors.append(f"not ready after {timeout_s:.0f} s: {str(exc).splitlines()[0]}")
                metrics = page.evaluate(COLLECT)
                context.close()
                run = {"ok": ok and not metrics["error"], "error_box": metrics["error"], "errors": errors,
                       "renderer": metrics["renderer"], "phases": phases(metrics, demo_url),
                       "resources": len(metrics["res"]), "groups": resource_groups(metrics),
                       "long_tasks": sorted(metrics["marks"]["longtasks"], key=lambda x: -x[1])[:5],
                       "transfer_bytes": sum(r["transfer"] or 0 for r in metrics["res"])}  # fmt: skip
                run["ready_s"] = (run["phases"]["ready"] or float("nan")) / 1000
                label = "warm-up" if i == 0 else f"run {i}"
                p = run["phases"]
                shown = ("html_end", "scripts_end", "demo_fetch_end", "demo_decoded", "sprites_end", "first_frame")
                print(f"  {label:8} ready {run['ready_s']:.2f} s" + ("" if run["ok"] else "  (FAILED)")
                      + "".join(f"  {k} {p[k]:.0f}" for k in shown if p[k] is not None), flush=True)  # fmt: skip
                results.append(run)
        finally:
            browser.close()
    return {"warmup": results[0], "runs": results[1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sim", default="bench-demo-day")
    parser.add_argument("--runs", type=int, default=5, help="timed page loads (fresh browser context each)")
    parser.add_argument("--ttfb-runs", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the page to say ready")
    parser.add_argument(
        "--debug", choices=["true", "false"], default="true", help="the server's DEBUG (make run: true)"
    )
    parser.add_argument("--database-url", help="default: DATABASE_URL or the project's storage/db.sqlite3")
    parser.add_argument("--remake", action="store_true", help="run bench/make_demo_day.py even if the data is there")
    parser.add_argument("--wait", type=float, default=600, help="seconds to wait for bench/make_demo_day.py to appear")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 page loads, 3 endpoint requests")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.ttfb_runs = 2, 3
    from replay_rps import Daphne, database_url, ensure_demo_day, setup_django

    db_url = database_url(args.database_url)
    setup_django(db_url)
    from _common import median, write_result

    from reverie.models import Simulation

    if args.sim == "bench-demo-day":
        ensure_demo_day(db_url, wait_s=args.wait, remake=args.remake)
    sim = Simulation.objects.filter(name=args.sim).first()
    if sim is None:
        sys.exit(f"no simulation {args.sim!r} in {db_url}")
    load_before = os.getloadavg()
    sizes = compressed_sizes(sim)
    print(f"{sim.name}: {sizes['agents']} agents x {sizes['steps']:,} steps = {sizes['agent_steps']:,} agent-steps")
    print(
        f"  compressed form: {sizes['raw_bytes']:,} B JSON, {sizes['gz_bytes']:,} B gzip = "
        f"{sizes['gz_bytes_per_agent_step']:.3f} B per agent-step gzip ({sizes['raw_bytes_per_agent_step']:.3f} raw); "
        f"entries pos {sizes['entries']['pos']:,}, act {sizes['entries']['act']:,}, chat {sizes['entries']['chat']:,}"
    )
    print(f"  the same steps as replay frames JSON: {sizes['frames_json_bytes']:,} B "
          f"({sizes['frames_json_bytes'] / sizes['raw_bytes']:.0f}x the compressed form's JSON), "
          f"{sizes['frames_gz_bytes']:,} B gzipped", flush=True)  # fmt: skip

    quoted = sim.name  # bench names need no quoting
    demo_url = f"/api/sim/{quoted}/demo/"
    page_path = f"/demo/{quoted}/0/3/"
    server = Daphne(db_url, debug=args.debug == "true")
    try:
        server.start()
        endpoint = endpoint_timing(server.url, demo_url, args.ttfb_runs)
        print(f"  GET {demo_url}: {endpoint['status']}, {endpoint['wire_bytes']:,} B on the wire "
              f"({endpoint['body_bytes']:,} B body), TTFB p50 {endpoint['ttfb_ms']:.1f} ms, "
              f"complete {endpoint['total_ms']:.1f} ms", flush=True)  # fmt: skip
        page = endpoint_timing(server.url, page_path, args.ttfb_runs)
        print(f"  GET {page_path}: {page['status']}, {page['body_bytes']:,} B, TTFB p50 {page['ttfb_ms']:.1f} ms")
        print(f"headless chromium, {args.runs} loads of {page_path} (fresh context each), DEBUG={args.debug}; "
              f"milestones in ms from navigation start:", flush=True)  # fmt: skip
        browser = browser_runs(server.url, page_path, demo_url, args.runs, args.timeout)
    finally:
        log = server.log_text()
        server.stop()
    runs = browser["runs"]
    good = [r for r in runs if r["ok"]]
    ready = [r["ready_s"] for r in good]
    summary: dict[str, Any] = {"runs": len(runs), "ok": len(good)}
    if good:
        summary.update(p50_s=median(ready), min_s=min(ready), max_s=max(ready), renderer=good[0]["renderer"],
                       transfer_bytes=good[0]["transfer_bytes"], resources=good[0]["resources"])  # fmt: skip
        summary["phases_p50_ms"] = {
            key: median([r["phases"][key] for r in good if r["phases"][key] is not None])
            for key in good[0]["phases"] if any(r["phases"][key] is not None for r in good)
        }  # fmt: skip
        verdict = "meets" if summary["p50_s"] < TARGET_S else "MISSES"
        print(f"ready: p50 {summary['p50_s']:.2f} s, min {summary['min_s']:.2f} s, max {summary['max_s']:.2f} s "
              f"({verdict} the < {TARGET_S:.0f} s target); renderer {summary['renderer']}, "
              f"{summary['resources']} requests, {summary['transfer_bytes']:,} B transferred")  # fmt: skip
        ph = summary["phases_p50_ms"]
        print("  phases (p50, ms from navigation start): " + ", ".join(f"{k} {v:.0f}" for k, v in ph.items()))
        mid = sorted(good, key=lambda r: r["ready_s"])[len(good) // 2]
        print(f"  the median load ({mid['ready_s']:.2f} s), by resource group: requests, KiB, "
              f"first start -> last end ms, longest wait for a first byte:")  # fmt: skip
        for name, g in sorted(mid["groups"].items(), key=lambda kv: kv[1]["start"]):
            print(f"    {name:14} {g['n']:3.0f}  {g['bytes'] / 1024:8.1f} KiB  {g['start']:6.0f} -> {g['end']:6.0f}  "
                  f"wait {g['max_wait']:5.0f}")  # fmt: skip
        print("    longest main-thread tasks (start, ms): "
              + ", ".join(f"{s:.0f}+{d:.0f}" for s, d in mid["long_tasks"]))  # fmt: skip
    if len(good) < len(runs):
        print(f"the page did not report ready (or showed an error) in {len(runs) - len(good)} of {len(runs)} loads:")
        for r in runs:
            if not r["ok"]:
                print(f"  error box: {r['error_box']!r}")
                for e in r["errors"][:10]:
                    print(f"  console: {e}")
                break
    elif any(r["errors"] for r in runs):
        print("console errors: " + "; ".join(sorted({e for r in runs for e in r["errors"]}))[:2000])
    tracebacks = log.count("Traceback")
    if tracebacks:
        print(f"the server logged {tracebacks} traceback(s):\n{log[-3000:]}")
    name = ("demo_load" if args.debug == "true" else "demo_load_nodebug") + ("_quick" if args.quick else "")
    path = write_result(name, {
        "sim": sim.name, "server": "daphne, 1 process", "debug": args.debug == "true", "quick": args.quick,
        "compressed": sizes, "demo_endpoint": endpoint, "page_endpoint": page, "ready": summary,
        "target_s": TARGET_S, "browser": browser, "server_tracebacks": tracebacks,
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
    })  # fmt: skip
    print(f"written {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
