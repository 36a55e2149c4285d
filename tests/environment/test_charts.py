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
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert {"step", "personas who know", "party: 3", "crush: 1"} <= set(texts)  # the legend: name and last value
    paths = [p.get("d") for p in root.iter(f"{SVG}path")]
    assert len(paths) == 2 and "H" in paths[0] and "V" in paths[0]  # a step line
    crush = root.findall(f".//{SVG}g[@class='markers']")[1]
    assert len(list(crush)) == 1  # the one-point series is still visible, as a marker


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
    # Three series on the same points: every point marked, in three shapes.
    groups = _parse(svg).findall(f".//{SVG}g[@class='markers']")
    assert [len(list(g)) for g in groups] == [3, 3, 3]
    assert len({g.get("data-shape") for g in groups}) == 3


def test_a_percentage_chart_reads_against_the_whole_scale():
    svg = line_chart({"party": [(0.0, 33.3), (120.0, 33.3)]}, title="aware", x_label="step", y_label="%",
                     y_bounds=(0.0, 100.0))  # fmt: skip
    assert ">80<" in svg and ">60<" in svg  # y ticks up to 100 (x ticks are 0-100 by 25)
    assert ">80<" not in line_chart({"party": [(0.0, 33.3), (120.0, 33.3)]}, title="aware", x_label="step",
                                     y_label="%")  # fmt: skip


def _x_tick_labels(root: ET.Element) -> list[str]:
    """The x axis' tick labels: the axis texts just under the plot, centred on their ticks."""
    axes = root.find(f".//{SVG}g[@class='axes']")
    texts = [t for t in axes.iter(f"{SVG}text") if t.get("text-anchor") == "middle" and t.get("transform") is None]
    return [t.text for t in texts[:-1]]  # the last centred one is the x label


def _bar_rects(root: ET.Element) -> list[ET.Element]:
    return root.findall(f".//{SVG}g[@class='bars']/{SVG}g/{SVG}rect")


def test_a_run_of_one_or_two_steps_gets_whole_step_ticks_and_narrow_bars():
    for steps in ([(0, 12)], [(0, 12), (1, 30)]):
        root = _parse(bar_chart({"model calls": steps}, title="Calls", x_label="step", y_label="calls"))
        ticks = _x_tick_labels(root)
        assert ticks == [str(s) for s, _ in steps], ticks  # a tick per step, no 0.2 or 0.5
        rects = _bar_rects(root)
        assert len(rects) == len(steps)
        assert all(float(r.get("width")) <= 48 for r in rects)  # not one bar across the whole chart
        # Each bar stands over its step's tick.
        tick_x = [float(t.get("x")) for t in root.find(f".//{SVG}g[@class='axes']").iter(f"{SVG}text")
                  if t.text in ticks and t.get("text-anchor") == "middle"]  # fmt: skip
        centres = [float(r.get("x")) + float(r.get("width")) / 2 for r in rects]
        assert all(abs(c - x) < 1 for c, x in zip(centres, tick_x, strict=True)), (centres, tick_x)
    # A count axis has whole ticks too: one call is not split into fifths.
    root = _parse(bar_chart({"model calls": [(0, 1)]}, title="Calls", x_label="step", y_label="calls"))
    axes = root.find(f".//{SVG}g[@class='axes']")
    y_ticks = [t.text for t in axes.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert y_ticks == ["0", "1"]


def test_a_long_run_keeps_whole_step_ticks_and_full_width_buckets():
    root = _parse(bar_chart({"calls": [(s, 1) for s in range(300)]}, title="Calls", x_label="step", y_label="n"))
    ticks = _x_tick_labels(root)
    assert len(ticks) >= 3 and all(t.isdigit() for t in ticks), ticks
    assert len(_bar_rects(root)) == 150  # 2 steps per bar


def test_a_line_over_one_step_has_a_whole_step_axis():
    root = _parse(line_chart({"party": [(0.0, 1.0)]}, title="t", x_label="step", y_label="n", step=True))
    ticks = _x_tick_labels(root)
    assert ticks == ["0", "1"], ticks


def test_overlapping_lines_differ_in_dash_marker_and_width_and_the_legend_gives_values():
    # The news-spread chart: "crush" lies exactly on "party".
    same = [(0.0, 1.0), (4.0, 2.0), (9.0, 3.0)]
    svg = line_chart({"party": same, "crush": same, "mayor": [(0.0, 1.0), (9.0, 1.0)]},
                     title="How news spreads", x_label="step", y_label="agents who know", step=True)  # fmt: skip
    root = _parse(svg)
    paths = root.findall(f".//{SVG}g[@class='series']/{SVG}path")
    assert len(paths) == 3
    dashes = [p.get("stroke-dasharray") or "" for p in paths]
    assert len(set(dashes)) == 3, dashes  # one solid, two distinct dash patterns
    widths = [float(p.get("stroke-width")) for p in paths]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) == 3  # the one below is wider
    shapes = [g.get("data-shape") for g in root.findall(f".//{SVG}g[@class='markers']")]
    assert len(set(shapes)) == 3, shapes
    items = root.findall(f".//{SVG}g[@class='legend']/{SVG}g[@class='legend-item']")
    assert [i.get("data-series") for i in items] == ["party", "crush", "mayor"]
    values = [i.find(f".//{SVG}tspan[@class='legend-value']").text for i in items]
    assert values == ["3", "3", "1"]  # each series' last value
    for item, dash in zip(items, dashes, strict=True):  # the legend's sample line matches its line
        assert (item.find(f"{SVG}line").get("stroke-dasharray") or "") == dash


def _first_grid_y(root: ET.Element) -> float:
    """The top of the plot: the highest y grid line."""
    lines = root.find(f".//{SVG}g[@class='axes']").findall(f"{SVG}line")
    return min(float(line.get("y1")) for line in lines)


def test_the_legend_sits_above_the_plot_at_the_left_and_the_plot_keeps_the_width():
    # A chart wider than a phone scrolls sideways in its box: title and legend must be at
    # the left, where the view starts, and the plot use the whole width (no legend column).
    svg = line_chart({"party": [(0.0, 1.0), (8.0, 2.0)], "crush": [(0.0, 1.0), (8.0, 2.0)]},
                     title="How news spreads", x_label="step", y_label="n", step=True)  # fmt: skip
    root = _parse(svg)
    title = root.find(f"{SVG}text[@class='chart-title']")
    assert float(title.get("x")) <= 60 and title.get("text-anchor") is None
    top = _first_grid_y(root)
    entries = root.findall(f".//{SVG}g[@class='legend']/{SVG}g[@class='legend-item']")
    assert len(entries) == 2
    for entry in entries:
        text = entry.find(f"{SVG}text")
        assert float(text.get("y")) < top  # above the plot
        assert float(text.get("x")) < 360  # within a phone's first view
    axis = [
        line
        for line in root.find(f".//{SVG}g[@class='axes']").findall(f"{SVG}line")
        if line.get("y1") == line.get("y2")
    ]
    assert max(float(line.get("x2")) for line in axis) >= 620  # the plot runs to the right edge


def test_many_series_wrap_into_at_most_three_legend_rows_then_more():
    many = {f"series number {i}": [(0.0, float(i)), (1.0, float(i))] for i in range(30)}
    root = _parse(line_chart(many, title="t", x_label="x", y_label="y"))
    rows = {float(t.find(f"{SVG}text").get("y")) for t in root.iter(f"{SVG}g") if t.get("class") == "legend-item"}
    assert 1 < len(rows) <= 3
    more = [t.text for t in root.find(f".//{SVG}g[@class='legend']").findall(f"{SVG}text")]
    assert more and more[-1].startswith("+") and more[-1].endswith(" more")
    shown = len(root.findall(f".//{SVG}g[@class='legend-item']"))
    assert shown + int(more[-1].split()[0][1:]) == 30
    for t in root.iter(f"{SVG}text"):  # nothing drawn past the right edge
        assert float(t.get("x", 0)) < 640
    # Bars get a legend above the plot too.
    bars = _parse(bar_chart({"prompt": [(0, 5)], "completion": [(0, 2)]}, title="t", x_label="x", y_label="y"))
    assert len(bars.findall(f".//{SVG}g[@class='legend-item']")) == 2
