"""Tokens per second of the bundled model through the gateway: plain vs constrained.

Plain: greedy completions of story openings. Constrained: the same prompts asking for
a JSON object whose schema (an enum, an integer and a bounded list of short strings)
is compiled into a llama.cpp grammar, so every token is checked against it.
    python bench/tokens_per_second.py [--prompts 6] [--max-tokens 96]
"""

from __future__ import annotations

import argparse
import time
from typing import Annotated, Literal

from _common import write_result
from pydantic import BaseModel, Field
from tqdm import tqdm

from llm.factory import build_gateway
from llm.tracing import MemoryRecorder

OPENINGS = [
    "Isabella Rodriguez opened Hobbs Cafe at seven and",
    "Klaus Mueller spent the afternoon in the library writing",
    "Maria Lopez streamed her game to a small audience while",
    "The town of Smallville woke slowly; at the supply store",
    "Sam Moore decided to run for mayor, so he",
    "Every Tuesday the artists of the co-living space",
    "The pharmacy on the corner of the market had",
    "At the college dorm, the students argued about",
]


class DayPlan(BaseModel):
    mood: Literal["calm", "busy", "tired", "cheerful", "anxious"]
    wake_up_hour: int = Field(ge=4, le=11)
    # Bounded strings: the grammar then stops a small model from rambling inside one.
    activities: list[Annotated[str, Field(min_length=3, max_length=24)]] = Field(min_length=3, max_length=4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()
    gw = build_gateway("llama_cpp:bundled", recorder=MemoryRecorder(), cache_policy="off")
    try:
        prompts = OPENINGS[: args.prompts]
        gw.complete("warm up", purpose="bench.warmup", max_tokens=4)

        plain_tokens, plain_seconds = 0, 0.0
        for p in tqdm(prompts, desc="plain", unit="prompt"):
            out = gw.complete(p, purpose="bench.plain", max_tokens=args.max_tokens)
            plain_tokens += out.completion_tokens
            plain_seconds += out.seconds

        json_tokens, json_seconds, valid = 0, 0.0, 0
        for p in tqdm(prompts, desc="constrained", unit="prompt"):
            prompt = f"{p}\n\nTheir day as JSON with mood, wake_up_hour and activities:\n"
            start = time.perf_counter()
            result = gw.structured(
                DayPlan,
                prompt=prompt,
                purpose="bench.constrained",
                fallback=DayPlan(mood="calm", wake_up_hour=7, activities=["rest", "eat", "sleep"]),
                max_tokens=args.max_tokens,
                max_repairs=0,
            )
            json_seconds += time.perf_counter() - start
            json_tokens += result.completion_tokens
            valid += int(result.ok)

        plain_rate = plain_tokens / plain_seconds
        json_rate = json_tokens / json_seconds
        print(f"plain:       {plain_tokens} tokens in {plain_seconds:.2f}s = {plain_rate:.1f} tokens/s")
        print(
            f"constrained: {json_tokens} tokens in {json_seconds:.2f}s = {json_rate:.1f} tokens/s "
            f"({valid}/{len(prompts)} valid on the first try)"
        )
        print(f"constrained / plain = {json_rate / plain_rate:.2f}")
        path = write_result(
            "tokens_per_second",
            {
                "plain": {"tokens": plain_tokens, "seconds": plain_seconds, "tokens_per_s": plain_rate},
                "constrained": {
                    "tokens": json_tokens,
                    "seconds": json_seconds,
                    "tokens_per_s": json_rate,
                    "valid_first_try": valid,
                    "prompts": len(prompts),
                },
            },
        )
        print(f"written {path}")

    finally:
        gw.close()  # free the model now, not during interpreter shutdown (a traceback)


if __name__ == "__main__":
    main()
