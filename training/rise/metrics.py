"""The paper's RISE metrics, defined once (reproducers have mislabelled them).

For an evaluation run of K sequential turns (every turn is played, whatever its
reward), over P problems:

- acc@t    the share of problems whose turn-t answer is right.
- m1@tk    majority vote, NO oracle: the answers of turns 1..k vote (equivalent
           answers count as one, unreadable answers do not vote); right when the
           winning answer is right. Ties go to the answer given most recently, the
           model's latest revision. m1@t1 = acc@1.
- p1@tk    WITH an oracle: right when any turn 1..k was right. An oracle run would
           stop at the first right turn; the turns before it are exactly those of this
           run (the feedback after a wrong turn is the same message either way), so
           this equals the oracle run's accuracy.
- parallel mode (one turn, n samples): mn@t1 is the majority vote over the n samples
  and pn@t1 is right when any sample is; the paper's m5@t1 and p5@t1 are n = 5.

Also counted per turn t >= 2: "fixed" (wrong at t-1, right at t) and "broke" (right at
t-1, wrong at t): whether changing the answer was right to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from training.envs.base import RIGHT, UNREADABLE, Env


def vote_index(env: Env, answers: Sequence[str | None]) -> int | None:
    """Index of the answer that wins the vote (its most recent occurrence), or None
    when no answer could be read at all."""
    groups: list[list[int]] = []  # indices of equivalent answers, in order of first appearance
    for i, answer in enumerate(answers):
        if answer is None:
            continue
        for group in groups:
            first = answers[group[0]]
            if first is not None and env.equivalent(first, answer):
                group.append(i)
                break
        else:
            groups.append([i])
    if not groups:
        return None
    best = max(groups, key=lambda g: (len(g), g[-1]))
    return best[-1]


def vote(env: Env, answers: Sequence[str | None]) -> str | None:
    """The winning answer of `vote_index`."""
    i = vote_index(env, answers)
    return None if i is None else answers[i]


@dataclass
class RiseMetrics:
    problems: int
    turns: int
    samples_at_t1: int
    accuracy: list[float] = field(default_factory=list)  # acc@t, t = 1..K
    m1: list[float] = field(default_factory=list)  # m1@tk, k = 1..K
    p1: list[float] = field(default_factory=list)  # p1@tk, k = 1..K
    mn_t1: float | None = None  # parallel: majority over the turn-1 samples
    pn_t1: float | None = None  # parallel: any turn-1 sample right
    unreadable: list[int] = field(default_factory=list)  # per turn
    fixed: list[int] = field(default_factory=list)  # per turn (0 at turn 1)
    broke: list[int] = field(default_factory=list)

    def headline(self) -> dict[str, float]:
        """The paper's names and values, e.g. {"m1@t1": .., "m1@t5": .., "p1@t5": ..}."""
        out: dict[str, float] = {}
        if self.turns:
            out["m1@t1"] = self.m1[0]
            if self.turns > 1:
                out[f"m1@t{self.turns}"] = self.m1[-1]
                out[f"p1@t{self.turns}"] = self.p1[-1]
        if self.mn_t1 is not None and self.pn_t1 is not None:
            out[f"m{self.samples_at_t1}@t1"] = self.mn_t1
            out[f"p{self.samples_at_t1}@t1"] = self.pn_t1
        return out

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "headline": self.headline()}

    def table(self) -> str:
        """The per-turn table the eval command prints."""
        head = f"{'turn':>4}  {'acc@t':>6}  {'m1@t':>6}  {'p1@t':>6}  {'fixed':>5}  {'broke':>5}  {'no answer':>9}"
        lines = [head, "-" * len(head)]
        for t in range(self.turns):
            lines.append(
                f"{t + 1:>4}  {_pct(self.accuracy[t]):>6}  {_pct(self.m1[t]):>6}  {_pct(self.p1[t]):>6}  "
                f"{self.fixed[t]:>5}  {self.broke[t]:>5}  {self.unreadable[t]:>9}"
            )
        if self.mn_t1 is not None and self.pn_t1 is not None:
            n = self.samples_at_t1
            lines.append(f"parallel, {n} samples at turn 1: m{n}@t1 {_pct(self.mn_t1)}  p{n}@t1 {_pct(self.pn_t1)}")
        lines.append(f"{self.problems} problems")
        return "\n".join(lines)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def compute(env: Env, episodes: Sequence[Any]) -> RiseMetrics:
    """Metrics over finished evaluation episodes (training.rise.rollout.RiseEpisode, or
    anything with `rewards`, `answers` and `samples`). An episode shorter than the
    longest (an early stop) keeps its last answer for the turns it did not play."""
    played = [ep for ep in episodes if ep.rewards]
    turns = max((len(ep.rewards) for ep in played), default=0)
    samples_at_t1 = max((len(ep.samples[0]) for ep in played if getattr(ep, "samples", None)), default=1)
    metrics = RiseMetrics(problems=len(played), turns=turns, samples_at_t1=samples_at_t1)
    if not played:
        return metrics
    size = len(played)
    for k in range(turns):
        right = m1 = p1 = unreadable = fixed = broke = 0
        for ep in played:
            last = min(k, len(ep.rewards) - 1)
            rewards, answers = ep.rewards[: last + 1], ep.answers[: last + 1]
            right += rewards[-1] == RIGHT
            unreadable += k < len(ep.rewards) and rewards[-1] == UNREADABLE
            p1 += any(r == RIGHT for r in rewards)
            winner = vote_index(env, answers)
            m1 += winner is not None and rewards[winner] == RIGHT
            if 0 < k < len(ep.rewards):
                before, now = ep.rewards[k - 1] == RIGHT, ep.rewards[k] == RIGHT
                fixed += now and not before
                broke += before and not now
        metrics.accuracy.append(right / size)
        metrics.m1.append(m1 / size)
        metrics.p1.append(p1 / size)
        metrics.unreadable.append(unreadable)
        metrics.fixed.append(fixed)
        metrics.broke.append(broke)
    if samples_at_t1 > 1:
        mn = pn = 0
        for ep in played:
            first = ep.samples[0]
            answers = [s["answer"] for s in first]
            winner = vote_index(env, answers)
            mn += winner is not None and first[winner]["reward"] == RIGHT
            pn += any(s["reward"] == RIGHT for s in first)
        metrics.mn_t1, metrics.pn_t1 = mn / size, pn / size
    return metrics
