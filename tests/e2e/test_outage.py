"""The live page during a model-server outage: "waiting for the model server", how long, then playing again.

A second daphne, on the same test database, runs its model calls against
bench/chaos_server.py. The run is started from the page; the chaos server stops
listening for a few seconds during the first step; the page must show the wait with
a running clock, then go back to "Playing" and keep stepping, without an error.
"""

from __future__ import annotations

from pathlib import Path

from reverie import services
from reverie.models import Simulation
from tests.chaos import load_chaos_server
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.helpers import login, screenshot, wait_until

OUTAGE_SECONDS = 8.0


def test_the_live_page_shows_an_outage_and_the_run_resumes(server, new_page, make_user, tmp_path: Path) -> None:
    chaos = load_chaos_server()
    from llm.servers import free_port

    # Clean answers; the outage begins right after the 8th request, inside the first step.
    config = chaos.ChaosConfig(fault_rate=0.0, seed=5, outage_after=8, outage_seconds=OUTAGE_SECONDS)
    model_server = chaos.ChaosServer(free_port(), config).start()
    env = {
        **server.env,
        "LLM_MODEL": "openai:chaos",
        "LLM_BASE_URL": model_server.base_url,
        "EMBEDDING_MODEL": "openai:chaos-embed",
        "LLM_TIMEOUT": "5",
        "LLM_RETRY_BASE_DELAY": "0.05",
    }
    own = start_server(env, db_path=server.db_path, static_root=server.static_root, log_path=tmp_path / "daphne.log")
    try:
        sim = services.fork("base_the_ville_isabella_maria_klaus", "outage-town")
        page = new_page(base_url=own.url)
        login(page, make_user())
        page.goto(f"/simulator_home/{sim.name}/")
        page.wait_for_function("() => document.getElementById('conn-state').textContent === 'Live'")
        with page.expect_response(lambda r: r.url.endswith("/control/")) as info:
            page.locator("#town-controls [data-action=play]").click()
        assert info.value.status == 200

        badge = page.locator("#run-state")
        page.wait_for_function(
            "() => document.getElementById('run-state').classList.contains('waiting')", timeout=30_000
        )
        first = badge.text_content() or ""
        assert first.startswith("Waiting for the model server · 0:0"), first
        assert "stopped accepting connections" in (badge.get_attribute("title") or "")
        row = Simulation.objects.get(pk=sim.pk)
        assert row.waiting_since is not None and row.run_state == "playing"
        screenshot(page).save(tmp_path / "waiting.png")
        page.wait_for_timeout(2100)
        later = badge.text_content() or ""
        assert later != first and later.startswith("Waiting for the model server · 0:0"), (first, later)

        # The server comes back: the badge says Playing again and steps go on.
        page.wait_for_function(
            "() => document.getElementById('run-state').textContent === 'Playing'",
            timeout=int((OUTAGE_SECONDS + 30) * 1000),
        )
        fresh = wait_until(
            lambda: (s := Simulation.objects.get(pk=sim.pk)).step >= 3 and s,
            timeout=60,
            message="the run did not step on after the outage",
        )
        assert fresh.waiting_since is None and fresh.run_error == ""
        assert len(model_server.stats()["outages"]) == 1
        with page.expect_response(lambda r: r.url.endswith("/control/")):
            page.locator("#town-controls [data-action=pause]").click()
        wait_until(lambda: Simulation.objects.get(pk=sim.pk).runner == "", timeout=60, message="runner still busy")
        assert page.page_errors == []
    finally:
        stop_server(own)
        model_server.stop()
