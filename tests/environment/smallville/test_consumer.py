"""The live websocket: snapshot on connect, frames after each committed step, bad input."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from environment.asgi import application
from reverie import live, services
from reverie.models import Movement, Simulation

BASE = "base_the_ville_isabella_maria_klaus"
ORIGIN = [(b"origin", b"http://localhost")]
# The consumer reads through its own thread's connection: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def close_consumer_connections():
    """The consumer's queries run in asgiref's worker thread, which keeps its own
    connection after the test; close it so later tests without database access
    don't find an open connection there."""
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


def _make_run(name="live-1", steps=2):
    from tests.reverie.engine.fakes import routed_gateway

    sim = services.fork(BASE, name, gateway=routed_gateway({}))  # embeds the starting relationships
    names = list(sim.personas.values_list("name", flat=True))
    Movement.objects.bulk_create(
        [Movement(simulation=sim, step=s, persona=n, x=5 + s, y=9, emoji="🚶", description=f"walk {s} @ x")
         for s in range(steps) for n in names]
    )  # fmt: skip
    Simulation.objects.filter(pk=sim.pk).update(step=steps)
    return Simulation.objects.get(pk=sim.pk)


async def _connect(path):
    comm = WebsocketCommunicator(application, path, headers=ORIGIN)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def test_connect_sends_the_state_and_the_latest_frame():
    await sync_to_async(_make_run)()
    comm = await _connect("/ws/sim/live-1/")
    state = await comm.receive_json_from()
    assert state == {
        "type": "state",
        "state": "paused",
        "step": 2,
        "error": None,
        "waiting_since": None,
        "waiting_reason": None,
    }
    frame = await comm.receive_json_from()
    assert (
        frame["type"] == "frame" and frame["frame"]["step"] == 1 and frame["frame"]["agents"]["Maria Lopez"]["x"] == 6
    )
    await comm.disconnect()


async def test_a_committed_step_reaches_every_viewer_from_a_runner_thread():
    sim = await sync_to_async(_make_run)()
    viewers = [await _connect("/ws/sim/live-1/") for _ in range(3)]
    for comm in viewers:
        await comm.receive_json_from()
        await comm.receive_json_from()

    def commit_and_publish():  # what a runner thread does after each step
        names = list(sim.personas.values_list("name", flat=True))
        Movement.objects.bulk_create([Movement(simulation=sim, step=2, persona=n, x=40, y=9, emoji="☕",
                                               description="coffee @ y") for n in names])  # fmt: skip
        live.publish_step(sim, 2)

    thread = threading.Thread(target=commit_and_publish)
    thread.start()
    for comm in viewers:
        message = await comm.receive_json_from(timeout=5)
        assert message["type"] == "frame" and message["frame"]["step"] == 2
        assert message["frame"]["agents"]["Klaus Mueller"] == {
            "x": 40, "y": 9, "emoji": "☕", "action": "coffee @ y", "chat": None}  # fmt: skip
        assert message["stats"] == {"calls": 0, "tokens": 0}
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    for comm in viewers:
        await comm.disconnect()


async def test_malformed_messages_get_an_error_frame_and_the_socket_stays_open():
    await sync_to_async(_make_run)()
    comm = await _connect("/ws/sim/live-1/")
    await comm.receive_json_from()
    await comm.receive_json_from()
    deep = "[" * 20_000  # decoding overflowed the stack: RecursionError out of receive
    for bad in ["not json", "[1, 2]", '{"type": "rewind"}', '{"type": "sync", "since": "x"}', deep, "[" * 100_000]:
        await comm.send_to(text_data=bad)
        reply = await comm.receive_json_from()
        assert reply["type"] == "error", bad[:20]
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from() == {"type": "pong"}
    await comm.send_json_to({"type": "sync", "since": 0})  # a reconnecting page catches up
    caught_up = await comm.receive_json_from()
    assert caught_up["type"] == "frame" and caught_up["frame"]["step"] == 1
    await comm.send_json_to({"type": "sync", "since": 1})  # already current: nothing to send
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


async def test_unknown_simulations_are_closed_with_4404():
    comm = await _connect("/ws/sim/nowhere/")
    message = await comm.receive_json_from()
    assert message["type"] == "error" and "nowhere" in message["error"]
    closed = await comm.receive_output()
    assert closed == {"type": "websocket.close", "code": 4404}


async def test_foreign_origins_are_refused():
    await sync_to_async(_make_run)()
    comm = WebsocketCommunicator(application, "/ws/sim/live-1/", headers=[(b"origin", b"http://evil.example")])
    connected, _ = await comm.connect()
    assert not connected
