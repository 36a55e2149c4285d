"""Delivery of frames to the pages (docs/frontend_api.md).

After each committed step the runner publishes the frame to the simulation's group on
the channel layer; the websocket consumer forwards it to every viewer. The frames
themselves are reads over the committed Movement rows and live in reverie.selectors
(so a page and a viewer see what the database holds).

Sending from the runner's thread goes through `environment.publish.send`, which hands
the message to the web server's event loop when there is one.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q

from environment.llmlog.models import LLMCall
from environment.publish import send
from reverie.models import Simulation
from reverie.selectors import frame_at, state_message, step_stats

log = logging.getLogger(__name__)


def group_name(sim_pk: int) -> str:
    return f"sim-{sim_pk}"


def publish_step(sim: Simulation, step: int) -> None:
    """Send the committed frame of `step` to every viewer; never breaks the run."""
    try:
        frame = frame_at(sim, step)
        if frame is not None:
            send(
                group_name(sim.pk),
                {
                    "type": "sim.frame",
                    "frame": frame,
                    "stats": step_stats(sim, step),
                    "cached": cached_calls(sim, step),
                },
            )
    except Exception:  # a viewer problem must not stop a simulation
        log.warning("could not publish step %s of %s", step, sim.name, exc_info=True)


def publish_state(sim: Simulation) -> None:
    try:
        send(group_name(sim.pk), {"type": "sim.state", **{k: v for k, v in state_message(sim).items() if k != "type"}})
    except Exception:
        log.warning("could not publish the state of %s", sim.name, exc_info=True)


def cached_calls(sim: Simulation, step: int) -> int:
    """How many of a step's model calls the response cache answered (they cost no
    tokens, which the page says rather than showing "0 tokens")."""
    return LLMCall.objects.filter(run=sim.run_label, step=step).aggregate(n=Count("id", filter=Q(cached=True)))["n"]


# --- a step in flight: its model calls as they finish ----------------------------------

PROGRESS_TTL = 3600  # s: a runner that died mid-step leaves its last progress this long


def _progress_key(sim_pk: int) -> str:
    return f"sim-progress-{sim_pk}"


def publish_progress(sim_pk: int, progress: dict[str, Any]) -> None:
    """Tell the viewers how the step in flight goes ({"running", "step", "calls",
    "cached", "tokens", "purpose", "item", "since"}); kept in the cache so a page
    opened mid-step shows it at once. Never breaks the run."""
    try:
        cache.set(_progress_key(sim_pk), progress, PROGRESS_TTL)
    except Exception:
        log.warning("could not keep the progress of simulation %s", sim_pk, exc_info=True)
    try:
        send(group_name(sim_pk), {"type": "sim.progress", "progress": progress})
    except Exception:
        log.warning("could not publish the progress of simulation %s", sim_pk, exc_info=True)


def current_progress(sim: Simulation) -> dict[str, Any]:
    """The step in flight as last published, or {"running": False} when no runner
    holds the run."""
    from environment.runs import lease_alive

    if not lease_alive(sim):
        return {"running": False}
    try:
        found = cache.get(_progress_key(sim.pk))
    except Exception:
        found = None
    return found if isinstance(found, dict) else {"running": False}


def publish_whisper(sim: Simulation, whisper: dict[str, Any]) -> None:
    """A whisper was queued, planted or failed (reverie.whisper.as_message)."""
    try:
        send(group_name(sim.pk), {"type": "sim.whisper", "whisper": whisper})
    except Exception:
        log.warning("could not publish a whisper of %s", sim.name, exc_info=True)
