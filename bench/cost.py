"""Smallville cost and end-to-end time on a real model.

Forks the 3-agent base, loads its history, and runs `--hours` game hours (360 steps
each) on LLM_MODEL (default: the bundled model, in process), on a fresh SQLite
database in a temp folder. Reports the wall time of each game hour (the first one is
`run 360` of the issue) and model calls and tokens per agent per game hour, by purpose.
The original Generative Agents averaged ~21k tokens per agent per game hour.

    python bench/cost.py [--hours 2] [--model llama_cpp:bundled]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=2)
    parser.add_argument("--model", default=os.environ.get("LLM_MODEL", "llama_cpp:bundled"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'cost.sqlite3'}"
        os.environ["LLM_MODEL"] = args.model
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "environment.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from _common import write_result
        from tqdm import tqdm

        from environment.gateway import get_gateway, reset_gateway
        from reverie import services

        gw = get_gateway()
        try:
            sim = services.fork("base_the_ville_isabella_maria_klaus", "bench-cost")
            services.load_history(sim, "the_ville/agent_history_init_n3.csv", gateway=gw)
            hours: list[float] = []
            bar = tqdm(total=360 * args.hours, desc="steps", unit="step")
            for _ in range(args.hours):
                start = time.perf_counter()
                services.run_steps(sim, 360, gateway=gw, progress=lambda done, total: bar.update(1))
                hours.append(time.perf_counter() - start)
                sim.refresh_from_db()
            bar.close()
            rows = gw.accounting.rows(run=sim.run_label)
            by_purpose: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
            for (_, purpose), t in rows.items():
                by_purpose[purpose][0] += t.calls
                by_purpose[purpose][1] += t.prompt_tokens + t.completion_tokens
                by_purpose[purpose][2] += t.seconds
            agents, game_hours = 3, args.hours
            total_tokens = sum(v[1] for v in by_purpose.values())
            total_calls = sum(v[0] for v in by_purpose.values())
            print(f"model {args.model}; {game_hours} game hours, 3 agents; wall per game hour: "
                  f"{', '.join(f'{h / 60:.1f} min' for h in hours)}")  # fmt: skip
            print(f"{'purpose':24} {'calls/agent/h':>14} {'tokens/agent/h':>15} {'model s':>8}")
            for purpose, (calls, tokens, seconds) in sorted(by_purpose.items(), key=lambda kv: -kv[1][1]):
                per_hour = agents * game_hours
                print(f"{purpose:24} {calls / per_hour:14.1f} {tokens / per_hour:15.0f} {seconds:8.1f}")
            per_agent_hour = total_tokens / agents / game_hours
            print(f"{'TOTAL':24} {total_calls / agents / game_hours:14.1f} {per_agent_hour:15.0f}")
            print(f"tokens per agent per game hour: {per_agent_hour:.0f} (original ~21,000; target <= 5,000)")
            path = write_result("cost", {
                "model": args.model, "hours": game_hours, "wall_s_per_game_hour": hours,
                "tokens_per_agent_hour": per_agent_hour, "calls_per_agent_hour": total_calls / agents / game_hours,
                "by_purpose": {p: {"calls": v[0], "tokens": v[1], "seconds": v[2]} for p, v in by_purpose.items()},
            })  # fmt: skip
            print(f"written {path}")
        finally:
            # Free the model (and flush its traces) while the temporary database still exists;
            # left to interpreter shutdown, llama.cpp's cleanup prints a traceback.
            reset_gateway()


if __name__ == "__main__":
    main()
