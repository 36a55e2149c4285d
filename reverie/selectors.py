"""Reads over simulations for commands and pages (printable summaries)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reverie.engine.memory import MemoryNode
from reverie.engine.persona import Scratch, scratch_from_dict
from reverie.models import Persona, Simulation


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
    from reverie.live import frame_time

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


def simulations_overview() -> list[dict[str, Any]]:
    """Every simulation for the landing page: bases first, then runs, newest first."""
    from reverie.compress import demo_path
    from reverie.live import game_time

    rows = []
    for sim in Simulation.objects.prefetch_related("personas").order_by("-is_base", "-updated"):
        rows.append({
            "name": sim.name, "is_base": sim.is_base, "step": sim.step, "time": game_time(sim.current_time),
            "agents": [p.name for p in sim.personas.all()], "state": sim.run_state,
            "has_demo": demo_path(sim).is_file(), "forked_from": sim.forked_from.name if sim.forked_from else "",
        })  # fmt: skip
    return rows
