"""Emoji and Chinese render from our own web fonts (issue 13 §2), in a real browser.

css/fonts.css declares "Color Emoji Web" (twemoji-colr-font) and "Noto Sans SC Web"
(@fontsource/noto-sans-sc), npm packages served from /static/vendor/fonts/, each face
with a unicode-range.
The CI machine has no emoji or CJK system fonts (.ci/run installs none), so without
these every emoji and Chinese character is an empty box. Each check draws the same text
with font-family set ONLY to our family and to a family that does not exist (the
browser's fallback: the empty box), and to a codepoint no font has (U+10FFFD); the
pixels must differ, and the emoji must be in colour.
"""

from __future__ import annotations

from reverie import services
from reverie.models import Movement
from tests.e2e.helpers import wait_for_town

EMOJI = "😴"
CHINESE = "小镇居民"
ZH_NAME = "林小梅"

DRAW = """async ([text, family, size]) => {
    await document.fonts.ready;
    if (family.includes("Web")) await document.fonts.load(`${size}px "${family}"`, text);
    const c = document.createElement("canvas");
    c.width = size * (Array.from(text).length + 1); c.height = size * 2;
    const ctx = c.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
    ctx.font = `${size}px "${family}"`; ctx.fillStyle = "#000"; ctx.textBaseline = "middle";
    ctx.fillText(text, size / 2, size);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let inked = 0, coloured = 0, hash = 0;
    for (let i = 0; i < d.length; i += 4) {
        const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
        if (r < 250 || g < 250 || b < 250) inked++;
        if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
        hash = (hash * 31 + r * 7 + g * 3 + b) >>> 0;
    }
    return {inked, coloured, hash};
}"""


def draw(page, text: str, family: str, size: int = 32) -> dict:
    return page.evaluate(DRAW, [text, family, size])


def test_emoji_and_chinese_draw_real_glyphs_from_our_static_fonts(page):
    fetched: list[str] = []
    page.on("response", lambda r: fetched.append(r.url) if r.url.endswith(".woff2") and r.ok else None)
    page.goto("/")
    no_glyph = "\U0010fffd"

    emoji = draw(page, EMOJI, "Color Emoji Web")
    emoji_box = draw(page, EMOJI, "No Such Font Family")
    emoji_nothing = draw(page, no_glyph, "Color Emoji Web")
    assert emoji["inked"] > 200, emoji
    assert emoji["hash"] != emoji_box["hash"] and emoji["hash"] != emoji_nothing["hash"]
    assert emoji["coloured"] > 100, f"the emoji is not drawn in colour: {emoji}"
    assert emoji_box["coloured"] == 0  # the fallback here: an empty box, or DejaVu Sans's black outline

    zh = draw(page, CHINESE, "Noto Sans SC Web")
    zh_box = draw(page, CHINESE, "No Such Font Family")
    zh_nothing = draw(page, no_glyph * len(CHINESE), "Noto Sans SC Web")
    assert zh["inked"] > 200, zh
    assert zh["hash"] != zh_box["hash"] and zh["hash"] != zh_nothing["hash"]
    # Four different characters, four different glyphs: draw each one alone.
    singles = {draw(page, ch, "Noto Sans SC Web")["hash"] for ch in CHINESE}
    assert len(singles) == len(CHINESE)

    # The glyphs came from our static files, one unicode-range subset at a time.
    ours = [u for u in fetched if "/static/vendor/fonts/" in u]
    assert any("twemoji" in u for u in ours) and any("noto-sans-sc" in u for u in ours), fetched
    assert len(ours) < 12, f"more subsets than the text needs: {ours}"
    assert page.console_errors == [] and page.page_errors == []


def test_english_pages_fetch_no_font_they_do_not_need(page):
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "/vendor/fonts/" in r.url else None)
    page.goto("/accounts/login/?next=/")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    # The language select says 简体中文, so the Chinese subsets of those four characters may
    # come; no emoji subset and nothing else.
    assert not [u for u in fetched if "emoji" in u], fetched
    assert len(fetched) <= 4, fetched


def test_the_town_canvas_draws_emoji_with_the_web_font(page):
    """Phaser's canvas text lists our families and is redrawn once they load."""
    sim = services.fork("base_the_ville_isabella_maria_klaus", "e2e-fonts-town")
    rows = [
        Movement(simulation=sim, step=0, persona=p.name, x=p.scratch["tile"][0], y=p.scratch["tile"][1],
                 emoji=EMOJI, description="sleeping @ the Ville", chat=None)
        for p in sim.personas.all()
    ]  # fmt: skip
    Movement.objects.bulk_create(rows)
    # One agent with a Chinese name: its label is Chinese text on Phaser's canvas.
    maria = sim.personas.get(name="Maria Lopez")
    maria.name = ZH_NAME
    maria.identity = {**maria.identity, "name": ZH_NAME}
    maria.save(update_fields=["name", "identity"])
    Movement.objects.filter(simulation=sim, persona="Maria Lopez").update(persona=ZH_NAME)
    sim.step = 1
    sim.save(update_fields=["step"])
    page.goto(f"/simulator_home/{sim.name}/")
    wait_for_town(page)
    page.wait_for_function("() => document.body.dataset.step === '0'")
    yellow = """() => {
        const a = window.smallville.town.scene.agents.get("Isabella Rodriguez");
        const t = a.tag;
        const d = t.canvas.getContext("2d").getImageData(0, 0, t.canvas.width, t.canvas.height).data;
        // the sleeping face is yellow: neither the green badge nor its white text is
        let yellow = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 140 && d[i + 2] < 110) yellow++;
        return {text: t.text, family: t.style.fontFamily, yellow, refreshed: window.smallville.fontsRefreshed};
    }"""
    page.wait_for_function(f"() => ({yellow})().yellow > 20", timeout=20_000)
    result = page.evaluate(yellow)
    assert result["text"].startswith(EMOJI)
    assert '"Color Emoji Web"' in result["family"] and '"Noto Sans SC Web"' in result["family"]
    assert result["yellow"] > 20, result
    # The Chinese name is drawn with real glyphs: its tag differs from the same tag with
    # three characters no font has (empty boxes), drawn by Phaser in the same style.
    page.evaluate("(n) => window.smallville.select(n)", ZH_NAME)  # the full name shows
    page.evaluate("() => window.smallville.wake()")
    same = page.wait_for_function(
        """(name) => {
            const scene = window.smallville.town.scene;
            const tag = scene.agents.get(name).tag;
            if (!tag.text.endsWith(name)) return null;
            const hash = (t) => {
                const d = t.canvas.getContext("2d").getImageData(0, 0, t.canvas.width, t.canvas.height).data;
                let h = 0;
                for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] * 7 + d[i + 1] * 3 + d[i + 2]) >>> 0;
                return h;
            };
            const boxes = scene.add.text(0, 0, tag.text.replace(name, "\\u{10FFFD}\\u{10FFFD}\\u{10FFFD}"),
                                         tag.style.toJSON()).setVisible(false);
            const out = [hash(tag), hash(boxes), tag.width, boxes.width];
            boxes.destroy();
            return out[0] !== out[1] ? out : null;
        }""",
        arg=ZH_NAME,
        timeout=20_000,
    ).json_value()
    assert same[0] != same[1], same
    assert page.console_errors == [] and page.page_errors == []
