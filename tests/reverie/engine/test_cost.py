"""The cost estimate before a run (reverie.engine.cost): day planning, awake and night hours."""

from __future__ import annotations

from datetime import datetime

import pytest

from reverie.engine.cost import COSTS, estimate_run

MORNING = datetime(2023, 2, 13, 7, 0)


@pytest.mark.parametrize("preset", ["compact", "paper"])
def test_the_papers_two_days_plan_three_days_and_price_48_hours(preset: str) -> None:
    cost = COSTS[preset]
    two_days = estimate_run(preset, agents=25, start=MORNING, steps=17_280, sec_per_step=10, planned=False)
    # 07:00 Monday to 07:00 Wednesday: the first step and two midnights plan a day each;
    # 2 x 16 awake hours (07:00-23:00) and 2 x 8 hours asleep.
    assert two_days.day_starts == 3 and two_days.game_hours == 48
    tokens = 25 * (3 * cost.day_tokens + 32 * cost.awake_tokens + 16 * cost.night_tokens)
    calls = 25 * (3 * cost.day_calls + 32 * cost.awake_calls + 16 * cost.night_calls)
    assert two_days.tokens == pytest.approx(tokens) and two_days.calls == pytest.approx(calls)


def test_a_night_costs_less_than_a_day_and_a_planned_run_plans_no_extra_day() -> None:
    night = estimate_run("paper", agents=1, start=datetime(2023, 2, 13, 0, 0), steps=360, sec_per_step=10)
    day = estimate_run("paper", agents=1, start=datetime(2023, 2, 13, 12, 0), steps=360, sec_per_step=10)
    assert night.day_starts == day.day_starts == 0
    assert night.tokens < day.tokens
    first = estimate_run("paper", agents=1, start=MORNING, steps=360, sec_per_step=10, planned=False)
    assert first.tokens == pytest.approx(day.tokens + COSTS["paper"].day_tokens)
    # A partial hour is priced pro rata; ending exactly at midnight plans no new day.
    half = estimate_run("paper", agents=1, start=datetime(2023, 2, 13, 12, 0), steps=180, sec_per_step=10)
    assert half.tokens == pytest.approx(day.tokens / 2)
    evening = estimate_run("paper", agents=1, start=datetime(2023, 2, 13, 23, 0), steps=360, sec_per_step=10)
    assert evening.day_starts == 0
    past_midnight = estimate_run("paper", agents=1, start=datetime(2023, 2, 13, 23, 0), steps=361, sec_per_step=10)
    assert past_midnight.day_starts == 1


def test_the_paper_preset_costs_more_than_compact_and_stays_under_6k_per_agent_hour() -> None:
    assert COSTS["paper"].per_day()[1] > COSTS["compact"].per_day()[1]
    assert COSTS["paper"].per_day()[1] / 24 <= 6_000  # issue 11's target, on the measured rates
