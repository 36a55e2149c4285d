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
            send(group_name(sim.pk), {"type": "sim.frame", "frame": frame, "stats": step_stats(sim, step)})
    except Exception:  # a viewer problem must not stop a simulation
        log.warning("could not publish step %s of %s", step, sim.name, exc_info=True)


def publish_state(sim: Simulation) -> None:
    try:
        send(group_name(sim.pk), {"type": "sim.state", **{k: v for k, v in state_message(sim).items() if k != "type"}})
    except Exception:
        log.warning("could not publish the state of %s", sim.name, exc_info=True)
