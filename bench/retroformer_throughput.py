"""Retroformer episodes per minute: every task's next step in one batched round, against
one task at a time, against an OpenAI-compatible fake server answering after 200 ms.

    .venv/bin/python bench/retroformer_throughput.py [--env hotpotqa] [--tasks 16] [--trials 4]
        [--delay 0.2] [--concurrency 64]

Both arms run the same engine (training.retroformer.trials.play_tasks) on the same
tasks with the same settings, separate actor and reflector gateways (as a run has) and
no response cache; the concurrent arm plays all tasks in one call (one actor batch and
one reflector batch per round), the sequential arm calls it once per task.

The fake server (bench/fake_openai_server.py) answers every plain request with one
short sentence, which holds no `Action:` line: every step is an invalid-format step,
every trial ends at the environment's step cap ("no valid action"), and the reflector
writes a reflection after each failed trial but the last. So each task costs exactly
trials x max_steps actor calls plus trials - 1 reflections: the benchmark measures the
loop's orchestration around a fixed amount of model latency, not a model. `--env toy`
uses the tests' toy game (6 steps) instead of HotPotQA's sample set (6 steps).
Prints seconds, episodes (task x trials) per minute, calls, and the speed-up; writes
bench/results/retroformer_throughput.json. Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from typing import Any

from _common import write_result
from fake_openai_server import serve_in_process

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from llm.factory import build_gateway
from llm.gateway import Gateway
from llm.servers import free_port
from training.envs.interactive import Task, TextEnv
from training.retroformer import RetroSettings, TaskEpisode, play_tasks


def load_env(name: str) -> TextEnv:
    if name == "toy":
        from tests.training.retroformer.toy_env import ToyEnv

        return ToyEnv(max_steps=6)
    from training.envs import get_text_env

    return get_text_env(name)


def gateway(base_url: str, concurrency: int) -> Gateway:
    return build_gateway(
        "openai:fake", base_url=base_url, embedding_model="openai:fake", cache_policy="off",
        concurrency=concurrency, timeout=30,
    )  # fmt: skip


def arm(
    env: TextEnv, tasks: list[Task], base_url: str, settings: RetroSettings, *, concurrency: int, together: bool
) -> dict[str, Any]:
    actor, reflector = gateway(base_url, concurrency), gateway(base_url, concurrency)
    # Warm both gateways first (HTTP connections, worker threads): a fresh gateway's
    # first concurrent batch takes about a second longer, which is not the loop's cost.
    for gw in (actor, reflector):
        gw.chat_batch_settled([[{"role": "user", "content": "warm up"}]] * len(tasks), purpose="bench.warmup")
    act0, reflect0 = actor.accounting.total().calls, reflector.accounting.total().calls
    start = time.perf_counter()
    episodes: list[TaskEpisode] = []
    if together:
        episodes = play_tasks(env, tasks, actor, reflector, settings=settings)
    else:
        for task in tasks:
            episodes += play_tasks(env, [task], actor, reflector, settings=settings)
    seconds = time.perf_counter() - start
    act = actor.accounting.total().calls - act0
    reflect = reflector.accounting.total().calls - reflect0
    actor.close()
    reflector.close()
    played = sum(len(e.trials) for e in episodes)
    reasons = Counter(t.reason for e in episodes for t in e.trials)
    return {
        "seconds": round(seconds, 2),
        "episodes": played,
        "episodes_per_minute": round(60 * played / seconds, 1),
        "actor_calls": act,
        "reflector_calls": reflect,
        "reasons": dict(reasons),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="hotpotqa", help="hotpotqa (default), webshop, alfworld or toy")
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.2, help="the fake server's seconds per call")
    parser.add_argument("--concurrency", type=int, default=64, help="the gateways' concurrency limit")
    args = parser.parse_args()

    env = load_env(args.env)
    tasks = env.load(None, limit=args.tasks)
    port = free_port()
    serve_in_process(port, args.delay)  # its own process, as a model server is; stopped at exit
    base_url = f"http://127.0.0.1:{port}/v1"
    settings = RetroSettings(trials=args.trials)
    expected = len(tasks) * (args.trials * env.max_steps + args.trials - 1)
    print(f"{args.env}: {len(tasks)} tasks x {args.trials} trials, {env.max_steps} steps each, "
          f"fake server at {args.delay * 1000:.0f} ms per call; {expected} calls per arm")  # fmt: skip
    rows: dict[str, dict[str, Any]] = {}
    for name, together in (("concurrent", True), ("sequential", False)):
        row = arm(env, tasks, base_url, settings, concurrency=args.concurrency, together=together)
        rows[name] = row
        print(f"  {name:<10} {row['seconds']:7.1f}s  {row['episodes_per_minute']:7.1f} episodes/min  "
              f"{row['actor_calls']} actor + {row['reflector_calls']} reflector calls  {row['reasons']}")  # fmt: skip
    speedup = rows["sequential"]["seconds"] / rows["concurrent"]["seconds"]
    # The floor: one call latency per round, (max_steps + 1) rounds per trial but the last.
    rounds = args.trials * env.max_steps + args.trials - 1
    print(f"  speed-up of the concurrent arm: {speedup:.1f}x; its floor is {rounds} rounds x {args.delay}s "
          f"= {rounds * args.delay:.1f}s")  # fmt: skip
    path = write_result(
        "retroformer_throughput",
        {"env": args.env, "tasks": len(tasks), "trials": args.trials, "delay": args.delay,
         "concurrency": args.concurrency, "arms": rows, "speedup": round(speedup, 2)},
    )  # fmt: skip
    print(f"  written to {path}")


if __name__ == "__main__":
    main()
