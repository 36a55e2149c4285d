"""Accuracy by turn, as PNG and SVG next to an evaluation's results (matplotlib, Agg).

Sequential runs draw acc@t (the turn's own answer), m1@tk (majority vote, no oracle)
and p1@tk (oracle) against the turn; a one-turn parallel run draws its three bars:
acc@t1, mn@t1 and pn@t1.
"""

from __future__ import annotations

from pathlib import Path

from training.rise.metrics import RiseMetrics


def accuracy_by_turn(metrics: RiseMetrics, stem: Path, *, title: str = "") -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # no display; safe in workers and threads
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=120)
    ax = fig.add_subplot()
    if metrics.turns > 1 or metrics.mn_t1 is None:
        turns = list(range(1, metrics.turns + 1))
        ax.plot(turns, [100 * v for v in metrics.p1], "o-", label="p1@t (any turn right: oracle)", color="#2a9d8f")
        ax.plot(turns, [100 * v for v in metrics.m1], "s-", label="m1@t (majority vote, no oracle)", color="#264653")
        ax.plot(turns, [100 * v for v in metrics.accuracy], "^--", label="acc@t (this turn's answer)", color="#e76f51")
        ax.set_xlabel("turn")
        ax.set_xticks(turns)
    else:
        n = metrics.samples_at_t1
        names = ["acc@t1", f"m{n}@t1", f"p{n}@t1"]
        values = [100 * metrics.accuracy[0], 100 * metrics.mn_t1, 100 * (metrics.pn_t1 or 0.0)]
        bars = ax.bar(names, values, color=["#e76f51", "#264653", "#2a9d8f"])
        ax.bar_label(bars, fmt="%.1f%%")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-3, 103)  # room for markers at 0% and 100%
    ax.grid(alpha=0.3)
    ax.set_title(title or "RISE evaluation", fontsize=10)
    if metrics.turns > 1 or metrics.mn_t1 is None:
        ax.legend(loc="lower right", fontsize=8)
    fig.text(0.99, 0.01, f"{metrics.problems} problems", ha="right", va="bottom", fontsize=7, color="#666")
    fig.tight_layout()
    out = []
    for suffix in (".png", ".svg"):
        path = stem.with_suffix(suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
        out.append(path)
    return out
