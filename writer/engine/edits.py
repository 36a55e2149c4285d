"""The writer's edits, as functions from a state to a new state.

An edit takes effect in the next step because the step reads only the state: the
edited paragraph is the previous paragraph or a retrievable entry, the edited memory
is the memory, an edited lorebook entry is matched and rendered from the state.
Editing a paragraph or a long-term entry makes a new entry (new id) and embeds that
one entry; nothing else is embedded again.
"""

from __future__ import annotations

from dataclasses import replace

from llm.gateway import Gateway
from writer.engine.config import WriterConfig
from writer.engine.memory import EntryIndex, brief, embed_entries, fill_index
from writer.engine.state import LongTermEntry, LoreEntry, StoryState, new_id


def _reembed(gw: Gateway, entry: LongTermEntry, index: EntryIndex | None) -> LongTermEntry:
    (fresh,) = embed_entries(gw, [replace(entry, id=new_id(), vector=None)])
    if index is not None:
        fill_index(index, [fresh])
    return fresh


def edit_paragraph(
    gw: Gateway,
    state: StoryState,
    number: int,
    text: str,
    *,
    summary: str | None = None,
    config: WriterConfig | None = None,
    index: EntryIndex | None = None,
) -> StoryState:
    """Replace paragraph `number` (0-based; -1 for the last). Its long-term entry gets
    the new text, and `summary` or a brief of the text; exactly one embedding."""
    config = config or WriterConfig()
    if not -len(state.paragraphs) <= number < len(state.paragraphs):
        raise IndexError(f"no paragraph {number}: the story has {len(state.paragraphs)}")
    number %= len(state.paragraphs)
    text = text.strip()
    if not text:
        raise ValueError("a paragraph cannot be empty")
    paragraphs = list(state.paragraphs)
    paragraphs[number] = text
    old = state.entry_for(number)
    entry = LongTermEntry(id=0, paragraph=number, summary=summary or brief(text, config.summary_max_chars), text=text)
    fresh = _reembed(gw, entry, index)
    if old is None:
        long_term = (*state.long_term, fresh)
    else:
        long_term = tuple(fresh if e.id == old.id else e for e in state.long_term)
    return replace(state, paragraphs=tuple(paragraphs), long_term=long_term)


def edit_long_term(
    gw: Gateway,
    state: StoryState,
    entry_id: int,
    *,
    summary: str | None = None,
    text: str | None = None,
    index: EntryIndex | None = None,
) -> StoryState:
    """Change a long-term entry's summary and/or text (the story's paragraph stays)."""
    old = next((e for e in state.long_term if e.id == entry_id), None)
    if old is None:
        raise KeyError(f"no long-term entry {entry_id}")
    changed = replace(old, summary=old.summary if summary is None else summary.strip(),
                      text=old.text if text is None else text.strip())  # fmt: skip
    fresh = _reembed(gw, changed, index)
    return replace(state, long_term=tuple(fresh if e.id == entry_id else e for e in state.long_term))


def edit_memory(state: StoryState, memory: str) -> StoryState:
    """Replace the short-term memory as written (the bound applies at the next step)."""
    return replace(state, memory=memory.strip())


def edit_plans(state: StoryState, plans: list[str]) -> StoryState:
    return replace(state, plans=tuple(p.strip() for p in plans if p.strip()))


def upsert_lore(state: StoryState, entry: LoreEntry) -> StoryState:
    """Add a lorebook entry, or replace the one with the same id (keeping its place)."""
    if any(e.id == entry.id for e in state.lore):
        return replace(state, lore=tuple(entry if e.id == entry.id else e for e in state.lore))
    return replace(state, lore=(*state.lore, entry))


def remove_lore(state: StoryState, entry_id: int) -> StoryState:
    return replace(state, lore=tuple(e for e in state.lore if e.id != entry_id))
