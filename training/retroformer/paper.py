"""The published success rates, to print beside a run's own figures.

Source: Yao et al., "Retroformer: Retrospective Large Language Agents with Policy
Gradient Optimization" (ICLR 2024), its headline results tables, as summarised in
the project's reference notes (../shared/reference/rise_retroformer.md). Every figure
is APPROXIMATE ("~" in the notes) and the notes say to check the paper before quoting;
nothing here is more precise than they are. Where the notes give no trial count the
figure is the method's reported final success rate (`after_retries` is None).
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "Retroformer (Yao et al., ICLR 2024), headline results; approximate, check the paper's tables before quoting"


@dataclass(frozen=True)
class PaperFigure:
    method: str  # "ReAct" (no reflections), "Reflexion", "Retroformer", or "all methods"
    low: float  # success rate, 0..1
    high: float  # the same as `low` unless the notes give a range
    after_retries: int | None = None  # trials after the first, when the notes say

    @property
    def label(self) -> str:
        low, high = round(100 * self.low), round(100 * self.high)
        rate = f"~{low}%" if low == high else f"~{low}-{high}%"
        return rate if self.after_retries is None else f"{rate} after {self.after_retries} retries"


PAPER_FIGURES: dict[str, tuple[PaperFigure, ...]] = {
    "hotpotqa": (
        PaperFigure("ReAct", 0.34, 0.34),
        PaperFigure("Reflexion", 0.50, 0.50),
        PaperFigure("Retroformer", 0.53, 0.54, after_retries=4),
    ),
    "alfworld": (
        PaperFigure("Reflexion", 0.84, 0.84),
        PaperFigure("Retroformer", 1.00, 1.00),
    ),
    # The notes give one range for every method on WebShop: reflection barely helps there.
    "webshop": (PaperFigure("all methods", 0.33, 0.36),),
}


def paper_figures(env: str) -> tuple[PaperFigure, ...]:
    """The figures for `env` (any case); empty for an environment the paper did not report."""
    return PAPER_FIGURES.get(env.strip().lower(), ())


def paper_line(env: str) -> str:
    """One line for a results table: "ReAct ~34%, Reflexion ~50%, ..." ("" when none)."""
    return ", ".join(f"{f.method} {f.label}" for f in paper_figures(env))


__all__ = ["PAPER_FIGURES", "SOURCE", "PaperFigure", "paper_figures", "paper_line"]
