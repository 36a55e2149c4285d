"""environment.publish: a worker thread sends to a group through the server's event loop."""

import asyncio
from collections.abc import Iterator

import pytest
from channels.layers import channel_layers, get_channel_layer
from django.test import override_settings

from environment import publish

IN_MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(autouse=True)
def in_memory_layer() -> Iterator[None]:
    with override_settings(CHANNEL_LAYERS=IN_MEMORY_LAYER):
        yield
    channel_layers.backends = {}


async def test_a_thread_sends_through_the_remembered_server_loop(monkeypatch) -> None:
    monkeypatch.setattr(publish, "_server_loop", None)  # restored after the test
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("watchers", channel)
    publish.remember_loop()  # what every consumer does on connect
    assert publish._server_loop is asyncio.get_running_loop()
    await asyncio.to_thread(publish.send, "watchers", {"type": "x.y", "n": 1})
    assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "x.y", "n": 1}


def test_without_a_server_loop_it_sends_directly(monkeypatch) -> None:
    monkeypatch.setattr(publish, "_server_loop", None)
    layer = get_channel_layer()
    from asgiref.sync import async_to_sync

    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("watchers", channel)
    publish.send("watchers", {"type": "x.y", "n": 2})
    assert async_to_sync(layer.receive)(channel) == {"type": "x.y", "n": 2}
