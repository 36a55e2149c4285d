"""`/ws/sim/<sim>/`: every committed step of one simulation, pushed to its viewers.

Watching never changes a run: the consumer only joins the simulation's group, sends
the latest frame and the run state on connect, and forwards what the runner
publishes. A malformed client message gets an error frame and the connection stays.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from environment.consumers import CLOSE_NOT_FOUND, JsonMessageConsumer
from reverie import live
from reverie.models import Simulation


def _snapshot(name: str) -> tuple[int, dict[str, Any], dict[str, Any]] | None:
    sim = Simulation.objects.filter(name=name).first()
    if sim is None:
        return None
    if sim.run_state == "playing":
        from reverie.runner import ensure_runner

        ensure_runner(sim)  # a run left "playing" by a restarted server resumes
        sim.refresh_from_db()
    return sim.pk, live.latest_frame(sim), live.state_message(sim)


def _latest_since(pk: int, since: int) -> dict[str, Any] | None:
    sim = Simulation.objects.get(pk=pk)
    if sim.step - 1 <= since:
        return None
    return {"type": "frame", "frame": live.latest_frame(sim), "stats": live.step_stats(sim, sim.step - 1)}


class SimulationConsumer(JsonMessageConsumer):
    sim_pk: int | None = None
    group: str | None = None

    async def connect(self) -> None:
        live.remember_loop()
        name = self.scope["url_route"]["kwargs"]["sim"]
        found = await database_sync_to_async(_snapshot)(name)
        await self.accept()
        if found is None:
            await self.send_json({"type": "error", "error": f"no simulation named {name!r}"})
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.sim_pk, frame, state = found
        self.group = live.group_name(self.sim_pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json(state)
        await self.send_json({"type": "frame", "frame": frame, "stats": None})

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "sync" and isinstance(content.get("since"), int) and self.sim_pk is not None:
            frame = await database_sync_to_async(_latest_since)(self.sim_pk, content["since"])
            if frame is not None:
                await self.send_json(frame)
        else:
            await self.send_error('expected {"type": "ping"} or {"type": "sync", "since": <step>}')

    async def sim_frame(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "frame", "frame": event["frame"], "stats": event.get("stats")})

    async def sim_state(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "state", **{k: v for k, v in event.items() if k != "type"}})
