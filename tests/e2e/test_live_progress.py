"""A step is visible while it runs (§3): who thinks about what and calls so far, a
pause that lands after the step says so, the last step's readout survives a reload, and
cached calls are shown as cached."""

from __future__ import annotations

import json
import os
import re

from django.utils import timezone

from environment.llmlog.models import LLMCall
from reverie import services
from reverie.models import Movement, Simulation
from reverie.selectors import frame_at
from tests.e2e.helpers import rendering_paused, wait_for_town, wait_until

BASE = "base_the_ville_isabella_maria_klaus"
NAMES = ["Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"]
MODEL_STEP_TIMEOUT = float(os.environ.get("E2E_MODEL_STEP_TIMEOUT", "240"))


def paused_and_idle(sim: Simulation) -> None:
    Simulation.objects.filter(pk=sim.pk).update(run_state="paused", run_until=None)
    wait_until(lambda: not Simulation.objects.get(pk=sim.pk).runner, timeout=2 * MODEL_STEP_TIMEOUT, message="runner")


def test_a_running_step_shows_its_progress_and_a_pause_waits_for_it(signed_in_page):
    page = signed_in_page
    sim = services.fork(BASE, "e2e-progress")
    try:
        page.goto(f"/simulator_home/{sim.name}/")
        wait_for_town(page)
        page.wait_for_function("() => document.getElementById('conn-state').className.includes('playing')")
        assert page.locator("#thinking").is_hidden()
        with page.expect_response(lambda r: r.url.endswith("/control/")):
            page.locator("#town-controls [data-action=play]").click()
        with rendering_paused(page):
            # calls finish and the page counts them, naming the agent and the purpose
            # (the first calls are the world's own, e.g. world.names; then the agents think)
            page.wait_for_function(
                """(names) => { const t = document.getElementById('thinking').textContent;
                    return /model calls: [1-9]/.test(t) && names.some((n) => t.includes(n)); }""",
                arg=NAMES,
                timeout=MODEL_STEP_TIMEOUT * 1000,
            )
            text = page.locator("#thinking").inner_text()
            assert "Thinking: step 0" in text, text
            assert any(name in text for name in NAMES), text
            assert any(p in text for p in ("plan.", "converse.", "perceive.", "reflect.", "act.", "poignancy")), text
            # pause mid-step: the badge says the pause waits for the step
            with page.expect_response(lambda r: r.url.endswith("/control/")):
                page.locator("#town-controls [data-action=pause]").click()
            # The badge is read first: if the step has still not landed after, it ran then.
            shown = page.locator("#run-state").get_attribute("data-state"), page.locator("#run-state").inner_text()
            if Simulation.objects.get(pk=sim.pk).step == 0:
                assert shown == ("pausing", "Pausing after this step…")
            page.wait_for_function(
                "() => document.getElementById('run-state').dataset.state === 'paused'",
                timeout=MODEL_STEP_TIMEOUT * 1000,
            )
        fresh = Simulation.objects.get(pk=sim.pk)
        assert fresh.step >= 1 and fresh.run_state == "paused" and not fresh.run_error
        assert page.locator("#run-state").inner_text() == "Paused"
        assert page.locator("#thinking").is_hidden()
        page.wait_for_function(f"() => document.body.dataset.step === '{fresh.step - 1}'", timeout=30_000)
        readout = page.locator("#stats").inner_text()
        assert readout.startswith("model calls: ") and readout != "model calls: 0 · tokens: 0", readout
        # the readout survives a reload
        page.reload()
        wait_for_town(page)
        page.wait_for_function("(r) => document.getElementById('stats').textContent === r", arg=readout)
        assert page.page_errors == [] and page.console_errors == []
    finally:
        paused_and_idle(sim)


def test_cached_calls_are_shown_as_cached_not_as_zero_tokens(page):
    sim = services.fork(BASE, "e2e-cached")
    Movement.objects.bulk_create(
        [Movement(simulation=sim, step=0, persona=n, x=5, y=9, emoji="🚶", description="walk @ x") for n in NAMES]
    )
    Simulation.objects.filter(pk=sim.pk).update(step=1)

    def calls(*cached: bool) -> None:
        LLMCall.objects.filter(run=sim.run_label).delete()
        for hit in cached:
            LLMCall.objects.create(created=timezone.now(), run=sim.run_label, step=0, purpose="plan.daily",
                                   kind="chat", model="m", cached=hit, prompt_tokens=0 if hit else 40,
                                   completion_tokens=0 if hit else 2)  # fmt: skip

    calls(True, True, True)
    page.goto(f"/simulator_home/{sim.name}/")
    wait_for_town(page)
    page.wait_for_function("() => document.getElementById('stats').textContent.length > 0")
    assert page.locator("#stats").inner_text() == "model calls: 3 · all cached"
    calls(True, True, False)
    page.reload()
    wait_for_town(page)
    page.wait_for_function("() => document.getElementById('stats').textContent.length > 0")
    assert page.locator("#stats").inner_text() == "model calls: 3 · tokens: 42 · 2 cached"


def test_a_steps_frame_ends_its_progress_whichever_message_comes_first(signed_in_page):
    """The runner sends frames and progress from two threads, so the page may hear a step's
    frame before the progress that says it ended (CI saw a pause stay "Pausing after this
    step…" for good after the step had landed). The websocket is scripted here to deliver
    exactly that order."""
    page = signed_in_page
    sim = services.fork(BASE, "e2e-progress-order")

    def rows(step: int) -> None:
        Movement.objects.bulk_create(
            [Movement(simulation=sim, step=step, persona=n, x=5 + step, y=9, emoji="🚶", description="walk @ x")
             for n in NAMES]
        )  # fmt: skip

    rows(0)
    Simulation.objects.filter(pk=sim.pk).update(step=1)
    sockets = []
    page.route_web_socket(re.compile(r"/ws/sim/"), lambda ws: sockets.append(ws))  # no server: the test speaks
    page.goto(f"/simulator_home/{sim.name}/")
    wait_for_town(page)
    wait_until(lambda: sockets, timeout=10, message="the page opened no websocket")
    ws = sockets[-1]

    def say(message: dict) -> None:
        ws.send(json.dumps(message))

    def badge() -> tuple[str | None, str]:
        return page.locator("#run-state").get_attribute("data-state"), page.locator("#run-state").inner_text()

    progress = {"type": "progress", "running": True, "step": 1, "calls": 4, "cached": 0, "tokens": 90,
                "purpose": "plan.daily", "item": NAMES[0], "since": timezone.now().isoformat()}  # fmt: skip
    say({"type": "state", "state": "paused", "step": 1, "error": None, "waiting_since": None, "waiting_reason": None})
    say(progress)
    page.wait_for_function("() => document.getElementById('run-state').dataset.state === 'pausing'")
    assert page.locator("#thinking").is_visible()

    rows(1)  # step 1 lands: its frame comes first, then a count sent before it, then nothing
    say({"type": "frame", "frame": frame_at(Simulation.objects.get(pk=sim.pk), 1), "stats": None, "cached": 0})
    page.wait_for_function("() => document.body.dataset.step === '1'")
    assert badge() == ("paused", "Paused")
    assert page.locator("#thinking").is_hidden()
    say({**progress, "calls": 5})
    # a message after it that shows, so the late count has surely been read
    say({"type": "state", "state": "paused", "step": 2, "error": "read", "waiting_since": None, "waiting_reason": None})
    page.wait_for_function("() => document.getElementById('town-error').textContent === 'read'")
    assert badge() == ("paused", "Paused") and page.locator("#thinking").is_hidden()

    # the next step's progress still shows
    say({"type": "state", "state": "playing", "step": 2, "error": None, "waiting_since": None, "waiting_reason": None})
    say({**progress, "step": 2, "calls": 1})
    page.wait_for_function("() => document.getElementById('thinking').textContent.includes('step 2')")
    assert badge()[0] == "playing"
    assert page.page_errors == [] and page.console_errors == []
