"""Retroformer runs on the training pages: the list shows them beside RISE's runs, and a
retro run's page shows success by trial with the paper's figures, each task's trials
(Thought / Action / Observation), the reflections and whether the next trial improved;
filters, pages, the chart, items.json, Chinese, and a run recorded by the real command."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.environment.training.factories import METRICS, PLAYS, make_run
from tests.environment.training.retro_factories import PLAYS_RETRO, XSS, make_retro_run
from tests.training.retro_server import REFLECTION, hotpot_server
from training.models import RiseRun

pytestmark = pytest.mark.django_db

ZH = {"Accept-Language": "zh-Hans"}


def tasks_of(html: str) -> dict[str, str]:
    """Each task's <li> by its id."""
    parts = re.split(r'<li class="item retro-task" data-task="', html)[1:]
    return {part.split('"', 1)[0]: part for part in parts}


def test_the_list_shows_retro_runs_beside_rise_runs(client: Any, tmp_path: Path) -> None:
    rise = make_run(tmp_path, PLAYS[:5], name="a rise run", finished=True, metrics=METRICS)
    retro = make_retro_run(tmp_path, PLAYS_RETRO[:4])
    html = client.get("/training/").content.decode()
    assert f'href="/training/{rise.pk}/"' in html and f'href="/training/{retro.pk}/"' in html
    assert "Retroformer evaluation · hotpotqa · 3 trials" in html and "evaluation · gsm8k · 3 turns" in html
    assert "success@1" in html and "25.0%" in html and "success@3" in html and "75.0%" in html
    assert html.count("<svg") == 2 and "success by trial" in html


def test_a_retro_run_page_shows_trials_reflections_and_whether_the_next_trial_improved(
    client: Any, tmp_path: Path
) -> None:
    run = make_retro_run(tmp_path, PLAYS_RETRO[:4])
    response = client.get(f"/training/{run.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    # Success by trial (25%, 50%, 75%) with the paper's figures beside trials 1 and 3.
    rows = re.findall(r'<tr data-trial="(\d)">(.*?)</tr>', html, re.S)
    assert [n for n, _ in rows] == ["1", "2", "3"]
    assert "25.0%" in rows[0][1] and "ReAct ~34%" in rows[0][1]
    assert "50.0%" in rows[1][1] and "~" not in rows[1][1]
    assert "75.0%" in rows[2][1] and "Retroformer ~53-54% after 4 retries" in rows[2][1]
    assert "openai:actor" in html and "openai:reflector" in html and str(tmp_path) not in html
    tasks = tasks_of(html)
    assert list(tasks) == ["hotpotqa-t0", "hotpotqa-t1", "hotpotqa-t2", "hotpotqa-t3"]
    # Every trial's steps: Thought / Action / Observation.
    t1 = tasks["hotpotqa-t1"]
    assert t1.count('class="retro-trial ') == 2
    assert "Thought:" in t1 and "I know it." in t1 and '<code class="retro-action">Search[Band 1]</code>' in t1
    assert "Observation:</span> Band 1 is fronted by Singer 1." in t1
    # The reflection after the failed trial, and the next trial's change.
    assert "Reflection after trial 1" in t1 and "Reflection 1.0: I trusted the first paragraph." in t1
    assert re.findall(r'data-change="(\w+)"', t1) == ["up"] and "trial 2: reward 0 → 1" in t1
    assert "won at trial 2" in t1
    assert re.findall(r'data-change="(\w+)"', tasks["hotpotqa-t2"]) == ["same", "same"]
    assert "never won" in tasks["hotpotqa-t2"] and tasks["hotpotqa-t2"].count("Reflection after trial") == 2
    assert re.findall(r'data-change="(\w+)"', tasks["hotpotqa-t3"]) == ["down", "up"]
    assert "reward 0.5 → 0.25" in tasks["hotpotqa-t3"]
    assert "data-change" not in tasks["hotpotqa-t0"] and "Reflection after" not in tasks["hotpotqa-t0"]
    # Model text is escaped; the page offers nothing of RISE's (no script, no form, no socket).
    assert XSS not in html and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "<script" not in html.split("</header>", 1)[1] and "/ws/training/" not in html
    assert 'id="start-eval"' not in html and "run.js" not in html
    assert "css/retroformer.css" in html


def test_filters_pages_and_a_bad_filter(client: Any, tmp_path: Path) -> None:
    run = make_retro_run(tmp_path, PLAYS_RETRO[:4])
    html = client.get(f"/training/{run.pk}/", {"filter": "after"}).content.decode()
    assert list(tasks_of(html)) == ["hotpotqa-t1", "hotpotqa-t3"]
    assert 'aria-current="page" data-filter="after"' in html
    counts = dict(re.findall(r'data-filter="(\w+)">[^<]*<span class="chip-count">(\d+)</span>', html))
    assert counts == {"all": "4", "first": "1", "after": "2", "never": "1"}
    assert list(tasks_of(client.get(f"/training/{run.pk}/", {"filter": "never"}).content.decode())) == ["hotpotqa-t2"]
    bad = client.get(f"/training/{run.pk}/", {"filter": "fixed"})
    assert bad.status_code == 400 and "unknown filter 'fixed'" in bad.content.decode()
    assert client.get(f"/training/{run.pk}/", {"page": "0"}).status_code == 400
    many = make_retro_run(tmp_path, [[1.0]] * 25, name="many")
    first = client.get(f"/training/{many.pk}/").content.decode()
    assert len(tasks_of(first)) == 20 and "Page 1 of 2" in first and 'rel="next" href="?page=2"' in first
    second = client.get(f"/training/{many.pk}/", {"page": "2"}).content.decode()
    assert list(tasks_of(second)) == [f"hotpotqa-t{k}" for k in range(20, 25)]


def test_a_running_retro_run_shows_its_progress_and_the_unplayed_tasks(client: Any, tmp_path: Path) -> None:
    run = make_retro_run(tmp_path)  # the last task is not played yet: no metrics
    RiseRun.objects.filter(pk=run.pk).update(run_state="playing")
    html = client.get(f"/training/{run.pk}/").content.decode()
    assert "4 of 5 tasks finished · 9 trials played" in html and "reload the page" in html
    assert "Success by trial appears when every task is finished." in html
    assert "not played yet" in tasks_of(html)["hotpotqa-t4"]


def test_the_chart_and_items_json_of_a_retro_run(client: Any, tmp_path: Path) -> None:
    run = make_retro_run(tmp_path, PLAYS_RETRO[:4])
    svg = client.get(f"/training/{run.pk}/chart.svg").content.decode()
    assert svg.startswith("<svg") and "Success by trial" in svg and "trial" in svg
    data = client.get(f"/training/{run.pk}/items.json", {"filter": "after"}).json()
    assert data["matching"] == 2 and data["counts"]["never"] == 1 and data["pages"] == 1
    task = data["items"][0]
    assert task["id"] == "hotpotqa-t1" and task["first_win"] == 2
    assert [t["next"] for t in task["trials"]] == [{"trial": 2, "reward": 1.0, "change": "up"}, None]
    assert task["trials"][0]["steps"][0] == {
        "n": 1, "thought": f"I should look up band 1 {XSS}", "action": "Search[Band 1]",
        "observation": "Band 1 is fronted by Singer 1.", "invalid": False,
    }  # fmt: skip
    assert client.get(f"/training/{run.pk}/items.json", {"filter": "broke"}).status_code == 400


def test_the_retro_page_speaks_chinese(client: Any, tmp_path: Path) -> None:
    run = make_retro_run(tmp_path, PLAYS_RETRO[:4])
    chinese = client.get(f"/training/{run.pk}/", headers=ZH).content.decode()
    english = client.get(f"/training/{run.pk}/").content.decode()
    for text in ("Success by trial", "Tasks, trial by trial", "improved", "never won", "Reflection after trial 1"):
        assert text in english and text not in chinese, text
    assert "Thought:" in chinese  # the ReAct format's own words stay as they are
    listed = client.get("/training/", headers=ZH).content.decode()
    assert "Retroformer evaluation" not in listed and "3 trials" not in listed


@pytest.mark.django_db(transaction=True)
def test_a_run_of_the_command_shows_on_its_page(client: Any, settings: Any, tmp_path: Path) -> None:
    with hotpot_server(settings):
        call_command("run_retroformer_eval", "--env", "hotpotqa", "--actor", "openai:actor",
                     "--reflector", "openai:reflector", "--limit", "3", "--trials", "3",
                     "--log_dir", str(tmp_path / "cmd"), stdout=io.StringIO(), stderr=io.StringIO())  # fmt: skip
    run = RiseRun.objects.get(kind="retro")
    html = client.get(f"/training/{run.pk}/").content.decode()
    tasks = tasks_of(html)
    assert len(tasks) == 3 and html.count(REFLECTION.split("\n")[0]) == 3  # 0 + 1 + 2 reflections
    assert "won at trial 1" in tasks["hotpotqa-s01"] and "won at trial 3" in tasks["hotpotqa-s03"]
    assert re.findall(r'data-change="(\w+)"', tasks["hotpotqa-s03"]) == ["same", "up"]
    assert "Finish[Nobody Knows]" in tasks["hotpotqa-s03"] and "Search[" in tasks["hotpotqa-s03"]
    assert "33.3%" in html and "66.7%" in html and "100%" in html
