"""`/ws/sim/<sim>/`: every committed step of one simulation, pushed to its viewers.

Watching never changes a run: the consumer joins the simulation's group, sends the run
state, the latest frame (with its step's calls and tokens) and the step in flight on
connect, and forwards what the runner publishes (frames, state, a step's progress as
its model calls finish, whispers planted). A malformed client message gets an error
frame and the connection stays.

Talking to the town: a signed-in user with the run permission (the same as play and
pause) may send {"type": "interview", "persona", "question", "history"?, "id"?} (the
agent answers from its memories; nothing changes) or {"type": "whisper", "persona",
"text", "id"?} (queued, and planted as a memory between steps: reverie.whisper). Both
are answered on this socket ("interview" / "whisper", or "talk_error" with the id); one
at a time per connection, in a worker thread, so frames keep flowing meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import close_old_connections

from environment.consumers import JsonMessageConsumer
from reverie import live, selectors
from reverie.models import Simulation

log = logging.getLogger(__name__)

TALK = ("interview", "whisper")


def _snapshot(name: str) -> tuple[int, dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]] | None:
    sim = Simulation.objects.filter(name=name).first()
    if sim is None:
        return None
    if sim.run_state == "playing":
        from reverie.runner import ensure_runner

        ensure_runner(sim)  # a run left "playing" by a restarted server resumes
        sim.refresh_from_db()
    last = sim.step - 1
    frame = {
        "type": "frame",
        "frame": selectors.latest_frame(sim),
        # The readout of the last committed step survives a reload.
        "stats": selectors.step_stats(sim, last) if last >= 0 else None,
        "cached": live.cached_calls(sim, last) if last >= 0 else 0,
    }
    progress = {"type": "progress", **live.current_progress(sim)}
    return sim.pk, selectors.state_message(sim), frame, progress, {"is_base": sim.is_base}


def _may_talk(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm("reverie.run_simulation"))


def _latest_since(pk: int, since: int) -> dict[str, Any] | None:
    sim = Simulation.objects.get(pk=pk)
    if sim.step - 1 <= since:
        return None
    last = sim.step - 1
    return {
        "type": "frame",
        "frame": selectors.latest_frame(sim),
        "stats": selectors.step_stats(sim, last),
        "cached": live.cached_calls(sim, last),
    }


def _talk(pk: int, kind: str, content: dict[str, Any], author: str) -> dict[str, Any]:
    """Answer one interview or whisper (in a worker thread: it waits for the model)."""
    from reverie import whisper
    from reverie.services import SimulationError

    close_old_connections()
    try:
        sim = Simulation.objects.get(pk=pk)
        if kind == "interview":
            answer = whisper.interview(sim, content.get("persona"), content.get("question"),
                                       history=content.get("history") or ())  # fmt: skip
            return {"type": "interview", "persona": content.get("persona"),
                    "question": str(content.get("question")).strip(), "answer": answer}  # fmt: skip
        row = whisper.whisper(sim, content.get("persona"), content.get("text"), author=author)
        return {"type": "whisper", "whisper": whisper.as_message(row)}
    except SimulationError as exc:
        return {"type": "talk_error", "error": str(exc)}
    except Exception as exc:  # the model server, the database: say so, keep the socket
        log.warning("%s on %s failed", kind, pk, exc_info=True)
        return {"type": "talk_error", "error": f"the {kind} failed: {type(exc).__name__}: {exc}"[:500]}
    finally:
        close_old_connections()


class SimulationConsumer(JsonMessageConsumer):
    expected = (
        '{"type": "ping"}, {"type": "sync", "since": <step>}, '
        '{"type": "interview", "persona": <name>, "question": <text>} '
        'or {"type": "whisper", "persona": <name>, "text": <text>}'
    )
    sim_pk: int | None = None
    may_talk = False
    talking: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        name = self.scope["url_route"]["kwargs"]["sim"]
        found = await database_sync_to_async(_snapshot)(name)
        await self.accept()
        if found is None:
            await self.close_not_found(f"no simulation named {name!r}")
            return
        self.sim_pk, state, frame, progress, info = found
        user = self.scope.get("user")
        self.may_talk = not info["is_base"] and await database_sync_to_async(_may_talk)(user)
        self.author = getattr(user, "username", "") or ""
        await self.join_group(live.group_name(self.sim_pk))
        await self.send_json(state)
        await self.send_json(frame)
        if progress.get("running"):
            await self.send_json(progress)

    async def receive_command(self, kind: str, content: dict[str, Any]) -> bool:
        if kind in TALK:
            await self.talk(kind, content)
            return True
        if kind != "sync" or not isinstance(content.get("since"), int) or self.sim_pk is None:
            return False
        frame = await database_sync_to_async(_latest_since)(self.sim_pk, content["since"])
        if frame is not None:
            await self.send_json(frame)
        return True

    async def talk(self, kind: str, content: dict[str, Any]) -> None:
        ident = content.get("id")
        ident = ident if isinstance(ident, int | str) and len(str(ident)) <= 40 else None
        if self.sim_pk is None or not self.may_talk:
            await self.send_json(
                {"type": "talk_error", "id": ident, "error": "sign in with permission to run this simulation first"}
            )
            return
        if self.talking is not None and not self.talking.done():
            await self.send_json(
                {"type": "talk_error", "id": ident, "error": "wait for the answer to the last message first"}
            )
            return
        pk, author = self.sim_pk, self.author

        async def answer() -> None:
            # Not database_sync_to_async: that thread is shared by every consumer, and a
            # model call takes seconds. The task keeps this socket's frames flowing.
            reply = await sync_to_async(_talk, thread_sensitive=False)(pk, kind, content, author)
            await self.send_json({**reply, "id": ident})

        self.talking = asyncio.ensure_future(answer())

    async def sim_frame(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "frame", "frame": event["frame"], "stats": event.get("stats"), "cached": event.get("cached", 0)}
        )

    async def sim_state(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "state", **{k: v for k, v in event.items() if k != "type"}})

    async def sim_progress(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "progress", **event["progress"]})

    async def sim_whisper(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "whisper", "whisper": event["whisper"]})
