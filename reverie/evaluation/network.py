"""Relationship density and the relationship graph (the paper's section 7.1).

An agent "knows" another when, asked about them, its answer shows it does (judged as
for diffusion) and some memory or its identity names the other (else the yes is a
hallucination). Each ordered pair is asked, so "knows" is directed: Klaus may know
Maria while Maria has never heard of Klaus. Density is the share of possible directed
edges present, |E| / (n (n - 1)); the paper reports 0.167 at the start and 0.74 after
two game days.

The graph is drawn as SVG with the nodes on a circle (name order), an arrow per
directed edge and a thicker line where both know each other. Every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape

Edge = tuple[str, str]  # (who knows, whom)


def density(n: int, edges: Iterable[Edge]) -> float:
    """|E| / (n (n - 1)) over distinct directed edges between different agents."""
    if n < 2:
        return 0.0
    distinct = {(a, b) for a, b in edges if a != b}
    return len(distinct) / (n * (n - 1))


def _first(name: str) -> str:
    return name.split()[0] if name.split() else name


def graph_svg(names: Sequence[str], edges: Iterable[Edge], *, title: str, size: int = 420) -> str:
    """The directed graph on a circle; mutual pairs are drawn once, thicker."""
    known = set(names)
    edge_set = {(a, b) for a, b in edges if a != b and a in known and b in known}
    centre, radius = size / 2, size / 2 - 60
    pos: dict[str, tuple[float, float]] = {}
    for i, name in enumerate(names):
        angle = 2 * math.pi * i / max(len(names), 1) - math.pi / 2
        pos[name] = (centre + radius * math.cos(angle), centre + radius * math.sin(angle))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{size}" height="{size}" '
        f'role="img" aria-label="{escape(title)}" class="relationship-graph">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="currentColor"/></marker></defs>',
        '<g stroke="currentColor" fill="none" opacity="0.6">',
    ]
    drawn: set[Edge] = set()
    for a, b in sorted(edge_set):
        if (b, a) in drawn:
            continue
        (x1, y1), (x2, y2) = pos[a], pos[b]
        mutual = (b, a) in edge_set
        # Stop short of the node circles so the arrow heads show.
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1.0
        ux, uy = dx / length, dy / length
        sx, sy, ex, ey = x1 + 8 * ux, y1 + 8 * uy, x2 - 8 * ux, y2 - 8 * uy
        width = 2.2 if mutual else 1.0
        ends = ' marker-end="url(#arrow)"' + (' marker-start="url(#arrow)"' if mutual else "")
        out.append(
            f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke-width="{width}"{ends}>'
            f"<title>{escape(a)} {'&#8596;' if mutual else '&#8594;'} {escape(b)}</title></line>"
        )
        drawn.add((a, b))
    out.append("</g>")
    for name, (x, y) in pos.items():
        anchor = "start" if x > centre + 1 else "end" if x < centre - 1 else "middle"
        lx = x + (12 if anchor == "start" else -12 if anchor == "end" else 0)
        ly = y + (4 if anchor != "middle" else (-12 if y < centre else 18))
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="currentColor"><title>{escape(name)}</title></circle>'
            f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="11" text-anchor="{anchor}" fill="currentColor">'
            f"{escape(_first(name))}</text>"
        )
    out.append("</svg>")
    return "".join(out)
