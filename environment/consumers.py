"""A small status websocket: the foundation's proof that the channel layer works.

Clients joining `/ws/status/` receive every message sent to the "status" group (for
example by a Celery worker through Redis) and can ping. A malformed frame gets an
error frame back; the connection stays open.
"""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

STATUS_GROUP = "status"


class StatusConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(STATUS_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(STATUS_GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            message = json.loads(text_data or "")
        except json.JSONDecodeError as exc:
            await self.send_json({"type": "error", "error": f"malformed JSON: {exc.msg}"})
            return
        if not isinstance(message, dict) or message.get("type") != "ping":
            await self.send_json({"type": "error", "error": 'expected {"type": "ping"}'})
            return
        await self.send_json({"type": "pong"})

    async def status_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "status", "data": event.get("data")})
