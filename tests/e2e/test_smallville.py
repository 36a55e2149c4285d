"""The Smallville pages in a real browser, against docs/frontend_api.md.

Simulations are forks of the 3-agent base made in the test process (committed rows;
the server reads the same SQLite file). Only `test_step_moves_a_sprite_then_a_reload_keeps_the_run_playing`
runs the real bundled language model, inside the server process; the replay, demo,
persona state and XSS tests build their steps from Movement rows written here.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command

from reverie import services
from reverie.models import Movement, Simulation
from tests.e2e.helpers import (
    agent_on_screen,
    box_around,
    csrf_token,
    distinct_colours,
    element_box,
    in_thread,
    login,
    page_step,
    positions,
    region_difference,
    rendering_paused,
    screenshot,
    set_sprites_visible,
    tile_on_screen,
    wait_for_town,
    wait_until,
)
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_world import GOOD

BASE = "base_the_ville_isabella_maria_klaus"
NAMES = ["Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"]
ISABELLA = "Isabella Rodriguez"
# s: the first step plans three agents' day on the bundled model (~60-140 s on 2 cores, measured)
MODEL_STEP_TIMEOUT = float(os.environ.get("E2E_MODEL_STEP_TIMEOUT", "240"))
XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=1</script>"
NO_XSS = "() => window.__xss === undefined && !document.querySelector('img[src=\"x\"]')"


# --- building simulations ----------------------------------------------------------------


def fork(name: str) -> Simulation:
    return services.fork(BASE, name)


def tiles(sim: Simulation) -> dict[str, tuple[int, int]]:
    return {p.name: tuple(p.scratch["tile"]) for p in sim.personas.all()}


def stored_positions(sim: Simulation, step: int) -> dict[str, tuple[int, int]]:
    return {m.persona: (m.x, m.y) for m in Movement.objects.filter(simulation=sim, step=step)}


def add_walk(sim: Simulation, steps: int, *, chat_from: int | None = None, text: str = "") -> list[tuple[int, int]]:
    """Store `steps` steps: Isabella walks from her bed towards Hobbs Cafe, the others stay in bed.

    With `chat_from`, Isabella (whatever she is called now) and Klaus Mueller talk from that
    step on (`text` goes into their actions and lines). Returns Isabella's tile per step.
    """
    maze = services.maze_for(sim.maze)
    start = tiles(sim)
    walker = next(name for name in start if name not in ("Maria Lopez", "Klaus Mueller"))
    route = maze.path_to_address(start[walker], "the Ville:Hobbs Cafe")[1:]
    assert len(route) >= 10, route
    walk = [route[min(i, len(route) - 1)] for i in range(steps)]
    rows = []
    for step in range(steps):
        chat = None
        if chat_from is not None and step >= chat_from:
            chat = [[walker, f"Hello Klaus! {text}"], ["Klaus Mueller", f"Hi {walker}. {text}"]]
        for name, tile in start.items():
            x, y = walk[step] if name == walker else tile
            doing = f"walking to the cafe {text}" if name == walker else f"sleeping {text}"
            where = "the Ville:Hobbs Cafe:cafe:counter" if name == walker else "the Ville"
            talks = chat if name in (walker, "Klaus Mueller") else None
            rows.append(
                Movement(
                    simulation=sim, step=step, persona=name, x=x, y=y, emoji="🚶" if name == walker else "😴",
                    description=f"{doing.strip()} @ {where}", chat=talks,
                )
            )  # fmt: skip
    Movement.objects.bulk_create(rows)
    sim.step = steps
    sim.current_time = sim.start_time + timedelta(seconds=steps * sim.sec_per_step)
    sim.save(update_fields=["step", "current_time"])
    return walk


def plant_memories(sim: Simulation, persona: str, memories: list[str], tmp_path: Path) -> int:
    """Real MemoryNode rows (with embeddings) through services.load_history and a scripted gateway."""
    import csv

    path = tmp_path / "history.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Name", "Whisper"])
        writer.writerow([persona, ";".join(memories)])
    # load_history calls asyncio.run(), which Playwright's running loop forbids in this thread.
    return in_thread(services.load_history, sim, str(path), gateway=routed_gateway(GOOD))


def rename_persona(sim: Simulation, old: str, new: str) -> None:
    persona = sim.personas.get(name=old)
    persona.name = new
    persona.identity = {**persona.identity, "name": new}
    persona.save(update_fields=["name", "identity"])
    Movement.objects.filter(simulation=sim, persona=old).update(persona=new)


def high_simulation_ids() -> None:
    """Make new Simulation rows get ids no developer database has.

    compress_sim writes storage/compressed/<pk>.json.gz, in the checkout's storage folder,
    which every database (the developer's, every test run's) shares; a test simulation
    with a small pk would overwrite (and then delete) the demo of a real simulation.
    """
    from django.db import connection

    big = 900_000_000
    with connection.cursor() as cur:
        cur.execute("SELECT seq FROM sqlite_sequence WHERE name = 'reverie_simulation'")
        row = cur.fetchone()
        if row is None:
            cur.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('reverie_simulation', %s)", [big])
        elif row[0] < big:
            cur.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = 'reverie_simulation'", [big])


def guard_demo_file(sim: Simulation, demo_files: list[Path]) -> Path:
    from reverie.compress import demo_path

    path = demo_path(sim)
    if path.exists():
        shutil.move(path, path.with_name(path.name + ".e2e-backup"))
    demo_files.append(path)
    return path


def paused_and_idle(sim: Simulation, timeout: float = MODEL_STEP_TIMEOUT) -> Simulation:
    """Ask the run to pause (through the row, as the runner reads it) and wait for the runner to let go."""
    Simulation.objects.filter(pk=sim.pk).update(run_state="paused", run_until=None)

    def idle() -> Simulation | None:
        fresh = Simulation.objects.get(pk=sim.pk)
        return fresh if not fresh.runner else None

    return wait_until(idle, timeout=timeout, message=f"the runner of {sim.name} did not stop")


# --- page helpers ------------------------------------------------------------------------


def shown(page) -> tuple[int | None, dict[str, tuple[int, int]]]:
    """The step the page shows and the agents' tiles, read in one go (no frame in between)."""
    step, pos = page.evaluate("() => [document.body.dataset.step, window.smallville.positions()]")
    return (int(step) if step not in (None, "") else None), {k: (v[0], v[1]) for k, v in pos.items()}


def wait_for_tweens(page, timeout_ms: float = 10_000) -> None:
    """Wait until no sprite is walking (a frame's tween has landed)."""
    page.wait_for_function(
        """() => {
            const scene = window.smallville && window.smallville.town && window.smallville.town.scene;
            if (!scene) return true;
            for (const a of scene.agents.values()) if (a.tween) return false;
            return true;
        }""",
        timeout=timeout_ms,
    )
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def start_playing(page) -> None:
    """Replay and demo: press the play toggle unless it already shows playing."""
    toggle = page.locator("#play-toggle")
    if toggle.get_attribute("aria-pressed") != "true":
        toggle.click()
    page.wait_for_function("() => document.getElementById('play-toggle').getAttribute('aria-pressed') === 'true'")


def controls(page):
    return page.locator("#town-controls")


def click_control(page, action: str) -> dict:
    with page.expect_response(lambda r: r.url.endswith("/control/") and r.request.method == "POST") as info:
        page.locator(f"#town-controls [data-action={action}]").click()
    resp = info.value
    assert resp.status == 200, f"{action}: {resp.status} {resp.text()}"
    return resp.json()


def model_step_done(sim: Simulation, at_least: int):
    def check() -> Simulation | None:
        fresh = Simulation.objects.get(pk=sim.pk)
        if fresh.run_error:
            raise AssertionError(f"the run stopped with an error: {fresh.run_error}")
        return fresh if fresh.step >= at_least else None

    return check


def visible_text_without_selects(page) -> str:
    """The page's visible text minus <select> options (the language switcher lists 简体中文 always)."""
    return page.evaluate(
        """() => {
            const copy = document.body.cloneNode(true);
            copy.querySelectorAll('select, script, style, template').forEach((n) => n.remove());
            return copy.innerText || copy.textContent;
        }"""
    )


CJK = re.compile(r"[\u4e00-\u9fff]")


# --- a. the live page draws the town -------------------------------------------------------


def test_live_page_draws_the_map_and_every_agent(page):
    sim = fork("e2e-live-draw")
    start = tiles(sim)
    resp = page.goto(f"/simulator_home/{sim.name}/")
    assert resp is not None and resp.status == 200
    wait_for_town(page)
    wait_for_tweens(page)

    assert page_step(page) == -1  # no step yet: each persona on its starting tile
    assert positions(page) == start
    listed = page.locator("#agent-list .agent-name").all_inner_texts()
    assert sorted(listed) == sorted(NAMES)

    canvas = element_box(page, "#town-map canvas")
    with_sprites = screenshot(page)
    # ~3500 colours with the map drawn; ~500 when only the background and sprites are (map.json failed)
    assert distinct_colours(with_sprites, canvas) > 1500, "the map is not drawn"
    set_sprites_visible(page, False)
    without_sprites = screenshot(page)
    set_sprites_visible(page, True)
    for name, tile in start.items():
        x, y, size = tile_on_screen(page, tile)
        box = box_around(x, y, max(4, int(size / 2)), with_sprites)
        assert box[2] > box[0] and box[3] > box[1], f"{name}'s tile {tile} is off screen at {x:.0f},{y:.0f}"
        diff = region_difference(with_sprites, without_sprites, box)
        assert diff > 8, f"nothing drawn for {name} at tile {tile} (screen {x:.0f},{y:.0f}, diff {diff:.1f})"
    # The sprite really stands where positions() says: its drawn position is that tile's.
    sprite_xy = page.evaluate(
        """(name) => { const a = window.smallville.town.scene.agents.get(name);
                       return [a.sprite.x, a.sprite.y, a.tile[0], a.tile[1], a.sprite.scene.ts]; }""",
        ISABELLA,
    )
    sx, sy, tx, ty, ts = sprite_xy
    assert (tx, ty) == start[ISABELLA] and (sx, sy) == (tx * ts + ts / 2, (ty + 1) * ts)
    _, _, size = agent_on_screen(page, ISABELLA)
    assert size > 4, f"the camera is zoomed out too far to see anyone ({size:.1f} px per tile)"
    # An idle town stops rendering (a software-WebGL canvas would burn a core) and wakes on input.
    napping = "() => window.smallville.napping()"
    wait_until(lambda: page.evaluate(napping), timeout=10, message="the idle town never napped")
    page.mouse.move(canvas[0] + 50, canvas[1] + 50)
    page.mouse.wheel(0, -200)
    assert not page.evaluate(napping)
    assert page.console_errors == []
    assert page.page_errors == []


# --- b + c. stepping and playing on the bundled model ------------------------------------------


@pytest.mark.model
def test_step_moves_a_sprite_then_a_reload_keeps_the_run_playing(signed_in_page, server):
    """b: Step moves a sprite, as stored; c: a reload while playing does not stop the run.

    One test, one simulation: the first step plans the day on the real model (the slow
    part), and the database is flushed after every test, so c continues b's run.
    """
    page = signed_in_page
    sim = fork("e2e-live-run")
    maze = services.maze_for(sim.maze)
    # Isabella starts on the street a few tiles from her apartment door: whatever her first
    # action is, it is somewhere else, so she walks a tile on the first step.
    street = (35, 37)
    assert maze.is_walkable(*street) and maze.address_at(*street) == "the Ville"
    isabella = sim.personas.get(name=ISABELLA)
    isabella.scratch = {**isabella.scratch, "tile": list(street)}
    isabella.save(update_fields=["scratch"])
    try:
        page.goto(f"/simulator_home/{sim.name}/")
        wait_for_town(page)
        wait_for_tweens(page)
        step, before = shown(page)
        assert step == -1 and before[ISABELLA] == street
        assert controls(page).is_visible()
        shot_before = screenshot(page)
        x0, y0, size = tile_on_screen(page, street)

        # b. one step, run by the server on the bundled model
        answer = click_control(page, "step")
        assert answer["state"] == "playing" and answer["error"] is None
        with rendering_paused(page):
            wait_until(model_step_done(sim, 1), timeout=MODEL_STEP_TIMEOUT, interval=1, message="step 0 was not stored")
        page.wait_for_function("() => document.body.dataset.step === '0'", timeout=30_000)
        wait_for_tweens(page)
        step, after = shown(page)
        assert step == 0
        assert after == stored_positions(sim, 0)  # the page shows what the database holds
        moved = [name for name in NAMES if after[name] != before[name]]
        assert ISABELLA in moved, f"Isabella did not move from {street}: {after}"
        shot_after = screenshot(page)
        box = box_around(x0, y0, max(4, int(size / 2)), shot_after)
        assert region_difference(shot_before, shot_after, box) > 8, "the sprite still looks the same at its old tile"
        wait_until(
            lambda: Simulation.objects.get(pk=sim.pk).run_state == "paused",
            timeout=30,
            message="a single step did not end paused",
        )

        # c. play, reload mid-run, the run goes on (in the database and on the page)
        answer = click_control(page, "play")
        assert answer["state"] == "playing"
        with rendering_paused(page):
            wait_until(model_step_done(sim, 2), timeout=MODEL_STEP_TIMEOUT, interval=1, message="play ran no step")
        page.reload()
        wait_for_town(page)
        stepped_at_reload = Simulation.objects.get(pk=sim.pk).step
        shown_at_reload = page_step(page)
        assert shown_at_reload is not None and shown_at_reload >= 1
        assert "playing" in (page.locator("#run-state").get_attribute("class") or "")
        with rendering_paused(page):
            wait_until(
                model_step_done(sim, stepped_at_reload + 1),
                timeout=MODEL_STEP_TIMEOUT,
                interval=1,
                message="the run stopped after the reload",
            )
            page.wait_for_function(f"() => Number(document.body.dataset.step) > {shown_at_reload}", timeout=60_000)

        answer = click_control(page, "pause")
        assert answer["state"] == "paused"
        with rendering_paused(page):
            sim = paused_and_idle(sim)
        assert sim.run_state == "paused" and not sim.run_error
        # The step in flight when pausing still lands, on the page too.
        last = sim.step - 1
        page.wait_for_function(f"() => document.body.dataset.step === '{last}'", timeout=30_000)
        wait_for_tweens(page)
        step, now = shown(page)
        assert step == last and now == stored_positions(sim, last)
        assert "paused" in (page.locator("#run-state").get_attribute("class") or "")
        assert page.page_errors == []
        assert page.console_errors == []
    finally:
        paused_and_idle(sim)  # never leave a runner writing while the database is flushed


# --- d. replay and demo, from stored rows --------------------------------------------------------


def test_replay_and_demo_play_the_stored_steps(page, demo_files):
    high_simulation_ids()
    sim = fork("e2e-replay")
    walk = add_walk(sim, 30)
    frames = {step: stored_positions(sim, step) for step in range(30)}

    page.goto(f"/replay/{sim.name}/0/")
    wait_for_town(page)
    first, pos = shown(page)
    assert first == 0 and pos == frames[0]
    start_playing(page)
    page.wait_for_function("() => Number(document.body.dataset.step) >= 3", timeout=30_000)
    step, pos = shown(page)
    assert pos == frames[step], f"replay step {step} shows {pos}, stored {frames[step]}"
    assert pos[ISABELLA] == walk[step]
    assert page.console_errors == [] and page.page_errors == []

    demo_file = guard_demo_file(sim, demo_files)
    resp = page.goto(f"/demo/{sim.name}/0/3/")
    assert resp is not None and resp.status == 404  # not compressed yet: the 404 page says how
    assert "compress_sim" in page.locator("body").inner_text()

    call_command("compress_sim", sim.name, stdout=io.StringIO())
    assert demo_file.is_file()
    resp = page.goto(f"/demo/{sim.name}/0/3/")
    assert resp is not None and resp.status == 200
    wait_for_town(page)
    start_playing(page)  # the demo starts playing by itself; the button must say so
    page.wait_for_function("() => Number(document.body.dataset.step) >= 3", timeout=30_000)
    step, pos = shown(page)
    assert 0 <= step < 30 and pos == frames[step], f"demo step {step} shows {pos}, stored {frames[step]}"
    others = [e for e in page.console_errors if "status of 404" not in e]
    assert others == [] and page.page_errors == []


# --- e. persona state ---------------------------------------------------------------------------


def test_persona_state_shows_memories_and_filters_them(page, tmp_path):
    sim = fork("e2e-persona-state")
    memories = [
        "Isabella bought fresh coffee beans at the market",
        "Isabella is planning a Valentine's Day party at Hobbs Cafe",
        "Isabella repaired the espresso machine at the cafe",
    ]
    assert plant_memories(sim, ISABELLA, memories, tmp_path) == 3
    add_walk(sim, 5)

    page.goto(f"/replay_persona_state/{sim.name}/4/{quote(ISABELLA)}/")
    assert page.locator("h1").first.inner_text().strip() == ISABELLA
    table = page.locator("#memory-table")
    for text in memories:
        assert table.get_by_text(text).is_visible(), text

    box = page.get_by_role("searchbox")
    box.fill("espresso")  # filters as one types
    page.wait_for_function(
        "() => [...document.querySelectorAll('#memory-table tr.memory')].filter((r) => !r.hidden).length === 1"
    )
    assert table.get_by_text(memories[2]).is_visible()
    assert not table.get_by_text(memories[0]).is_visible()
    box.press("Enter")  # and the form filters on the server
    page.wait_for_url(re.compile(r"[?&]q=espresso"))
    rows = page.locator("#memory-table tr.memory")
    assert rows.count() == 1 and memories[2] in rows.first.inner_text()
    assert page.console_errors == [] and page.page_errors == []

    resp = page.goto(f"/replay_persona_state/{sim.name}/4/Nobody%20Here/")
    assert resp is not None and resp.status == 404
    resp = page.goto(f"/replay_persona_state/{sim.name}/999/{quote(ISABELLA)}/")
    assert resp is not None and resp.status == 404


# --- f. Chinese -----------------------------------------------------------------------------------


def test_chinese_ui_through_the_language_switcher(page):
    sim = fork("e2e-zh")
    page.goto(f"/simulator_home/{sim.name}/")
    wait_for_town(page)
    assert not CJK.search(visible_text_without_selects(page)), "Chinese text on the English page"
    with page.expect_navigation():
        page.locator("#language-select").select_option("zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    wait_for_town(page)
    text = visible_text_without_selects(page)
    assert CJK.search(text), f"no Chinese text after switching: {text[:500]}"
    assert all(name in text for name in NAMES)  # names are data, not translated
    assert page.console_errors == [] and page.page_errors == []


def test_chinese_ui_from_accept_language(new_page):
    page = new_page(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-Hans,zh;q=0.9"})
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert CJK.search(visible_text_without_selects(page))


# --- g. XSS ----------------------------------------------------------------------------------------


def test_names_and_memories_are_shown_as_text_never_run(page, tmp_path):
    # Both payloads in the name too: persona names may contain "/" (docs/frontend_api.md).
    evil = f"Isabella {XSS_IMG} {XSS_SCRIPT} Rodriguez"
    sim = fork("e2e-xss")
    rename_persona(sim, ISABELLA, evil)
    plant_memories(sim, evil, [f"likes {XSS_SCRIPT} a lot", f"saw {XSS_IMG} at the cafe"], tmp_path)
    add_walk(sim, 6, chat_from=2, text=XSS_SCRIPT)

    def check(url: str, *, town: bool = False, must_show: tuple[str, ...] = ()) -> None:
        resp = page.goto(url)
        assert resp is not None and resp.status == 200, f"{url}: {resp and resp.status}"
        if town:
            wait_for_town(page)
            page.wait_for_timeout(1500)  # a few frames: labels, bubbles, the side panel
        assert page.evaluate(NO_XSS), f"{url}: markup from the data was run"
        text = page.locator("body").inner_text()
        for literal in must_show:
            assert literal in text, f"{url}: {literal!r} not shown as text"
        assert page.page_errors == [], f"{url}: {page.page_errors}"

    check("/", must_show=())
    check(f"/simulator_home/{sim.name}/", town=True, must_show=(evil,))
    # The side panel: select the agent (its memories, action and chat come from the JSON API).
    page.locator("#agent-list .agent-item", has_text="Rodriguez").first.click()
    page.wait_for_timeout(1500)
    assert page.evaluate(NO_XSS)
    check(f"/replay/{sim.name}/0/", town=True, must_show=(evil,))
    check(
        f"/replay_persona_state/{sim.name}/5/{quote(evil, safe='')}/",
        must_show=(evil, f"likes {XSS_SCRIPT} a lot", f"saw {XSS_IMG} at the cafe"),
    )
    check(f"/sim/{sim.name}/log/", must_show=(evil, XSS_SCRIPT))
    check(f"/sim/{sim.name}/plots/")
    api = page.request.get(f"/api/sim/{quote(sim.name)}/persona/{quote(evil, safe='')}/")
    assert api.status == 200 and api.json()["name"] == evil
    assert page.console_errors == []


# --- 404s ---------------------------------------------------------------------------------------


def test_unknown_names_steps_and_path_tricks_get_the_404_page(page):
    sim = fork("e2e-404")  # no stored steps
    for url in (
        "/simulator_home/no-such-sim/",
        f"/replay/{sim.name}/0/",  # nothing stored yet
        f"/replay/{BASE}/0/",
        "/replay/..%2F..%2Fetc%2Fpasswd/0/",
        "/replay/%2Fetc%2Fpasswd/0/",
        f"/demo/{sim.name}/0/9/",
        f"/replay_persona_state/{sim.name}/0/Nobody%20Here/",
        f"/replay_persona_state/{sim.name}/0/..%2F..%2Fsettings.py/",
        f"/sim/{sim.name}/log/?persona=Nobody",
        "/sim/no-such-sim/plots/",
        "/api/sim/no-such-sim/",
        f"/api/sim/{sim.name}/persona/Nobody/",
        "/sprites/Nobody%20Here/sheet.png",
    ):
        resp = page.goto(url)
        assert resp is not None and resp.status == 404, f"{url}: {resp and resp.status}"
        if "text/html" in (resp.headers.get("content-type") or ""):
            content = page.content()
            assert "URLconf" not in content and "Traceback" not in content, url
    assert page.page_errors == []


# --- h. who may control a run ----------------------------------------------------------------------


def test_controls_need_permission_and_a_csrf_token(new_page, make_user):
    sim = fork("e2e-controls")
    live = f"/simulator_home/{sim.name}/"
    control = f"/simulator_home/{sim.name}/control/"

    anon = new_page()
    anon.goto(live)
    wait_for_town(anon)
    assert controls(anon).count() == 0
    assert anon.locator("[data-action=play], [data-action=step], [data-action=pause]").count() == 0
    token = csrf_token(anon)
    resp = anon.request.post(control, form={"action": "play"}, headers={"X-CSRFToken": token})
    assert resp.status == 403  # a valid CSRF token, no user
    resp = anon.request.post(control, form={"action": "play"})
    assert resp.status == 403
    assert Simulation.objects.get(pk=sim.pk).run_state == "paused"
    assert anon.page_errors == []
    anon.close()  # a live town page keeps a core busy drawing (software WebGL): one at a time

    viewer = new_page()
    login(viewer, make_user("e2e-viewer", permissions=()))
    viewer.goto(live)
    wait_for_town(viewer)
    assert controls(viewer).count() == 0
    resp = viewer.request.post(control, form={"action": "play"}, headers={"X-CSRFToken": csrf_token(viewer)})
    assert resp.status == 403
    assert viewer.page_errors == []
    viewer.close()

    runner = new_page()
    login(runner, make_user("e2e-runner"))
    runner.goto(live)
    wait_for_town(runner)
    for action in ("play", "pause", "step"):
        assert runner.locator(f"#town-controls [data-action={action}]").is_visible()
    resp = runner.request.post(control, form={"action": "play"})  # signed in, no CSRF token
    assert resp.status == 403
    resp = runner.request.post(control, form={"action": "play"}, headers={"X-CSRFToken": "x" * 32})
    assert resp.status == 403
    assert Simulation.objects.get(pk=sim.pk).run_state == "paused"
    resp = runner.request.post(control, form={"action": "pause"}, headers={"X-CSRFToken": csrf_token(runner)})
    assert resp.status == 200 and resp.json()["state"] == "paused"
    resp = runner.request.post(
        f"/simulator_home/{BASE}/control/", form={"action": "pause"}, headers={"X-CSRFToken": csrf_token(runner)}
    )
    assert resp.status == 400  # a base simulation: fork it first
    assert runner.page_errors == []


# --- phones: touch pan, pinch zoom, a collapsible panel -------------------------------------


def _touch(cdp, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y} for x, y in points]})


def test_on_a_phone_one_finger_pans_two_fingers_zoom_and_the_panel_folds(new_page):
    sim = fork("e2e-phone")
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(f"/simulator_home/{sim.name}/")
    wait_for_town(page)
    layout = page.locator("#town-layout")
    assert "panel-collapsed" in (layout.get_attribute("class") or "")  # folded by default on a narrow screen
    page.locator("#panel-toggle").tap()
    assert "panel-collapsed" not in (layout.get_attribute("class") or "")
    page.locator("#panel-toggle").tap()
    assert "panel-collapsed" in (layout.get_attribute("class") or "")

    camera = "() => { const c = window.smallville.town.scene.cameras.main; return [c.scrollX, c.scrollY, c.zoom]; }"
    box = page.locator("#town-map canvas").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    x0, _, zoom0 = page.evaluate(camera)
    _touch(cdp, "touchStart", [(cx, cy)])
    for i in range(1, 11):  # one finger drags 100 px to the left: the view moves right
        _touch(cdp, "touchMove", [(cx - 10 * i, cy)])
    _touch(cdp, "touchEnd", [])
    x1, _, zoom1 = page.evaluate(camera)
    assert x1 > x0 + 20 and zoom1 == zoom0, (x0, x1, zoom0, zoom1)
    _touch(cdp, "touchStart", [(cx - 30, cy), (cx + 30, cy)])
    for i in range(1, 11):  # two fingers spread apart: zoom in
        _touch(cdp, "touchMove", [(cx - 30 - 8 * i, cy), (cx + 30 + 8 * i, cy)])
    _touch(cdp, "touchEnd", [])
    _, _, zoom2 = page.evaluate(camera)
    assert zoom2 > zoom1 * 1.3, (zoom1, zoom2)
    assert page.console_errors == [] and page.page_errors == []
