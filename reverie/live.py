"""Frames of a simulation and their delivery to the pages (docs/frontend_api.md).

A frame is every agent's tile, emoji, action and conversation after one step, built
from the committed Movement rows, so what a page shows is what the database holds.
After each committed step the runner publishes the frame to the simulation's group on
the channel layer; the websocket consumer forwards it to every viewer.

Sending from the runner's thread goes through `environment.publish.send`, which hands
the message to the web server's event loop when there is one.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from environment.llmlog.models import LLMCall
from environment.publish import send
from reverie.engine.persona import scratch_from_dict
from reverie.models import Movement, Simulation

log = logging.getLogger(__name__)


def group_name(sim_pk: int) -> str:
    return f"sim-{sim_pk}"


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


# --- delivery -------------------------------------------------------------------------


def publish_step(sim: Simulation, step: int) -> None:
    """Send the committed frame of `step` to every viewer; never breaks the run."""
    try:
        frame = frame_at(sim, step)
        if frame is not None:
            send(group_name(sim.pk), {"type": "sim.frame", "frame": frame, "stats": step_stats(sim, step)})
    except Exception:  # a viewer problem must not stop a simulation
        log.warning("could not publish step %s of %s", step, sim.name, exc_info=True)


def publish_state(sim: Simulation) -> None:
    try:
        send(group_name(sim.pk), {"type": "sim.state", **{k: v for k, v in state_message(sim).items() if k != "type"}})
    except Exception:
        log.warning("could not publish the state of %s", sim.name, exc_info=True)
