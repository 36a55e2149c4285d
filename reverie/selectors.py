"""Reads over simulations for commands and pages (printable summaries)."""

from __future__ import annotations

from datetime import datetime, timedelta

from reverie.engine.memory import MemoryNode
from reverie.engine.persona import scratch_from_dict
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
