"""The evaluation page (/sim/<sim>/eval/) in a real browser, after a real `reverie_eval`.

The measures run through the management command and the services in the test process,
with the scripted interviewee and judge of tests/reverie/test_reverie_eval.py (the
bundled model's own run of the command is tests/reverie/test_reverie_eval.py's `model`
test); their traces go to the database through the same recorder a run uses, so the
page links every answer to the prompts and replies behind it.
"""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.management import call_command

from environment.llmlog.store import DjangoRecorder
from reverie import services
from reverie.models import EvalResult, Simulation
from tests.e2e.helpers import distinct_colours, element_box, in_thread, screenshot
from tests.reverie.test_reverie_eval import gateway as eval_gateway

BASE = "base_the_ville_isabella_maria_klaus"
NAME = "e2e-eval"


def measured(tmp_path, monkeypatch) -> Simulation:
    """A fork with history at step 0 and Maria's invitation at step 10, then diffusion and
    relationships measured by `manage.py reverie_eval`."""
    gw = eval_gateway()
    gw.recorder = DjangoRecorder()
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gw)
    sim = services.fork(BASE, NAME, gateway=gw)
    in_thread(services.load_history, sim, "the_ville/agent_history_init_n3.csv", gateway=gw)
    Simulation.objects.filter(pk=sim.pk).update(step=10, current_time=sim.current_time + timedelta(seconds=100))
    sim.refresh_from_db()
    later = tmp_path / "later.csv"
    later.write_text("Name,Whisper\nMaria Lopez,Isabella Rodriguez invited Maria to the Valentine's Day party\n")
    in_thread(services.load_history, sim, str(later), gateway=gw)
    for measure in ("diffusion", "relationships"):
        out = io.StringIO()
        in_thread(call_command, "reverie_eval", NAME, measure, stdout=out)
        assert f"stored; see /sim/{NAME}/eval/" in out.getvalue()
    return sim


def test_the_results_page_draws_each_measure_and_links_answers_to_their_traces(page, tmp_path, monkeypatch):
    sim = measured(tmp_path, monkeypatch)
    diffusion = EvalResult.objects.get(simulation=sim, measure="diffusion")
    resp = page.goto(f"/sim/{NAME}/eval/")
    assert resp is not None and resp.status == 200
    text = page.locator("body").inner_text()
    # Isabella knew of the party at step 0; Maria heard of it by step 10; Klaus's yes has no memory behind it.
    assert "33.3%" in text and "66.7%" in text and "4.0% → 52.0%" in text
    assert "Klaus Mueller" in page.locator("#diffusion td", has_text="Klaus").first.inner_text()
    # The charts are drawn, not empty boxes: the diffusion chart and a graph per state.
    chart = page.locator("#diffusion figure.chart svg")
    assert chart.count() == 1 and chart.locator("path").count() >= 1
    graphs = page.locator("#relationships svg")
    assert graphs.count() == 2 and graphs.first.locator("circle").count() == 3
    shot = screenshot(page, full_page=True)
    shot.save(tmp_path / "eval.png")
    assert distinct_colours(shot, element_box(page, "#diffusion figure.chart svg")) > 8
    assert distinct_colours(shot, element_box(page, "#relationships svg")) > 4
    # From the page to Maria's answers, and from one answer to the calls behind it.
    page.locator(f'a[href="/sim/{NAME}/eval/{diffusion.pk}/"]').first.click()
    page.wait_for_url(f"**/sim/{NAME}/eval/{diffusion.pk}/")
    maria = next(i for i in diffusion.interviews if i["persona"] == "Maria Lopez" and i["state"] == "now"
                 and i["scenario"] == "party")  # fmt: skip
    row = page.locator("tr").filter(has_text="Maria Lopez").filter(has_text="now · party")
    assert row.count() == 1 and maria["answer"] in row.inner_text()
    assert "knows" in row.inner_text()
    row.locator("a", has_text="traces").first.click()
    page.wait_for_url(f"**/sim/{NAME}/eval/{diffusion.pk}/{maria['n']}/traces/")
    assert "eval.judge" in page.locator("body").inner_text()
    answer = page.locator("details.trace").filter(has_text="interview.answer")
    answer.locator("summary").click()  # opens the answer call: its prompt and raw reply
    shown = answer.inner_text()
    assert "invited Maria to the Valentine" in shown  # the memory her answer was written from
    assert maria["answer"] in shown
    assert page.console_errors == [] and page.page_errors == []
