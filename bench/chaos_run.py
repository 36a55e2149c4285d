"""Resilience benchmark: a Smallville run against a model server that misbehaves.

Runs `manage.py reverie` (a real subprocess, so a crash is a crash) on a base for N
steps against bench/chaos_server.py, once fault-free and once with `--fault-rate`
faults and an optional outage, each on a fresh SQLite database, and reports:

- steps completed and crashes (exit status not 0; target 0);
- steps lost: steps missing or stored incompletely (not one movement per agent; target 0);
- extra wall time against the fault-free run;
- retries and failed attempts per fault kind (from llm_stats), beside what the server
  says it injected; waits for the server and how long they lasted.

    python bench/chaos_run.py --base base_the_ville_n25 --steps 1000 --fault-rate 0.4
    python bench/chaos_run.py --steps 200 --outage-at-step 100 --outage-seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, write_result
from chaos_server import ChaosConfig, ChaosServer

from llm.servers import free_port


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def run_once(args: argparse.Namespace, fault_rate: float, folder: Path) -> dict[str, Any]:
    config = ChaosConfig(fault_rate=fault_rate, seed=args.seed, slow_seconds=args.timeout + 1.5, retry_after=0.5)
    server = ChaosServer(free_port(), config).start()
    db = folder / f"chaos-{fault_rate}.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "LLM_MODEL": "openai:chaos",
        "LLM_BASE_URL": server.base_url,
        "EMBEDDING_MODEL": "openai:chaos-embed",
        "LLM_TIMEOUT": str(args.timeout),
        "LLM_OUTAGE_SECONDS": str(args.outage_window),
        "PYTHONUNBUFFERED": "1",
    }
    done = threading.Event()
    try:
        assert manage("migrate", "-v", "0", env=env).returncode == 0
        if args.outage_at_step and fault_rate > 0:
            done = server.arm_outage_at_step(db, args.outage_at_step, args.outage_seconds)
        started = time.monotonic()
        proc = manage(
            "reverie", "--fork", args.base, "--name", "chaos", "--command", f"run {args.steps}", "--command", "fin",
            env=env,
        )  # fmt: skip
        wall = time.monotonic() - started
    finally:
        done.set()
        server.stop()
    stats = server.stats()
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT id, step FROM reverie_simulation WHERE name = 'chaos'").fetchone()
        sim_id, step = row if row else (None, 0)
        agents = conn.execute("SELECT COUNT(*) FROM reverie_persona WHERE simulation_id = ?", (sim_id,)).fetchone()[0]
        per_step = dict(
            conn.execute(
                "SELECT step, COUNT(*) FROM reverie_movement WHERE simulation_id = ? GROUP BY step", (sim_id,)
            ).fetchall()
        )
    whole = sum(1 for s in range(args.steps) if per_step.get(s) == agents)
    report = json.loads(manage("llm_stats", "--run", f"sim:{sim_id}", "--json", env=env).stdout or "[]")
    faults: Counter[str] = Counter()
    for r in report:
        faults.update(r["faults"])
    lines = (proc.stdout + proc.stderr).replace("\r", "\n").splitlines()
    return {
        "fault_rate": fault_rate,
        "exit_status": proc.returncode,
        "crashed": proc.returncode != 0,
        "error": next((line for line in reversed(lines) if line.startswith("error:")), ""),
        "steps_completed": step,
        "steps_lost": args.steps - whole,
        "wall_s": round(wall, 1),
        "calls": sum(r["calls"] for r in report),
        "retries": sum(r["retries"] for r in report),
        "errors": sum(r["errors"] for r in report),
        "repairs": sum(r["repairs"] for r in report),
        "fallbacks": sum(r["fallbacks"] for r in report),
        "faults_seen": dict(faults),
        "server": stats,
        "waits": [line.strip() for line in lines if line.startswith("resumed:")],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="base_the_ville_isabella_maria_klaus")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--fault-rate", type=float, default=0.4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=2.0, help="LLM_TIMEOUT; slow answers take 1.5 s longer")
    parser.add_argument("--outage-window", type=float, default=60.0, help="LLM_OUTAGE_SECONDS")
    parser.add_argument("--outage-at-step", type=int, default=0, help="refuse connections from this step on")
    parser.add_argument("--outage-seconds", type=float, default=10.0)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [] if args.skip_baseline else [run_once(args, 0.0, Path(tmp))]
        runs.append(run_once(args, args.fault_rate, Path(tmp)))
    for r in runs:
        print(
            f"fault rate {r['fault_rate']:.0%}: exit {r['exit_status']}, {r['steps_completed']}/{args.steps} steps, "
            f"{r['steps_lost']} lost, {r['wall_s']} s wall, {r['calls']} calls, {r['retries']} retries, "
            f"{r['errors']} failed calls, {r['repairs']} repairs, {r['fallbacks']} fallbacks"
        )
        if r["error"]:
            print(f"  {r['error']}")
        if r["fault_rate"]:
            print(f"  failed attempts by kind: {r['faults_seen']}")
            print(f"  server injected:        {r['server']['gateway_kinds']} + {r['server']['garbage_structured']} "
                  f"garbage structured, {r['server']['garbage_plain']} garbage plain")  # fmt: skip
            for wait in r["waits"]:
                print(f"  {wait}")
    if len(runs) == 2 and runs[0]["wall_s"]:
        extra = runs[1]["wall_s"] - runs[0]["wall_s"]
        print(f"extra wall time: {extra:+.1f} s ({runs[1]['wall_s'] / runs[0]['wall_s']:.2f}x the fault-free run)")
    write_result(f"chaos_run_{args.base}_{args.steps}", {"args": vars(args), "runs": runs})


if __name__ == "__main__":
    main()
