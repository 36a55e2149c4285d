"""`/ws/training/<pk>/`: a RISE run's live state for its page.

On connect the server sends `{"type": "state", "run": {...}}` (training.selectors.run_state)
and then every message the runner publishes to the group `training-run-<pk>`:
`{"type": "progress", "run": {...}, "turn": t, "played": n}` after every turn of a batch,
and `{"type": "state", "run": {...}}` when the run ends, pauses, fails or waits for the
model server (the finished state carries the metrics). A run that does not exist gets
an error frame and close code 4404. Anyone may watch (the pages' rule: results are
public); the socket only reads, so besides ping it accepts just `{"type": "state"}`,
which sends the state again.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from environment.consumers import JsonMessageConsumer
from training import runner, selectors
from training.models import RiseRun


def _state(pk: str) -> dict[str, Any] | None:
    try:
        number = int(pk)
    except ValueError:
        return None
    run = RiseRun.objects.filter(pk=number).first()
    if run is None:
        return None
    runner.resume(run)  # a page-started run left playing by a restarted server goes on
    return selectors.run_state(run)


class RiseRunConsumer(JsonMessageConsumer):
    expected = '{"type": "ping"} or {"type": "state"}'
    run_pk: int | None = None

    async def connect(self) -> None:
        pk = str(self.scope["url_route"]["kwargs"]["pk"])
        state = await database_sync_to_async(_state)(pk)
        await self.accept()
        if state is None:
            await self.close_not_found(f"there is no run {pk!r}")
            return
        self.run_pk = int(state["id"])
        # Join before sending the state: a message published in between is not lost.
        await self.join_group(runner.group_name(self.run_pk))
        await self.send_json({"type": "state", "run": state})

    async def receive_command(self, kind: str, content: dict[str, Any]) -> bool:
        if kind != "state" or self.run_pk is None:
            return False
        state = await database_sync_to_async(_state)(str(self.run_pk))
        if state is None:
            await self.close_not_found(f"there is no run {self.run_pk!r}")
        else:
            await self.send_json({"type": "state", "run": state})
        return True

    # --- what the runner publishes (training.runner) -----------------------------------

    async def training_progress(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "progress", "run": event["run"], "turn": event["turn"], "played": event["played"]}
        )

    async def training_state(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "state", "run": event["run"]})
