"""The RISE results pages (/training/, /training/<pk>/) in a real browser.

A second daphne (module scope, on the same test database) answers with the student
model server (tests/training/student_server.py: wrong at turn 1, right once told so,
GSM8K style). A permitted user starts an evaluation from the list page, watches its
progress arrive over the websocket until it finishes, reads the metrics table and the
"fixed at turn 2" problems; screenshots at 1440x900 and 390x844 go to /tmp like the
other browser tests' (training-*.png).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.helpers import create_user, login, wait_until
from tests.training.student_server import StudentServer

SHOTS = Path("/tmp")
XSS_NAME = "<img src=x onerror=window.__xss=1> student"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
FOUR_FIXED_AT_TURN_2 = """() => {
    const items = [...document.querySelectorAll('#items li')];
    const fixed = (li) => li.querySelector('.turn[data-turn="2"]')?.dataset.change === 'fixed';
    return items.length === 4 && items.every(fixed);
}"""
# Where the first problem's turn cells sit: one value for a row (top) or a column (left).
FIRST_ITEM_TURNS = """(side) => [...document.querySelectorAll('#items li:first-child .turn')]
    .map((cell) => Math.round(cell.getBoundingClientRect()[side]))"""


@pytest.fixture(scope="module")
def student() -> Iterator[StudentServer]:
    from training.envs import get_env

    env = get_env("gsm8k")
    # A second per answer: the page connects while the first turn is still being answered.
    server = StudentServer({p.question: env.gold_answer(p.gold) for p in env.load(None)}, delay=1.0)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def training_server(
    server: Server, student: StudentServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A daphne like `server` whose model is the student (one for this module's tests)."""
    env = {
        **server.env,
        "LLM_MODEL": "openai:student",
        "LLM_BASE_URL": student.base_url,
        "LLM_API_KEY": "e2e",
        "LLM_CACHE": "off",
        "LLM_TIMEOUT": "20",
        "LLM_RETRY_BASE_DELAY": "0.05",
    }
    log = tmp_path_factory.mktemp("training-server") / "daphne.log"
    own = start_server(env, db_path=server.db_path, static_root=server.static_root, log_path=log)
    try:
        yield own
    finally:
        stop_server(own)


@pytest.fixture(autouse=True)
def _runs_cleaned() -> Iterator[None]:
    """Let the server's runner finish before the database is flushed, and remove the
    results the page-started runs wrote under storage/rise/page/."""
    yield
    from training.models import RiseRun

    wait_until(lambda: not RiseRun.objects.exclude(runner="").exists(), timeout=60, message="a RISE runner is busy")
    for log_dir in RiseRun.objects.values_list("log_dir", flat=True):
        if Path(log_dir).parent.name == "page":
            shutil.rmtree(log_dir, ignore_errors=True)


def researcher(new_page: Any, training_server: Server, username: str, **context: Any) -> Any:
    """A page on `training_server`, signed in as a user who may start RISE runs."""
    from django.contrib.auth.models import Permission

    page = new_page(base_url=training_server.url, **context)
    user = create_user(username, permissions=())
    user.user_permissions.add(Permission.objects.get(content_type__app_label="training", codename="add_riserun"))
    login(page, user)
    page.user = user
    return page


def no_sideways_scroll(page: Any) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"


def test_an_evaluation_started_from_the_page_runs_live_to_its_metrics(
    new_page: Any, training_server: Server, student: StudentServer
) -> None:
    page = researcher(new_page, training_server, "e2e-researcher", viewport=DESKTOP)
    frames: list[dict[str, Any]] = []

    def on_socket(ws: Any) -> None:
        if "/ws/training/" in ws.url:
            ws.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    page.goto("/training/")
    assert page.locator("#no-runs").is_visible()
    form = page.locator("#start-eval")
    assert form.locator("#id_model").input_value() == "openai:student"
    form.locator("#id_limit").fill("4")
    form.locator("#id_max_turns").fill("3")
    form.locator("#id_name").fill(XSS_NAME)
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    assert "/training/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit()
    assert page.locator("#run-name").text_content() == XSS_NAME

    # Live: the socket connects while the student answers, progress arrives, the run ends.
    page.wait_for_function("() => document.body.dataset.conn === 'connected'")
    page.wait_for_function("() => document.body.dataset.status === 'finished'", timeout=90_000)
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "state" and "progress" in kinds, kinds
    progress = [f for f in frames if f["type"] == "progress"]
    assert progress[-1]["turn"] == 3 and progress[-1]["run"]["finished_items"] == 4
    assert frames[-1]["type"] == "state" and frames[-1]["run"]["status"] == "finished"
    assert page.locator("#progress-text").text_content().startswith("4 of 4 problems finished")

    # The metrics table: wrong at turn 1, right at turns 2 and 3.
    rows = page.locator("#metrics-rows tr")
    assert rows.count() == 3
    assert rows.nth(0).locator("td").nth(0).text_content() == "0%"
    assert rows.nth(1).locator("td").nth(0).text_content() == "100%"
    assert rows.nth(1).locator("td").nth(3).text_content() == "4"  # fixed at turn 2
    headline = page.locator("#headline").text_content()
    assert "m1@t1" in headline and "p1@t3" in headline and "100%" in headline
    page.wait_for_function(
        "() => { const img = document.getElementById('chart'); return img.complete && img.naturalWidth > 0; }"
    )

    # Fixed at turn 2: all four problems, each turn 2 marked "fixed".
    page.locator('#filters button[data-filter="fixed"][data-turn="2"]').click()
    # Every problem here is fixed at turn 2, so the unfiltered list already shows four such
    # items: wait for the filter itself to be applied, not only for the items.
    page.wait_for_function(
        """() => document.querySelector('#filters button[data-filter="fixed"][data-turn="2"]')
            .getAttribute('aria-pressed') === 'true'"""
    )
    page.wait_for_function(FOUR_FIXED_AT_TURN_2)
    assert "filter=fixed" in page.url and "turn=2" in page.url
    assert "4" in page.locator('#filters button[data-filter="fixed"][data-turn="2"] .chip-count').text_content()
    first = page.locator("#items li").first
    assert first.locator(".turn").count() == 3
    assert (
        first.locator('.turn[data-turn="1"] .turn-answer strong').text_content()
        != first.locator('.turn[data-turn="2"] .turn-answer strong').text_content()
    )
    first.locator('.turn[data-turn="2"] summary').click()
    assert "####" in first.locator('.turn[data-turn="2"] pre').text_content()
    # Turns side by side on a wide screen: the three cells share one row.
    tops = page.evaluate(FIRST_ITEM_TURNS, "top")
    assert len(set(tops)) == 1, tops
    page.locator('#filters button[data-filter="never"]').click()
    page.wait_for_function("() => document.querySelectorAll('#items li').length === 0")
    assert page.locator("#items-note").text_content() == "No problems match this filter."
    page.locator('#filters button[data-filter="fixed"][data-turn="2"]').click()
    page.wait_for_function("() => document.querySelectorAll('#items li').length === 4")
    no_sideways_scroll(page)
    assert page.evaluate("() => window.__xss === undefined && !document.querySelector('main img[src=x]')")
    page.screenshot(path=str(SHOTS / "training-run-desktop.png"), full_page=True)

    page.goto("/training/")
    row = page.locator("#runs tbody tr").first
    assert row.get_attribute("data-status") == "finished" and row.locator("svg").count() == 1
    assert "100%" in row.locator(".headline").text_content()
    page.screenshot(path=str(SHOTS / "training-list-desktop.png"), full_page=True)
    assert not page.console_errors and not page.page_errors, (page.console_errors, page.page_errors)

    # A phone, anyone (not signed in): the same run in one column, nothing sideways.
    run_url = page.locator("#runs tbody tr a").first.get_attribute("href")
    phone = new_page(base_url=training_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto(f"{run_url}?filter=fixed&turn=2")
    phone.wait_for_function("() => document.querySelectorAll('#items li').length === 4")
    phone.wait_for_function("() => document.body.dataset.conn === 'connected'")
    no_sideways_scroll(phone)
    lefts = phone.evaluate(FIRST_ITEM_TURNS, "left")
    assert len(set(lefts)) == 1, lefts  # turns stacked
    boxes = phone.evaluate(
        "() => ['metrics', 'chart-box', 'settings'].map(id => document.getElementById(id).getBoundingClientRect().left)"
    )
    assert max(boxes) - min(boxes) < 30, boxes  # metrics, chart, settings in one column
    assert phone.locator("#start-eval").count() == 0
    phone.screenshot(path=str(SHOTS / "training-run-phone.png"), full_page=True)
    phone.goto("/training/")
    no_sideways_scroll(phone)
    assert phone.locator("#start-eval").count() == 0  # anonymous: results only
    phone.screenshot(path=str(SHOTS / "training-list-phone.png"), full_page=True)
    assert not phone.console_errors and not phone.page_errors, (phone.console_errors, phone.page_errors)


def test_a_refused_form_keeps_its_values_and_an_unpermitted_post_is_403(new_page: Any, training_server: Server) -> None:
    page = researcher(new_page, training_server, "e2e-researcher-2")
    page.goto("/training/")
    page.locator("#id_max_turns").fill("4")
    page.locator("#id_context_window").fill("9")
    page.locator("#id_name").fill("too wide a window")
    with page.expect_navigation():
        page.locator("#start-eval [type=submit]").click()
    assert "context window must be between 1 and 4" in page.locator("#start-error").text_content()
    assert page.locator("#id_name").input_value() == "too wide a window"
    assert page.locator("#id_context_window").input_value() == "9"

    stranger = new_page(base_url=training_server.url)
    login(stranger, create_user("e2e-stranger", permissions=()))
    stranger.goto("/training/")
    assert stranger.locator("#start-eval").count() == 0
    token = next(c["value"] for c in stranger.context.cookies() if c["name"] == "csrftoken")
    response = stranger.request.post(
        "/training/",
        form={"env": "gsm8k", "limit": "1"},
        headers={"X-CSRFToken": token, "Referer": training_server.url},
    )
    assert response.status == 403


def test_the_run_list_follows_a_run_as_it_plays_and_shows_its_metrics_when_it_ends(
    new_page: Any, training_server: Server, student: StudentServer
) -> None:
    page = researcher(new_page, training_server, "e2e-lister", viewport=DESKTOP)
    page.goto("/training/")
    form = page.locator("#start-eval")
    form.locator("#id_limit").fill("4")
    form.locator("#id_max_turns").fill("5")
    form.locator("#id_name").fill("followed")
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    page.goto("/training/")  # leave the run page at once: the run plays on in the server
    row = page.locator("#runs tbody tr").first
    assert row.get_attribute("data-status") in ("queued", "running")
    assert row.locator(".headline").text_content().strip() == "when finished"
    # The list asks runs.json every few seconds, writes the progress in place, and
    # reloads once the run ends: the headline metrics and the small chart appear.
    page.wait_for_function(
        "() => { const tr = document.querySelector('#runs tbody tr');"
        " return tr.dataset.status === 'finished' && tr.querySelector('svg') !== null; }",
        timeout=90_000,
    )
    row = page.locator("#runs tbody tr").first
    assert row.locator(".badge").text_content() == "finished"
    assert row.locator(".progress-cell .num").text_content() == "4/4"
    assert "m1@t5" in row.locator(".headline").text_content()
    assert not page.console_errors and not page.page_errors, (page.console_errors, page.page_errors)
