"""The server, the browser and the fixtures work: pages render without console errors."""

from __future__ import annotations

import re

from tests.e2e.helpers import distinct_colours, screenshot


def test_home_renders_without_console_errors(page, server):
    resp = page.goto("/")
    assert resp is not None and resp.status == 200
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").first.is_visible()
    assert distinct_colours(screenshot(page)) > 2  # something was drawn, not a blank white page
    assert page.console_errors == []
    assert page.page_errors == []


def test_healthz_answers_in_the_browser_from_the_test_database(page, server):
    resp = page.goto("/healthz")
    assert resp is not None and resp.status == 200
    data = resp.json()
    assert data["model"] == server.env["LLM_MODEL"]
    assert data["database"] == "SQLite"  # the engine only, never the file's path
    assert str(server.db_path) not in resp.text()
    page.goto("/")
    # The server reads the pytest test database (the home page names the file).
    assert str(server.db_path) in page.locator("#database").inner_text()
    assert page.console_errors == []
    assert page.page_errors == []


def test_an_unknown_simulation_gets_the_404_page(page):
    resp = page.goto("/replay/no-such-sim/0/")
    assert resp is not None and resp.status == 404
    text = page.locator("body").inner_text()
    assert re.search(r"not found|404", text, re.IGNORECASE), text[:500]
    # DEBUG is off: the real 404 page, not Django's technical one, and no path echoed back.
    assert "URLconf" not in page.content()
    assert "Traceback" not in page.content()
    # Chrome logs the document's own 404 as a console error; nothing else may fail.
    others = [e for e in page.console_errors if "status of 404" not in e]
    assert others == []
    assert page.page_errors == []
