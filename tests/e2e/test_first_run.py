"""A new user's first run (issue 13, section 4): from the 3-agent base to a running town,
and a run's demo made from the page."""

from __future__ import annotations

from typing import Any

from reverie import services
from reverie.models import Simulation
from tests.e2e.helpers import wait_for_town, wait_until
from tests.e2e.test_smallville import BASE, add_walk, fork, guard_demo_file

FORK_TIMEOUT_MS = 180_000  # a fork embeds the base's starting relationships (the bundled embedder loads first)


def test_sign_in_open_the_3_agent_base_and_start_a_run_from_it(page: Any, make_user: Any) -> None:
    services.ensure_base(BASE)
    # Signed out, the base's page says what a base is and how to sign in to start a run.
    page.goto(f"/simulator_home/{BASE}/")
    wait_for_town(page)
    assert page.locator("#base-state").inner_text() == "Base town"
    assert not page.locator("#run-state").is_visible()  # no "Paused" badge on a base
    sign_in = page.get_by_role("link", name="Sign in to start a run from this town.")
    assert sign_in.is_visible()
    assert page.page_errors == []

    # Signing in from there comes back to the base, now with the form.
    user = make_user()
    sign_in.click()
    page.wait_for_url("**/accounts/login/**")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(user.raw_password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").first.click()
    assert page.url.endswith(f"/simulator_home/{BASE}/"), page.url
    wait_for_town(page)
    name_field = page.locator("#start-run input[name=name]")
    name = name_field.input_value()
    assert name == "the_ville_isabella_maria_klaus-1" and not Simulation.objects.filter(name=name).exists()

    with page.expect_navigation(timeout=FORK_TIMEOUT_MS):
        page.get_by_role("button", name="Start a run from this town").click()
    assert page.url.endswith(f"/simulator_home/{name}/"), page.url
    wait_for_town(page)
    run = Simulation.objects.get(name=name)
    assert run.owner_id == user.pk and run.forked_from.name == BASE
    # The new run's live page: the controls, the run's own badge, no base notice.
    assert page.locator("#town-controls button[data-action=play]").is_visible()
    assert page.locator("#run-state").is_visible() and page.locator("#base-state").count() == 0
    assert page.locator(".town-title").inner_text() == name
    # /simulator_home now opens this user's run.
    page.goto("/simulator_home")
    assert page.url.endswith(f"/simulator_home/{name}/")
    assert page.page_errors == []


def test_make_the_demo_from_a_run_without_one(signed_in_page: Any, demo_files: list) -> None:
    page = signed_in_page
    sim = fork("e2e-make-demo")
    add_walk(sim, 5)
    demo_file = guard_demo_file(sim, demo_files)
    page.goto(f"/simulator_home/{sim.name}/")
    wait_for_town(page)
    nav = page.locator("#site-nav a")
    assert nav.filter(has_text="Live").count() == 1
    assert nav.filter(has_text="Demo").count() == 0  # no link to a missing demo
    with page.expect_navigation(url=f"**/demo/{sim.name}/0/3/", timeout=60_000):
        page.get_by_role("button", name="Make the demo").click()
    wait_until(demo_file.is_file, timeout=10, message="the demo file was not written")
    wait_for_town(page)
    assert page.locator("#last-step").inner_text() == "4"
    assert page.page_errors == []
