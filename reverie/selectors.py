"""Reads over simulations for commands and pages: printable summaries, the JSON-ready
dicts the pages show, and the frames of a run (every agent's tile, emoji, action and
conversation after one step, built from the committed Movement rows, so what a page
shows is what the database holds). Nothing here writes; delivery is reverie.live.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from environment.llmlog.models import LLMCall
from reverie.engine.memory import MemoryNode
from reverie.engine.persona import Scratch, scratch_from_dict
from reverie.models import Movement, Persona, Simulation


def _persona(sim: Simulation, name: str) -> Persona:
    from reverie.services import PersonaNotFound

    row = sim.personas.filter(name=name).first()
    if row is None:
        names = ", ".join(sim.personas.values_list("name", flat=True))
        raise PersonaNotFound(f"no persona {name!r} in {sim.name!r}; personas: {names}")
    return row


def persona_schedule(sim: Simulation, persona: str) -> str:
    scratch = scratch_from_dict(_persona(sim, persona).scratch)
    if not scratch.hourly_schedule:
        return f"{persona} has not planned a day yet (run a step first)."
    day = (scratch.now or datetime(2000, 1, 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    lines = [f"{persona}'s schedule for {day:%A %B %d}:"]
    clock = day
    for index, item in enumerate(scratch.hourly_schedule):
        lines.append(f"  {clock:%H:%M}  {item.activity} ({item.minutes} min)")
        for sub in scratch.decomposed.get(index, []) if len(scratch.decomposed.get(index, [])) > 1 else []:
            lines.append(f"           - {sub.activity} ({sub.minutes} min)")
        clock += timedelta(minutes=item.minutes)
    if scratch.action:
        lines.append(f"Now: {scratch.action.description} @ {scratch.action.address} {scratch.action.emoji}")
    return "\n".join(lines)


def persona_memory(sim: Simulation, persona: str, limit: int = 50) -> str:
    row = _persona(sim, persona)
    nodes = [MemoryNode.from_dict(d) for d in row.memories.order_by("-node_id").values_list("data", flat=True)[:limit]]
    if not nodes:
        return f"{persona} has no memories yet."
    lines = [f"{persona}'s {len(nodes)} most recent memories (of {row.memories.count()}):"]
    for n in nodes:
        lines.append(f"  #{n.id} [{n.kind}] {n.created:%b %d %H:%M} poignancy {n.poignancy}: {n.description}")
    return "\n".join(lines)


# --- pages (JSON-ready dicts) ----------------------------------------------------------


def _schedule_rows(scratch: Scratch, when: datetime | None) -> list[dict[str, Any]]:
    """Today's hourly schedule with its subtasks, marking what covers `when`."""
    if not scratch.hourly_schedule:
        return []
    day = (when or scratch.now or datetime(2000, 1, 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows, clock = [], day
    for index, item in enumerate(scratch.hourly_schedule):
        end = clock + timedelta(minutes=item.minutes)
        subs, sub_clock = [], clock
        for sub in scratch.decomposed.get(index, []):
            sub_end = sub_clock + timedelta(minutes=sub.minutes)
            current = when is not None and sub_clock <= when < sub_end
            subs.append({"start": f"{sub_clock:%H:%M}", "minutes": sub.minutes, "activity": sub.activity,
                         "current": current})  # fmt: skip
            sub_clock = sub_end
        current = when is not None and clock <= when < end
        rows.append({"start": f"{clock:%H:%M}", "minutes": item.minutes, "activity": item.activity,
                     "current": current, "subtasks": subs if len(subs) > 1 else []})  # fmt: skip
        clock = end
    return rows


def _action(scratch: Scratch) -> dict[str, Any] | None:
    a = scratch.action
    if a is None:
        return None
    return {"description": a.description, "address": a.address, "emoji": a.emoji,
            "start": a.start.isoformat(), "minutes": a.minutes}  # fmt: skip


def _memory_row(data: dict[str, Any]) -> dict[str, Any]:
    return {"id": data["id"], "kind": data["kind"], "created": data["created"], "description": data["description"],
            "poignancy": data.get("poignancy"), "evidence": data.get("evidence", [])}  # fmt: skip


def persona_panel(sim: Simulation, name: str, *, memories: int = 12) -> dict[str, Any]:
    """The live page's side panel: what the persona does now, today's plan, recent memories."""
    row = _persona(sim, name)
    scratch = scratch_from_dict(row.scratch)
    recent = row.memories.order_by("-node_id").values_list("data", flat=True)[:memories]
    chat = [list(line) for line in scratch.chat.lines] if scratch.chat.partner and scratch.chat.lines else None
    return {
        "name": row.name,
        "action": _action(scratch),
        "schedule": _schedule_rows(scratch, scratch.now),
        "memories": [_memory_row(d) for d in recent],
        "chat": chat,
        "chat_partner": scratch.chat.partner,
    }


def persona_state(sim: Simulation, name: str, step: int) -> dict[str, Any]:
    """A persona as of a stored step: plans from the newest snapshot at or before it,
    and the memory stream as it stood then (nodes created up to that step)."""
    row = _persona(sim, name)
    snap = row.snapshots.filter(step__lte=step).order_by("-step").values_list("step", "scratch").first()
    if snap is not None:
        snap_step, scratch_data = snap
    else:
        snap_step, scratch_data = None, row.scratch if sim.step == 0 else {}
    scratch = scratch_from_dict(scratch_data)
    when = frame_time(sim, step)
    nodes = row.memories.filter(step__lte=step).order_by("-node_id").values_list("data", flat=True)
    return {
        "name": row.name,
        "identity": row.identity,
        "step": step,
        "time": when,
        "snapshot_step": snap_step,
        "daily_plan": scratch.daily_plan,
        "wake_up_hour": scratch.wake_up_hour,
        "action": _action(scratch),
        "chat": {"partner": scratch.chat.partner, "lines": [list(x) for x in scratch.chat.lines]},
        "schedule": _schedule_rows(scratch, when),
        "memories": [_memory_row(d) for d in nodes],
    }


def preset_of(sim: Simulation) -> str:
    """The agent-config preset a run thinks with ("" for a base, which has none: its
    forks get one). Runs stored before configs were kept ran with `compact`."""
    if sim.is_base:
        return ""
    stored = (sim.meta or {}).get("agent_config") or {}
    return str(stored.get("preset") or "compact")


def fork_presets() -> dict[str, Any]:
    """The fork form's preset choices; the default follows settings.LLM_MODEL."""
    from reverie.engine.config import PRESETS
    from reverie.services import default_preset

    return {"choices": list(PRESETS), "default": default_preset()}


def simulations_overview(user: Any = None) -> list[dict[str, Any]]:
    """Every simulation for the landing page: `user`'s own runs first (newest first), then
    the bases, then everybody else's runs (newest first). Anyone may watch any of them."""
    from reverie.compress import demo_path

    user_id = user.pk if user is not None and user.is_authenticated else None
    rows = []
    for sim in Simulation.objects.select_related("forked_from", "owner").prefetch_related("personas"):
        rows.append({
            "name": sim.name, "is_base": sim.is_base, "step": sim.step, "time": game_time(sim.current_time),
            "agents": [p.name for p in sim.personas.all()], "state": sim.run_state,
            "has_demo": demo_path(sim).is_file(), "forked_from": sim.forked_from.name if sim.forked_from else "",
            "mine": user_id is not None and sim.owner_id == user_id,
            "owner": sim.owner.get_username() if sim.owner is not None else "",
            "updated": sim.updated,
        })  # fmt: skip
    rows.sort(key=lambda r: r["updated"], reverse=True)
    rows.sort(key=lambda r: 0 if r["mine"] else 1 if r["is_base"] else 2)  # stable: newest first within each
    return rows


def newest_run_of(user: Any) -> Simulation | None:
    """The run `user` started most recently (None when signed out or with no runs)."""
    if user is None or not user.is_authenticated:
        return None
    return Simulation.objects.filter(owner=user, is_base=False).order_by("-updated").first()


def suggest_run_name(source: str) -> str:
    """A free name for a new run of `source`: the base's name without "base_", then -1, -2..."""
    from reverie.services import NAME_MAX_LENGTH

    stem = source.removeprefix("base_")[: NAME_MAX_LENGTH - 8] or "run"
    taken = set(Simulation.objects.filter(name__startswith=stem).values_list("name", flat=True))
    number = 1
    while f"{stem}-{number}" in taken:
        number += 1
    return f"{stem}-{number}"


def step_seconds(agents: int, *, model: str | None = None, recent: int = 5000) -> tuple[float, int] | None:
    """(median wall seconds per step, steps measured) of runs with `agents` agents on
    `model` (settings.LLM_MODEL), from the model-call traces of their recent steps: a
    step lasts from the start of its first call to the end of its last. None when no
    such step was traced."""
    from django.conf import settings

    model = model or settings.LLM_MODEL
    sized = Simulation.objects.filter(is_base=False).annotate(n=Count("personas")).filter(n=agents).values_list("pk")
    runs = [f"sim:{pk}" for (pk,) in sized]
    if not runs:
        return None
    calls = (
        LLMCall.objects.filter(run__in=runs, step__isnull=False, model__startswith=model)
        .order_by("-id")
        .values_list("run", "step", "created", "seconds")[:recent]
    )
    spans: dict[tuple[str, int], list[datetime]] = {}
    for run, step, created, seconds in calls:
        end = created + timedelta(seconds=seconds or 0)  # a trace is created as its call starts
        span = spans.setdefault((run, step), [created, end])
        span[0], span[1] = min(span[0], created), max(span[1], end)
    if not spans:
        return None
    lengths = sorted((end - start).total_seconds() for start, end in spans.values())
    return lengths[len(lengths) // 2], len(lengths)


# --- frames (replay, live page, websocket) ------------------------------------------


def game_time(value: datetime) -> datetime:
    """Stored times are aware UTC; pages show the game's naive wall-clock time."""
    return timezone.make_naive(value, timezone.get_default_timezone()) if timezone.is_aware(value) else value


def frame_time(sim: Simulation, step: int) -> datetime:
    return game_time(sim.start_time) + timedelta(seconds=sim.sec_per_step * step)


def frames(sim: Simulation, start: int, count: int) -> list[dict[str, Any]]:
    """Stored frames for steps start .. start+count-1 (fewer at the end of the run)."""
    rows = (
        Movement.objects.filter(simulation=sim, step__gte=start, step__lt=start + count)
        .order_by("step", "persona")
        .values_list("step", "persona", "x", "y", "emoji", "description", "chat")
    )
    out: list[dict[str, Any]] = []
    for step, persona, x, y, emoji, description, chat in rows:
        if not out or out[-1]["step"] != step:
            out.append({"step": step, "time": frame_time(sim, step).isoformat(), "agents": {}})
        out[-1]["agents"][persona] = {"x": x, "y": y, "emoji": emoji, "action": description, "chat": chat}
    return out


_chunks: OrderedDict[tuple[int, str, int, int], bytes] = OrderedDict()
_chunks_lock = threading.Lock()
CHUNK_CACHE_SIZE = 64  # ~25 MB at 100 frames of 25 agents


def frames_json(sim: Simulation, start: int, count: int) -> bytes:
    """The replay endpoint's body. A stored step never changes, so a chunk that lies
    wholly before the next step to run is encoded once and served from memory (keyed
    by creation time too: SQLite may reuse a deleted simulation's id)."""
    key = (sim.pk, sim.created.isoformat(), start, count)
    with _chunks_lock:
        body = _chunks.get(key)
        if body is not None:
            _chunks.move_to_end(key)
            return body
    data = {"sim": sim.name, "from": start, "last_step": sim.step - 1, "frames": frames(sim, start, count)}
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    if start + count <= sim.step:
        with _chunks_lock:
            _chunks[key] = body
            while len(_chunks) > CHUNK_CACHE_SIZE:
                _chunks.popitem(last=False)
    return body


def frame_at(sim: Simulation, step: int) -> dict[str, Any] | None:
    found = frames(sim, step, 1)
    return found[0] if found else None


def initial_frame(sim: Simulation) -> dict[str, Any]:
    """Before the first step: each persona on its starting tile (step -1)."""
    agents = {}
    for name, scratch in sim.personas.values_list("name", "scratch"):
        s = scratch_from_dict(scratch)
        x, y = s.tile if s.tile is not None else (0, 0)
        action = f"{s.action.description} @ {s.action.address}" if s.action else ""
        agents[name] = {"x": x, "y": y, "emoji": s.action.emoji if s.action else "", "action": action, "chat": None}
    return {"step": -1, "time": game_time(sim.current_time).isoformat(), "agents": agents}


def latest_frame(sim: Simulation) -> dict[str, Any]:
    return (frame_at(sim, sim.step - 1) if sim.step > 0 else None) or initial_frame(sim)


def step_stats(sim: Simulation, step: int) -> dict[str, int]:
    row = LLMCall.objects.filter(run=sim.run_label, step=step).aggregate(
        calls=Count("id"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens")
    )
    return {"calls": row["calls"] or 0, "tokens": (row["prompt"] or 0) + (row["completion"] or 0)}


def state_message(sim: Simulation) -> dict[str, Any]:
    return {
        "type": "state",
        "state": sim.run_state,
        "step": sim.step,
        "error": sim.run_error or None,
        # Set while the runner waits out a model-server outage; the page shows how long.
        "waiting_since": sim.waiting_since.isoformat() if sim.waiting_since else None,
        "waiting_reason": sim.waiting_reason or None,
    }
