"""The status websocket through the real ASGI application (origin check, auth, routing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from environment.asgi import application
from environment.consumers import STATUS_GROUP

IN_MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
ORIGIN = (b"origin", b"http://localhost")
TIMEOUT = 5


@pytest.fixture(autouse=True)
def in_memory_layer() -> Iterator[None]:
    """A fresh in-process layer per test, whatever REDIS_URL the suite runs with."""
    with override_settings(CHANNEL_LAYERS=IN_MEMORY_LAYER):  # resets channels' cached layers
        yield
    channel_layers.backends = {}


async def _connect(*headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/status/", headers=list(headers))
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def test_ping_gets_pong() -> None:
    communicator = await _connect(ORIGIN)
    try:
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    finally:
        await communicator.disconnect()


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        ("{not json", "malformed JSON"),
        ("   ", "malformed JSON"),
        (b"\x00binary", "malformed JSON"),
        ('["ping"]', "expected"),
        ('{"type": "dance"}', "expected"),
        # Decoding these used to raise out of receive (RecursionError, ValueError) and
        # close the socket with a server error.
        ("[" * 20_000, "nested too deeply"),
        ('{"type": "ping", "n": ' + "9" * 5_000 + "}", "number is too long"),
        ("[" * 100_000, "too large"),
    ],
    ids=lambda value: value[:20] if isinstance(value, str) else None,
)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(frame: str | bytes, says: str) -> None:
    communicator = await _connect(ORIGIN)
    try:
        if isinstance(frame, bytes):
            await communicator.send_to(bytes_data=frame)
        else:
            await communicator.send_to(text_data=frame)
        reply = await communicator.receive_json_from(timeout=TIMEOUT)
        assert reply["type"] == "error"
        assert says in reply["error"]
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    finally:
        await communicator.disconnect()


async def test_group_messages_from_the_channel_layer_arrive() -> None:
    first = await _connect(ORIGIN)
    second = await _connect((b"origin", b"http://127.0.0.1:8000"))
    try:
        await get_channel_layer().group_send(
            STATUS_GROUP, {"type": "status.message", "data": {"step": 7, "note": "tick"}}
        )
        for communicator in (first, second):
            assert await communicator.receive_json_from(timeout=TIMEOUT) == {
                "type": "status",
                "data": {"step": 7, "note": "tick"},
            }
    finally:
        await first.disconnect()
        await second.disconnect()


async def test_a_closed_socket_leaves_the_group() -> None:
    communicator = await _connect(ORIGIN)
    await communicator.disconnect()
    layer = get_channel_layer()
    assert not layer.groups.get(STATUS_GROUP)


@pytest.mark.parametrize(
    "headers",
    [[(b"origin", b"http://evil.example.com")], [(b"origin", b"null")], []],
    ids=["foreign-origin", "null-origin", "no-origin"],
)
async def test_origin_validator_rejects_foreign_pages(headers: list[tuple[bytes, bytes]]) -> None:
    communicator = WebsocketCommunicator(application, "/ws/status/", headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert not connected
    await communicator.disconnect()


@pytest.mark.parametrize("path", ["/ws/other/", "/ws/", "/", "/ws/sim/a/b/", "/ws/status/extra/"])
async def test_unrouted_paths_are_closed_with_4404(path: str) -> None:
    """Channels' router raised "No route found" for these: an HTTP 500 on the handshake."""
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    reply = await communicator.receive_json_from(timeout=TIMEOUT)
    assert reply["type"] == "error" and path in reply["error"]
    assert await communicator.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4404}
    await communicator.disconnect()


async def test_unrouted_paths_still_check_the_origin() -> None:
    communicator = WebsocketCommunicator(application, "/ws/other/", headers=[(b"origin", b"http://evil.example.com")])
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert not connected
    await communicator.disconnect()
