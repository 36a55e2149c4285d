"""What happened in a simulation, for the log and plots pages (reads only).

- :func:`conversations`: every conversation once, with where and when it was held;
- :func:`timeline`: each persona's day as spans of one action;
- :func:`calls_per_step`: model calls and tokens per step, summed by the database;
- :func:`diffusion`: how each seeded fact (meta "scenarios") spreads through the town.

Movement rows are streamed in step order, which the (simulation, step, persona) index
serves without sorting, so a 25-agent day (216k rows) needs no more memory than the
answer itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, Sum

from environment.llmlog.models import LLMCall
from reverie.models import MemoryNode, Movement, Simulation
from reverie.selectors import frame_time

_CHUNK = 5000


def place_of(address: str, world: str | None = None) -> str:
    """ "the Ville:Hobbs Cafe:cafe:counter" -> "Hobbs Cafe: cafe" (the arena), else the
    sector, else ""; `world`, when given, must be the address's first part."""
    parts = [p for p in address.split(":") if p]
    if len(parts) < 2 or (world is not None and parts[0] != world):
        return ""
    return f"{parts[1]}: {parts[2]}" if len(parts) >= 3 else parts[1]


def _address(description: str) -> str:
    """The address of an "activity @ address" description ("" when there is none)."""
    _, sep, address = description.rpartition(" @ ")
    return address.strip() if sep else ""


# --- conversations -------------------------------------------------------------------


@dataclass(frozen=True)
class Conversation:
    step: int  # the first step the lines were shown
    end_step: int  # the last step they were shown (the engine shows them for one step)
    time: datetime  # game time of `step`
    place: str  # "Hobbs Cafe: cafe"; "" when unknown
    participants: tuple[str, ...]  # speakers in speaking order, then silent holders
    lines: tuple[tuple[str, str], ...]  # (speaker, line)


def _lines(chat: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(speaker), str(line)) for speaker, line in chat)


class _Places:
    """Where a conversation was: the speakers' action address, else the tile's arena.

    While talking, the engine's action address is "<persona> Other Name", which is no
    place, so the tile (looked up in the town's maze) answers then.
    """

    def __init__(self, sim: Simulation) -> None:
        self.maze_name = sim.maze
        self._maze: Any = None

    def __call__(self, description: str, x: int, y: int) -> str:
        address = _address(description)
        if address and not address.startswith("<"):
            found = place_of(address)
            if found:
                return found
        if self._maze is None:
            from reverie.services import maze_for

            try:
                self._maze = maze_for(self.maze_name)
            except Exception:  # a town that cannot load: say "unknown" rather than fail the page
                self._maze = False
        if self._maze and self._maze.in_bounds(x, y):
            return place_of(self._maze.address_at(x, y))
        return ""


def conversations(sim: Simulation) -> list[Conversation]:
    """Each conversation once, in the order they started.

    Both participants' rows carry the same lines (and a demo may show them for several
    steps), so a conversation is a run of identical lines on consecutive steps; the
    same lines again after a pause are a new conversation.
    """
    where = _Places(sim)
    rows = (
        Movement.objects.filter(simulation=sim, chat__isnull=False)
        .order_by("step", "persona")
        .values_list("step", "persona", "x", "y", "description", "chat")
        .iterator(chunk_size=_CHUNK)
    )
    # Per open conversation (keyed by its lines): its index in `found` and the last step it showed.
    open_: dict[tuple[tuple[str, str], ...], tuple[int, int]] = {}
    found: list[dict[str, Any]] = []
    for step, persona, x, y, description, chat in rows:
        if not chat:
            continue
        lines = _lines(chat)
        seen = open_.get(lines)
        if seen is not None and seen[1] >= step - 1:
            index = seen[0]
            convo = found[index]
            convo["end_step"] = max(convo["end_step"], step)
            convo["holders"].setdefault(persona, (description, x, y))
            open_[lines] = (index, step)
            continue
        found.append({"step": step, "end_step": step, "lines": lines, "holders": {persona: (description, x, y)}})
        open_[lines] = (len(found) - 1, step)
    result = []
    for convo in found:
        lines, holders = convo["lines"], convo["holders"]
        speakers = list(dict.fromkeys(speaker for speaker, _ in lines))
        participants = tuple(speakers + [h for h in holders if h not in speakers])
        # The place as the first speaker who holds the lines saw it, else any holder.
        who = next((s for s in speakers if s in holders), next(iter(holders)))
        result.append(
            Conversation(
                step=convo["step"],
                end_step=convo["end_step"],
                time=frame_time(sim, convo["step"]),
                place=where(*holders[who]),
                participants=participants,
                lines=lines,
            )
        )
    return result


# --- timelines -----------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    start_step: int
    end_step: int  # inclusive: the last step of the same description
    start: datetime  # game time of start_step
    end: datetime  # game time the span ended: that of end_step + 1, so spans tile the day
    emoji: str  # as at start_step
    description: str

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


def timeline(sim: Simulation, persona: str | None = None) -> dict[str, list[Span]]:
    """Each persona's (or one persona's) contiguous spans of one action description."""
    rows = Movement.objects.filter(simulation=sim)
    if persona is not None:
        rows = rows.filter(persona=persona)
    # Per persona the span being built: [start_step, last_step, emoji, description].
    current: dict[str, list[Any]] = {}
    spans: dict[str, list[Span]] = {}

    def close(name: str, span: list[Any]) -> None:
        first, last, emoji, description = span
        spans.setdefault(name, []).append(
            Span(first, last, frame_time(sim, first), frame_time(sim, last + 1), emoji, description)
        )

    for step, name, emoji, description in (
        rows.order_by("step", "persona")
        .values_list("step", "persona", "emoji", "description")
        .iterator(chunk_size=_CHUNK)
    ):
        span = current.get(name)
        if span is not None and span[3] == description and span[1] == step - 1:
            span[1] = step
            continue
        if span is not None:
            close(name, span)
        current[name] = [step, step, emoji, description]
    for name, span in current.items():
        close(name, span)
    order = list(sim.personas.values_list("name", flat=True))
    ranked = {name: i for i, name in enumerate(order)}
    return {name: spans[name] for name in sorted(spans, key=lambda n: (ranked.get(n, len(ranked)), n))}


# --- model calls ---------------------------------------------------------------------


@dataclass(frozen=True)
class StepCost:
    step: int
    calls: int
    prompt_tokens: int
    completion_tokens: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def calls_per_step(sim: Simulation) -> list[StepCost]:
    """Model calls and tokens per step, summed in SQL over the simulation's traces.

    Calls outside a step (history whispers, interviews) have no step and are left out.
    """
    rows = (
        LLMCall.objects.filter(run=sim.run_label, step__isnull=False)
        .values("step")
        .annotate(n=Count("id"), p=Sum("prompt_tokens"), c=Sum("completion_tokens"))
        .order_by("step")
    )
    return [StepCost(r["step"], r["n"], r["p"] or 0, r["c"] or 0) for r in rows]


# --- diffusion of seeded facts -------------------------------------------------------


@dataclass(frozen=True)
class Diffusion:
    scenario: str  # the scenario's id ("party")
    description: str
    seeded_in: str  # the persona who knows from step 0
    keywords: tuple[str, ...]
    total: int  # personas in the simulation
    first_step: dict[str, int] = field(default_factory=dict)  # who knows, from which step
    points: list[tuple[int, int]] = field(default_factory=list)  # (step, personas aware), at each change

    @property
    def aware(self) -> int:
        return len(self.first_step)


def keyword_pattern(keywords: list[str] | tuple[str, ...]) -> re.Pattern[str] | None:
    """Whole words, any case: "party" matches "Party!" and "party's", not "partying";
    list the other forms ("parties") as keywords of their own."""
    words = [k.strip() for k in keywords if k and k.strip()]
    if not words:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


def diffusion(sim: Simulation) -> list[Diffusion]:
    """For each scenario of the simulation's meta: who knows it, from which step.

    A persona knows a scenario from the step of its first memory whose description
    mentions a keyword; the seed persona knows from step 0.
    """
    scenarios = [s for s in (sim.meta or {}).get("scenarios", []) if isinstance(s, dict) and s.get("id")]
    names = list(sim.personas.values_list("name", flat=True))
    if not scenarios:
        return []
    patterns = [keyword_pattern(list(s.get("keywords") or [])) for s in scenarios]
    firsts: list[dict[str, int]] = []
    for s in scenarios:
        seed = str(s.get("seeded_in") or "")
        firsts.append({seed: 0} if seed in names else {})
    # The database narrows to memories containing any keyword (substring, any case);
    # the regex then applies the word boundaries.
    words = {k for s in scenarios for k in (s.get("keywords") or []) if k and str(k).strip()}
    if words:
        query = Q()
        for word in words:
            query |= Q(description__icontains=str(word).strip())
        memories = (
            MemoryNode.objects.filter(query, persona__simulation=sim)
            .order_by("step", "node_id")
            .values_list("persona__name", "step", "description")
            .iterator(chunk_size=_CHUNK)
        )
        for name, step, description in memories:
            for pattern, first in zip(patterns, firsts, strict=True):
                if pattern is not None and name not in first and pattern.search(description):
                    first[name] = step
    result = []
    for s, first in zip(scenarios, firsts, strict=True):
        points: list[tuple[int, int]] = []
        aware = 0
        for step in sorted(set(first.values())):
            aware += sum(1 for v in first.values() if v == step)
            points.append((step, aware))
        result.append(
            Diffusion(
                scenario=str(s["id"]),
                description=" ".join(str(s.get("description") or "").split()),
                seeded_in=str(s.get("seeded_in") or ""),
                keywords=tuple(str(k) for k in (s.get("keywords") or [])),
                total=len(names),
                first_step=dict(sorted(first.items(), key=lambda kv: (kv[1], kv[0]))),
                points=points,
            )
        )
    return result
