"""What agents do is visible on the map (issue 13 §1), in a real browser.

The 25-agent town at the zoom a fresh live page opens with (about 0.54 at 1440x900, just
below where the old town.js fell back to bare initials): every agent shows its emoji
bubble and a short label unique in the town, no two labels overlap, labels never cover
building names, and at whole-map zoom every building keeps its name. The labels are
read from the page's Phaser scene (`window.smallville.labels()`, CSS px rectangles of
every label town.js placed); one check also looks at the pixels.
"""

from __future__ import annotations

import json
from pathlib import Path

from reverie import services
from reverie.models import Movement, Simulation
from tests.e2e.helpers import region_difference, screenshot, wait_for_town

BASE25 = "base_the_ville_n25"
MAP = Path(__file__).resolve().parents[2] / "static_dirs" / "towns" / "the_ville" / "map.json"
EMOJI = ["😴", "☕", "📚", "🍳", "🎨"]
DESKTOP = {"width": 1440, "height": 900}


def sector_names() -> list[str]:
    data = json.loads(MAP.read_text(encoding="utf-8"))
    layer = next(layer for layer in data["layers"] if layer.get("name") == "sectors")
    return sorted(o["name"] for o in layer["objects"] if o.get("name"))


def fork_with_a_step(name: str) -> tuple[Simulation, dict[str, str]]:
    """A fork of the 25-agent base with step 0 stored: everyone on their starting tile, each
    with an emoji and an action (what the page shows after the first step)."""
    sim = services.fork(BASE25, name)
    emoji = {}
    rows = []
    for i, p in enumerate(sim.personas.order_by("name")):
        x, y = p.scratch["tile"]
        emoji[p.name] = EMOJI[i % len(EMOJI)]
        rows.append(
            Movement(simulation=sim, step=0, persona=p.name, x=x, y=y, emoji=emoji[p.name],
                     description=f"getting ready for the day number {i} @ the Ville", chat=None)
        )  # fmt: skip
    Movement.objects.bulk_create(rows)
    sim.step = 1
    sim.save(update_fields=["step"])
    return sim, emoji


def labels(page) -> list[dict]:
    return page.evaluate("() => window.smallville.labels()")


def settle(page) -> None:
    page.evaluate("() => window.smallville.wake()")
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def overlaps(rects: list[dict]) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            # a pixel of tolerance: touching edges are not an overlap
            if (a["x"] + 0.5 < b["x"] + b["w"] and b["x"] + 0.5 < a["x"] + a["w"]
                    and a["y"] + 0.5 < b["y"] + b["h"] and b["y"] + 0.5 < a["y"] + a["h"]):  # fmt: skip
                out.append((f"{a['kind']}:{a['text']}", f"{b['kind']}:{b['text']}"))
    return out


def test_default_zoom_shows_every_emoji_bubble_with_unique_labels_and_no_overlaps(new_page):
    sim, emoji = fork_with_a_step("e2e-labels-default")
    page = new_page(viewport=DESKTOP)
    page.goto(f"/simulator_home/{sim.name}/")
    wait_for_town(page)
    page.wait_for_function("() => document.body.dataset.step === '0'")
    settle(page)
    zoom = page.evaluate("() => window.smallville.town.scene.cameras.main.zoom")
    assert zoom < 0.55, f"the default zoom is {zoom}: this test is about the zoomed-out first view"
    assert zoom >= page.evaluate("() => window.smallville.town.scene.minZoom()")

    shown = labels(page)
    tags = {r["owner"]: r for r in shown if r["kind"] == "tag"}
    assert sorted(tags) == sorted(emoji), f"agents without a label: {sorted(set(emoji) - set(tags))}"
    for name, r in tags.items():
        assert r["text"].startswith(emoji[name] + " "), (name, r["text"])  # the emoji bubble
    # Short labels are unique across the town: ML, RP and JM stood for two people each.
    short = page.evaluate("() => window.smallville.shortLabels()")
    assert len(short) == 25 and len(set(short.values())) == 25, short
    assert {short["Maria Lopez"], short["Mei Lin"]} == {"MaL", "MeL"}
    assert len({r["text"] for r in tags.values()}) == 25
    # Action texts appear where they fit (this zoom used to show none).
    assert any(r["kind"] == "action" for r in shown)
    assert overlaps(shown) == []
    buildings = [r for r in shown if r["kind"] == "building"]
    assert buildings, "no building names at this zoom"

    # The labels are really drawn: hiding the tags changes the pixels where they are.
    with_tags = screenshot(page)
    page.evaluate(
        "() => window.smallville.town.scene.placedLabels.forEach(([k, , o]) => { if (k === 'tag') o.setAlpha(0); })"
    )
    settle(page)
    page.evaluate("() => window.smallville.town.game.loop.sleep()")
    without = screenshot(page)
    page.evaluate("() => window.smallville.town.game.loop.wake()")
    dpr = page.evaluate("() => window.devicePixelRatio") or 1
    inside = [r for r in tags.values() if r["x"] >= 0 and r["y"] >= 0 and r["x"] + r["w"] <= DESKTOP["width"]]
    assert inside
    for r in inside[:5]:
        box = (int(r["x"] * dpr), int(r["y"] * dpr), int((r["x"] + r["w"]) * dpr), int((r["y"] + r["h"]) * dpr))
        assert region_difference(with_tags, without, box) > 10, f"{r['text']} is not drawn"
    assert page.console_errors == [] and page.page_errors == []


def test_whole_map_zoom_keeps_every_building_name(new_page):
    sim, _ = fork_with_a_step("e2e-labels-whole")
    page = new_page(viewport=DESKTOP)
    page.goto(f"/simulator_home/{sim.name}/")
    wait_for_town(page)
    page.locator(".town-zoom-btn[data-zoom=out]").click()  # first somewhere else ...
    page.locator(".town-zoom-btn[data-zoom=fit]").click()  # ... then the whole map
    settle(page)
    zoom, min_zoom = page.evaluate(
        "() => { const s = window.smallville.town.scene; return [s.cameras.main.zoom, s.minZoom()]; }"
    )
    assert abs(zoom - min_zoom) < 1e-6
    shown = labels(page)
    names = sorted(r["text"] for r in shown if r["kind"] == "building")
    assert names == sector_names()
    assert len([r for r in shown if r["kind"] == "tag"]) >= 20  # the agents keep their bubbles too
    assert overlaps(shown) == []
    assert page.console_errors == [] and page.page_errors == []


def test_hovered_and_selected_agents_show_name_and_action_on_top(new_page):
    sim, emoji = fork_with_a_step("e2e-labels-focus")
    page = new_page(viewport=DESKTOP)
    page.goto(f"/simulator_home/{sim.name}/")
    wait_for_town(page)
    page.wait_for_function("() => document.body.dataset.step === '0'")
    name = "Mei Lin"  # in a house with two others: a crowded spot
    page.evaluate("(n) => window.smallville.town.reveal(n)", name)
    settle(page)
    pos = page.evaluate("(n) => window.smallville.screenPosition(n)", name)
    box = page.locator("#town-map canvas").bounding_box()
    assert box["x"] < pos["x"] < box["x"] + box["width"] and box["y"] < pos["y"] < box["y"] + box["height"]
    page.mouse.move(pos["x"] - 30, pos["y"] - 30)
    page.mouse.move(pos["x"], pos["y"], steps=3)
    settle(page)
    shown = labels(page)
    mine = {r["kind"]: r for r in shown if r["owner"] == name}
    assert mine["tag"]["text"] == f"{emoji[name]} {name}"
    assert mine["action"]["text"].startswith("getting ready for the day")
    assert overlaps(shown) == []

    page.mouse.move(5, 5)  # away: back to the short label
    settle(page)
    mine = {r["kind"]: r for r in labels(page) if r["owner"] == name}
    assert mine["tag"]["text"] == f"{emoji[name]} MeL"

    page.evaluate("(n) => window.smallville.select(n)", "Ryan Park")
    settle(page)
    shown = labels(page)
    mine = {r["kind"]: r for r in shown if r["owner"] == "Ryan Park"}
    assert mine["tag"]["text"].endswith("Ryan Park") and "action" in mine
    assert overlaps(shown) == []
    assert page.console_errors == [] and page.page_errors == []


def test_short_labels_are_unique_and_do_not_depend_on_order(page):
    sim = services.fork("base_the_ville_isabella_maria_klaus", "e2e-labels-unit")
    page.goto(f"/simulator_home/{sim.name}/")
    wait_for_town(page)
    result = page.evaluate(
        """() => {
            const S = window.SmallvilleTown;
            const names = ["Mei Lin", "Maria Lopez", "Tom Moore", "Tom Moreno", "林小梅", "林小红", "Al B", "Al Bo"];
            const a = Object.fromEntries(S.uniqueLabels(names));
            const b = Object.fromEntries(S.uniqueLabels(names.slice().reverse()));
            return [a, b];
        }"""
    )
    a, b = result
    assert a == b
    assert len(set(a.values())) == len(a)
    assert a["Mei Lin"] == "MeL" and a["Maria Lopez"] == "MaL"
