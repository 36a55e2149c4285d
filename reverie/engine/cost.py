"""What a run costs in model calls and tokens, per agent-config preset.

The figures come from `bench/cost.py` (docs/benchmarks.md, "Smallville cost"), response
cache off, prompt plus completion tokens (repair attempts included), embeddings left
out: `compact` on the bundled model (3-agent base), `paper` with the rule-following
scripted model on the 25-agent base (the bundled model under `paper` sleeps through
the day), chats priced by running full-length ones. A run is priced from three parts
per agent:

    day     the once-a-day planning (identity revision, wake-up hour, daily plan,
            schedule), at the first step and at each game midnight
    awake   everything else per game hour awake (07:00-23:00): decompositions,
            places, emoji, perception, reactions, conversations, reflection
    night   per game hour asleep (23:00-07:00): sleep is one action, so almost nothing

`estimate_run` adds them up for `steps` steps from a game time. On a strong model the
prompts are the same but completions are longer (free text is capped by the preset's
`max_tokens`), and a 25-agent town has more encounters per agent than three agents
have: read the estimate as the order of magnitude, and `llm_stats` for the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["AWAKE", "COSTS", "Estimate", "PresetCost", "estimate_run", "human"]

AWAKE = (7, 23)  # game hours [start, end) counted at the awake rate


@dataclass(frozen=True, slots=True)
class PresetCost:
    """Per agent: once-a-day planning, per awake game hour, per game hour asleep."""

    day_calls: float
    day_tokens: float
    awake_calls: float
    awake_tokens: float
    night_calls: float
    night_tokens: float

    def per_day(self) -> tuple[float, float]:
        """(calls, tokens) per agent per game day."""
        awake = AWAKE[1] - AWAKE[0]
        night = 24 - awake
        return (
            self.day_calls + awake * self.awake_calls + night * self.night_calls,
            self.day_tokens + awake * self.awake_tokens + night * self.night_tokens,
        )


# From bench/cost.py (docs/benchmarks.md, "Smallville cost": the commands and tables).
# day: a later day's planning (identity revision with recalled memories, wake-up, daily
# plan, schedule; the run's first day costs less). awake: the measured hour of actions,
# perception and reactions, plus 3.44 chats per agent per game day (the fewest that
# take the paper's town from 0.167 to 0.74 relationship density in two days) at the
# preset's longest chat (compact 8 lines, 7.9k tokens; paper 16 lines with the
# relationship re-summed before each line, 28k tokens); paper also counts 4 actions an
# hour (a strong model's 5-15 minute subtasks) where the rule model made 0.6.
COSTS: dict[str, PresetCost] = {
    "compact": PresetCost(
        day_calls=4, day_tokens=3_550, awake_calls=11.6, awake_tokens=2_900, night_calls=1.0, night_tokens=100
    ),
    "paper": PresetCost(
        day_calls=4, day_tokens=3_200, awake_calls=20.7, awake_tokens=8_500, night_calls=1.3, night_tokens=285
    ),
}


@dataclass(frozen=True, slots=True)
class Estimate:
    calls: float
    tokens: float
    game_hours: float
    day_starts: int

    def line(self, *, agents: int, preset: str, scale: float | None = None) -> str:
        """One line for the command line, before a long run."""
        source = (
            f"scaled by this run's own traces (x{scale:.2f})"
            if scale is not None
            else "from the preset's measured rates (bench/cost.py)"
        )
        return (
            f"estimate: {self.game_hours:,.1f} game hours x {agents} agents ({preset} preset): about "
            f"{human(self.calls)} model calls and {human(self.tokens)} tokens, {source}"
        )


def human(value: float) -> str:
    """A count as people read it: 1,234 / 56k / 7.8M."""
    if value >= 1e6:
        return f"{value / 1e6:,.1f}M"
    if value >= 1e4:
        return f"{value / 1e3:,.0f}k"
    return f"{value:,.0f}"


def estimate_run(
    preset: str, *, agents: int, start: datetime, steps: int, sec_per_step: int, planned: bool = True
) -> Estimate:
    """Calls and tokens for `steps` steps of `agents` agents from game time `start`.

    `planned` False (a run that has not taken its first step) adds a day's planning
    at the start; every game midnight crossed adds one. An unknown preset is priced
    as `paper` (the dearer one).
    """
    cost = COSTS.get(preset, COSTS["paper"])
    end = start + timedelta(seconds=steps * sec_per_step)
    calls = tokens = 0.0
    day_starts = 0 if planned else 1
    at = start
    while at < end:
        # Walk hour by hour (a partial first and last hour count pro rata).
        next_hour = at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        until = min(end, next_hour)
        hours = (until - at).total_seconds() / 3600
        awake = AWAKE[0] <= at.hour < AWAKE[1]
        calls += hours * (cost.awake_calls if awake else cost.night_calls)
        tokens += hours * (cost.awake_tokens if awake else cost.night_tokens)
        if until == next_hour and until.hour == 0 and until < end:
            day_starts += 1  # the first step after midnight plans the new day
        at = until
    calls += day_starts * cost.day_calls
    tokens += day_starts * cost.day_tokens
    return Estimate(calls=calls * agents, tokens=tokens * agents, game_hours=steps * sec_per_step / 3600,
                    day_starts=day_starts)  # fmt: skip
