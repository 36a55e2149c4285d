"""The RISE results pages over HTTP: the run list, one run, items.json with every filter
and pages, the chart, who may start an evaluation, and one started from the page played
to the end by the real runner against the student model server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from tests.environment.training.factories import METRICS, PLAYS, make_run
from tests.training.student_server import StudentServer, gsm8k_student
from training import runner
from training.models import RiseRun

pytestmark = pytest.mark.django_db


def boot_of(html: str) -> dict[str, Any]:
    start = html.index('<script id="boot" type="application/json">') + len('<script id="boot" type="application/json">')
    return json.loads(html[start : html.index("</script>", start)])


@pytest.fixture
def storage(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGE_DIR = tmp_path  # page-started runs write their results under STORAGE_DIR/rise/page
    return tmp_path


@pytest.fixture
def permitted(client: Any) -> Any:
    user = get_user_model().objects.create_user("ann", password="pw")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="training", codename="add_riserun"))
    client.force_login(user)
    return user


def items(client: Any, run: RiseRun, **params: Any) -> Any:
    return client.get(f"/training/{run.pk}/items.json", params)


# --- the list ------------------------------------------------------------------------


def test_the_list_shows_every_run_with_status_progress_headline_and_chart(client: Any, tmp_path: Path) -> None:
    done = make_run(tmp_path, PLAYS[:5], name="finished <b>run</b>", finished=True, metrics=METRICS)
    running = make_run(tmp_path, PLAYS, name="half way")
    RiseRun.objects.filter(pk=running.pk).update(run_state="playing")
    html = client.get("/training/").content.decode()
    assert f'href="/training/{done.pk}/"' in html and f'href="/training/{running.pk}/"' in html
    assert "finished &lt;b&gt;run&lt;/b&gt;" in html and "<b>run</b>" not in html
    assert 'data-status="finished"' in html and 'data-status="running"' in html
    assert '<progress max="6" value="5"' in html  # the running run: 5 of 6 problems played
    assert "m1@t1" in html and "40.0%" in html and "p1@t3" in html and "80.0%" in html
    assert html.count("<svg") == 1  # only the finished run has metrics to draw
    # Anyone may look; only permitted users see the form.
    assert 'id="start-eval"' not in html


def test_the_form_is_for_permitted_users_with_the_defaults(client: Any, permitted: Any, settings: Any) -> None:
    settings.LLM_MODEL = "openai:some-model"
    html = client.get("/training/").content.decode()
    assert 'id="start-eval"' in html
    assert 'value="openai:some-model"' in html and 'name="max_turns" type="number" min="1" max="10" value="5"' in html
    assert '<option value="gsm8k" selected>' in html and '<option value="math"' in html
    assert 'id="id_limit" name="limit" type="number" min="1" value="10"' in html


# --- one run -------------------------------------------------------------------------


def test_the_run_page_shows_the_settings_and_boots_its_script(client: Any, tmp_path: Path) -> None:
    run = make_run(tmp_path, PLAYS[:5], name="<img src=x onerror=alert(1)>", finished=True, metrics=METRICS)
    response = client.get(f"/training/{run.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "openai:student" in html and "all turns" in html
    assert str(tmp_path) not in html  # the server's paths are not shown, only the folder's name
    boot = boot_of(html)
    assert boot["urls"] == {
        "ws": f"/ws/training/{run.pk}/",
        "items": f"/training/{run.pk}/items.json",
        "chart": f"/training/{run.pk}/chart.svg",
    }
    detail = boot["detail"]
    assert detail["state"]["status"] == "finished" and detail["metrics"]["p1"] == [0.4, 0.6, 0.8]
    assert [row["turn"] for row in detail["table"]] == [1, 2, 3] and detail["table"][1]["fixed"] == 1
    assert "js/training/run.js" in html and "js/writer/livesocket.js" in html and "<script>" not in html


def test_a_missing_run_is_a_404_everywhere(client: Any) -> None:
    for url in ("/training/999/", "/training/999/items.json", "/training/999/chart.svg"):
        assert client.get(url).status_code == 404


def test_the_chart_is_an_svg_of_the_metrics(client: Any, tmp_path: Path) -> None:
    run = make_run(tmp_path, PLAYS[:5], finished=True, metrics=METRICS)
    response = client.get(f"/training/{run.pk}/chart.svg")
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    svg = response.content.decode()
    assert svg.startswith("<svg") and "acc@t" in svg and "m1@t" in svg and "p1@t" in svg
    empty = make_run(tmp_path, PLAYS, name="running")
    assert "no data yet" in client.get(f"/training/{empty.pk}/chart.svg").content.decode()


# --- items.json ----------------------------------------------------------------------


def test_items_come_with_their_turns_side_by_side_and_the_counts(client: Any, tmp_path: Path) -> None:
    run = make_run(tmp_path, PLAYS)
    data = items(client, run).json()
    assert data["counts"] == {"all": 6, "never": 1, "fixed": {"2": 1, "3": 1}, "broke": {"2": 1, "3": 0}}
    assert data["matching"] == 6 and data["page"] == 1 and data["pages"] == 1 and data["max_turns"] == 3
    by_id = {item["id"]: item for item in data["items"]}
    fixed = by_id["gsm8k-0"]
    assert fixed["gold"] == "18" and fixed["solved"] and fixed["position"] == 1
    t1, t2, t3 = fixed["turns"]
    assert (t1["answer"], t1["reward"], t1["changed"], t1["change"]) == ("17", 0, False, "")
    assert (t2["answer"], t2["right"], t2["changed"], t2["change"]) == ("18", True, True, "fixed")
    assert (t3["changed"], t3["change"]) == (False, "")
    assert t2["model"] == "openai:student" and "#### 18" in t2["text"] and t2["samples"] == 1
    assert [(t["change"], t["changed"]) for t in by_id["gsm8k-1"]["turns"]] == [
        ("", False),
        ("broke", True),
        ("", False),
    ]
    still = by_id["gsm8k-2"]["turns"]
    assert [(t["change"], t["changed"]) for t in still] == [("", False), ("still wrong", True), ("", False)]
    unreadable = by_id["gsm8k-4"]["turns"]
    assert unreadable[1]["answer"] is None and unreadable[1]["changed"] and unreadable[2]["change"] == "fixed"
    assert by_id["gsm8k-5"]["turns"] == [] and not by_id["gsm8k-5"]["finished"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter": "fixed", "turn": 2}, ["gsm8k-0"]),
        ({"filter": "fixed", "turn": 3}, ["gsm8k-4"]),
        ({"filter": "broke", "turn": 2}, ["gsm8k-1"]),
        ({"filter": "broke", "turn": 3}, []),
        ({"filter": "never"}, ["gsm8k-2"]),
        ({}, [f"gsm8k-{i}" for i in range(6)]),
    ],
)
def test_each_filter_shows_its_problems(
    client: Any, tmp_path: Path, params: dict[str, Any], expected: list[str]
) -> None:
    run = make_run(tmp_path, PLAYS)
    data = items(client, run, **params).json()
    assert [item["id"] for item in data["items"]] == expected
    assert data["matching"] == len(expected) and data["filter"] == (params.get("filter") or None)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"filter": "lucky"}, "unknown filter 'lucky'"),
        ({"filter": "fixed"}, "needs a turn between 2 and 3"),
        ({"filter": "broke", "turn": 1}, "needs a turn between 2 and 3"),
        ({"filter": "fixed", "turn": "two"}, "turn must be a whole number"),
        ({"page": 0}, "page must be at least 1"),
    ],
)
def test_a_bad_filter_or_page_is_a_400_with_one_line(
    client: Any, tmp_path: Path, params: dict[str, Any], error: str
) -> None:
    run = make_run(tmp_path, PLAYS)
    response = items(client, run, **params)
    assert response.status_code == 400 and error in response.json()["error"]


def test_items_are_paged_twenty_at_a_time(client: Any, tmp_path: Path) -> None:
    run = make_run(tmp_path, [([0, 1], ["1", "18"])] * 45, max_turns=2)
    first = items(client, run).json()
    assert (first["pages"], first["matching"], len(first["items"])) == (3, 45, 20)
    assert first["items"][0]["position"] == 1
    last = items(client, run, page=3).json()
    assert [i["position"] for i in last["items"]] == list(range(41, 46)) and last["offset"] == 40
    fixed = items(client, run, filter="fixed", turn=2, page=2).json()
    assert fixed["counts"]["fixed"] == {"2": 45} and len(fixed["items"]) == 20 and fixed["items"][0]["position"] == 21
    assert items(client, run, page=9).json()["items"] == []  # past the end: an empty page, not an error


# --- starting an evaluation ----------------------------------------------------------


FORM = {"env": "gsm8k", "model": "openai:student", "max_turns": "3", "samples": "1", "limit": "4", "name": ""}


def test_starting_needs_the_permission(client: Any, storage: Path) -> None:
    assert client.post("/training/", FORM).status_code == 403  # anonymous
    client.force_login(get_user_model().objects.create_user("bob", password="pw"))
    assert client.post("/training/", FORM).status_code == 403  # signed in, no permission
    assert not RiseRun.objects.exists()
    superuser = get_user_model().objects.create_superuser("root", password="pw")
    client.force_login(superuser)
    assert 'id="start-eval"' in client.get("/training/").content.decode()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"max_turns": "abc"}, "max turns must be a whole number"),
        ({"max_turns": "11"}, "max turns must be between 1 and 10"),
        ({"samples": "0"}, "samples per turn must be between 1 and 16"),
        ({"context_window": "4"}, "context window must be between 1 and 3"),
        ({"limit": "0"}, "limit must be at least 1"),
        ({"env": "chess"}, "unknown env 'chess'"),
        ({"model": "gpt4"}, "model: 'gpt4': unknown model backend"),
    ],
)
def test_a_bad_form_says_why_and_keeps_the_values(
    client: Any, permitted: Any, storage: Path, monkeypatch: Any, change: dict[str, str], error: str
) -> None:
    started: list[Any] = []
    monkeypatch.setattr("training.runner.ensure_runner", started.append)
    response = client.post("/training/", {**FORM, "name": "kept <name>", **change})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="start-error" role="alert"' in html and error in html.replace("&#x27;", "'")
    assert 'value="kept &lt;name&gt;"' in html
    assert not RiseRun.objects.exists() and not started


def test_a_permitted_post_creates_the_run_and_starts_its_runner(
    client: Any, permitted: Any, storage: Path, monkeypatch: Any
) -> None:
    started: list[Any] = []
    monkeypatch.setattr("training.runner.ensure_runner", started.append)
    response = client.post("/training/", {**FORM, "name": "page run"})
    run = RiseRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/training/{run.pk}/"
    assert [r.pk for r in started] == [run.pk]
    assert (run.kind, run.name, run.env, run.total, run.owner, run.run_state) == (
        "eval",
        "page run",
        "gsm8k",
        4,
        permitted,
        "playing",
    )
    assert run.config["rollout"]["max_turns"] == 3 and run.config["rollout"]["models"] == ["openai:student"]
    assert Path(run.log_dir).parent == (storage / "rise" / "page").resolve()
    assert run.items.count() == 4


@pytest.fixture
def student(settings: Any) -> Iterator[StudentServer]:
    with gsm8k_student(settings) as server:
        yield server


@pytest.mark.django_db(transaction=True)
def test_a_run_started_from_the_page_plays_to_the_end_and_publishes_its_progress(
    client: Any, permitted: Any, storage: Path, student: StudentServer, monkeypatch: Any
) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr("environment.publish.send", lambda group, message: sent.append((group, message)))
    monkeypatch.setattr("training.runner.BATCH_SIZE", 2)  # two batches: progress between them
    response = client.post("/training/", {**FORM, "name": "student"})
    run = RiseRun.objects.get()
    assert response.status_code == 302
    assert runner.wait_idle(run, 60)
    run.refresh_from_db()
    assert run.status == "finished" and run.finished_items == 4 and run.turns_played == 12 and not run.run_error
    assert run.metrics["headline"] == {"m1@t1": 0.0, "m1@t3": 1.0, "p1@t3": 1.0}
    assert (Path(run.log_dir) / "metrics.json").exists() and (Path(run.log_dir) / "3_turns.json").exists()
    assert {group for group, _ in sent} == {f"training-run-{run.pk}"}
    progress = [m for _, m in sent if m["type"] == "training.progress"]
    assert [(m["turn"], m["played"]) for m in progress] == [(1, 2), (2, 2), (3, 2)] * 2
    assert [m["run"]["finished_items"] for m in progress] == [0, 0, 2, 2, 2, 4]
    final = sent[-1][1]
    assert final["type"] == "training.state" and final["run"]["status"] == "finished"
    assert final["run"]["metrics"]["p1"] == [0.0, 1.0, 1.0]
    # The student fixed every problem at turn 2: the filter shows all four.
    fixed = items(client, run, filter="fixed", turn=2).json()
    assert fixed["matching"] == 4 and fixed["counts"]["never"] == 0
    assert fixed["items"][0]["turns"][1]["change"] == "fixed"


@pytest.mark.django_db(transaction=True)
def test_a_model_that_cannot_load_fails_the_run_with_its_reason(
    client: Any, permitted: Any, storage: Path, settings: Any
) -> None:
    settings.LLM_BASE_URL = settings.LLM_API_KEY = ""  # openai: needs a server address or a key
    client.post("/training/", FORM)
    run = RiseRun.objects.get()
    assert runner.wait_idle(run, 30)
    run.refresh_from_db()
    assert run.status == "failed" and run.run_error and run.run_state == "paused"
    detail = client.get(f"/training/{run.pk}/")
    assert boot_of(detail.content.decode())["detail"]["state"]["error"] == run.run_error


def test_only_a_page_started_run_is_resumed_by_its_page(
    client: Any, permitted: Any, storage: Path, monkeypatch: Any, tmp_path: Path
) -> None:
    from training import actions

    started: list[int] = []
    monkeypatch.setattr("training.runner.ensure_runner", lambda run: started.append(run.pk))
    page_run = actions.start_eval(permitted, FORM)  # left "playing" with no runner: a restarted server
    command_run = make_run(tmp_path, PLAYS, name="from the command")
    RiseRun.objects.filter(pk=command_run.pk).update(run_state="playing")
    client.get(f"/training/{command_run.pk}/")
    assert started == []  # a command's run belongs to its command
    client.get(f"/training/{page_run.pk}/")
    assert started == [page_run.pk]


def test_with_celery_the_run_is_queued_for_a_worker(
    permitted: Any, storage: Path, settings: Any, monkeypatch: Any
) -> None:
    from training import actions, tasks

    queued: list[int] = []
    settings.SIM_RUNNER = "celery"
    monkeypatch.setattr(tasks.run, "delay", queued.append)
    run = actions.start_eval(permitted, FORM)
    runner.ensure_runner(run)
    assert queued == [run.pk] and tasks.run.name == "training.run"


def test_runs_json_gives_every_runs_status_and_progress(client: Any, storage: Path) -> None:
    done = make_run(storage, [([0, 1], ["17", "18"])], max_turns=2, name="done", finished=True)
    playing = make_run(storage, [([0], ["17"]), ([], [])], max_turns=2, name="playing")
    RiseRun.objects.filter(pk=playing.pk).update(run_state="playing")
    data = client.get("/training/runs.json").json()["runs"]
    assert data == [
        {"id": playing.pk, "status": "running", "finished_items": playing.finished_items, "total": 2},
        {"id": done.pk, "status": "finished", "finished_items": done.finished_items, "total": 1},
    ]
    page = client.get("/training/").content.decode()
    assert "js/training/list.js" in page and '"runs_url": "/training/runs.json"' in page
