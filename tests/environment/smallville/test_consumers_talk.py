"""Talking to the town over the live websocket: interviews and whispers (with the run
permission only), the readout of the last step on connect, and the step in flight."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission, User
from django.test import Client

from environment import gateway as shared_gateway
from environment.asgi import application
from environment.llmlog.models import LLMCall
from reverie import live, services
from reverie.models import MemoryNode, Movement, Simulation, Whisper
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_world import GOOD

BASE = "base_the_ville_isabella_maria_klaus"
MARIA = "Maria Lopez"
ORIGIN = (b"origin", b"http://localhost")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def close_consumer_connections():
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


@pytest.fixture
def scripted(monkeypatch):
    gw = routed_gateway(GOOD)
    monkeypatch.setattr(shared_gateway, "_gateway", gw)
    return gw


def _make_run(name="talk-1"):
    sim = services.fork(BASE, name, gateway=routed_gateway({}))
    names = list(sim.personas.values_list("name", flat=True))
    Movement.objects.bulk_create(
        [Movement(simulation=sim, step=0, persona=n, x=5, y=9, emoji="🚶", description="walk @ x") for n in names]
    )
    Simulation.objects.filter(pk=sim.pk).update(step=1)
    return Simulation.objects.get(pk=sim.pk)


def _session_cookie(*, permitted: bool) -> bytes:
    user = User.objects.create_user("talker" if permitted else "watcher", password="pw-123456789")
    if permitted:
        user.user_permissions.add(Permission.objects.get(codename="run_simulation"))
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _connect(name, cookie=None):
    headers = [ORIGIN] + ([(b"cookie", cookie)] if cookie else [])
    comm = WebsocketCommunicator(application, f"/ws/sim/{name}/", headers=headers)
    connected, _ = await comm.connect()
    assert connected
    state = await comm.receive_json_from()
    frame = await comm.receive_json_from()
    assert state["type"] == "state" and frame["type"] == "frame"
    return comm, frame


async def _reply(comm, kind, timeout=30):
    """The next message of `kind` or talk_error (frames and broadcasts may come between)."""
    while True:
        message = await comm.receive_json_from(timeout=timeout)
        if message["type"] in (kind, "talk_error"):
            return message


async def test_signed_out_and_unpermitted_users_cannot_talk(scripted):
    sim = await sync_to_async(_make_run)()
    cookie = await sync_to_async(_session_cookie)(permitted=False)
    for who in (None, cookie):
        comm, _ = await _connect(sim.name, who)
        await comm.send_json_to({"type": "whisper", "persona": MARIA, "text": "hello", "id": 3})
        reply = await comm.receive_json_from()
        assert reply == {"type": "talk_error", "id": 3, "error": reply["error"]} and "permission" in reply["error"]
        await comm.send_json_to({"type": "interview", "persona": MARIA, "question": "hi?"})
        assert (await comm.receive_json_from())["type"] == "talk_error"
        await comm.disconnect()
    assert not await sync_to_async(Whisper.objects.exists)()


async def test_a_permitted_user_whispers_and_interviews_over_the_socket(scripted):
    sim = await sync_to_async(_make_run)()
    cookie = await sync_to_async(_session_cookie)(permitted=True)
    comm, _ = await _connect(sim.name, cookie)
    payload = '<img src=x onerror="window.__xss=1"> psst'
    await comm.send_json_to({"type": "whisper", "persona": MARIA, "text": payload, "id": "w1"})
    reply = await _reply(comm, "whisper")
    if reply.get("id") != "w1":  # the broadcast of the planted whisper came first
        reply = await _reply(comm, "whisper")
    assert reply["type"] == "whisper" and reply["id"] == "w1", reply
    assert reply["whisper"]["status"] == "applied" and reply["whisper"]["text"] == payload
    assert reply["whisper"]["step"] == 1
    row = await sync_to_async(Whisper.objects.get)()
    assert row.author == "talker"
    stored = await sync_to_async(
        lambda: MemoryNode.objects.get(persona__simulation=sim, persona__name=MARIA, node_id=row.node_id)
    )()
    assert stored.description == payload  # stored as text, as typed

    count = await sync_to_async(MemoryNode.objects.filter(persona__simulation=sim).count)()
    await comm.send_json_to({"type": "interview", "persona": MARIA, "question": "How are you?", "id": 9})
    answer = await _reply(comm, "interview")
    assert answer["type"] == "interview" and answer["id"] == 9 and answer["persona"] == MARIA
    assert isinstance(answer["answer"], str) and answer["answer"]
    assert await sync_to_async(MemoryNode.objects.filter(persona__simulation=sim).count)() == count

    await comm.send_json_to({"type": "whisper", "persona": "Nobody", "text": "hi", "id": 10})
    bad = await _reply(comm, "whisper")
    assert bad["type"] == "talk_error" and bad["id"] == 10 and "Nobody" in bad["error"]
    await comm.send_json_to({"type": "interview", "persona": MARIA, "question": "", "id": 11})
    bad = await _reply(comm, "interview")
    assert bad["type"] == "talk_error" and "empty" in bad["error"]
    await comm.send_json_to({"type": "ping"})  # the socket stays usable
    assert await comm.receive_json_from() == {"type": "pong"}
    await comm.disconnect()


async def test_a_whisper_queued_while_a_runner_holds_the_run_is_answered_as_queued(scripted):
    sim = await sync_to_async(_make_run)()
    cookie = await sync_to_async(_session_cookie)(permitted=True)
    from django.utils import timezone

    # Another (live) runner holds the lease: the whisper must wait for its step.
    await sync_to_async(Simulation.objects.filter(pk=sim.pk).update)(runner="elsewhere:1:1", runner_seen=timezone.now())
    comm, _ = await _connect(sim.name, cookie)
    await comm.send_json_to({"type": "whisper", "persona": MARIA, "text": "later", "id": 1})
    reply = await _reply(comm, "whisper")
    assert reply["whisper"]["status"] == "queued" and reply["whisper"]["step"] is None
    assert await sync_to_async(Whisper.objects.filter(status="queued").count)() == 1
    await comm.disconnect()


async def test_connect_sends_the_last_steps_readout_and_the_step_in_flight(scripted):
    sim = await sync_to_async(_make_run)()

    from django.utils import timezone

    def traces():
        for cached in (True, True, False):
            tokens = 0 if cached else 40
            LLMCall.objects.create(created=timezone.now(), run=sim.run_label, step=0, purpose="plan.daily",
                                   kind="chat", model="m", cached=cached, prompt_tokens=tokens,
                                   completion_tokens=tokens // 20)  # fmt: skip

    await sync_to_async(traces)()
    comm, frame = await _connect(sim.name)
    assert frame["stats"] == {"calls": 3, "tokens": 42} and frame["cached"] == 2
    await comm.disconnect()

    await sync_to_async(Simulation.objects.filter(pk=sim.pk).update)(runner="elsewhere:1:1", runner_seen=timezone.now())
    flight = {"running": True, "step": 1, "calls": 5, "cached": 1, "tokens": 99, "purpose": "converse.line",
              "item": MARIA, "since": "2026-01-01T00:00:00+00:00"}  # fmt: skip
    await sync_to_async(live.publish_progress)(sim.pk, flight)
    comm, _ = await _connect(sim.name)
    assert await comm.receive_json_from() == {"type": "progress", **flight}
    await sync_to_async(live.publish_progress)(sim.pk, {**flight, "calls": 6})
    assert (await comm.receive_json_from())["calls"] == 6
    await comm.disconnect()
