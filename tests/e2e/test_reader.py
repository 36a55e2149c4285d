"""The reader page in a browser: read a published story, follow the writer's step,
have a new step written live, a second reader, model text as text, a phone.

The story (its opening and the writer's first step) is written in the test with a
scripted model and committed. The new step a reader asks for is written by a second
daphne, on the same test database, whose model is `StreamingModel` below: an
OpenAI-compatible server that answers like the scripted model (tests/writer/engine/
fakes.py) and streams paragraphs word by word, so the page's "writing…" state shows.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.e2e.conftest import start_server, stop_server
from tests.e2e.helpers import in_thread
from tests.writer.engine.fakes import StoryScript, scripted_gateway
from writer import services
from writer.models import Job, Node, Project, ReaderPath

XSS = "<img src=x onerror=window.__xss=1>"
DIM = 16  # the scripted gateway's embedding size: the server's must match the stored vectors
WORD_DELAY = 0.08  # s between streamed words
SHOTS = Path("/tmp")


def xss_script() -> StoryScript:
    """Scripted answers whose paragraphs and options carry markup that must stay text."""
    script = StoryScript()
    n = script.counter
    script.routes.update(
        {
            "writer.init_paragraph": lambda p: f"Opening {next(n)}: Mara dives {XSS} into the cold bay.",
            "writer.paragraph": lambda p: f"Paragraph {next(n)}: Mara swims toward the lights {XSS} far below.",
            "writer.plans": lambda p: json.dumps(
                {"plans": [f"Plan {next(n)}: Mara opens {XSS} gate {k}." for k in range(1, 4)]}
            ),
        }
    )
    return script


class StreamingModel:
    """An OpenAI-compatible model server: chat (plain, streamed, structured) and embeddings."""

    def __init__(self, script: StoryScript) -> None:
        self.script = script
        self.lock = threading.Lock()
        self.streams = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._json({"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                if self.path.endswith("/embeddings"):
                    texts = body.get("input")
                    texts = [texts] if isinstance(texts, str) else list(texts or [])
                    data = [{"object": "embedding", "index": i, "embedding": _vector(t)} for i, t in enumerate(texts)]
                    self._json({"object": "list", "data": data, "model": "fake", "usage": {"prompt_tokens": 1}})
                    return
                if "messages" in body:
                    prompt = "\n".join(_content(m.get("content")) for m in body["messages"])
                else:
                    prompt = str(body.get("prompt", ""))
                with owner.lock:
                    answer = owner.script.answer(prompt)
                if body.get("stream"):
                    with owner.lock:
                        owner.streams += 1
                    self._stream(answer, chat="messages" in body)
                else:
                    self._json(_completion(answer, chat="messages" in body))

            def _json(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, answer: str, *, chat: bool) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                words = answer.split(" ")
                for i, word in enumerate(words):
                    piece = word if i == 0 else " " + word
                    if chat:
                        choice: dict[str, Any] = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                        event = {"id": "s", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                                 "choices": [choice]}  # fmt: skip
                    else:
                        event = {"id": "s", "object": "text_completion", "created": 0, "model": "fake",
                                 "choices": [{"index": 0, "text": piece, "finish_reason": None}]}  # fmt: skip
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(WORD_DELAY)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="fake-model")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> StreamingModel:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _content(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def _vector(text: str) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(DIM)
    return (v / np.linalg.norm(v)).tolist()


def _completion(text: str, *, chat: bool) -> dict[str, Any]:
    usage = {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}
    if chat:
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        return {"id": "c", "object": "chat.completion", "created": 0, "model": "fake", "choices": [choice],
                "usage": usage}  # fmt: skip
    choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
    return {"id": "c", "object": "text_completion", "created": 0, "model": "fake", "choices": [choice], "usage": usage}


def make_story() -> dict[str, Any]:
    """A published project: its opening (root) and the writer's step with option 1 (W)."""
    from django.contrib.auth import get_user_model

    gw = scripted_gateway(xss_script(), dim=DIM)
    owner = get_user_model().objects.create_user("writer", password="pw")
    project = services.create_project(owner, novel_type="adventure", topic="A sunken city", start=False)
    while (job := services.next_job(project)) is not None:
        services.run_job(job, gw)
    project.refresh_from_db()
    root = project.head
    plans = list(services.state_at(root).plans)
    services.enqueue_step(project, plan=plans[0], node=root, start=False)
    while (job := services.next_job(project)) is not None:
        services.run_job(job, gw)
    project.refresh_from_db()
    Project.objects.filter(pk=project.pk).update(published=True)
    return {"pk": project.pk, "root": root.pk, "written": project.head_id,
            "root_paragraphs": list(services.state_at(root).paragraphs), "plans": plans}  # fmt: skip


@pytest.fixture
def own_server(server, tmp_path: Path) -> Iterator[tuple[Any, StreamingModel]]:
    with StreamingModel(xss_script()) as model:
        env = {
            **server.env,
            "LLM_MODEL": "openai:fake",
            "LLM_BASE_URL": model.base_url,
            "EMBEDDING_MODEL": "openai:fake-embed",
            "LLM_TIMEOUT": "10",
            "LLM_RETRY_BASE_DELAY": "0.05",
            "LLM_CACHE": "off",
        }
        own = start_server(env, db_path=server.db_path, static_root=server.static_root,
                           log_path=tmp_path / "daphne.log")  # fmt: skip
        try:
            yield own, model
        finally:
            stop_server(own)


def texts(page: Any, selector: str) -> list[str]:
    return page.locator(selector).all_text_contents()


def no_horizontal_scroll(page: Any) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def wait_node(page: Any, node: int, timeout_ms: int = 20_000) -> None:
    page.wait_for_function(
        "(n) => document.body.dataset.node === String(n) && document.body.dataset.reader === 'ready'",
        arg=node,
        timeout=timeout_ms,
    )


def test_a_reader_follows_the_story_and_has_a_new_step_written_live(own_server, new_page) -> None:
    own, model = own_server
    story = in_thread(make_story)
    pk = story["pk"]
    page = new_page(base_url=own.url)
    page.goto(f"/read/{pk}/")
    wait_node(page, story["root"])

    # The opening, as text: the markup in it is shown, never run.
    assert page.locator("#story-title").text_content() == "The Glass Harbour"
    paragraphs = texts(page, "#story p")
    assert paragraphs == story["root_paragraphs"] and XSS in paragraphs[0]
    options = texts(page, "#options .option-text")
    assert options == story["plans"] and all(XSS in o for o in options)
    assert texts(page, "#options .option-num") == ["1.", "2.", "3."]
    assert page.locator("#reader img").count() == 0
    assert page.locator("#back").is_disabled() and page.locator("#restart").is_disabled()
    page.screenshot(path=str(SHOTS / "reader-desktop-opening.png"), full_page=True)

    # Option 1 was written by the writer: followed at once.
    jobs = Job.objects.count()
    page.locator("#options .option").first.click()
    wait_node(page, story["written"], timeout_ms=5_000)
    assert Job.objects.count() == jobs
    assert len(texts(page, "#story p")) == 2 and page.locator("#back").is_enabled()
    assert not page.locator("#writing").is_visible()

    # Option 2 here was never written: the server's model writes it while the page shows it.
    streams = model.streams
    second = page.locator("#options .option").nth(1)
    chosen = second.locator(".option-text").text_content()
    second.click()
    page.wait_for_function("() => document.body.dataset.reader === 'writing'", timeout=10_000)
    page.wait_for_function("() => document.getElementById('writing-text').textContent.length > 0", timeout=20_000)
    assert page.locator("#writing").is_visible()
    assert page.locator("#options .option").nth(1).get_attribute("class") == "option chosen"
    assert all(b.is_disabled() for b in page.locator("#options .option").all())
    page.screenshot(path=str(SHOTS / "reader-desktop-writing.png"), full_page=True)
    streamed = page.locator("#writing-text").text_content() or ""
    assert streamed and "Paragraph" in streamed
    page.wait_for_function(
        "() => document.body.dataset.reader === 'ready' && document.querySelectorAll('#story p').length === 3",
        timeout=40_000,
    )
    assert model.streams == streams + 1
    new = Node.objects.get(pk=int(page.evaluate("() => document.body.dataset.node")))
    path = ReaderPath.objects.get(pk=new.reader_id)
    assert new.parent_id == story["written"] and new.plan == chosen and path.reader.startswith("session:")
    last = texts(page, "#story p")[-1]
    assert last == services.state_at(new).paragraphs[-1] and XSS in last
    assert not page.locator("#writing").is_visible()
    assert page.locator("#reader img").count() == 0
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    page.screenshot(path=str(SHOTS / "reader-desktop-written.png"), full_page=True)

    # Another reader starts at the opening.
    other = new_page(base_url=own.url)
    other.goto(f"/read/{pk}/")
    wait_node(other, story["root"])
    assert texts(other, "#story p") == story["root_paragraphs"]

    # Back one step, then start over (after a confirm).
    page.locator("#back").click()
    wait_node(page, story["written"])
    assert len(texts(page, "#story p")) == 2
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#restart").click()
    wait_node(page, story["root"])
    assert texts(page, "#story p") == story["root_paragraphs"]
    # Dismissed: nothing happens.
    page.locator("#options .option").first.click()
    wait_node(page, story["written"])
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#restart").click()
    page.wait_for_timeout(300)
    assert page.evaluate("() => document.body.dataset.node") == str(story["written"])

    # A phone: one column, no horizontal scroll, big buttons.
    phone = new_page(base_url=own.url, viewport={"width": 390, "height": 844}, device_scale_factor=2,
                     is_mobile=True, has_touch=True)  # fmt: skip
    phone.goto(f"/read/{pk}/")
    wait_node(phone, story["root"])
    phone.locator("#options .option").first.tap()
    wait_node(phone, story["written"])
    assert no_horizontal_scroll(phone)
    box = phone.locator("#options .option").first.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 300
    phone.screenshot(path=str(SHOTS / "reader-phone.png"), full_page=True)
    assert no_horizontal_scroll(page)

    for p in (page, other, phone):
        assert p.evaluate("() => typeof window.__xss") == "undefined"
        assert p.console_errors == [] and p.page_errors == [], (p.console_errors, p.page_errors)


def test_an_unpublished_story_is_not_found(server, new_page) -> None:
    story = in_thread(make_story)
    Project.objects.filter(pk=story["pk"]).update(published=False)
    page = new_page()
    response = page.goto(f"/read/{story['pk']}/")
    assert response is not None and response.status == 404


def test_the_page_in_chinese(server, new_page) -> None:
    story = in_thread(make_story)
    page = new_page(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-Hans"})
    page.goto(f"/read/{story['pk']}/")
    wait_node(page, story["root"])
    assert page.locator("#choices-heading").text_content() == "接下来会发生什么？"
    assert "后退一步" in (page.locator("#back").text_content() or "")
    page.screenshot(path=str(SHOTS / "reader-zh.png"), full_page=True)
    assert page.console_errors == [] and page.page_errors == []
