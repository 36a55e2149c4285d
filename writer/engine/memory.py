"""Short-term and long-term memory.

Short-term memory is a list of facts, one per line (the writer edits it as text).
After each paragraph the model says which numbered lines to drop and which facts to
add (`writer.memory`); then `bound_memory` keeps the result within
`memory_bound` word-equivalents (config.text_length, so Chinese is counted per
character): it drops the oldest lines first, and cuts a single line that alone is
over the bound. Every line removed, by the model or by the bound, is reported as
dropped; every new line as added.

Long-term memory is one entry per paragraph (summary + full text), embedded once
when written or edited (`embed_entries`). Retrieval embeds only the query (the plan)
and scores the state's entries by cosine through a `VectorIndex` (the port shared
with Smallville: reverie.engine.ports). The index is a cache keyed by entry id; the
vectors live on the entries, so filling an index for a loaded state embeds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from llm.gateway import Gateway
from reverie.engine.ports import InMemoryVectorIndex, VectorIndex
from writer.engine.config import text_length, truncate_to_length
from writer.engine.state import LongTermEntry, StoryState

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # the port wants a time; the writer ranks by cosine only


class EntryIndex(VectorIndex, Protocol):
    """A `VectorIndex` that can say which ids it already holds."""

    def __contains__(self, node_id: object) -> bool: ...


# ------------------------------------------------------------------ short-term memory
def memory_lines(memory: str) -> list[str]:
    """The facts of a short-term memory text: one per non-empty line, bullets removed."""
    return [line for raw in memory.splitlines() if (line := " ".join(_BULLET.sub("", raw).split()))]


def join_memory(lines: Sequence[str]) -> str:
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class MemoryChange:
    memory: str
    added: tuple[str, ...]
    dropped: tuple[str, ...]


def bound_memory(lines: Sequence[str], bound: int, language: str) -> tuple[list[str], list[str]]:
    """(kept, dropped): oldest lines dropped until the text is within `bound`."""
    kept = list(lines)
    dropped: list[str] = []
    while kept and text_length(join_memory(kept), language) > bound:
        if len(kept) == 1:
            cut = truncate_to_length(kept[0], bound, language)
            dropped.append(kept[0])
            kept = [cut] if cut else []
            break
        dropped.append(kept.pop(0))
    return kept, dropped


def update_memory(memory: str, drop: Sequence[int], add: Sequence[str], *, bound: int, language: str) -> MemoryChange:
    """Apply a memory update (1-based line numbers to drop, facts to add), then the bound."""
    lines = memory_lines(memory)
    drop_set = {i for i in drop if 1 <= i <= len(lines)}
    dropped = [line for i, line in enumerate(lines, 1) if i in drop_set]
    kept = [line for i, line in enumerate(lines, 1) if i not in drop_set]
    known = {line.casefold() for line in kept}
    added: list[str] = []
    for fact in add:
        fact = " ".join(fact.split())
        if fact and fact.casefold() not in known:
            known.add(fact.casefold())
            added.append(fact)
    kept, over = bound_memory(kept + added, bound, language)
    final = set(kept)
    # A new fact cut by the bound was not really added; an old one cut was dropped.
    added_kept = [f for f in added if f in final]
    dropped += [line for line in over if line not in added]
    return MemoryChange(memory=join_memory(kept), added=tuple(added_kept), dropped=tuple(dropped))


def brief(text: str, max_chars: int) -> str:
    """A deterministic stand-in summary: the first sentence(s) of `text` within `max_chars`."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    ends = [m.end() for m in re.finditer(r"[.!?。！？](?=\s|$|[^\w])", cut)]
    if ends and ends[-1] >= max_chars // 3:
        return cut[: ends[-1]].strip()
    space = cut.rfind(" ")
    return (cut[:space] if space > max_chars // 2 else cut).strip()


# ------------------------------------------------------------------- long-term memory
def embed_entries(gw: Gateway, entries: Sequence[LongTermEntry]) -> list[LongTermEntry]:
    """The entries with their vectors: one embedding call for those that have none."""
    todo = [e for e in entries if e.vector is None]
    if not todo:
        return list(entries)
    vectors = gw.embed([e.embedded_text for e in todo], purpose="writer.embed")
    done = {e.id: _readonly(v) for e, v in zip(todo, vectors, strict=True)}
    return [replace(e, vector=done[e.id]) if e.id in done else e for e in entries]


def _readonly(vector: np.ndarray) -> np.ndarray:
    array = np.array(vector, dtype=np.float32)
    array.flags.writeable = False
    return array


def fill_index(index: EntryIndex, entries: Sequence[LongTermEntry]) -> None:
    """Put every embedded entry the index lacks into it (no model call)."""
    for entry in entries:
        if entry.vector is not None and entry.id not in index:
            index.add(entry.id, "paragraph", entry.vector, _EPOCH)


@dataclass(frozen=True, slots=True)
class Retrieved:
    """A long-term entry that came to mind for the plan, and its cosine to the plan."""

    entry: LongTermEntry
    score: float


def retrieve(
    gw: Gateway,
    state: StoryState,
    query: str,
    *,
    k: int,
    index: EntryIndex | None = None,
    exclude: Sequence[int] = (),
) -> list[Retrieved]:
    """The top `k` long-term entries of `state` by cosine to `query` (embedded here:
    the only embedding a retrieval makes). Ties go to the later paragraph."""
    candidates = [e for e in state.long_term if e.id not in set(exclude) and e.vector is not None]
    if not candidates or k <= 0 or not query.strip():
        return []
    index = index if index is not None else InMemoryVectorIndex()
    fill_index(index, candidates)
    q = gw.embed([query], purpose="writer.query")[0]
    scores = index.similarities(q, [e.id for e in candidates])
    ranked = sorted(candidates, key=lambda e: (-round(scores.get(e.id, 0.0), 12), -e.paragraph))
    return [Retrieved(entry=e, score=float(scores.get(e.id, 0.0))) for e in ranked[:k]]
