"""{% whispers sim name as whispered %}: the whispers to an agent, for the persona state page."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def whispers(sim: Any, persona: str) -> dict[str, Any]:
    """{"rows": the whispers to `persona` (newest first, at most 200), "ids": the memory
    ids they became}."""
    from reverie.models import Whisper

    rows = list(Whisper.objects.filter(simulation=sim, persona=persona).order_by("-id")[:200])
    return {"rows": rows, "ids": {r.node_id for r in rows if r.status == "applied" and r.node_id is not None}}
