"""The websocket consumers' shared base, and the status websocket.

`JsonMessageConsumer` is the base every JSON websocket of the project uses: it decodes
each text frame and hands the value to `receive_json`. A frame that is not usable JSON
(binary, malformed, too large, a number too long for Python's int, or nested so deeply
that decoding would overflow the stack) gets an error frame back and the connection
stays open.

`NotFoundConsumer` answers every websocket path no route matches: an error frame, then
a close with 4404 (without it, Channels' router raises and the handshake is an HTTP 500).

`/ws/status/` is the foundation's proof that the channel layer works: clients receive
every message sent to the "status" group (for example by a Celery worker through
Redis) and can ping.
"""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

STATUS_GROUP = "status"
# Custom close code: nothing by that name here (4000-4999 are for applications).
CLOSE_NOT_FOUND = 4404


class JsonMessageConsumer(AsyncJsonWebsocketConsumer):
    """Decodes every client frame once, here; subclasses implement `receive_json`."""

    # Client messages are small commands ({"type": "ping"}); anything longer is refused
    # unread rather than decoded.
    max_message_chars = 64 * 1024

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None:
            await self.send_error("malformed JSON: expected a text frame")
            return
        if len(text_data) > self.max_message_chars:
            await self.send_error(f"message too large: at most {self.max_message_chars} characters")
            return
        try:
            content = json.loads(text_data)
        except json.JSONDecodeError as exc:
            await self.send_error(f"malformed JSON: {exc.msg}")
            return
        except ValueError:
            # An integer of more than 4300 digits (Python's int conversion limit).
            await self.send_error("malformed JSON: a number is too long")
            return
        except RecursionError:
            # json's decoder recurses once per nesting level: "[" * 100000 ends here.
            await self.send_error("malformed JSON: nested too deeply")
            return
        await self.receive_json(content, **kwargs)

    async def send_error(self, error: str) -> None:
        await self.send_json({"type": "error", "error": error})


class StatusConsumer(JsonMessageConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(STATUS_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(STATUS_GROUP, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "ping":
            await self.send_error('expected {"type": "ping"}')
            return
        await self.send_json({"type": "pong"})

    async def status_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "status", "data": event.get("data")})


class NotFoundConsumer(JsonMessageConsumer):
    """The last websocket route: any path nothing else matched."""

    async def connect(self) -> None:
        await self.accept()
        await self.send_error(f"no websocket at {self.scope['path']!r}")
        await self.close(code=CLOSE_NOT_FOUND)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.close(code=CLOSE_NOT_FOUND)
