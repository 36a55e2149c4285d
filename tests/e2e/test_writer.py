"""The co-writing pages (/writer/, /writer/<pk>/) in a real browser, against docs/frontend_api.md.

A second daphne (module scope, on the same test database) writes with `StoryModel`, a
small OpenAI-compatible server defined here: structured calls get valid, varied
answers (the chaos server's random instances, no faults), paragraphs are streamed
word by word over server-sent events (the chaos and fake servers do not stream), and
embeddings are hashed vectors. It records every request, so a test can read the
prompt a step was written from. A step takes about a second.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.chaos import load_chaos_server
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.helpers import create_user, login, screenshot, wait_until

SHOTS = Path("/tmp")
XSS_TOPIC = "<img src=x onerror=window.__xss=1>"
XSS_PARAGRAPH = "<script>window.__xss=2</script>"
XSS_LORE = "<svg onload=window.__xss=3>"
NO_XSS = "() => window.__xss === undefined && !document.querySelector('#story img, #story script, #lore svg')"
WORDS = ["lantern", "harbour", "whisper", "silver", "door", "garden", "storm", "letter", "bridge", "clock",
         "mirror", "river", "candle", "forest", "tower", "stranger", "map", "key", "shadow", "morning"]  # fmt: skip


# --- the model server ------------------------------------------------------------------


class StoryModel:
    """OpenAI-compatible model server for the writer: valid answers, streamed paragraphs."""

    def __init__(self, *, word_delay: float = 0.04, dim: int = 32) -> None:
        chaos = load_chaos_server()
        self._instance, self._schema_of, self._vector = chaos.random_instance, chaos._schema_of, chaos._vector
        self.word_delay = word_delay
        self.dim = dim
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.serial = 0
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def prompts(self, *, streamed: bool | None = None) -> list[str]:
        """The text of every recorded request's prompt (chat messages joined)."""
        with self.lock:
            bodies = list(self.requests)
        out = []
        for body in bodies:
            if streamed is not None and bool(body.get("stream")) != streamed:
                continue
            if "messages" in body:
                out.append("\n".join(str(m.get("content", "")) for m in body["messages"]))
            elif "prompt" in body:
                out.append(str(body["prompt"]))
        return out

    def _next(self) -> int:
        with self.lock:
            self.serial += 1
            return self.serial

    def paragraph(self, serial: int) -> str:
        rng = random.Random(serial)
        sentences = []
        for _ in range(3):
            words = [rng.choice(WORDS) for _ in range(rng.randint(6, 9))]
            sentences.append(" ".join(words).capitalize() + ".")
        return " ".join(sentences)

    def answer(self, body: dict[str, Any]) -> Any:
        schema = self._schema_of(body)
        if schema is None:
            return None
        value = self._instance(schema, random.Random(self._next()))
        if isinstance(value, dict) and "drop" in value:
            value["drop"] = []  # keep the short-term memory: tests look for their own lines
        return value

    def start(self) -> StoryModel:
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._json({"object": "list", "data": [{"id": "story", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with model.lock:
                    model.requests.append(body)
                if self.path.endswith("/embeddings"):
                    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [
                        {"object": "embedding", "index": i, "embedding": model._vector(t, model.dim)}
                        for i, t in enumerate(texts)
                    ]
                    self._json({"object": "list", "data": data, "model": "story", "usage": {"prompt_tokens": 1}})
                    return
                chat = self.path.endswith("/chat/completions")
                if body.get("stream"):
                    self._stream(chat, model.paragraph(model._next()), body)
                    return
                value = model.answer(body)
                text = json.dumps(value) if value is not None else model.paragraph(model._next())
                choice: dict[str, Any] = (
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    if chat
                    else {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
                )
                usage = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
                self._json({"id": "s", "object": "chat.completion" if chat else "text_completion", "created": 0,
                            "model": "story", "choices": [choice], "usage": usage})  # fmt: skip

            def _stream(self, chat: bool, text: str, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                kind = "chat.completion.chunk" if chat else "text_completion"

                def event(data: Any) -> None:
                    self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
                    self.wfile.flush()

                def chunk(piece: str | None, finish: str | None) -> dict[str, Any]:
                    if chat:
                        choice = {"index": 0, "delta": {"content": piece} if piece else {}, "finish_reason": finish}
                    else:
                        choice = {"index": 0, "text": piece or "", "finish_reason": finish, "logprobs": None}
                    return {"id": "s", "object": kind, "created": 0, "model": "story", "choices": [choice]}

                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    words = text.split(" ")
                    for i, word in enumerate(words):
                        event(chunk(word if i == 0 else " " + word, None))
                        time.sleep(model.word_delay)
                    event(chunk(None, "stop"))
                    if (body.get("stream_options") or {}).get("include_usage"):
                        n = len(words)
                        usage = {"prompt_tokens": 300, "completion_tokens": n, "total_tokens": 300 + n}
                        event(
                            {"id": "s", "object": kind, "created": 0, "model": "story", "choices": [], "usage": usage}
                        )
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                self.close_connection = True

            def _json(self, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True, name="story-model").start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


@pytest.fixture(scope="module")
def story_model() -> Iterator[StoryModel]:
    model = StoryModel().start()
    yield model
    model.stop()


@pytest.fixture(scope="module")
def writer_server(
    server: Server, story_model: StoryModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A daphne like `server` whose model is `story_model` (one for this module's tests)."""
    env = {
        **server.env,
        "LLM_MODEL": "openai:story",
        "LLM_BASE_URL": story_model.base_url,
        "LLM_API_KEY": "e2e",
        "EMBEDDING_MODEL": "openai:story-embed",
        "LLM_CACHE": "off",
        "LLM_TIMEOUT": "20",
        "LLM_RETRY_BASE_DELAY": "0.05",
    }
    log = tmp_path_factory.mktemp("writer-server") / "daphne.log"
    own = start_server(env, db_path=server.db_path, static_root=server.static_root, log_path=log)
    try:
        yield own
    finally:
        stop_server(own)


@pytest.fixture
def writer(new_page: Any, writer_server: Server) -> Any:
    """Factory: `writer(username, **context_options)` -> a page on `writer_server`, signed in as a new user."""

    def make(username: str = "e2e-writer", **context_options: Any) -> Any:
        page = new_page(base_url=writer_server.url, **context_options)
        user = create_user(username, permissions=())
        login(page, user)
        page.user = user
        return page

    return make


@pytest.fixture(autouse=True)
def _runners_idle() -> Iterator[None]:
    """Let the server's runner finish before the test database is flushed."""
    yield
    from writer.models import Job, Project

    wait_until(
        lambda: (
            not Job.objects.filter(state__in=("running", "cancelling")).exists()
            and not Project.objects.exclude(runner="").exists()
        ),
        timeout=60,
        message="a writer runner is still busy",
    )


# --- helpers ---------------------------------------------------------------------------


def new_project(user: Any, **fields: Any) -> Any:
    """A project whose opening is queued, not started: the server's runner writes it once
    the page connects (consumers resume queued jobs)."""
    from writer import services

    fields = {"novel_type": "mystery", "topic": "a lighthouse keeper finds a message in a bottle", **fields}
    return services.create_project(user, start=False, **fields)


def open_project(page: Any, pk: int) -> None:
    """Open /writer/<pk>/ and wait until the opening is written and shown."""
    response = page.goto(f"/writer/{pk}/")
    assert response is not None and response.status == 200
    wait_ready(page)


def wait_ready(page: Any) -> None:
    page.wait_for_function(
        "() => document.body.dataset.connected === '1' && document.body.dataset.busy === '0'"
        " && document.querySelectorAll('#story .para').length > 0"
        " && document.querySelectorAll('#plans .plan-card').length > 0",
        timeout=30_000,
    )


def paragraphs(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#story .para .para-text").all_text_contents()]


def head(page: Any) -> int:
    return int(page.evaluate("() => document.body.dataset.head"))


def write_plan(page: Any, index: int = 0) -> None:
    """Click "Write this" on plan `index` and wait for the new paragraph."""
    before = page.locator("#story .para").count()
    page.locator("#plans .plan-card").nth(index).locator("[data-act=write-plan]").click()
    page.wait_for_function(
        "n => document.querySelectorAll('#story .para').length > n && document.body.dataset.busy === '0'",
        arg=before,
        timeout=30_000,
    )


def no_overflow(page: Any) -> bool:
    return bool(page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth"))


# --- tests -----------------------------------------------------------------------------


def test_create_a_project_and_write_three_steps(writer: Any) -> None:
    page = writer()
    page.goto("/writer/")
    expect_text = page.locator("#no-projects")
    assert expect_text.is_visible()
    page.fill("#id_novel_type", "mystery")
    page.fill("#id_topic", "a lighthouse keeper finds a message in a bottle")
    page.fill("#id_premise", "Mara keeps the light alone.")
    with page.expect_navigation():
        page.locator("#new-project [type=submit]").click()
    pk = int(re.search(r"/writer/(\d+)/$", page.url).group(1))  # type: ignore[union-attr]
    wait_ready(page)
    assert len(paragraphs(page)) == 1
    title = page.locator("#story-title").text_content() or ""
    assert title.strip()

    # The first step streams: its words show while the story still has one paragraph.
    page.locator("#plans .plan-card").first.locator("[data-act=write-plan]").click()
    page.wait_for_function(
        "() => document.getElementById('live-text').textContent.trim().split(' ').length >= 2"
        " && !document.getElementById('live').hidden && document.querySelectorAll('#story .para').length === 1",
        timeout=20_000,
    )
    page.wait_for_function(
        "() => document.querySelectorAll('#story .para').length === 2 && document.body.dataset.busy === '0'"
    )
    write_plan(page, 1)
    write_plan(page, 2)
    story = paragraphs(page)
    assert len(story) == 4 and len(set(story)) == 4, story
    assert page.locator("#live").is_hidden()
    assert "tokens" in (page.locator("#cost-step").text_content() or "")
    assert "4 steps" in (page.locator("#cost-total").text_content() or "")
    assert page.locator("#tree .tree-node").count() == 4
    assert page.locator("#tree .tree-node.current").get_attribute("data-node") == str(head(page))
    assert page.locator("#retrieved li").count() >= 1
    screenshot(page, full_page=True).save(SHOTS / "writer_desktop.png")

    from writer.models import Node

    assert Node.objects.filter(project_id=pk, kind="step").count() == 3
    page.goto("/writer/")
    row = page.locator(f"#projects tr[data-project='{pk}']")
    assert "mystery" in (row.text_content() or "")
    assert page.page_errors == [] and page.console_errors == []


def test_an_edited_short_term_memory_reaches_the_next_paragraph(writer: Any, story_model: StoryModel) -> None:
    page = writer()
    project = new_project(page.user)
    open_project(page, project.pk)
    marker = "Mara hides the silver key under the third stair"
    memory = page.locator("#memory")
    memory.fill(memory.input_value() + "\n" + marker)
    assert page.locator("#memory-state").text_content() == "Not saved yet"
    first = head(page)
    page.locator("#save-memory").click()
    page.wait_for_function("h => document.body.dataset.head !== String(h)", arg=first)
    page.wait_for_function("() => document.getElementById('memory-state').textContent === ''")
    assert marker in memory.input_value()
    assert page.locator("#tree .tree-node.current .node-kind").text_content() == "Edit"

    write_plan(page, 0)
    streamed = [p for p in story_model.prompts(streamed=True) if marker in p]
    assert streamed and "In the next paragraph:" in streamed[-1], "the edited memory is not in the paragraph prompt"
    assert marker in memory.input_value()  # kept by the step (the page shows the step's memory)
    assert page.page_errors == []


def test_regenerate_makes_a_branch_to_switch_to_and_compare(writer: Any) -> None:
    page = writer()
    project = new_project(page.user)
    open_project(page, project.pk)
    opening = head(page)
    write_plan(page, 0)
    first, first_story = head(page), paragraphs(page)
    page.locator("#regenerate").click()
    page.wait_for_function(
        "h => document.body.dataset.head !== String(h) && document.body.dataset.busy === '0'"
        " && document.querySelectorAll('#story .para').length === 2",
        arg=first,
    )
    second, second_story = head(page), paragraphs(page)
    assert second_story[0] == first_story[0] and second_story[1] != first_story[1]

    # The tree: two children of the opening, each marked as a branch.
    for node in (first, second):
        assert "fork" in (page.locator(f"#tree li[data-node='{node}']").get_attribute("class") or "")
    from writer.models import Node

    assert set(Node.objects.filter(parent_id=opening).values_list("pk", flat=True)) == {first, second}

    page.locator(f"#tree li[data-node='{first}'] .node-go").click()
    page.wait_for_function("h => document.body.dataset.head === String(h)", arg=first)
    page.wait_for_function("t => document.querySelector('#p-1 .para-text').textContent === t", arg=first_story[1])
    assert page.locator(f"#tree li[data-node='{first}']").get_attribute("aria-current") == "true"

    page.locator(f"#tree li[data-node='{first}'] .pick").check()
    page.locator(f"#tree li[data-node='{second}'] .pick").check()
    page.locator("#compare").click()
    view = page.locator("#compare-view")
    view.wait_for(state="visible")
    assert page.locator("#compare-note").text_content() == "The two versions part at paragraph 2."
    columns = page.locator("#compare-columns .compare-col")
    assert columns.count() == 2
    assert columns.nth(0).locator("li.same").all_text_contents() == [first_story[0]]
    assert columns.nth(0).locator("li.differs").all_text_contents() == [first_story[1]]
    assert columns.nth(1).locator("li.differs").all_text_contents() == [second_story[1]]
    screenshot(page, full_page=True).save(SHOTS / "writer_compare.png")
    page.locator("#compare-close").click()
    assert view.is_hidden()
    assert page.page_errors == []


def test_export_epub_and_markdown(writer: Any, tmp_path: Path) -> None:
    from ebooklib import ITEM_DOCUMENT, epub

    page = writer()
    project = new_project(page.user)
    open_project(page, project.pk)
    write_plan(page, 0)
    story = paragraphs(page)
    title = (page.locator("#story-title").text_content() or "").strip()
    href = page.locator("a[data-fmt=epub]").get_attribute("href")
    assert href == f"/writer/{project.pk}/export/epub/?node={head(page)}", href

    with page.expect_download() as info:
        page.locator("a[data-fmt=epub]").click()
    path = tmp_path / "story.epub"
    info.value.save_as(path)
    book = epub.read_epub(str(path))
    assert book.get_metadata("DC", "title")[0][0] == title
    text = " ".join(item.get_content().decode("utf-8") for item in book.get_items_of_type(ITEM_DOCUMENT))
    for paragraph in story:
        assert paragraph in text

    with page.expect_download() as info:
        page.locator("a[data-fmt=md]").click()
    markdown = Path(info.value.path()).read_text(encoding="utf-8")
    assert title in markdown
    for paragraph in story:
        assert paragraph in markdown

    # Publishing shows the reader page's link (and unpublishing hides it).
    from writer.models import Project

    assert page.locator("#read-link-row").is_hidden()
    page.locator("#published").check()
    page.locator("#read-link-row").wait_for(state="visible")
    assert page.locator("#read-link").get_attribute("href") == f"/read/{project.pk}/"
    assert Project.objects.get(pk=project.pk).published
    page.locator("#published").uncheck()
    page.locator("#read-link-row").wait_for(state="hidden")
    assert not Project.objects.get(pk=project.pk).published
    assert page.page_errors == []


def test_what_models_and_people_write_stays_text(writer: Any) -> None:
    page = writer()
    page.goto("/writer/")
    page.fill("#id_novel_type", "thriller")
    page.fill("#id_topic", XSS_TOPIC)
    with page.expect_navigation():
        page.locator("#new-project [type=submit]").click()
    wait_ready(page)
    assert XSS_TOPIC in (page.locator("#project-name").text_content() or "")

    page.locator("#p-0 [data-act=edit-para]").click()
    page.locator("[data-key='para:0']").fill(XSS_PARAGRAPH)
    page.locator("#p-0 .editor .button.primary").click()
    page.wait_for_function("t => document.querySelector('#p-0 .para-text')?.textContent === t", arg=XSS_PARAGRAPH)
    # A long-term memory entry's summary (its id travels as a string).
    page.locator("#p-0 [data-act=edit-entry]").click()
    page.locator("#p-0 .para-entry textarea").fill("<i>the keeper's summary</i>")
    page.locator("#p-0 .para-entry .button.primary").click()
    page.wait_for_function(
        "t => document.querySelector('#p-0 .entry-summary')?.textContent === t", arg="<i>the keeper's summary</i>"
    )

    page.locator("#lore-add").click()
    page.locator("[data-key='lore:new:name']").fill(XSS_LORE)
    page.locator("[data-key='lore:new:text']").fill(XSS_LORE + " is a sign on the door.")
    page.locator("#lore-form-slot [type=submit]").click()
    page.wait_for_function("t => document.querySelector('#lore .lore-name')?.textContent === t", arg=XSS_LORE)
    # The history's labels carry it too ("Lorebook: <svg ...>").
    assert XSS_LORE in (page.locator("#tree .tree-node.current .node-label").text_content() or "")
    assert page.evaluate(NO_XSS)

    page.goto("/writer/")
    assert XSS_TOPIC in (page.locator("#projects").text_content() or "")
    assert page.evaluate("() => window.__xss === undefined && !document.querySelector('img[src=\"x\"]')")
    assert page.page_errors == [] and page.console_errors == []


def test_another_users_project_is_not_found(writer: Any, writer_server: Server) -> None:
    owner = create_user("e2e-owner", permissions=())
    project = new_project(owner, topic="a secret diary")
    page = writer("e2e-stranger")
    response = page.goto(f"/writer/{project.pk}/")
    assert response is not None and response.status == 404
    page.goto("/writer/")
    assert "a secret diary" not in (page.locator("main").text_content() or "")
    ws = writer_server.url.replace("http://", "ws://")
    close = """(url) => new Promise((resolve) => {
        const ws = new WebSocket(url);
        const messages = [];
        ws.onmessage = (ev) => messages.push(JSON.parse(ev.data));
        ws.onclose = (ev) => resolve({code: ev.code, messages});
        setTimeout(() => resolve({code: -1, messages}), 10000);
    })"""
    for pk in (project.pk, project.pk + 1000):
        result = page.evaluate(close, f"{ws}/ws/writer/{pk}/")
        assert result["code"] == 4404, result
        assert [m["type"] for m in result["messages"]] == ["error"], result


def test_phone_layout_has_no_sideways_scroll(writer: Any) -> None:
    page = writer(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    project = new_project(page.user, topic="a very long topic " + "x" * 200)
    open_project(page, project.pk)
    long_word = "Supercalifragilistic" * 12
    page.locator("#p-0 [data-act=edit-para]").click()
    page.locator("[data-key='para:0']").fill(f"A word too long for any screen: {long_word}.")
    page.locator("#p-0 .editor .button.primary").click()
    page.wait_for_function("() => document.querySelector('#p-0 .para-text')?.textContent.includes('too long')")
    assert no_overflow(page), page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    layout = page.evaluate(
        """() => {
            const story = document.querySelector('.writer-story').getBoundingClientRect();
            const side = document.querySelector('.writer-side').getBoundingClientRect();
            return {storyRight: story.right, sideTop: side.top, storyBottom: story.bottom};
        }"""
    )
    assert layout["storyRight"] <= 390 and layout["sideTop"] >= layout["storyBottom"] - 1, layout  # one column
    button = page.locator("#plans [data-act=write-plan]").first.bounding_box()
    assert button is not None and button["height"] >= 40, button
    screenshot(page, full_page=True).save(SHOTS / "writer_phone.png")
    page.goto("/writer/")
    assert no_overflow(page)
    assert page.page_errors == []


def test_the_page_speaks_chinese(writer: Any) -> None:
    page = writer(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-Hans,zh;q=0.9"})
    project = new_project(page.user, language="zh", novel_type="悬疑", topic="灯塔看守人捡到一个漂流瓶")
    open_project(page, project.pk)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("#story-heading").text_content() == "目前的故事"
    assert page.locator("#conn-state").text_content() == "实时"
    assert page.locator("#run-state").text_content() == "就绪"
    assert page.locator("#plans [data-act=write-plan]").first.text_content() == "就写这个"
    assert page.locator("#p-0 .para-num").text_content() == "第 1 段"
    assert "个词元" in (page.locator("#cost-total").text_content() or "")
    screenshot(page, full_page=True).save(SHOTS / "writer_zh.png")
    page.goto("/writer/")
    assert page.locator("h1").text_content() == "共同写作项目"
    assert page.page_errors == []
