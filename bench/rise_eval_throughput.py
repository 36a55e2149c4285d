"""RISE evaluation throughput on the bundled model: every problem of a turn in one batch,
against one problem at a time, in one process (the model loads once).

    .venv/bin/python bench/rise_eval_throughput.py [--problems 16] [--turns 2] [--max-tokens 96]
        [--model transformers:bundled] [--also-llama-cpp]

Both arms run the same engine (training.rise.rollout) on the GSM8K sample set with the
same settings and no response cache; only the batch size differs (all problems vs 1).
On the transformers backend a batch is one padded `generate`; the llama.cpp backend
cannot batch, so `--also-llama-cpp` shows what the default in-process model does one
request at a time. Prints seconds, problems/s and completion tokens/s per arm, and the
speed-up. Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from llm.factory import build_gateway
from llm.gateway import Gateway
from training.envs import get_env
from training.rise.rollout import RiseEpisode, RolloutConfig, rollout


def arm(gw: Gateway, problems: list, config: RolloutConfig, batch: int) -> tuple[float, int, float]:
    env = get_env("gsm8k")
    episodes = [RiseEpisode.start(env, p) for p in problems]
    before = gw.accounting.total().completion_tokens
    start = time.perf_counter()
    for i in range(0, len(episodes), batch):
        rollout(episodes[i : i + batch], env=env, gateway_for=lambda _: gw, config=config)
    seconds = time.perf_counter() - start
    tokens = gw.accounting.total().completion_tokens - before
    right = sum(ep.rewards[-1] == 1 for ep in episodes)
    return seconds, tokens, right / len(episodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--turns", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--model", default="transformers:bundled")
    parser.add_argument("--also-llama-cpp", action="store_true")
    args = parser.parse_args()

    problems = get_env("gsm8k").load(None, limit=args.problems)
    config = RolloutConfig(
        mode="eval",
        max_turns=args.turns,
        models=(args.model,),
        num_of_samples=(1,) * args.turns,
        context_window=2,
        max_tokens=args.max_tokens,
    )
    t0 = time.perf_counter()
    gw = build_gateway(args.model, cache_policy="off", timeout=600)
    print(f"{args.model}: loaded in {time.perf_counter() - t0:.1f}s; {len(problems)} problems x {args.turns} turns, "
          f"<= {args.max_tokens} tokens per answer")  # fmt: skip
    rows = []
    for name, batch in (("batched", len(problems)), ("one at a time", 1)):
        seconds, tokens, acc = arm(gw, problems, config, batch)
        rows.append((name, seconds, tokens, acc))
        print(f"  {name:<14} {seconds:7.1f}s  {len(problems) / seconds:6.2f} problems/s  "
              f"{tokens / seconds:7.1f} tokens/s  accuracy at the last turn {acc:.0%}")  # fmt: skip
    gw.close()
    speedup = rows[1][1] / rows[0][1]
    print(f"  speed-up of the batched arm: {speedup:.1f}x (wall time, same problems and settings)")
    if args.also_llama_cpp:
        gw = build_gateway("llama_cpp:bundled", cache_policy="off", timeout=600)
        seconds, tokens, acc = arm(gw, problems, config, 1)
        print(f"  llama_cpp:bundled, one at a time (it cannot batch): {seconds:.1f}s  "
              f"{tokens / seconds:.1f} tokens/s  accuracy {acc:.0%}")  # fmt: skip
        gw.close()


if __name__ == "__main__":
    main()
