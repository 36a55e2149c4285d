"""Smallville pages and JSON endpoints: lookups, 404s, escaping, permissions, CSRF."""

import gzip
import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from environment.vectors.models import VectorItem
from reverie import services
from reverie.models import MemoryNode, Movement, Persona, Simulation

BASE = "base_the_ville_isabella_maria_klaus"
PAYLOAD = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'
pytestmark = pytest.mark.django_db


def _moves(sim, steps=3):
    rows = []
    for step in range(steps):
        for i, name in enumerate(sim.personas.values_list("name", flat=True)):
            rows.append(Movement(simulation=sim, step=step, persona=name, x=10 + step, y=20 + i, emoji="☕",
                                 description=f"walking {step} @ the Ville:Hobbs Cafe:cafe:counter",
                                 chat=[[name, "hello"]] if step == 1 else None))  # fmt: skip
    Movement.objects.bulk_create(rows)
    Simulation.objects.filter(pk=sim.pk).update(step=steps)
    sim.refresh_from_db()
    return sim


@pytest.fixture(autouse=True)
def scripted_embedder(monkeypatch):
    """A fork of a base embeds its starting relationships: pages get the scripted
    gateway's embedder instead of loading the bundled one."""
    from tests.reverie.engine.fakes import routed_gateway

    gateway = routed_gateway({})
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gateway)


@pytest.fixture
def run():
    return _moves(services.fork(BASE, "town-1"))


@pytest.fixture
def controller(django_user_model):
    user = django_user_model.objects.create_user("mayor", password="pw")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["run_simulation", "add_simulation", "delete_simulation"])
    )
    return user


def test_every_page_renders_for_a_run(client, run):
    for url in [
        "/",
        "/simulator_home/town-1/",
        "/replay/town-1/0/",
        "/replay/town-1/2/",
        "/replay_persona_state/town-1/1/Maria%20Lopez/",
        "/sim/town-1/log/",
        "/sim/town-1/plots/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    # Nobody's own run (town-1 has no owner): the list (test_runs_views.py: owners).
    assert client.get("/simulator_home").status_code == 200


def test_the_live_page_boots_with_the_latest_frame_and_sprite_urls(client, run):
    response = client.get("/simulator_home/town-1/")
    boot = json.loads(response.content.decode().split('id="boot" type="application/json">')[1].split("</script>")[0])
    assert boot["frame"]["step"] == 2 and set(boot["frame"]["agents"]) == {"Isabella Rodriguez", "Maria Lopez",
                                                                         "Klaus Mueller"}  # fmt: skip
    assert boot["frame"]["agents"]["Maria Lopez"]["x"] == 12
    assert boot["personas"][0]["sheet"] == "/sprites/Isabella%20Rodriguez/sheet.png"
    assert boot["urls"]["ws"] == "/ws/sim/town-1/" and boot["can_control"] is False


def test_frames_endpoint_pages_through_stored_steps(client, run):
    data = client.get("/api/sim/town-1/frames/?from=1&count=5").json()
    assert [f["step"] for f in data["frames"]] == [1, 2] and data["last_step"] == 2
    assert data["frames"][0]["time"] == "2023-02-13T07:00:10"
    assert data["frames"][0]["agents"]["Klaus Mueller"]["chat"] == [["Klaus Mueller", "hello"]]
    assert client.get("/api/sim/town-1/frames/?count=9999").status_code == 400
    assert client.get("/api/sim/town-1/frames/?from=abc").json()["error"].startswith("from must be a whole number")
    info = client.get("/api/sim/town-1/").json()
    assert info["step"] == 3 and info["state"] == "paused" and len(info["personas"]) == 3


def test_persona_panel_and_state_show_memories_and_search(client, run):
    persona = Persona.objects.get(simulation=run, name="Maria Lopez")
    # After the starting relationships the fork remembers (ids 1 and 2).
    for i, text in enumerate(["Maria is studying physics", "Maria heard about a party"], start=101):
        MemoryNode.objects.create(persona=persona, node_id=i, kind="event", description=text, step=i - 101,
                                  created="2023-02-13T07:00:00Z", last_accessed="2023-02-13T07:00:00Z",
                                  data={"id": i, "kind": "event", "created": "2023-02-13T07:00:00",
                                        "description": text, "poignancy": 3})  # fmt: skip
    panel = client.get("/api/sim/town-1/persona/Maria%20Lopez/").json()
    described = [m["description"] for m in panel["memories"]]
    assert described[:2] == ["Maria heard about a party", "Maria is studying physics"]
    assert any(d.startswith("Maria Lopez knows Klaus Mueller: ") for d in described)
    page = client.get("/replay_persona_state/town-1/0/Maria%20Lopez/").content.decode()
    assert "studying physics" in page and "heard about a party" not in page  # the stream as it stood at step 0
    page = client.get("/replay_persona_state/town-1/2/Maria%20Lopez/?q=PARTY").content.decode()
    assert "heard about a party" in page and "studying physics" not in page


@pytest.mark.parametrize(
    "url",
    [
        "/simulator_home/no-such-sim/",
        "/replay/no-such-sim/0/",
        "/replay/town-1/3/",  # only steps 0..2 are stored
        "/replay/town-1/-1/",
        "/demo/town-1/0/3/",  # not compressed yet
        "/demo/town-1/0/6/",
        "/replay_persona_state/town-1/0/Nobody/",
        "/replay_persona_state/town-1/99/Maria%20Lopez/",
        "/api/sim/no-such-sim/",
        "/api/sim/town-1/persona/Nobody/",
        "/sim/no-such-sim/log/",
        "/sim/town-1/log/?persona=Nobody",
        # path tricks: dot segments, encoded slashes and dots, absolute paths
        "/replay/../0/",
        "/replay/..%2Fbase%2Fbase_the_ville_n25/0/",
        "/replay/%2e%2e/0/",
        "/replay/%2Fetc%2Fpasswd/0/",
        "/replay//etc/passwd/0/",
        "/api/sim/..%2F..%2Fenvironment/",
        "/replay_persona_state/town-1/0/..%2F..%2Fsettings.py/",
        "/sprites/..%2F..%2Fmanage.py/sheet.png",
        "/sprites/x/..png",
    ],
)
def test_unknown_things_and_path_tricks_are_404_pages(client, run, url):
    response = client.get(url)
    assert response.status_code == 404, url


def test_bases_load_only_by_listed_name_never_by_path():
    for name in ["../base/" + BASE, "./" + BASE, "/" + BASE, BASE + "/.", "..", "."]:
        with pytest.raises(services.SimulationNotFound):
            services.get_simulation(name)
    assert not Simulation.objects.exclude(name=BASE).exists()


def test_demo_page_and_data_after_compression(client, run, settings, tmp_path):
    from reverie.compress import write_compressed

    settings.STORAGE_DIR = tmp_path  # demo files are named by primary key: keep the real ones safe

    write_compressed(run)
    assert client.get("/demo/town-1/0/3/").status_code == 200
    response = client.get("/api/sim/town-1/demo/")
    assert response["Content-Encoding"] == "gzip"
    data = json.loads(gzip.decompress(b"".join(response.streaming_content)))
    assert data["steps"] == 3 and set(data["tracks"]) == {"Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"}
    missing = client.get("/api/sim/" + BASE + "/demo/")
    assert missing.status_code == 404 and "compress_sim" in missing.json()["error"]


def test_script_payloads_in_names_memories_and_chat_are_escaped(client):
    sim = services.fork(BASE, "xss")
    persona = Persona.objects.get(simulation=sim, name="Maria Lopez")
    persona.name = PAYLOAD
    persona.save()
    MemoryNode.objects.create(persona=persona, node_id=101, kind="event", description=PAYLOAD, step=0,
                              created="2023-02-13T07:00:00Z", last_accessed="2023-02-13T07:00:00Z",
                              data={"id": 101, "kind": "event", "created": "2023-02-13T07:00:00",
                                    "description": PAYLOAD, "poignancy": 3})  # fmt: skip
    Movement.objects.create(simulation=sim, step=0, persona=PAYLOAD, x=1, y=1, emoji="💬", description=PAYLOAD,
                            chat=[[PAYLOAD, PAYLOAD]])  # fmt: skip
    Movement.objects.create(simulation=sim, step=1, persona=PAYLOAD, x=1, y=1, emoji="💬", description="x", chat=None)
    Simulation.objects.filter(pk=sim.pk).update(step=2)
    from urllib.parse import quote

    name = quote(PAYLOAD, safe="")
    for url in ["/", "/simulator_home/xss/", "/replay/xss/0/", f"/replay_persona_state/xss/0/{name}/",
                "/sim/xss/log/", "/sim/xss/plots/"]:  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "<script>window.__xss" not in html and "<img src=x" not in html, url
    assert (
        "&lt;script&gt;window.__xss=1&lt;/script&gt;"
        in client.get(f"/replay_persona_state/xss/0/{name}/").content.decode()
    )
    assert client.get(f"/api/sim/xss/persona/{name}/").json()["name"] == PAYLOAD  # data stays exact in JSON


def test_controls_need_a_signed_in_user_with_permission(client, run, django_user_model):
    assert client.post("/simulator_home/town-1/control/", {"action": "pause"}).status_code == 403
    django_user_model.objects.create_user("visitor", password="pw")
    client.login(username="visitor", password="pw")
    assert client.post("/simulator_home/town-1/control/", {"action": "pause"}).status_code == 403
    assert client.post("/sims/fork/", {"source": BASE, "name": "nope"}).status_code == 403
    assert client.post("/sims/town-1/delete/").status_code == 403
    assert client.get("/simulator_home/town-1/control/").status_code == 405


def test_control_requests_need_a_csrf_token(run, controller):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(controller)
    assert strict.post("/simulator_home/town-1/control/", {"action": "pause"}).status_code == 403
    page = strict.get("/simulator_home/town-1/")
    token = page.cookies["csrftoken"].value
    response = strict.post("/simulator_home/town-1/control/", {"action": "pause"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json() == {
        "state": "paused",
        "step": 3,
        "error": None,
        "waiting_since": None,
        "waiting_reason": None,
    }
    boot = page.content.decode()
    assert '"can_control": true' in boot


def test_bad_control_requests_say_why(client, run, controller):
    client.force_login(controller)
    bad = client.post("/simulator_home/town-1/control/", {"action": "rewind"})
    assert bad.status_code == 400 and "unknown action" in bad.json()["error"]
    base = client.post(f"/simulator_home/{BASE}/control/", {"action": "play"})
    assert base.status_code == 400 and "fork it first" in base.json()["error"]


def test_fork_and_delete_through_the_pages(client, run, controller):
    assert 'action="/sims/town-1/delete/"' not in client.get("/").content.decode()  # visitors see no delete
    client.force_login(controller)
    home = client.get("/").content.decode()
    assert 'action="/sims/town-1/delete/"' in home and 'action="/sims/fork/"' in home
    assert f'action="/sims/{BASE}/delete/"' not in home  # bases cannot be deleted
    response = client.post("/sims/fork/", {"source": "town-1", "name": "town-2"})
    assert response.status_code == 302 and response.url == "/simulator_home/town-2/"
    copy = Simulation.objects.get(name="town-2")
    assert copy.movements.count() == run.movements.count()
    clash = client.post("/sims/fork/", {"source": "town-1", "name": "town-2"}, headers={"Accept": "application/json"})
    assert clash.status_code == 400 and "already exists" in clash.json()["error"]
    owners = [p.vector_owner for p in copy.personas.all()]
    VectorItem.objects.create(
        owner=owners[0], kind="event", ref="1", text="x", embedding=[0.0] * 384, created_at="2023-02-13T07:00:00Z"
    )
    assert client.post("/sims/town-2/delete/").status_code == 302
    assert not Simulation.objects.filter(name="town-2").exists()
    assert not VectorItem.objects.filter(owner__in=owners).exists()
    refused = client.post(f"/sims/{BASE}/delete/", headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "cannot be deleted" in refused.json()["error"]


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_refused_form_post_shows_the_home_page_with_the_message(client, run, controller):
    """The forms on the home page used to get raw JSON ({"error": ...}) back on a refusal."""
    client.force_login(controller)
    for headers in ({"Accept": BROWSER_ACCEPT}, {}):
        clash = client.post("/sims/fork/", {"source": BASE, "name": "town-1"}, headers=headers)
        assert clash.status_code == 400 and clash["Content-Type"].startswith("text/html")
        page = clash.content.decode()
        assert 'id="form-error"' in page and "already exists" in page
        assert 'placeholder="my-town" value="town-1"' in page  # the form keeps what was typed
        assert f'<option value="{BASE}" selected>' in page
    missing = client.post("/sims/fork/", {"source": "nowhere", "name": "x"}, headers={"Accept": BROWSER_ACCEPT})
    assert missing.status_code == 404 and 'id="form-error"' in missing.content.decode()
    refused = client.post(f"/sims/{BASE}/delete/", headers={"Accept": BROWSER_ACCEPT})
    assert refused.status_code == 400 and "cannot be deleted" in refused.content.decode()
    assert 'id="form-error"' in refused.content.decode()
    # API clients asking for JSON still get JSON, refusals included.
    api = client.post("/sims/fork/", {"source": "nowhere", "name": "x"}, headers={"Accept": "application/json"})
    assert api.status_code == 404 and "no simulation" in api.json()["error"]


def test_a_form_post_without_permission_shows_the_page(client, run, django_user_model):
    django_user_model.objects.create_user("visitor", password="pw")
    client.login(username="visitor", password="pw")
    refused = client.post("/sims/fork/", {"source": BASE, "name": "nope"}, headers={"Accept": BROWSER_ACCEPT})
    assert refused.status_code == 403 and "may not fork" in refused.content.decode()
    api = client.post("/sims/town-1/delete/", headers={"Accept": "application/json"})
    assert api.status_code == 403 and "may not delete" in api.json()["error"]


def test_sprites_are_pngs_drawn_from_the_name(client):
    services.ensure_base(BASE)
    assert client.get("/sprites/Nobody%20Here/sheet.png").status_code == 404
    a = client.get("/sprites/Maria%20Lopez/sheet.png")
    assert a.status_code == 200 and a["Content-Type"] == "image/png" and a.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/sprites/Maria%20Lopez/sheet.png").content == a.content
    assert client.get("/sprites/Klaus%20Mueller/sheet.png").content != a.content
    assert client.get("/sprites/Maria%20Lopez/portrait.png").status_code == 200
    assert client.get("/sprites/Maria%20Lopez/other.png").status_code == 404


def test_celery_runner_without_redis_is_flagged_by_the_system_check(settings):
    from environment.checks import check_runner_settings

    settings.SIM_RUNNER, settings.REDIS_URL = "celery", ""
    assert [w.id for w in check_runner_settings()] == ["reverie.W001"]
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert check_runner_settings() == []


def test_replay_chunks_that_reach_past_the_last_step_are_never_served_stale(client, run):
    assert [f["step"] for f in client.get("/api/sim/town-1/frames/?from=0&count=5").json()["frames"]] == [0, 1, 2]
    whole = client.get("/api/sim/town-1/frames/?from=0&count=2").content  # complete: cached
    _moves_at(run, 3)
    assert [f["step"] for f in client.get("/api/sim/town-1/frames/?from=0&count=5").json()["frames"]] == [0, 1, 2, 3]
    assert client.get("/api/sim/town-1/frames/?from=0&count=2").content == whole


def _moves_at(sim, step):
    Movement.objects.bulk_create(
        [Movement(simulation=sim, step=step, persona=n, x=1, y=1, emoji="🙂", description="x")
         for n in sim.personas.values_list("name", flat=True)]
    )  # fmt: skip
    Simulation.objects.filter(pk=sim.pk).update(step=step + 1)


def test_a_page_never_loads_a_base_but_says_how(client):
    """A GET does not write: a listed base not in the database yet is a 404 that says how to load it."""
    for url in [f"/simulator_home/{BASE}/", f"/api/sim/{BASE}/", f"/sim/{BASE}/log/"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "not loaded yet" in response.content.decode() or url.startswith("/api/"), url
    assert not Simulation.objects.exists()
    services.ensure_base(BASE)
    assert client.get(f"/simulator_home/{BASE}/").status_code == 200


def test_the_start_form_picks_the_language_agents_speak(client, run, controller):
    client.force_login(controller)
    home = client.get("/").content.decode()
    assert '<select name="language">' in home and '<option value="zh">中文</option>' in home
    assert Simulation.objects.get(name="town-1").meta["agent_config"]["language"] == "en"  # the base's own
    made = client.post("/sims/fork/", {"source": BASE, "name": "town-zh", "language": "zh"},
                       headers={"Accept": "application/json"})  # fmt: skip
    assert made.status_code == 200 and made.json()["language"] == "zh"
    assert Simulation.objects.get(name="town-zh").meta["agent_config"]["language"] == "zh"
    kept = client.post("/sims/fork/", {"source": "town-zh", "name": "town-zh-2", "language": ""},
                       headers={"Accept": "application/json"})  # fmt: skip
    assert kept.json()["language"] == "zh"  # empty keeps the source's
    bad = client.post("/sims/fork/", {"source": BASE, "name": "town-xx", "language": "fr"},
                      headers={"Accept": BROWSER_ACCEPT})  # fmt: skip
    page = bad.content.decode()
    assert bad.status_code == 400 and "unknown language &#x27;fr&#x27;; choose from en, zh" in page
    assert not Simulation.objects.filter(name="town-xx").exists()
    refill = client.post("/sims/fork/", {"source": BASE, "name": "town-1", "language": "zh"},
                         headers={"Accept": BROWSER_ACCEPT})  # fmt: skip
    assert '<option value="zh" selected>' in refill.content.decode()  # a refused form keeps the choice


def test_the_fork_form_picks_a_preset(client, run, controller, settings):
    from reverie.engine.config import default_preset_for_model

    client.force_login(controller)
    home = client.get("/").content.decode()
    default = default_preset_for_model(settings.LLM_MODEL)
    assert '<select name="preset">' in home and '<option value="paper">paper</option>' in home
    assert f"(a base: {default})" in home and "Settings preset: paper follows the paper" in home
    assert Simulation.objects.get(name="town-1").meta["agent_config"]["preset"] == default  # the form's default
    made = client.post("/sims/fork/", {"source": BASE, "name": "town-paper", "preset": "paper"},
                       headers={"Accept": "application/json"})  # fmt: skip
    assert made.status_code == 200 and made.json()["preset"] == "paper"
    assert Simulation.objects.get(name="town-paper").meta["agent_config"]["preset"] == "paper"
    kept = client.post(
        "/sims/fork/", {"source": "town-paper", "name": "town-kept"}, headers={"Accept": "application/json"}
    )
    assert kept.json()["preset"] == "paper"  # a fork keeps its source's preset
    assert client.get("/api/sim/town-kept/").json()["preset"] == "paper"
    assert "settings preset: paper" in client.get("/replay_persona_state/town-kept/0/Maria%20Lopez/").content.decode()
    bad = client.post("/sims/fork/", {"source": BASE, "name": "town-bad", "preset": "huge"},
                      headers={"Accept": "application/json"})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["error"] == "unknown preset 'huge'; choose from paper, compact"
    form = client.post("/sims/fork/", {"source": BASE, "name": "town-bad", "preset": "huge"},
                       headers={"Accept": BROWSER_ACCEPT})  # fmt: skip
    assert form.status_code == 400 and "unknown preset" in form.content.decode()
    refill = client.post("/sims/fork/", {"source": BASE, "name": "town-1", "preset": "paper"},
                         headers={"Accept": BROWSER_ACCEPT})  # fmt: skip
    assert '<option value="paper" selected>' in refill.content.decode()  # the form keeps the choice
    assert not Simulation.objects.filter(name="town-bad").exists()
