"""Runs have owners; a base's page starts a run; "Make the demo" (issue 13, section 4)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from environment.llmlog.models import LLMCall
from reverie import selectors, services, tasks
from reverie.models import Simulation
from tests.environment.smallville.test_views import BASE, _moves

pytestmark = pytest.mark.django_db
START = "Start a run from this town"


@pytest.fixture(autouse=True)
def scripted_embedder(monkeypatch):
    from tests.reverie.engine.fakes import routed_gateway

    gateway = routed_gateway({})
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gateway)


@pytest.fixture(autouse=True)
def demo_storage(settings, tmp_path):
    settings.STORAGE_DIR = tmp_path  # demo files are named by primary key: keep the real ones safe


def _user(django_user_model, name, *perms):
    user = django_user_model.objects.create_user(name, password="pw")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="reverie", codename__in=perms))
    return user


@pytest.fixture
def mayor(django_user_model):
    return _user(django_user_model, "mayor", "run_simulation", "add_simulation", "delete_simulation")


@pytest.fixture
def watcher(django_user_model):
    return _user(django_user_model, "watcher")  # signed in, no permissions


def _rows(html):
    return re.findall(r'class="sim-row" data-sim="([^"]+)"', html)


# --- owners -------------------------------------------------------------------------------


def test_a_fork_from_the_page_belongs_to_whoever_started_it(client, mayor):
    client.force_login(mayor)
    response = client.post("/sims/fork/", {"source": BASE, "name": "mine"})
    assert response.status_code == 302 and response.url == "/simulator_home/mine/"
    assert Simulation.objects.get(name="mine").owner == mayor
    assert services.fork(BASE, "from-the-cli").owner is None  # command-line runs have no owner


def test_simulator_home_opens_your_newest_run_not_somebody_elses(client, mayor, django_user_model):
    other = _user(django_user_model, "other", "add_simulation")
    services.fork(BASE, "mine-old", owner=mayor)
    services.fork(BASE, "mine-new", owner=mayor)
    services.fork(BASE, "theirs-newest", owner=other)  # the newest run in the database
    client.force_login(mayor)
    response = client.get("/simulator_home")
    assert response.status_code == 302 and response.url == "/simulator_home/mine-new/"


def test_simulator_home_lists_the_runs_when_you_have_none(client, mayor, watcher):
    services.fork(BASE, "theirs", owner=mayor)
    for who in (None, watcher):
        if who is not None:
            client.force_login(who)
        response = client.get("/simulator_home")
        assert response.status_code == 200, who
        html = response.content.decode()
        assert "theirs" in _rows(html) and 'id="start-run"' in html


def test_watching_others_runs_stays_open(client, mayor, watcher):
    _moves(services.fork(BASE, "theirs", owner=mayor))
    for who in (None, watcher):
        if who is not None:
            client.force_login(who)
        for url in ["/simulator_home/theirs/", "/replay/theirs/0/", "/sim/theirs/log/", "/api/sim/theirs/"]:
            assert client.get(url).status_code == 200, (who, url)


def test_the_home_page_shows_your_runs_first(client, mayor, django_user_model):
    other = _user(django_user_model, "other", "add_simulation")
    services.fork(BASE, "mine", owner=mayor)
    services.fork(BASE, "theirs", owner=other)  # newer
    client.force_login(mayor)
    assert _rows(client.get("/").content.decode()) == ["mine", BASE, "theirs"]
    client.force_login(other)
    assert _rows(client.get("/").content.decode()) == ["theirs", BASE, "mine"]
    client.logout()
    assert _rows(client.get("/").content.decode()) == [BASE, "theirs", "mine"]


# --- starting a run from a base ----------------------------------------------------------------


def test_a_base_page_shows_what_a_base_is_and_how_to_sign_in(client):
    services.ensure_base(BASE)
    html = client.get(f"/simulator_home/{BASE}/").content.decode()
    assert "Base town" in html and ">Paused<" not in html
    assert f'href="/accounts/login/?next=/simulator_home/{BASE}/"' in html
    assert "Sign in to start a run from this town." in html and START not in html


def test_a_base_page_starts_a_run_with_a_free_prefilled_name(client, mayor):
    services.ensure_base(BASE)
    services.fork(BASE, "the_ville_isabella_maria_klaus-1")  # taken: the form offers the next
    client.force_login(mayor)
    html = client.get(f"/simulator_home/{BASE}/").content.decode()
    assert START in html
    assert f'<input type="hidden" name="source" value="{BASE}">' in html
    name = re.search(r'<input name="name" required maxlength="200" placeholder="my-town" value="([^"]+)">', html).group(
        1
    )
    assert name == "the_ville_isabella_maria_klaus-2"
    response = client.post("/sims/fork/", {"source": BASE, "name": name, "preset": ""})
    assert response.status_code == 302 and response.url == f"/simulator_home/{name}/"
    run = Simulation.objects.get(name=name)
    assert run.owner == mayor and run.forked_from.name == BASE and not run.is_base
    live = client.get(response.url).content.decode()
    assert 'data-action="play"' in live and "Base town" not in live


def test_starting_a_run_under_a_taken_name_is_refused_and_keeps_the_form(client, mayor):
    services.fork(BASE, "taken")
    client.force_login(mayor)
    response = client.post("/sims/fork/", {"source": BASE, "name": "taken", "preset": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "already exists" in html
    start = html.index('id="start-run"')
    form = html[start : html.index("</form>", start)]  # the start form at the top keeps what was typed
    assert 'placeholder="my-town" value="taken"' in form and f'<option value="{BASE}" selected>' in form
    assert Simulation.objects.filter(name="taken").count() == 1


def test_without_the_permission_the_form_is_not_offered_and_a_post_is_refused(client, watcher):
    services.ensure_base(BASE)
    client.force_login(watcher)
    html = client.get(f"/simulator_home/{BASE}/").content.decode()
    assert START not in html and "Your account may not start runs" in html
    response = client.post("/sims/fork/", {"source": BASE, "name": "nope"})
    assert response.status_code == 403 and not Simulation.objects.filter(name="nope").exists()


def test_the_home_form_defaults_to_the_smallest_base(client, mayor):
    services.ensure_base("base_the_ville_n25")
    services.ensure_base(BASE)
    client.force_login(mayor)
    html = client.get("/").content.decode()
    form = html[html.index('id="start-run"') :]
    selected = re.search(r'<option value="([^"]+)" selected>', form).group(1)
    assert selected == BASE
    # The 25-agent town says how long its steps take on this model (not measured here yet).
    assert "base_the_ville_n25 (25 agents): time per step on llama_cpp:bundled: not measured yet" in form
    # ...and how many model calls they make (reverie.engine.cost, compact: 4 + 11.6 per agent).
    assert "the first step makes about 100 model calls" in form and "about 290 calls per waking game hour" in form


def test_step_seconds_are_measured_from_the_traces_of_runs_of_that_size():
    run = services.fork(BASE, "measured")
    t0 = timezone.now()
    for step, (offset, seconds) in enumerate([(0, 30.0), (50, 20.0), (80, 40.0)]):
        for k in range(2):  # two calls per step: the step spans from the first start to the last end
            LLMCall.objects.create(
                created=t0 + timedelta(seconds=offset * 10 + k * 5), run=run.run_label, step=step,
                purpose="plan.daily", kind="json", model="llama_cpp:bundled/gemma.gguf", outcome="ok",
                seconds=seconds,
            )  # fmt: skip
    assert selectors.step_seconds(3, model="llama_cpp:bundled") == (35.0, 3)  # median of 35, 25, 45
    assert selectors.step_seconds(3, model="openai:gpt") is None
    assert selectors.step_seconds(25, model="llama_cpp:bundled") is None


# --- make the demo ----------------------------------------------------------------------------


@pytest.fixture
def synchronous_jobs(monkeypatch):
    """The demo job runs at once in the request's thread (its thread would not see this
    test's uncommitted rows)."""
    monkeypatch.setattr(tasks, "_spawn", tasks.make_demo)


def test_make_the_demo_replaces_the_missing_demo_link_for_those_who_may(client, mayor, watcher):
    _moves(services.fork(BASE, "town-1"))
    nav = 'action="/sim/town-1/demo/make/"'
    assert nav not in client.get("/simulator_home/town-1/").content.decode()  # signed out
    assert "/demo/town-1/0/" not in client.get("/simulator_home/town-1/").content.decode()  # no dead link
    client.force_login(watcher)
    assert nav not in client.get("/simulator_home/town-1/").content.decode()
    client.force_login(mayor)
    for url in ["/simulator_home/town-1/", "/replay/town-1/0/", "/sim/town-1/log/", "/sim/town-1/plots/"]:
        assert nav in client.get(url).content.decode(), url


def test_a_missing_demo_is_a_page_that_offers_to_make_it(client, mayor, watcher):
    _moves(services.fork(BASE, "town-1"))
    response = client.get("/demo/town-1/0/3/")
    html = response.content.decode()
    assert response.status_code == 404 and "Sign in to make the demo." in html
    assert "python manage.py compress_sim town-1" in html and "URLconf" not in html
    client.force_login(watcher)
    html = client.get("/demo/town-1/0/3/").content.decode()
    assert "Your account may not make demos." in html and "/demo/make/" not in html
    client.force_login(mayor)
    html = client.get("/demo/town-1/0/3/").content.decode()
    assert 'action="/sim/town-1/demo/make/"' in html and "Make the demo" in html


def test_make_the_demo_writes_it_and_opens_it(client, mayor, synchronous_jobs):
    from reverie.compress import demo_path

    run = _moves(services.fork(BASE, "town-1"))
    client.force_login(mayor)
    response = client.post("/sim/town-1/demo/make/")
    assert response.status_code == 302 and response.url == "/sim/town-1/demo/status/"
    assert demo_path(run).is_file() and tasks.demo_job(run) is None
    status = client.get(response.url)
    assert status.status_code == 302 and status.url == "/demo/town-1/0/3/"
    assert client.get(status.url).status_code == 200
    assert client.get("/sim/town-1/demo/status/", HTTP_ACCEPT="application/json").json()["state"] == "done"
    html = client.get("/simulator_home/town-1/").content.decode()
    assert 'href="/demo/town-1/0/3/"' in html and "Make the demo" not in html


def test_while_the_demo_is_made_the_page_waits_and_reloads(client, mayor, monkeypatch):
    run = _moves(services.fork(BASE, "town-1"))
    monkeypatch.setattr(tasks, "_spawn", lambda pk: None)  # a job that is still running
    client.force_login(mayor)
    assert client.post("/sim/town-1/demo/make/").status_code == 302
    assert tasks.demo_job(run)["state"] == "running"
    assert tasks.start_demo(run) is False  # asked twice: one job
    html = client.get("/sim/town-1/demo/status/").content.decode()
    assert 'id="demo-making"' in html and 'http-equiv="refresh"' in html
    body = client.get("/sim/town-1/demo/status/", HTTP_ACCEPT="application/json").json()
    assert body == {"state": "running", "url": None, "error": None}


def test_a_failed_demo_job_says_why(client, mayor, synchronous_jobs, monkeypatch):
    from reverie import compress

    _moves(services.fork(BASE, "town-1"))

    def broken(sim, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(compress, "write_demo", broken)
    client.force_login(mayor)
    response = client.post("/sim/town-1/demo/make/", follow=True)
    html = response.content.decode()
    assert 'id="demo-error"' in html and "OSError: disk full" in html and "Make the demo" in html


def test_make_the_demo_needs_the_run_permission_and_stored_steps(client, mayor, watcher, synchronous_jobs):
    _moves(services.fork(BASE, "town-1"))
    services.fork(BASE, "empty")
    assert client.post("/sim/town-1/demo/make/").status_code == 403
    client.force_login(watcher)
    assert client.post("/sim/town-1/demo/make/").status_code == 403
    client.force_login(mayor)
    response = client.post("/sim/empty/demo/make/")
    assert response.status_code == 400 and "no stored steps" in response.content.decode()
    assert client.get("/sim/town-1/demo/make/").status_code == 405
    assert client.post("/sim/no-such-sim/demo/make/").status_code == 404


def test_a_measured_step_time_is_shown_with_the_model(client, mayor, monkeypatch):
    services.ensure_base("base_the_ville_n25")
    monkeypatch.setattr(selectors, "step_seconds", lambda agents: (35.4, 12) if agents == 25 else None)
    client.force_login(mayor)
    html = client.get("/simulator_home/base_the_ville_n25/").content.decode()
    assert (
        "base_the_ville_n25 (25 agents): about 35 s per step on llama_cpp:bundled (median of 12 traced steps)." in html
    )
