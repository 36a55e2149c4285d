"""Lorebook (world info): which entries enter a step's prompt.

An entry fires when one of its keywords or aliases occurs in the scanned text (the
last `lore_scan_paragraphs` paragraphs and the plan). Matching is case-insensitive
(Unicode casefold). A trigger with any CJK character matches as a substring, since
Chinese has no spaces to bound a word; any other trigger must stand as a whole word
(no letter, digit or underscore on either side), so "Ann" does not fire on "Anna".

Fired entries are then admitted in lorebook order (the writer's order is the
priority) while the running total of `approx_tokens` of their rendered lines stays
within `lore_budget_tokens`; an entry that does not fit is skipped and reported, and
smaller entries after it may still fit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from writer.engine.config import approx_tokens, has_cjk
from writer.engine.state import LoreEntry


@dataclass(frozen=True, slots=True)
class LoreHit:
    """A lorebook entry that fired: on which trigger, and what it cost."""

    entry: LoreEntry
    trigger: str
    tokens: int
    included: bool  # False: it fired but did not fit the budget


def trigger_pattern(trigger: str) -> re.Pattern[str]:
    word = re.escape(trigger.casefold())
    if has_cjk(trigger):
        return re.compile(word)
    return re.compile(rf"(?<!\w){word}(?!\w)")


def render_entry(entry: LoreEntry) -> str:
    return f"- {entry.name} ({entry.kind}): {entry.text}"


def match_lore(entries: Sequence[LoreEntry], texts: Sequence[str], budget_tokens: int) -> list[LoreHit]:
    """Every entry that fired, in lorebook order, with `included` set by the budget."""
    haystack = "\n".join(texts).casefold()
    hits: list[LoreHit] = []
    used = 0
    for entry in entries:
        trigger = next((t for t in entry.triggers if trigger_pattern(t).search(haystack)), None)
        if trigger is None:
            continue
        tokens = approx_tokens(render_entry(entry))
        fits = used + tokens <= budget_tokens
        if fits:
            used += tokens
        hits.append(LoreHit(entry=entry, trigger=trigger, tokens=tokens, included=fits))
    return hits
