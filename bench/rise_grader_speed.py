#!/usr/bin/env python
"""RISE grader speed: answers graded per second by the GSM8K and MATH graders.

For each environment it builds N completions (10,000 by default) from the shipped
sample sets, cycling through the problems with a mix that looks like a RISE
generation log:

- 40% right, in varied formats (GSM8K: `#### 1,415`, `\\boxed{}`, "The answer is
  $16.50.", `2.50` for 2.5, fractions; MATH: the gold as written, decorated with
  `\\dfrac`/`\\left`/`$`/`x =`, decimal forms of fractions, and symbolic rewrites such
  as `\\sqrt{3}/2` or `\\sqrt{20}` that need sympy);
- 30% wrong (a shifted number, another problem's answer, a wrong radical);
- 20% unreadable (no answer, an unclosed or empty box, "#### N" echoed);
- 10% long garbage (5 to 100 KB of LaTeX-ish noise, some with a box in it).

Each completion is graded against its problem's gold field, once, in order, in one
process, cold: the MATH grader's symbolic worker is started inside the timed run and
its per-pair cache starts empty. Reports total seconds, answers per second, the
rewards, and for MATH how many comparisons went to the symbolic worker.

    python bench/rise_grader_speed.py
    python bench/rise_grader_speed.py --n 2000 --env math

Writes bench/results/rise_grader_speed.json.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from _common import write_result

from training.envs import get_env
from training.envs.base import Problem
from training.envs.math_env import _symbolic_equal, as_number
from training.envs.symbolic import judge

NOISE = ["\\frac{", "}", "{", "\\sqrt", "$$", "\\left(", "^{", "_", " ", "\\boxed{", "x", "7", ",", "\\\\", "####"]


def garbage(rng: random.Random) -> str:
    size = rng.choice([5_000, 20_000, 100_000])
    text = "".join(rng.choice(NOISE) for _ in range(size // 3))[:size]
    return text if rng.random() < 0.5 else text + " so \\boxed{" + text[:2_000] + "}"


def gsm8k_completion(problem: Problem, gold: str, kind: str, rng: random.Random, i: int) -> str:
    working = "Let me work it out step by step.\n" + "\n".join(problem.gold.split("\n")[:-1]) + "\n"
    if kind == "right":
        x = float(gold)
        forms = [
            f"#### {gold}",
            f"#### {x:,.2f}" if x != int(x) else f"#### {int(x):,}",
            f"The answer is ${gold}.",
            f"So the final answer is \\boxed{{{gold}}}.",
            f"Final answer: {gold} units",
            f"#### {gold}.00" if "." not in gold else f"#### {gold}0",
        ]
        return working + rng.choice(forms)
    if kind == "wrong":
        shifted = f"{float(gold) + 1 + i % 7:g}"
        return working + rng.choice([f"#### {shifted}", f"The answer is {shifted}."])
    if kind == "unreadable":
        return working + rng.choice(["I am not sure about the total.", "#### N", "\\boxed{the total}", ""])
    return garbage(rng)


# Symbolic rewrites of some sample answers: equal values that no string rule relates.
MATH_ALTERNATES = {
    "\\frac{\\sqrt{3}}{2}": ["\\sqrt{3}/2", "\\frac{1}{2}\\sqrt{3}", "\\sqrt{\\frac{3}{4}}"],
    "2\\sqrt{5}": ["\\sqrt{20}", "2 \\cdot 5^{1/2}"],
    "3\\sqrt{2}": ["\\sqrt{18}", "\\frac{6}{\\sqrt{2}}"],
    "9\\sqrt{3}": ["\\sqrt{243}", "3^{5/2}"],
    "\\sqrt{65}": ["65^{1/2}"],
    "25\\pi": ["\\pi \\cdot 25", "\\frac{100\\pi}{4}"],
    "15\\pi": ["5 \\cdot 3\\pi"],
    "\\frac{2\\pi}{3}": ["2\\pi/3", "\\frac{2}{3}\\pi"],
    "-8i": ["-8 i", "0 - 8i"],
    "[2,5)\\cup(5,\\infty)": ["[2, 5) \\cup (5, \\infty)", "(5,\\infty)\\cup[2,5)"],
    "(2,\\frac{\\pi}{3})": ["\\left(2, \\pi/3\\right)"],
}


def math_completion(problem: Problem, gold: str, kind: str, rng: random.Random, i: int) -> str:
    working = "We reason step by step. " + problem.gold.split("\\boxed")[0][-300:] + " "
    if kind == "right":
        decorated = "\\displaystyle " + gold.replace("\\frac", "\\dfrac").replace("(", "\\left(").replace(
            ")", "\\right)"
        )
        forms = [gold, decorated, f"x = {gold}"]
        number = as_number(gold)
        if number is not None and number.denominator in (2, 4, 5, 8, 10, 20, 25):
            forms.append(str(float(number)))
        forms += MATH_ALTERNATES.get(gold, [])
        return working + f"The answer is $\\boxed{{{rng.choice(forms)}}}$."
    if kind == "wrong":
        number = as_number(gold)
        if number is not None:
            wrong = str(number + 1 + i % 13)
        elif "\\sqrt" in gold:
            wrong = f"{2 + i % 11}\\sqrt{{{3 + i % 5}}} + 1"  # a wrong radical: decided by sympy
        else:
            wrong = rng.choice(["\\frac{7}{3}", "(1,1)", "\\pi", "[0,1]", f"{i % 50}"])
        return working + f"So the answer is \\boxed{{{wrong}}}."
    if kind == "unreadable":
        return working + rng.choice(["The answer is 5.", "Hence \\boxed{\\frac{1}{2}", "\\boxed{}", "I give up."])
    return garbage(rng)


def bench(name: str, n: int, make: Callable[[Problem, str, str, random.Random, int], str]) -> dict[str, Any]:
    env = get_env(name)
    problems = env.load(None)
    rng = random.Random(7)
    kinds = ["right"] * 4 + ["wrong"] * 3 + ["unreadable"] * 2 + ["garbage"]
    cases = []
    for i in range(n):
        p = problems[i % len(problems)]
        kind = rng.choice(kinds)
        cases.append((kind, make(p, env.gold_answer(p.gold), kind, rng, i), p.gold))
    chars = sum(len(c) for _, c, _ in cases)

    _symbolic_equal.cache_clear()
    j = judge()
    calls_before, timeouts_before = j.calls, j.timeouts
    symbolic_seconds = [0.0]
    equal = j.equal

    def timed_equal(a: str, b: str, *, timeout: float | None = None) -> bool | None:
        t = time.perf_counter()
        try:
            return equal(a, b, timeout=timeout)
        finally:
            symbolic_seconds[0] += time.perf_counter() - t

    j.equal = timed_equal  # type: ignore[method-assign]
    rewards: Counter[int] = Counter()
    graded: list[tuple[str, int]] = []
    slowest = 0.0
    start = time.perf_counter()
    for kind, completion, gold in cases:
        t = time.perf_counter()
        reward = env.grade(completion, gold).reward
        slowest = max(slowest, time.perf_counter() - t)
        rewards[reward] += 1
        graded.append((kind, reward))
    seconds = time.perf_counter() - start
    j.equal = equal  # type: ignore[method-assign]
    # The grader is only fast if it is also right: every made-up right, wrong or
    # unreadable answer must get its reward (garbage may read as a wrong number).
    expected = {"right": 1, "wrong": 0, "unreadable": -1}
    misgraded = sum(1 for kind, reward in graded if kind in expected and reward != expected[kind])
    result = {
        "env": name,
        "answers": n,
        "characters": chars,
        "seconds": round(seconds, 3),
        "answers_per_second": round(n / seconds),
        "slowest_answer_ms": round(slowest * 1000, 1),
        "right": rewards[1],
        "wrong": rewards[0],
        "unreadable": rewards[-1],
        "symbolic_calls": j.calls - calls_before,
        "symbolic_timeouts": j.timeouts - timeouts_before,
        "symbolic_seconds": round(symbolic_seconds[0], 3),  # worker start included
        "misgraded": misgraded,
    }
    print(
        f"{name:6} {n} answers ({chars / 1e6:.1f} M chars) in {seconds:.2f} s: {n / seconds:,.0f} answers/s; "
        f"slowest {slowest * 1000:.0f} ms; rewards 1/0/-1 = {rewards[1]}/{rewards[0]}/{rewards[-1]}"
        + (
            f"; {result['symbolic_calls']} sent to sympy ({symbolic_seconds[0]:.2f} s with the worker's start)"
            if name == "math"
            else ""
        )
        + f"; misgraded {misgraded}"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="answers per environment")
    parser.add_argument("--env", choices=["gsm8k", "math", "both"], default="both")
    args = parser.parse_args()
    makers = {"gsm8k": gsm8k_completion, "math": math_completion}
    names = ["gsm8k", "math"] if args.env == "both" else [args.env]
    results = [bench(name, args.n, makers[name]) for name in names]
    path = write_result("rise_grader_speed", {"results": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
