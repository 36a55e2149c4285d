"""Who came to the party (the paper's coordination result, section 7.2).

Inputs are plain data read from the run: for each persona, the steps it spent at the
party's place (its movement's tile lies in the place's sector), and the game
time of its first memory that mentions the party. Algorithm:

- the window is [starts, ends) in game time; a persona attended when it was at the
  place on at least one step inside the window (minutes present are reported too);
- a persona was invited when it had a memory mentioning the party created before the
  party began (the paper: "had heard of it before it began"); the host (the persona the
  fact was seeded in) is reported apart, neither invited nor a guest;
- the result splits attendees into invited and not invited.

The paper: 12 agents invited, 5 of them attended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Window:
    place: str  # a sector ("Hobbs Cafe")
    starts: datetime
    ends: datetime

    def steps(self, start_time: datetime, sec_per_step: int) -> range:
        """The steps whose game time falls in [starts, ends)."""
        first = _ceil_div((self.starts - start_time).total_seconds(), sec_per_step)
        last = _ceil_div((self.ends - start_time).total_seconds(), sec_per_step)
        return range(max(first, 0), max(last, 0))


def _ceil_div(seconds: float, step: int) -> int:
    return int(-(-seconds // step))


def window_of(scenario: Mapping[str, Any]) -> Window | None:
    """The scenario's machine-readable window (place, starts, ends), or None."""
    try:
        return Window(
            str(scenario["place"]),
            datetime.fromisoformat(str(scenario["starts"])),
            datetime.fromisoformat(str(scenario["ends"])),
        )
    except (KeyError, ValueError):
        return None


def sector_of(description: str) -> str:
    """The sector of an "activity @ world:sector:arena:object" description ("" if none)."""
    _, sep, address = description.rpartition(" @ ")
    parts = [p for p in address.strip().split(":") if p] if sep else []
    if len(parts) < 2 or address.strip().startswith("<"):
        return ""
    return parts[1]


@dataclass(frozen=True)
class Attendance:
    host: str
    invited: list[str]  # heard before the party began (host excluded)
    attended: dict[str, int]  # persona -> minutes at the place during the window (host excluded)
    first_heard: dict[str, str] = field(default_factory=dict)  # persona -> ISO time of the first mention
    host_minutes: int = 0

    @property
    def invited_attended(self) -> list[str]:
        return [n for n in self.invited if n in self.attended]

    @property
    def uninvited_attended(self) -> list[str]:
        return sorted(n for n in self.attended if n not in self.invited)

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host, "invited": self.invited, "attended": self.attended,
            "first_heard": self.first_heard, "host_minutes": self.host_minutes,
            "invited_attended": self.invited_attended, "uninvited_attended": self.uninvited_attended,
        }  # fmt: skip


def attendance(
    names: Sequence[str],
    *,
    host: str,
    steps_at_place: Mapping[str, int],
    sec_per_step: int,
    first_heard: Mapping[str, datetime],
    starts: datetime,
) -> Attendance:
    """Split the people at the place into invited and not (see the module docstring)."""
    invited = [n for n in names if n != host and n in first_heard and first_heard[n] < starts]
    minutes = {n: round(s * sec_per_step / 60) for n, s in steps_at_place.items() if s > 0}
    return Attendance(
        host=host,
        invited=invited,
        attended={n: max(m, 1) for n, m in sorted(minutes.items()) if n != host},
        first_heard={n: t.isoformat() for n, t in sorted(first_heard.items(), key=lambda kv: kv[1])},
        host_minutes=minutes.get(host, 0),
    )


def window_reached(window: Window, now: datetime) -> bool:
    return now >= window.ends - timedelta(seconds=1)
