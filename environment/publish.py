"""Send to a channel-layer group from any thread: a runner thread, a Celery worker, a command.

The in-memory channel layer is not thread-safe: a thread inside the web server must
hand its messages to the server's event loop instead of sending from its own. Every
websocket consumer records that loop when a client connects (`remember_loop`, called
by `environment.consumers.JsonMessageConsumer`); `send` then runs the group send on
it. With no server loop in this process (a worker, a command, a test without a
consumer) it sends directly, which is what Redis' layer and a lone caller need.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

__all__ = ["remember_loop", "send"]

_server_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def remember_loop() -> None:
    """Called from the server's event loop (the consumer) so threads can publish into it."""
    global _server_loop
    loop = asyncio.get_running_loop()
    with _loop_lock:
        if _server_loop is not loop:
            _server_loop = loop


def send(group: str, message: dict[str, Any]) -> None:
    """`group_send(group, message)` from synchronous code in any thread; waits at most 10 s."""
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _server_loop
    if loop is not None and loop.is_running() and not loop.is_closed():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).result(timeout=10)
            return
    async_to_sync(layer.group_send)(group, message)
