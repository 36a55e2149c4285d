"""The Content-Security-Policy in a real browser: no page breaks it, the town still draws.

Every response carries the policy (environment/csp.py). Chromium reports each refused
script, style, image or connection as a `securitypolicyviolation` event on the document
and as a console error; both are collected and must stay empty, while the pages keep
working: the map renders on the live, replay and demo pages, the websocket connects,
and the scripts that replaced inline handlers (site.js) run.
"""

from __future__ import annotations

import io
from urllib.parse import quote

from django.core.management import call_command

from tests.e2e.helpers import distinct_colours, element_box, login, screenshot, wait_for_town
from tests.e2e.test_smallville import add_walk, fork, guard_demo_file, high_simulation_ids, plant_memories

# Runs before any page script: keeps every violation the document reports.
COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
});
"""


def _visit(page, path: str) -> str:
    """Open `path`; return its Content-Security-Policy header (the page must answer 200)."""
    resp = page.goto(path)
    assert resp is not None and resp.status == 200, f"{path}: {resp and resp.status}"
    policy = resp.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy and "script-src 'self'" in policy, f"{path}: {policy!r}"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    return policy


def _violations(page) -> list[str]:
    found = list(page.evaluate("() => window.__csp || []"))
    found += [e for e in page.console_errors if "Content Security Policy" in e]
    return found


def _map_is_drawn(page) -> None:
    wait_for_town(page)
    canvas = element_box(page, "#town-map canvas")
    # ~3500 colours with the map drawn; ~500 when only the background and sprites are.
    assert distinct_colours(screenshot(page), canvas) > 1500, "the map is not drawn"


def test_no_page_violates_the_policy_and_the_town_still_draws(page, make_user, demo_files, tmp_path):
    page.add_init_script(COLLECT_VIOLATIONS)
    high_simulation_ids()
    sim = fork("e2e-csp")
    assert plant_memories(sim, "Isabella Rodriguez", ["Isabella opened the cafe", "Isabella baked bread"], tmp_path)
    add_walk(sim, 10)
    name = quote(sim.name)

    # Signed in, so the home page has the fork and delete forms (site.js wires their confirm).
    login(page, make_user())
    _visit(page, "/")
    assert page.locator("form.delete-form[data-confirm]").count() >= 1
    assert page.locator("#language-select[data-autosubmit]").count() == 1
    assert _violations(page) == []

    policy = _visit(page, f"/simulator_home/{name}/")
    host = page.url.split("/")[2]
    assert f"ws://{host}" in policy  # the websocket's origin is allowed
    _map_is_drawn(page)
    page.wait_for_function("() => document.getElementById('conn-state').classList.contains('playing')")
    assert _violations(page) == []

    _visit(page, f"/replay/{name}/0/")
    _map_is_drawn(page)
    assert _violations(page) == []

    demo = guard_demo_file(sim, demo_files)
    call_command("compress_sim", sim.name, stdout=io.StringIO())
    assert demo.is_file()
    _visit(page, f"/demo/{name}/0/3/")
    _map_is_drawn(page)
    assert _violations(page) == []

    # The persona state page's filter moved from an inline script to site.js: it still filters.
    _visit(page, f"/replay_persona_state/{name}/5/{quote('Isabella Rodriguez')}/")
    rows = "[...document.querySelectorAll('#memory-table tr.memory')]"
    assert page.evaluate(f"() => {rows}.length") >= 2
    page.get_by_role("searchbox").fill("bread")
    page.wait_for_function(f"() => {rows}.filter((r) => !r.hidden).length === 1")
    for path in (f"/sim/{name}/log/", f"/sim/{name}/plots/", "/accounts/login/"):
        _visit(page, path)
    assert _violations(page) == []
    assert page.page_errors == []
