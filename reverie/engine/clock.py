"""Game-time helpers.

A simulation advances in steps of `sec_per_step` game seconds (10 in the original),
starting from a start datetime. Memory times (created, last_accessed, expiration) are
game times, never wall-clock times. Naive and timezone-aware datetimes both work, as
long as one simulation does not mix them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = [
    "SEC_PER_STEP",
    "format_game_time",
    "game_time_at",
    "hours_between",
    "step_at",
    "steps_per_hour",
]

SEC_PER_STEP = 10
_HOUR = 3600.0


def game_time_at(start: datetime, step: int, sec_per_step: int = SEC_PER_STEP) -> datetime:
    """The game time at the beginning of `step` (step 0 is `start`)."""
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    _check_sec_per_step(sec_per_step)
    return start + timedelta(seconds=step * sec_per_step)


def step_at(start: datetime, when: datetime, sec_per_step: int = SEC_PER_STEP) -> int:
    """The step during which game time `when` falls (floor), 0 for times before `start`."""
    _check_sec_per_step(sec_per_step)
    seconds = (when - start).total_seconds()
    return max(0, int(seconds // sec_per_step))


def steps_per_hour(sec_per_step: int = SEC_PER_STEP) -> int:
    """Steps in one game hour (360 at 10 s per step); rounds down for odd step sizes."""
    _check_sec_per_step(sec_per_step)
    return int(_HOUR // sec_per_step)


def hours_between(earlier: datetime, later: datetime) -> float:
    """Game hours from `earlier` to `later` (negative when `later` comes first)."""
    return (later - earlier).total_seconds() / _HOUR


def format_game_time(when: datetime) -> str:
    """The prompt-facing rendering, e.g. 'February 13, 2023, 14:05:00'."""
    return f"{when:%B} {when.day}, {when.year}, {when:%H:%M:%S}"


def _check_sec_per_step(sec_per_step: int) -> None:
    if sec_per_step <= 0:
        raise ValueError(f"sec_per_step must be positive, got {sec_per_step}")
