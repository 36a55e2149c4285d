"""`/ws/training/<pk>/`: the state on connect, what the runner publishes, 4404 for a
missing run, and the frames a read-only socket accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from environment.routing import websocket_urlpatterns
from tests.environment.training.factories import METRICS, PLAYS, make_run
from training import runner, selectors
from training.models import RiseRun

pytestmark = pytest.mark.django_db(transaction=True)
app = URLRouter(websocket_urlpatterns)
TIMEOUT = 5


@pytest.fixture(autouse=True)
async def close_consumer_connections() -> Any:
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


async def connect(pk: int | str) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(app, f"/ws/training/{pk}/")
    comm.scope["user"] = AnonymousUser()  # results are public: no sign-in needed
    connected, _ = await comm.connect()
    assert connected
    return comm


async def test_connecting_sends_the_runs_state(tmp_path: Path) -> None:
    run = await sync_to_async(make_run)(tmp_path, PLAYS[:5], finished=True, metrics=METRICS)
    comm = await connect(run.pk)
    message = await comm.receive_json_from(timeout=TIMEOUT)
    assert message["type"] == "state"
    state = message["run"]
    assert (state["id"], state["status"], state["total"], state["finished_items"]) == (run.pk, "finished", 5, 5)
    assert state["metrics"]["headline"] == {"m1@t1": 0.4, "m1@t3": 0.4, "p1@t3": 0.8}
    await comm.send_json_to({"type": "state"})
    assert (await comm.receive_json_from(timeout=TIMEOUT))["run"]["id"] == run.pk
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    await comm.disconnect()


async def test_published_progress_and_state_reach_the_page(tmp_path: Path) -> None:
    run = await sync_to_async(make_run)(tmp_path, PLAYS, name="running")
    await sync_to_async(RiseRun.objects.filter(pk=run.pk).update)(run_state="playing", runner="elsewhere:1:1")
    comm = await connect(run.pk)
    first = await comm.receive_json_from(timeout=TIMEOUT)
    assert first["run"]["status"] == "running" and first["run"]["metrics"] is None
    fresh = await sync_to_async(RiseRun.objects.get)(pk=run.pk)
    await sync_to_async(runner.publish_progress)(fresh, 2, 6)
    progress = await comm.receive_json_from(timeout=TIMEOUT)
    assert progress == {
        "type": "progress",
        "run": await sync_to_async(selectors.run_state)(fresh),
        "turn": 2,
        "played": 6,
    }
    await sync_to_async(RiseRun.objects.filter(pk=run.pk).update)(run_state="paused", run_error="boom: the model left")
    fresh = await sync_to_async(RiseRun.objects.get)(pk=run.pk)
    await sync_to_async(runner.publish_state)(fresh)
    state = await comm.receive_json_from(timeout=TIMEOUT)
    assert state["type"] == "state" and state["run"]["status"] == "failed"
    assert state["run"]["error"] == "boom: the model left"
    await comm.disconnect()


@pytest.mark.parametrize("pk", ["999999", "abc"])
async def test_a_missing_run_gets_an_error_and_4404(pk: str) -> None:
    comm = await connect(pk)
    message = await comm.receive_json_from(timeout=TIMEOUT)
    assert message["type"] == "error" and "no run" in message["error"]
    assert await comm.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4404}


async def test_commands_other_than_state_and_ping_are_refused(tmp_path: Path) -> None:
    run = await sync_to_async(make_run)(tmp_path, PLAYS)
    comm = await connect(run.pk)
    await comm.receive_json_from(timeout=TIMEOUT)
    await comm.send_json_to({"type": "pause"})
    refused = await comm.receive_json_from(timeout=TIMEOUT)
    assert refused["type"] == "error" and '{"type": "state"}' in refused["error"]
    await comm.send_to(text_data="not json")
    assert (await comm.receive_json_from(timeout=TIMEOUT))["error"].startswith("malformed JSON")
    await comm.disconnect()
