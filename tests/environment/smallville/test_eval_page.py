"""The evaluation page (/sim/<sim>/eval/), a result's interviews and their traces."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from environment.llmlog.models import LLMCall
from reverie import services
from reverie.models import EvalResult

BASE = "base_the_ville_isabella_maria_klaus"
NAMES = ["Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def results():
    sim = services.fork(BASE, "eval-page")
    party = {"description": "A party <b>at</b> Hobbs Cafe", "paper": [4.0, 52.0],
             "start": {"aware": ["Isabella Rodriguez"], "hallucinated": [], "asked": 3, "pct": 33.3},
             "now": {"aware": NAMES[:2], "hallucinated": ["Klaus Mueller"], "asked": 3, "pct": 66.7}}  # fmt: skip
    first = {"steps": {"start": 0}, "scenarios": {"party": {**party, "now": None}}}
    EvalResult.objects.create(simulation=sim, measure="diffusion", step=0, status="done", summary=first)
    diffusion = EvalResult.objects.create(
        simulation=sim, measure="diffusion", step=360, status="done",
        summary={"steps": {"start": 0, "now": 360}, "scenarios": {"party": party}},
    )  # fmt: skip
    diffusion.interviews = [{"n": 1, "item": diffusion.item(1), "persona": "Maria Lopez", "state": "now",
                             "scenario": "party", "question": "Do you know of a party?",
                             "answer": "Yes, Isabella's party <script>x</script>",
                             "verdict": {"aware": True, "evidence": "Isabella's party", "backed": True,
                                         "judged": True, "counts": True, "hallucinated": False}}]  # fmt: skip
    diffusion.save()
    EvalResult.objects.create(
        simulation=sim, measure="relationships", step=360, status="done",
        summary={"names": NAMES, "paper": [0.167, 0.74],
                 "start": {"edges": [NAMES[:2]], "hallucinated": [], "asked": 6, "density": 0.167},
                 "now": {"edges": [NAMES[:2], NAMES[1::-1], NAMES[::2]], "hallucinated": [], "asked": 6,
                         "density": 0.5}},
    )  # fmt: skip
    EvalResult.objects.create(
        simulation=sim, measure="attendance", step=360, status="done",
        summary={"place": "Hobbs Cafe", "starts": "2023-02-14T17:00:00", "ends": "2023-02-14T19:00:00",
                 "reached": False, "host": "Isabella Rodriguez", "invited": ["Maria Lopez"],
                 "attended": {"Maria Lopez": 40, "Klaus Mueller": 5}, "invited_attended": ["Maria Lopez"],
                 "uninvited_attended": ["Klaus Mueller"], "first_heard": {"Maria Lopez": "2023-02-13T09:00:00"},
                 "host_minutes": 120},
    )  # fmt: skip
    LLMCall.objects.create(created=datetime(2024, 1, 1, tzinfo=UTC), run=sim.run_label, item=diffusion.item(1),
                           purpose="eval.judge", kind="structured", model="scripted", outcome="first_try",
                           prompt="The fact to look for: a party", raw=['{"aware": true}'],
                           parsed={"aware": True})  # fmt: skip
    return sim, diffusion


def test_the_page_shows_each_measure_beside_the_paper(client, results):
    _sim, diffusion = results
    page = client.get("/sim/eval-page/eval/").content.decode()
    assert "33.3%" in page and "66.7%" in page and "4.0% → 52.0%" in page and "Klaus Mueller" in page
    assert "<svg" in page and "relationship-graph" in page and "Density" in page and "0.5" in page
    assert "Paper: 12 invited, 5 came." in page and "has not reached the end of the party" in page
    assert f"/sim/eval-page/eval/{diffusion.pk}/" in page
    assert "A party &lt;b&gt;at&lt;/b&gt; Hobbs Cafe" in page  # escaped
    assert "<polyline" in page or "<path" in page  # the diffusion-over-time chart has a line
    assert 'href="/sim/eval-page/eval/"' in client.get("/sim/eval-page/plots/").content.decode()  # in the nav


def test_answers_link_to_their_traces(client, results):
    _sim, diffusion = results
    page = client.get(f"/sim/eval-page/eval/{diffusion.pk}/").content.decode()
    assert "Isabella&#x27;s party &lt;script&gt;" in page and "knows" in page
    traces_url = f"/sim/eval-page/eval/{diffusion.pk}/1/traces/"
    assert traces_url in page
    traces = client.get(traces_url).content.decode()
    assert "eval.judge" in traces and "The fact to look for: a party" in traces
    assert client.get(f"/sim/eval-page/eval/{diffusion.pk}/9/traces/").status_code == 404
    assert client.get("/sim/eval-page/eval/99999/").status_code == 404
    assert client.get("/sim/no-such-sim/eval/").status_code == 404


def test_the_page_speaks_chinese(client, results):
    page = client.get("/sim/eval-page/eval/", headers={"Accept-Language": "zh-Hans"}).content.decode()
    assert "评估" in page and "信息传播" in page and "论文" in page
