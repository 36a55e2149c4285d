"""A Chinese run in the browser (§7): what its agents do, remember and plan shows in
Chinese on the live page's panel, on the map's labels and on the persona-state page,
at desktop and phone sizes.

The run's steps are made in this process with the scripted Chinese model of
tests/reverie/test_chinese_base.py (so the test does not wait minutes for the bundled
model); the pages are the real server's.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from reverie import services
from reverie.engine.memory import has_cjk
from tests.e2e.helpers import in_thread, wait_for_town
from tests.reverie.test_chinese_base import ZH, _recording_gateway

LIN = "林晓雨"


def _make_chinese_run():
    gw, _seen = _recording_gateway()
    sim = services.fork(ZH, "e2e-zh", gateway=gw)
    services.load_history(sim, "the_ville/agent_history_init_zh3.csv", gateway=gw)
    return services.run_steps(sim, 3, gateway=gw)


@pytest.fixture
def chinese_run():
    # In a thread: Playwright's sync API keeps an event loop running in this one.
    return in_thread(_make_chinese_run)


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900}, {"width": 390, "height": 844}])
def test_a_chinese_run_shows_chinese_actions_memories_and_plans(new_page, chinese_run, viewport):
    sim = chinese_run
    action = sim.personas.get(name=LIN).scratch["action"]["description"]
    assert has_cjk(action)
    page = new_page(viewport=viewport)
    page.goto(f"/simulator_home/{sim.name}/")
    wait_for_town(page)
    # The map: the selected agent's tag is its name, its action label Chinese.
    page.evaluate("(n) => window.smallville.select(n)", LIN)
    page.evaluate("() => window.smallville.wake()")
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    mine = {r["kind"]: r for r in page.evaluate("() => window.smallville.labels()") if r["owner"] == LIN}
    assert mine["tag"]["text"].endswith(LIN) and has_cjk(mine["action"]["text"]), mine
    # The panel shows the selected agent's action and memories in Chinese.
    page.wait_for_function("(n) => (document.getElementById('persona-detail') || {}).textContent.includes(n)", arg=LIN)
    page.wait_for_function("() => document.querySelectorAll('#persona-detail .memories li').length > 0", timeout=15_000)
    memories = page.locator("#persona-detail .memories li").all_inner_texts()
    assert memories and all(has_cjk(m) for m in memories), memories
    assert page.console_errors == [] and page.page_errors == []
    # Nothing overflows the phone's width.
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    # The persona-state page: the day's plan thought and the memories are Chinese.
    page.goto(f"/replay_persona_state/{sim.name}/{sim.step - 1}/{quote(LIN)}/")
    body = page.locator("body").inner_text()
    assert f"这是{LIN}" in body  # the plan thought ("这是林晓雨2月13日（星期一）的计划：…")
    memories = page.locator("tr.memory td.description").all_inner_texts()
    assert memories and sum(has_cjk(m) for m in memories) == len(memories), memories
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
