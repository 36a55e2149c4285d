"""`/ws/writer/<pk>/`: streaming to two viewers, stop, edits refused while writing,
bad frames, and another user's project (4404). The runner is the real one (a thread
holding the project's lease); the model is scripted and streams word by word."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from environment.routing import websocket_urlpatterns
from llm.gateway import Gateway
from llm.tracing import MemoryRecorder
from llm.types import Generation
from tests.llm.fakes import FakeEmbedder, ScriptedBackend
from tests.writer.engine.fakes import StoryScript
from writer import runner, services
from writer.models import Job, Node, Project

pytestmark = pytest.mark.django_db(transaction=True)
app = URLRouter(websocket_urlpatterns)


class StreamingBackend(ScriptedBackend):
    """Writes each answer word by word; `hold` (when set) pauses before every word."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.hold = threading.Event()
        self.hold.set()
        self.word_delay = 0.01

    def stream(self, kind: str, payload: Any, *, params: Any, timeout: float) -> Generator[str, None, Generation]:
        gens = self.complete(str(payload), params=params, n=1, schema=None, timeout=timeout) if kind == "complete" \
            else self.chat(payload, params=params, n=1, schema=None, timeout=timeout)  # fmt: skip
        words = gens[0].text.split(" ")
        for i, word in enumerate(words):
            self.hold.wait(10)
            time.sleep(self.word_delay)
            yield word if i == 0 else " " + word
        return gens[0]


@pytest.fixture
def backend() -> StreamingBackend:
    return StreamingBackend(default=StoryScript().answer, concurrency=4)


@pytest.fixture
def gw(backend, monkeypatch) -> Gateway:
    gateway = Gateway(backend, recorder=MemoryRecorder(), embedder=FakeEmbedder(16))  # type: ignore[arg-type]
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gateway)
    return gateway


@pytest.fixture(autouse=True)
async def close_consumer_connections():
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


def _user(name: str = "ann"):
    return get_user_model().objects.create_user(name, password="pw")


def _project(user, gw) -> Project:
    project = services.create_project(user, novel_type="fantasy", topic="A lighthouse", start=False)
    while (job := services.next_job(project)) is not None:
        services.run_job(job, gw)
    project.refresh_from_db()
    return project


async def _connect(project_pk: int | str, user) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(app, f"/ws/writer/{project_pk}/")
    comm.scope["user"] = user
    connected, _ = await comm.connect()
    assert connected
    return comm


async def _until(comm: WebsocketCommunicator, kind: str, pred=lambda m: True, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = await comm.receive_json_from(timeout=max(0.1, deadline - time.monotonic()))
        if message["type"] == kind and pred(message):
            return message


async def _wait_idle(project: Project) -> None:
    assert await sync_to_async(runner.wait_idle)(project, 30)


async def test_a_step_streams_to_two_viewers_and_both_see_the_new_paragraph(gw):
    user = await sync_to_async(_user)()
    project = await sync_to_async(_project)(user, gw)
    a, b = await _connect(project.pk, user), await _connect(project.pk, user)
    view_a, view_b = await _until(a, "view"), await _until(b, "view")
    assert view_a["head"] == view_b["head"] == project.head_id
    assert len(view_a["story"]["paragraphs"]) == 1 and view_a["plans"]
    await a.send_json_to({"type": "write", "plan": "The keeper lights the lamp."})
    assert (await _until(a, "ok"))["command"] == "write"
    pieces_a = [(await _until(a, "piece"))["text"] for _ in range(3)]
    pieces_b = [(await _until(b, "piece"))["text"] for _ in range(3)]
    assert "".join(pieces_a) == "".join(pieces_b) and "".join(pieces_a).startswith("Paragraph")
    new_a = await _until(a, "view", lambda m: len(m["story"]["paragraphs"]) == 2)
    new_b = await _until(b, "view", lambda m: len(m["story"]["paragraphs"]) == 2)
    assert new_a["head"] == new_b["head"] != project.head_id
    assert new_a["node"]["plan"] == "The keeper lights the lamp." and new_a["node"]["cost"]["tokens"] > 0
    assert new_a["totals"]["steps"] == 2
    await _wait_idle(project)
    for comm in (a, b):
        await comm.disconnect()


async def test_stop_cancels_the_paragraph_and_saves_nothing(gw, backend):
    user = await sync_to_async(_user)()
    project = await sync_to_async(_project)(user, gw)
    nodes = await sync_to_async(Node.objects.count)()
    comm = await _connect(project.pk, user)
    await _until(comm, "view")
    backend.word_delay = 0.2  # a slow model: the stop arrives mid-paragraph
    await comm.send_json_to({"type": "write", "plan": "The storm breaks."})
    await _until(comm, "piece")
    await comm.send_json_to({"type": "stop"})
    assert (await _until(comm, "ok", lambda m: m["command"] == "stop"))["stopped"] == 1
    job = await _until(comm, "job", lambda m: m["job"]["state"] == "cancelled")
    assert job["job"]["result"] is None
    await _wait_idle(project)
    assert await sync_to_async(Node.objects.count)() == nodes
    # The page stays usable: the next step runs.
    backend.word_delay = 0.0
    await comm.send_json_to({"type": "write", "plan": "The storm passes."})
    await _until(comm, "view", lambda m: len(m["story"]["paragraphs"]) == 2)
    await _wait_idle(project)
    await comm.disconnect()


async def test_an_edit_during_a_step_is_refused_with_one_line_and_applies_after(gw, backend):
    user = await sync_to_async(_user)()
    project = await sync_to_async(_project)(user, gw)
    comm = await _connect(project.pk, user)
    await _until(comm, "view")
    backend.hold.clear()  # the model stops mid-paragraph until released
    await comm.send_json_to({"type": "write", "plan": "A ship appears."})
    await _until(comm, "ok")
    await comm.send_json_to({"type": "edit_memory", "memory": "The keeper is called Ines."})
    error = await _until(comm, "error")
    assert error["command"] == "edit_memory" and "being written" in error["error"]
    backend.hold.set()
    await _until(comm, "view", lambda m: len(m["story"]["paragraphs"]) == 2)
    await _wait_idle(project)
    await comm.send_json_to({"type": "edit_memory", "memory": "The keeper is called Ines."})
    view = await _until(comm, "view", lambda m: m["memory"] == "The keeper is called Ines.")
    assert view["node"]["kind"] == "edit"
    await comm.disconnect()


async def test_bad_frames_and_bad_commands_get_an_error_and_the_socket_stays(gw):
    user = await sync_to_async(_user)()
    project = await sync_to_async(_project)(user, gw)
    comm = await _connect(project.pk, user)
    await _until(comm, "view")
    await comm.send_to(text_data="{not json")
    assert "malformed JSON" in (await _until(comm, "error"))["error"]
    await comm.send_json_to({"type": "write", "plan": ""})
    assert "plan is empty" in (await _until(comm, "error"))["error"]
    await comm.send_json_to({"type": "write", "plan": 42})
    assert "plan must be text" in (await _until(comm, "error"))["error"]
    await comm.send_json_to({"type": "goto", "node": "x"})
    assert "must be a number" in (await _until(comm, "error"))["error"]
    await comm.send_json_to({"type": "edit_paragraph", "n": 99, "text": "Far away."})
    assert "no paragraph 99" in (await _until(comm, "error"))["error"]
    await comm.send_json_to({"type": "launch_missiles"})
    assert "expected" in (await _until(comm, "error"))["error"]
    await comm.send_json_to({"type": "ping"})
    await _until(comm, "pong")
    await comm.disconnect()


async def test_another_users_project_and_a_missing_one_close_with_4404(gw):
    owner = await sync_to_async(_user)("ann")
    other = await sync_to_async(_user)("bob")
    project = await sync_to_async(_project)(owner, gw)
    for user, pk in ((other, project.pk), (owner, 10**6), (owner, "abc")):
        comm = await _connect(pk, user)
        assert "no project" in (await comm.receive_json_from())["error"]
        assert (await comm.receive_output())["code"] == 4404
    from django.contrib.auth.models import AnonymousUser

    comm = await _connect(project.pk, AnonymousUser())
    assert (await comm.receive_json_from())["type"] == "error"


async def test_a_job_left_queued_by_a_dead_server_runs_when_a_page_opens(gw):
    user = await sync_to_async(_user)()
    project = await sync_to_async(_project)(user, gw)

    def orphan() -> None:
        job = services.enqueue_step(project, plan="The tide turns.", start=False)
        Job.objects.filter(pk=job.pk).update(state="running")  # its runner died mid-step
        Project.objects.filter(pk=project.pk).update(run_state="paused")

    await sync_to_async(orphan)()
    comm = await _connect(project.pk, user)
    await _until(comm, "view", lambda m: len(m["story"]["paragraphs"]) == 2)
    await _wait_idle(project)
    await comm.disconnect()


def test_two_steps_in_a_row_from_the_runner_thread_keep_the_queue_order(gw):
    user = _user()
    project = _project(user, gw)
    first = services.enqueue_step(project, plan="One.")
    assert runner.wait_idle(project, 30)
    second = services.enqueue_step(project, plan="Two.")
    assert runner.wait_idle(project, 30)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == second.state == "done" and second.result.parent == first.result
    project.refresh_from_db()
    assert project.run_state == "paused" and project.head == second.result
