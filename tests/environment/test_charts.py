"""The SVG charts: well-formed, escaped, accessible, bounded in size, and calm with no data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from environment.charts import bar_chart, line_chart, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert('x')</script> & co"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def test_a_line_chart_is_valid_accessible_svg():
    svg = line_chart(
        {"party": [(0, 1), (120, 2), (200, 3)], "crush": [(0, 1)]},
        title="How news spreads",
        x_label="step",
        y_label="personas who know",
        step=True,
    )
    root = _parse(svg)
    assert root.get("role") == "img" and root.get("aria-label") == "How news spreads"
    assert root.find(f"{SVG}title").text == "How news spreads"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"step", "personas who know", "party", "crush"} <= set(texts)
    paths = [p.get("d") for p in root.iter(f"{SVG}path")]
    assert len(paths) == 2 and "H" in paths[0] and "V" in paths[0]  # a step line
    assert root.find(f".//{SVG}circle") is not None  # the one-point series is still visible


def test_every_text_is_escaped():
    svg = line_chart({EVIL: [(0, 1), (1, 2)], "b": [(0, 2), (1, 0)]}, title=EVIL, x_label=EVIL, y_label=EVIL)
    assert "<script" not in svg
    root = _parse(svg)
    assert root.get("aria-label") == EVIL
    legend = [t.text for t in root.iter(f"{SVG}title")]
    assert EVIL in legend  # the full name, unharmed, once parsed
    bars = bar_chart({EVIL: [(0, 5)], "b": [(1, 3)]}, title=EVIL, x_label=EVIL, y_label=EVIL)
    assert "<script" not in bars
    _parse(bars)


def test_long_series_are_bucketed_and_thinned():
    steps = [(s, (s % 7) + 1) for s in range(8640)]
    svg = bar_chart({"prompt": steps, "completion": [(s, 1) for s in range(0, 8640, 2)]},
                    title="Tokens", x_label="step", y_label="tokens")  # fmt: skip
    root = _parse(svg)
    bars = root.findall(f".//{SVG}g[@class='bars']/{SVG}g")
    assert len(bars) == 2
    counts = [len(g.findall(f"{SVG}rect")) for g in bars]
    assert 0 < max(counts) <= 200
    assert "each bar: 44" in svg  # ceil(8640 / 200) steps per bar
    totals = [
        sum(float(r.find(f"{SVG}title").text.rsplit(": ", 1)[1].replace("k", "e3")) for r in g.findall(f"{SVG}rect"))
        for g in bars
    ]
    assert round(totals[1]) == 4320  # every value counted once, in some bar
    line = line_chart({"calls": [(s, s % 13) for s in range(20000)]}, title="Calls", x_label="step", y_label="n")
    commands = re.findall(r"[ML]", _parse(line).find(f".//{SVG}path").get("d"))
    assert len(commands) <= 4 * 640  # a few points per pixel column, not 20,000


def test_empty_series_give_a_no_data_chart():
    for svg in (
        line_chart({}, title="Tokens", x_label="step", y_label="n"),
        line_chart({"a": [], "b": [(float("nan"), 1)]}, title="Tokens", x_label="step", y_label="n"),
        bar_chart({"a": []}, title="Tokens", x_label="step", y_label="n"),
    ):
        root = _parse(svg)
        assert "no data yet" in [t.text for t in root.iter(f"{SVG}text")]
        assert root.get("aria-label") == "Tokens"


def test_flat_and_single_values_do_not_divide_by_zero():
    _parse(line_chart({"a": [(5, 0), (5, 0)]}, title="t", x_label="x", y_label="y"))
    _parse(bar_chart({"a": [(0, 0)]}, title="t", x_label="x", y_label="y"))
    _parse(bar_chart({"a": [(0.5, 2.0), (0.7, 1.0)]}, title="t", x_label="x", y_label="y"))


def test_nice_ticks():
    assert nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(0, 8639) == [0, 2000, 4000, 6000, 8000]
    assert nice_ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1]
    assert nice_ticks(3, 3) == [3]


def test_whole_number_x_gets_whole_ticks_and_coinciding_series_stay_visible():
    same = [(1, 0.0), (2, 100.0), (3, 100.0)]
    svg = line_chart({"acc@t": same, "m1@t": same, "p1@t": same}, title="t", x_label="turn", y_label="%")
    _parse(svg)
    x_ticks = re.findall(r'text-anchor="middle" stroke="none">([^<]+)</text>', svg)
    assert x_ticks[:3] == ["1", "2", "3"] and x_ticks[3:] == ["turn"]
    # Three series on the same points: every point marked, in three sizes.
    radii = set(re.findall(r'<circle [^>]*r="([\d.]+)"', svg))
    assert len(re.findall(r"<circle ", svg)) == 9 and len(radii) == 3


def test_a_percentage_chart_reads_against_the_whole_scale():
    svg = line_chart({"party": [(0.0, 33.3), (120.0, 33.3)]}, title="aware", x_label="step", y_label="%",
                     y_bounds=(0.0, 100.0))  # fmt: skip
    assert ">80<" in svg and ">60<" in svg  # y ticks up to 100 (x ticks are 0-100 by 25)
    assert ">80<" not in line_chart({"party": [(0.0, 33.3), (120.0, 33.3)]}, title="aware", x_label="step",
                                     y_label="%")  # fmt: skip
