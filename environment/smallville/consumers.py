"""`/ws/sim/<sim>/`: every committed step of one simulation, pushed to its viewers.

Watching never changes a run: the consumer only joins the simulation's group, sends
the latest frame and the run state on connect, and forwards what the runner
publishes. A malformed client message gets an error frame and the connection stays.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from environment.consumers import JsonMessageConsumer
from reverie import live, selectors
from reverie.models import Simulation


def _snapshot(name: str) -> tuple[int, dict[str, Any], dict[str, Any]] | None:
    sim = Simulation.objects.filter(name=name).first()
    if sim is None:
        return None
    if sim.run_state == "playing":
        from reverie.runner import ensure_runner

        ensure_runner(sim)  # a run left "playing" by a restarted server resumes
        sim.refresh_from_db()
    return sim.pk, selectors.latest_frame(sim), selectors.state_message(sim)


def _latest_since(pk: int, since: int) -> dict[str, Any] | None:
    sim = Simulation.objects.get(pk=pk)
    if sim.step - 1 <= since:
        return None
    return {"type": "frame", "frame": selectors.latest_frame(sim), "stats": selectors.step_stats(sim, sim.step - 1)}


class SimulationConsumer(JsonMessageConsumer):
    expected = '{"type": "ping"} or {"type": "sync", "since": <step>}'
    sim_pk: int | None = None

    async def connect(self) -> None:
        name = self.scope["url_route"]["kwargs"]["sim"]
        found = await database_sync_to_async(_snapshot)(name)
        await self.accept()
        if found is None:
            await self.close_not_found(f"no simulation named {name!r}")
            return
        self.sim_pk, frame, state = found
        await self.join_group(live.group_name(self.sim_pk))
        await self.send_json(state)
        await self.send_json({"type": "frame", "frame": frame, "stats": None})

    async def receive_command(self, kind: str, content: dict[str, Any]) -> bool:
        if kind != "sync" or not isinstance(content.get("since"), int) or self.sim_pk is None:
            return False
        frame = await database_sync_to_async(_latest_since)(self.sim_pk, content["since"])
        if frame is not None:
            await self.send_json(frame)
        return True

    async def sim_frame(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "frame", "frame": event["frame"], "stats": event.get("stats")})

    async def sim_state(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "state", **{k: v for k, v in event.items() if k != "type"}})
