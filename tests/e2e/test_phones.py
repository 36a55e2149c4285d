"""Phones and long names in a real browser: nothing is wider than the screen.

At 390x844 (a phone) every page of the site is checked for sideways scroll
(`document.documentElement.scrollWidth <= clientWidth`): home, sign-in, a run's live,
replay and demo pages, its log, plots, persona state and evaluation pages, the training
list and a run's page, the writer's list, project and reader pages. The header folds into
a menu that opens with the mouse and the keyboard and shows Sign in and the language
select; the home table is one card per run; chart text stays readable. A 200-character
run name is cut with an ellipsis (full name on hover) at 1440x900 and 390x844.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.core.management import call_command

from tests.e2e.helpers import login, wait_for_town

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
ISABELLA = "Isabella Rodriguez"
NAMES = ["Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"]

# What is wider than the viewport, to name the culprits when a page overflows.
OVERFLOW = """() => {
    const root = document.documentElement;
    const width = root.clientWidth;
    if (root.scrollWidth <= width) return null;
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.right > width + 1 && r.width > 0) {
            const name = `${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join('.')}`;
            wide.push(`${name} right=${Math.round(r.right)}`);
        }
    }
    return {scrollWidth: root.scrollWidth, clientWidth: width, wide: wide.slice(0, 12)};
}"""


def overflow(page: Any) -> Any:
    return page.evaluate(OVERFLOW)


def visit(page: Any, url: str, *, town: bool = False, status: int = 200) -> None:
    resp = page.goto(url)
    assert resp is not None and resp.status == status, f"{url}: {resp and resp.status}"
    if town:
        wait_for_town(page)
    page.wait_for_load_state("load")
    assert overflow(page) is None, f"{url} is wider than the phone: {overflow(page)}"


def a_run_with_data(demo_files: list[Path]) -> Any:
    """A fork with 8 stored steps, Isabella's memories, a demo and evaluation results."""
    from environment.llmlog.models import LLMCall
    from reverie.models import EvalResult
    from tests.e2e.test_smallville import add_walk, fork, guard_demo_file, high_simulation_ids

    high_simulation_ids()
    sim = fork("e2e-phone")
    add_walk(sim, 8, chat_from=2, text="about the Valentine's Day party at Hobbs Cafe")
    guard_demo_file(sim, demo_files)
    call_command("compress_sim", sim.name, stdout=io.StringIO())
    party = {"description": "A party at Hobbs Cafe", "paper": [4.0, 52.0],
             "start": {"aware": [ISABELLA], "hallucinated": [], "asked": 3, "pct": 33.3},
             "now": {"aware": NAMES[:2], "hallucinated": [], "asked": 3, "pct": 66.7}}  # fmt: skip
    result = EvalResult.objects.create(
        simulation=sim, measure="diffusion", step=8, status="done",
        summary={"steps": {"start": 0, "now": 8}, "scenarios": {"party": party, "crush": party}},
    )  # fmt: skip
    result.interviews = [{"n": 1, "item": result.item(1), "persona": "Maria Lopez", "state": "now",
                          "scenario": "party", "question": "Do you know of a party?",
                          "answer": "Yes, Isabella's party at Hobbs Cafe on Valentine's Day " * 4,
                          "verdict": {"aware": True, "evidence": "Isabella's party", "backed": True,
                                      "judged": True, "counts": True, "hallucinated": False}}]  # fmt: skip
    result.save()
    EvalResult.objects.create(
        simulation=sim, measure="relationships", step=8, status="done",
        summary={"names": NAMES, "paper": [0.167, 0.74],
                 "start": {"edges": [NAMES[:2]], "hallucinated": [], "asked": 6, "density": 0.167},
                 "now": {"edges": [NAMES[:2], NAMES[::2]], "hallucinated": [], "asked": 6, "density": 0.333}},
    )  # fmt: skip
    LLMCall.objects.create(created=datetime(2024, 1, 1, tzinfo=UTC), run=sim.run_label, item=result.item(1),
                           purpose="eval.judge", kind="structured", model="scripted", outcome="first_try",
                           prompt="The fact to look for: a party " * 20, raw=['{"aware": true}'],
                           parsed={"aware": True})  # fmt: skip
    sim.eval_pk = result.pk
    return sim


def test_no_page_is_wider_than_a_phone(new_page: Any, make_user: Any, demo_files: list[Path], tmp_path: Path) -> None:
    from tests.e2e.test_reader import make_story
    from tests.environment.training.factories import make_run

    sim = a_run_with_data(demo_files)
    story = make_story()  # a written, published project of user "writer"
    run = make_run(tmp_path, [([0, 1], ["7", "18"]), ([1], ["18"]), ([], [])], name="phone run " * 8,
                   metrics={"accuracy": [0.5, 1.0], "m1": [0.5, 1.0], "p1": [0.5, 0.5]}, finished=True)  # fmt: skip

    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    visit(page, "/")
    visit(page, "/accounts/login/")
    visit(page, f"/simulator_home/{sim.name}/", town=True)
    visit(page, f"/replay/{sim.name}/0/", town=True)
    visit(page, f"/demo/{sim.name}/0/3/", town=True)
    visit(page, f"/sim/{sim.name}/log/")
    visit(page, f"/sim/{sim.name}/log/?persona={quote(ISABELLA)}")
    visit(page, f"/sim/{sim.name}/plots/")
    visit(page, f"/replay_persona_state/{sim.name}/5/{quote(ISABELLA)}/")
    visit(page, f"/sim/{sim.name}/eval/")
    visit(page, f"/sim/{sim.name}/eval/{sim.eval_pk}/")
    visit(page, f"/sim/{sim.name}/eval/{sim.eval_pk}/1/traces/")
    visit(page, "/training/")
    visit(page, f"/training/{run.pk}/")
    visit(page, "/sim/no-such-run/log/", status=404)
    visit(page, f"/read/{story['pk']}/")

    # Signed in: the home page with the fork form and the delete buttons, the writer's pages.
    login(page, make_user())
    visit(page, "/")
    visit(page, "/training/")
    writer = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    from django.contrib.auth import get_user_model

    owner = get_user_model().objects.get(username="writer")
    owner.raw_password = "pw"
    login(writer, owner)
    visit(writer, "/writer/")
    visit(writer, f"/writer/{story['pk']}/")
    assert page.page_errors == [] and writer.page_errors == []


def test_the_menu_opens_on_a_phone_and_shows_sign_in_and_the_language(new_page: Any, make_user: Any) -> None:
    from tests.e2e.test_smallville import fork

    sim = fork("e2e-phone-menu")
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    visit(page, f"/simulator_home/{sim.name}/", town=True)
    toggle = page.locator("#nav-toggle")
    sign_in = page.locator(".site-nav a.auth")
    language = page.locator("#language-select")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert toggle.get_attribute("aria-controls") == "site-nav"
    assert not sign_in.is_visible() and not language.is_visible()
    # With the menu folded there is room for the site's name, the way back home.
    brand = page.locator(".site-header .brand")
    assert brand.is_visible() and brand.bounding_box()["width"] > 100

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    for item in (sign_in, language, page.locator(".site-nav a", has_text="Plots")):
        assert item.is_visible()
        box = item.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert sign_in.inner_text().strip() == "Sign in"
    assert overflow(page) is None
    # Escape closes it and gives the focus back to the button.
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false" and not sign_in.is_visible()
    assert page.evaluate("() => document.activeElement.id") == "nav-toggle"
    # The keyboard opens it too, and Tab walks into the menu.
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true" and sign_in.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.getElementById('site-nav').contains(document.activeElement)")
    # A tap outside closes it.
    page.mouse.click(200, 600)
    assert toggle.get_attribute("aria-expanded") == "false"

    # The language select in the menu works.
    toggle.click()
    with page.expect_navigation():
        language.select_option("zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    # Signed in, the menu holds Sign out.
    login(page, make_user())
    visit(page, f"/simulator_home/{sim.name}/", town=True)
    page.locator("#nav-toggle").click()
    sign_out = page.locator(".site-nav form.auth button")
    assert sign_out.is_visible()
    box = sign_out.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]

    # On a wide screen there is no menu button: the nav is in line.
    wide = new_page(viewport=DESKTOP)
    wide.goto(f"/sim/{sim.name}/log/")
    assert not wide.locator("#nav-toggle").is_visible()
    assert wide.locator(".site-nav a.auth").is_visible() and wide.locator("#language-select").is_visible()
    assert page.page_errors == [] and wide.page_errors == []


def test_without_js_the_phone_header_still_reaches_sign_in(new_page: Any) -> None:
    page = new_page(viewport=PHONE, java_script_enabled=False)
    visit(page, "/")
    assert not page.locator("#nav-toggle").is_visible()
    for item in (page.locator(".site-nav a.auth"), page.locator("#language-select")):
        assert item.is_visible()
        box = item.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"], box


def test_the_home_table_is_one_card_per_run_on_a_phone(new_page: Any, make_user: Any) -> None:
    from tests.e2e.test_smallville import add_walk, fork

    add_walk(fork("e2e-card"), 3)
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    login(page, make_user())
    visit(page, "/")
    row = page.locator("tr.sim-row[data-sim='e2e-card']")
    assert row.evaluate("(el) => getComputedStyle(el).display") == "block"
    for link in ("live", "replay", "log", "plots"):
        box = row.get_by_role("link", name=link, exact=True).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (link, box)
    # Each value says what it is (the header row is hidden on a phone).
    label = row.locator("td.step").evaluate("(el) => getComputedStyle(el, '::before').content")
    assert "Step" in label


def test_chart_text_is_readable_on_a_phone(new_page: Any, tmp_path: Path) -> None:
    from tests.e2e.test_smallville import add_walk, fork

    sim = fork("e2e-phone-plots")
    add_walk(sim, 2)
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    visit(page, f"/sim/{sim.name}/plots/")
    heights = page.evaluate(
        """() => [...document.querySelectorAll('figure.chart svg .axes text')]
                 .map((t) => t.getBoundingClientRect().height).filter((h) => h > 0)"""
    )
    assert heights and min(heights) >= 11, f"chart text {min(heights or [0]):.1f} px tall on a phone"
    # The title and the legend are at the left, in the phone's first view of the chart.
    title = page.locator("figure.chart svg .chart-title").first.bounding_box()
    assert title is not None and title["x"] + title["width"] <= PHONE["width"]

    # A run's chart drawn as an image (training) keeps its drawn size too, in a box that scrolls.
    from tests.environment.training.factories import make_run

    run = make_run(tmp_path, [([0, 1], ["7", "18"])], finished=True)
    visit(page, f"/training/{run.pk}/")
    width = page.evaluate("() => document.querySelector('figure.chart img').getBoundingClientRect().width")
    assert width >= 560, width


def test_a_200_character_run_name_does_not_stretch_the_home_page(new_page: Any, make_user: Any) -> None:
    from tests.e2e.test_smallville import fork

    name = ("Averylongtownnamewithnobreaks" * 7)[:200]  # nowhere to wrap
    assert len(name) == 200
    fork(name)
    user = make_user()
    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport=viewport)
        login(page, user)
        visit(page, "/")
        cell = page.locator(f"tr.sim-row[data-sim='{name}'] .sim-name")
        assert cell.get_attribute("title") == name  # the full name on hover
        cut = cell.evaluate(
            "(el) => ({ellipsis: getComputedStyle(el).textOverflow, clipped: el.scrollWidth > el.clientWidth,"
            " right: el.getBoundingClientRect().right})"
        )
        assert cut["ellipsis"] == "ellipsis" and cut["clipped"], cut
        assert cut["right"] <= viewport["width"], cut
        assert page.locator(f"tr.sim-row[data-sim='{name}']").get_by_role("link", name="live").is_visible()
    # The run's own pages name it in full (wrapped) without widening the phone's page.
    from reverie.models import Simulation
    from tests.e2e.test_smallville import add_walk

    add_walk(Simulation.objects.get(name=name), 3)
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    for url in (f"/sim/{name}/log/", f"/sim/{name}/plots/", f"/sim/{name}/eval/"):
        visit(page, url)
    visit(page, f"/simulator_home/{name}/", town=True)
