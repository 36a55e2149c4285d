"""The websocket consumers' shared base, and the status websocket.

`JsonMessageConsumer` is the base every JSON websocket of the project uses: it decodes
each text frame once, answers `{"type": "ping"}` with `{"type": "pong"}`, and hands
every other command to `receive_command`. A frame that is not usable JSON (binary,
malformed, too large, a number too long for Python's int, or nested so deeply that
decoding would overflow the stack), or a command the consumer does not know, gets an
error frame back and the connection stays open. It also records the server's event
loop for `environment.publish` on every connect, joins one channel-layer group at a
time (`join_group`) and leaves it on disconnect, and refuses a missing object with an
error frame and close code 4404 (`close_not_found`). The origin check is not here: the
ASGI application wraps every websocket route in `AllowedHostsOriginValidator`.

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

from environment.publish import remember_loop

STATUS_GROUP = "status"
# Custom close code: nothing by that name here (4000-4999 are for applications).
CLOSE_NOT_FOUND = 4404


class JsonMessageConsumer(AsyncJsonWebsocketConsumer):
    """Decodes every client frame once, here; subclasses implement `receive_command`."""

    # Client messages are small commands ({"type": "ping"}); anything longer is refused
    # unread rather than decoded.
    max_message_chars = 64 * 1024
    # What the error frame for an unknown command says the consumer accepts.
    expected = '{"type": "ping"}'
    # The channel-layer group this connection joined (join_group), left on disconnect.
    group: str | None = None

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        # Before `connect`: it may start a runner thread that publishes at once.
        remember_loop()
        await super().websocket_connect(message)

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

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif not isinstance(kind, str) or not await self.receive_command(kind, content):
            await self.send_error(f"expected {self.expected}")

    async def receive_command(self, kind: str, content: dict[str, Any]) -> bool:
        """Handle a client command other than ping; False when it is not one of ours."""
        return False

    async def send_error(self, error: str) -> None:
        await self.send_json({"type": "error", "error": error})

    async def close_not_found(self, error: str) -> None:
        """Tell the client what is missing, then close with 4404."""
        await self.send_error(error)
        await self.close(code=CLOSE_NOT_FOUND)

    async def join_group(self, group: str) -> None:
        self.group = group
        await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)


class StatusConsumer(JsonMessageConsumer):
    async def connect(self) -> None:
        await self.join_group(STATUS_GROUP)
        await self.accept()

    async def status_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "status", "data": event.get("data")})


class NotFoundConsumer(JsonMessageConsumer):
    """The last websocket route: any path nothing else matched."""

    async def connect(self) -> None:
        await self.accept()
        await self.close_not_found(f"no websocket at {self.scope['path']!r}")

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.close(code=CLOSE_NOT_FOUND)
