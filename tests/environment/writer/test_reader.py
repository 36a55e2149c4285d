"""The reader page and its websocket (`/read/<pk>/`, `/ws/read/<pk>/`).

Through the real ASGI application, with the session cookie the page sets (anonymous
readers) or a signed-in user's: who may read, the view, following a step the writer
already wrote, a reader's own step (queued, then run here with a scripted model),
separate paths per reader, back and restart, bad frames. The runner thread is never
started: `writer.runner.ensure_runner` is a no-op and jobs run in the test, as the
runner would run them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.utils import translation

from environment.asgi import application
from environment.writer.read_i18n import reader_strings
from tests.writer.engine.fakes import StoryScript, scripted_gateway
from writer import selectors, services
from writer.models import Job, Node, Project, ReaderPath

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")
TIMEOUT = 10
READ_JS = Path(settings.BASE_DIR) / "static_dirs" / "js" / "writer" / "read.js"


@pytest.fixture(autouse=True)
def in_memory_layer() -> Iterator[None]:
    with override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}):
        yield
    channel_layers.backends = {}


@pytest.fixture(autouse=True)
def no_runner_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Queued jobs stay queued until the test runs them (`run_jobs`)."""
    monkeypatch.setattr("writer.runner.ensure_runner", lambda project: None)


@pytest.fixture(autouse=True)
async def close_consumer_connections():
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


@pytest.fixture
def gw():
    return scripted_gateway(StoryScript())


# --- setup (synchronous; called through sync_to_async) ----------------------------------


def run_jobs(project: Project, gw: Any) -> list[Node | None]:
    """What the runner does: every queued job, oldest first, in this thread."""
    done = []
    while (job := services.next_job(project)) is not None:
        done.append(services.run_job(job, gw))
    return done


def make_story(gw: Any, *, published: bool = True, owner: str = "writer") -> dict[str, Any]:
    """A project with its opening (root) and the writer's step from it with option 1 (W)."""
    user = get_user_model().objects.create_user(owner, password="pw")
    project = services.create_project(user, novel_type="adventure", topic="A sunken city", start=False)
    run_jobs(project, gw)
    project.refresh_from_db()
    root = project.head
    plans = list(services.state_at(root).plans)
    services.enqueue_step(project, plan=plans[0], node=root, start=False)
    (written,) = run_jobs(project, gw)
    Project.objects.filter(pk=project.pk).update(published=published)
    return {"project": Project.objects.get(pk=project.pk), "owner": user, "root": root, "written": written,
            "plans": plans}  # fmt: skip


def session_cookie(pk: int, user: Any = None) -> tuple[bytes, bytes]:
    """The cookie header a browser sends: its session from visiting the page (or signing in)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    client.get(f"/read/{pk}/")
    if "sessionid" not in client.cookies:  # the page was a 404: no session from it
        client.session.save()  # the test client makes (and sets the cookie of) a new one
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def connect(pk: int, cookie: tuple[bytes, bytes] | None) -> WebsocketCommunicator:
    headers = [ORIGIN] + ([cookie] if cookie else [])
    comm = WebsocketCommunicator(application, f"/ws/read/{pk}/", headers=headers)
    connected, _ = await comm.connect(timeout=TIMEOUT)
    assert connected
    return comm


async def until(comm: WebsocketCommunicator, kind: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The next message of type `kind` (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        message = await comm.receive_json_from(timeout=max(0.1, deadline - time.monotonic()))
        if message["type"] == kind:
            return message


async def reader(pk: int, user: Any = None) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    """A reader's socket and the view it gets on connecting."""
    cookie = await sync_to_async(session_cookie)(pk, user)
    comm = await connect(pk, cookie)
    view = await comm.receive_json_from(timeout=TIMEOUT)
    assert view["type"] == "view", view
    return comm, view


# --- who may read -------------------------------------------------------------------------


async def test_an_unpublished_story_is_4404_for_strangers_but_its_owner_can_preview(gw) -> None:
    story = await sync_to_async(make_story)(gw, published=False)
    pk = story["project"].pk
    other = await sync_to_async(get_user_model().objects.create_user)("stranger", password="pw")
    for who in (None, other):
        cookie = await sync_to_async(session_cookie)(pk, who)
        comm = await connect(pk, cookie)
        message = await comm.receive_json_from(timeout=TIMEOUT)
        assert message["type"] == "error" and "no published story" in message["error"]
        assert await comm.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4404}
    for missing in ("999999", "abc"):
        comm = await connect(missing, await sync_to_async(session_cookie)(pk, story["owner"]))
        assert (await comm.receive_json_from(timeout=TIMEOUT))["type"] == "error"
        assert await comm.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4404}
    comm, view = await reader(pk, story["owner"])
    assert view["node"] == story["root"].pk
    await comm.disconnect()


async def test_a_socket_without_a_session_is_refused(gw) -> None:
    story = await sync_to_async(make_story)(gw)
    comm = await connect(story["project"].pk, None)
    assert (await comm.receive_json_from(timeout=TIMEOUT))["type"] == "error"
    assert await comm.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4404}


def test_the_page_is_a_404_unless_published_or_the_owners(gw) -> None:
    story = make_story(gw, published=False)
    pk = story["project"].pk
    assert Client().get(f"/read/{pk}/").status_code == 404
    assert Client().get("/read/999999/").status_code == 404
    owner = Client()
    owner.force_login(story["owner"])
    assert owner.get(f"/read/{pk}/").status_code == 200
    Project.objects.filter(pk=pk).update(published=True)
    response = Client().get(f"/read/{pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    boot = json.loads(re.search(r'<script id="boot" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert boot["urls"]["ws"] == f"/ws/read/{pk}/" and boot["project"] == pk
    assert "js/writer/read.js" in html and "css/reader.css" in html
    # No inline script besides the JSON boot, no inline handlers or styles (CSP).
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == ['<script id="boot" type="application/json">']
    assert not re.search(r"\son\w+=|\sstyle=", html)
    assert response.cookies["sessionid"].value  # the reader's path is kept per session


def test_every_string_the_script_shows_is_served_and_translated(gw) -> None:
    source = READ_JS.read_text(encoding="utf-8")
    defaults = re.search(r"const DEFAULTS = \{(.*?)\};", source, re.S).group(1)
    keys = set(re.findall(r"^\s*(\w+):", defaults, re.M))
    used = set(re.findall(r"\bt\(\"(\w+)\"\)", source))
    english = reader_strings()
    assert used <= keys == set(english)
    with translation.override("zh-hans"):
        chinese = reader_strings()
    assert all(chinese[k] != english[k] for k in english), [k for k in english if chinese[k] == english[k]]
    story = make_story(gw)
    page = Client().get(f"/read/{story['project'].pk}/", headers={"Accept-Language": "zh-Hans"}).content.decode()
    assert "接下来会发生什么" in page and "后退一步" in page and "从头开始" in page


# --- reading --------------------------------------------------------------------------------


async def test_a_published_story_opens_at_the_beginning_with_its_options(gw) -> None:
    story = await sync_to_async(make_story)(gw)
    comm, view = await reader(story["project"].pk)
    root_state = await sync_to_async(services.state_at)(story["root"])
    assert view["node"] == story["root"].pk and view["title"] == "The Glass Harbour"
    assert view["paragraphs"] == list(root_state.paragraphs) and view["paragraphs"][0].startswith("Opening")
    assert view["options"] == story["plans"] and len(view["options"]) == 3
    assert view["can_go_back"] is False and view["job"] is None and view["failed"] is None
    assert view["project"]["name"] == story["project"].name
    await comm.disconnect()


async def test_an_option_the_writer_wrote_is_followed_without_a_job(gw) -> None:
    story = await sync_to_async(make_story)(gw)
    comm, _ = await reader(story["project"].pk)
    jobs = await sync_to_async(Job.objects.count)()
    await comm.send_json_to({"type": "choose", "option": 0})
    assert await comm.receive_json_from(timeout=TIMEOUT) == {"type": "ok", "command": "choose", "written": True}
    view = await until(comm, "view")
    written_state = await sync_to_async(services.state_at)(story["written"])
    assert view["node"] == story["written"].pk and view["can_go_back"] is True
    assert view["paragraphs"] == list(written_state.paragraphs) and len(view["paragraphs"]) == 2
    assert view["options"] == list(written_state.plans)
    assert await sync_to_async(Job.objects.count)() == jobs
    await comm.disconnect()


async def test_a_new_option_is_written_on_the_readers_own_path(gw) -> None:
    story = await sync_to_async(make_story)(gw)
    project = story["project"]
    comm, _ = await reader(project.pk)
    await comm.send_json_to({"type": "choose", "option": 2})  # the writer wrote only option 1
    reply = await until(comm, "ok")
    assert reply["command"] == "choose" and isinstance(reply["job"], int) and "written" not in reply
    job = await sync_to_async(Job.objects.select_related("reader").get)(pk=reply["job"])
    assert job.state == "queued" and job.reader is not None and job.node_id == story["root"].pk
    assert job.plan == story["plans"][2]

    # While it is queued, the view says so (a page opened now shows "writing").
    await comm.send_json_to({"type": "choose", "option": 1})
    busy = await until(comm, "error")
    assert busy["command"] == "choose" and "still being written" in busy["error"]

    (node,) = await sync_to_async(run_jobs)(project, gw)
    pieces = []
    while (message := await comm.receive_json_from(timeout=TIMEOUT))["type"] != "view":
        if message["type"] == "piece":
            pieces.append(message)
    view = message
    assert pieces and all(p["job"] == job.pk for p in pieces)
    node = await sync_to_async(Node.objects.get)(pk=node.pk)
    assert node.reader_id == job.reader_id and node.parent_id == story["root"].pk and node.plan == story["plans"][2]
    tree = await sync_to_async(selectors.tree)(project)
    assert node.pk not in {n["id"] for n in tree}
    assert view["node"] == node.pk and len(view["paragraphs"]) == 2 and view["job"] is None
    assert view["paragraphs"][-1] == "".join(p["text"] for p in pieces if not p["reset"]).strip()
    # The writer's head did not move.
    head = await sync_to_async(lambda: Project.objects.get(pk=project.pk).head_id)()
    assert head == story["written"].pk

    # Back, then the same option again: this reader's own step is followed, no new job.
    await comm.send_json_to({"type": "back"})
    assert await until(comm, "ok") == {"type": "ok", "command": "back"}
    assert (await until(comm, "view"))["node"] == story["root"].pk
    await comm.send_json_to({"type": "choose", "option": 2})
    assert (await until(comm, "ok")).get("written") is True
    assert (await until(comm, "view"))["node"] == node.pk
    assert await sync_to_async(Job.objects.filter(reader=job.reader_id).count)() == 1
    await comm.disconnect()


async def test_two_readers_have_separate_paths(gw) -> None:
    story = await sync_to_async(make_story)(gw)
    pk = story["project"].pk
    someone = await sync_to_async(get_user_model().objects.create_user)("reader", password="pw")
    first, _ = await reader(pk)  # an anonymous session
    second, _ = await reader(pk, someone)
    third, _ = await reader(pk)  # another anonymous session
    await first.send_json_to({"type": "choose", "option": 0})
    assert (await until(first, "view"))["node"] == story["written"].pk
    await second.send_json_to({"type": "choose", "option": 1})
    assert "job" in await until(second, "ok")
    # Neither the first reader's move nor the second's job reach the others.
    assert await third.receive_nothing(timeout=0.3)
    assert await first.receive_nothing(timeout=0.1)
    await first.disconnect()
    await third.disconnect()
    rows = ReaderPath.objects.filter(project_id=pk)
    paths = await sync_to_async(lambda: sorted(rows.values_list("reader", flat=True)))()
    assert len(paths) == 3 and sum(p.startswith("session:") for p in paths) == 2 and f"user:{someone.pk}" in paths
    await second.send_json_to({"type": "restart"})  # cancels the second reader's queued job
    await until(second, "view")
    assert await sync_to_async(Job.objects.filter(state="cancelled").count)() == 1
    await second.disconnect()


async def test_back_and_restart(gw) -> None:
    story = await sync_to_async(make_story)(gw)
    comm, _ = await reader(story["project"].pk)
    await comm.send_json_to({"type": "back"})
    error = await until(comm, "error")
    assert error["command"] == "back" and "beginning" in error["error"]
    await comm.send_json_to({"type": "choose", "option": 0})
    assert (await until(comm, "view"))["node"] == story["written"].pk
    await comm.send_json_to({"type": "back"})
    view = await until(comm, "view")
    assert view["node"] == story["root"].pk and view["can_go_back"] is False and len(view["paragraphs"]) == 1
    await comm.send_json_to({"type": "choose", "option": 0})
    await until(comm, "view")
    await comm.send_json_to({"type": "restart"})
    assert await until(comm, "ok") == {"type": "ok", "command": "restart"}
    assert (await until(comm, "view"))["node"] == story["root"].pk
    await comm.disconnect()


async def test_a_returning_reader_finds_their_place(gw) -> None:
    story = await sync_to_async(make_story)(gw)
    pk = story["project"].pk
    cookie = await sync_to_async(session_cookie)(pk)
    comm = await connect(pk, cookie)
    await until(comm, "view")
    await comm.send_json_to({"type": "choose", "option": 0})
    await until(comm, "view")
    await comm.disconnect()
    again = await connect(pk, cookie)
    assert (await until(again, "view"))["node"] == story["written"].pk
    await again.disconnect()


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        ({"type": "choose", "option": 3}, "there is no option 4 here"),
        ({"type": "choose", "option": -1}, "there is no option"),
        ({"type": "choose", "option": "two"}, "option must be a number"),
        ({"type": "choose", "option": True}, "option must be a number"),
        ({"type": "choose"}, "option must be a number"),
        ({"type": "jump", "node": 1}, "expected"),
        ("{not json", "malformed JSON"),
        ("[1, 2]", "expected"),
    ],
    ids=lambda value: json.dumps(value)[:30] if not isinstance(value, str) else value[:20],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(gw, frame: Any, says: str) -> None:
    story = await sync_to_async(make_story)(gw)
    comm, _ = await reader(story["project"].pk)
    if isinstance(frame, str):
        await comm.send_to(text_data=frame)
    else:
        await comm.send_json_to(frame)
    error = await comm.receive_json_from(timeout=TIMEOUT)
    assert error["type"] == "error" and says in error["error"], error
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    await comm.send_json_to({"type": "choose", "option": 0})  # still usable
    assert (await until(comm, "view"))["node"] == story["written"].pk
    await comm.disconnect()


async def test_a_failed_step_is_reported_and_the_options_stay(gw) -> None:
    story = await sync_to_async(make_story)(gw)
    pk = story["project"].pk
    cookie = await sync_to_async(session_cookie)(pk)
    comm = await connect(pk, cookie)
    await until(comm, "view")
    await comm.send_json_to({"type": "choose", "option": 1})
    job_id = (await until(comm, "ok"))["job"]

    def fail() -> None:
        job = services.next_job(story["project"])
        assert job is not None and job.pk == job_id
        services.fail_job(job, "the model could not write this step: refused")

    await sync_to_async(fail)()
    while (message := await until(comm, "job"))["job"]["state"] != "failed":
        pass
    assert message["job"]["id"] == job_id and "refused" in message["job"]["error"]
    await comm.disconnect()
    # A page opened now says so, at the same place, with the same options to try again.
    again = await connect(pk, cookie)
    view = await until(again, "view")
    assert view["node"] == story["root"].pk and view["job"] is None and view["options"] == story["plans"]
    assert view["failed"]["id"] == job_id and "refused" in view["failed"]["error"]
    await again.send_json_to({"type": "choose", "option": 1})
    assert isinstance((await until(again, "ok"))["job"], int)
    await again.disconnect()
