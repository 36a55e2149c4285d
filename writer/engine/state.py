"""The state of one story, as plain values.

Every class here is a frozen dataclass of strings, ints and tuples: a step or an edit
returns a *new* `StoryState` and never changes the one it was given (copy-on-step), so
any earlier state can be stepped again to make a branch while the later states stay
as they were. `to_dict` / `from_dict` round-trip through JSON-ready dicts.

Long-term memory holds one `LongTermEntry` per paragraph: its summary and full text,
and the embedding of both, computed once when the paragraph is written or edited.
The vector travels with the entry (it is excluded from equality), so a loaded state
never needs its old paragraphs embedded again; an edit makes a new entry with a new
id, whose vector is the only one computed. Entry ids are random 62-bit integers, so
entries of different branches never collide in a shared vector index.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

LoreKind = Literal["character", "place", "fact"]
LORE_KINDS: tuple[str, ...] = ("character", "place", "fact")


def new_id() -> int:
    """A random positive 62-bit id (fits a signed 64-bit database column)."""
    return secrets.randbits(62) or 1


@dataclass(frozen=True, slots=True)
class LongTermEntry:
    """One paragraph in long-term memory: what it says in brief, what it says in full."""

    id: int
    paragraph: int  # 0-based position in the story when it was written
    summary: str
    text: str
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def embedded_text(self) -> str:
        """What is embedded for retrieval: the summary, then the paragraph."""
        if not self.summary or self.text.startswith(self.summary):
            return self.text
        return f"{self.summary}\n{self.text}"

    def to_dict(self, *, vectors: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "paragraph": self.paragraph, "summary": self.summary,
                                "text": self.text}  # fmt: skip
        if vectors and self.vector is not None:
            data["vector"] = [float(x) for x in self.vector]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LongTermEntry:
        vector = data.get("vector")
        return cls(
            id=int(data["id"]),
            paragraph=int(data["paragraph"]),
            summary=str(data.get("summary", "")),
            text=str(data["text"]),
            vector=None if vector is None else _frozen_vector(vector),
        )


def _frozen_vector(vector: Any) -> np.ndarray:
    array = np.array(vector, dtype=np.float32).reshape(-1)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True)
class LoreEntry:
    """A lorebook (world info) entry: it enters a step's prompt only when one of its
    keywords or aliases appears in the recent text or the plan (see lorebook.py)."""

    id: int
    name: str
    kind: LoreKind
    text: str
    keywords: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in LORE_KINDS:
            raise ValueError(f"lorebook kind must be one of {LORE_KINDS}, got {self.kind!r}")

    @property
    def triggers(self) -> tuple[str, ...]:
        """Keywords and aliases, blanks removed, each once (case-insensitively)."""
        seen: dict[str, str] = {}
        for word in (*self.keywords, *self.aliases):
            word = word.strip()
            if word and word.casefold() not in seen:
                seen[word.casefold()] = word
        return tuple(seen.values())

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "text": self.text,
                "keywords": list(self.keywords), "aliases": list(self.aliases)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoreEntry:
        return cls(
            id=int(data.get("id") or new_id()),
            name=str(data["name"]),
            kind=data.get("kind", "fact"),
            text=str(data.get("text", "")),
            keywords=tuple(str(k) for k in data.get("keywords", ())),
            aliases=tuple(str(a) for a in data.get("aliases", ())),
        )


@dataclass(frozen=True, slots=True)
class StoryState:
    """Everything the next step needs. `memory` is the short-term memory: one fact per line."""

    novel_type: str
    topic: str
    title: str
    outline: str
    language: str = "en"
    premise: str = ""
    paragraphs: tuple[str, ...] = ()
    memory: str = ""
    plans: tuple[str, ...] = ()
    long_term: tuple[LongTermEntry, ...] = ()
    lore: tuple[LoreEntry, ...] = ()
    steps: int = 0  # steps taken since init

    @property
    def previous_paragraph(self) -> str:
        return self.paragraphs[-1] if self.paragraphs else ""

    def entry_for(self, paragraph: int) -> LongTermEntry | None:
        for entry in reversed(self.long_term):
            if entry.paragraph == paragraph:
                return entry
        return None

    def to_dict(self, *, vectors: bool = True) -> dict[str, Any]:
        return {
            "novel_type": self.novel_type,
            "topic": self.topic,
            "premise": self.premise,
            "language": self.language,
            "title": self.title,
            "outline": self.outline,
            "paragraphs": list(self.paragraphs),
            "memory": self.memory,
            "plans": list(self.plans),
            "long_term": [e.to_dict(vectors=vectors) for e in self.long_term],
            "lore": [e.to_dict() for e in self.lore],
            "steps": self.steps,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoryState:
        return cls(
            novel_type=str(data.get("novel_type", "")),
            topic=str(data.get("topic", "")),
            premise=str(data.get("premise", "")),
            language=str(data.get("language", "en")),
            title=str(data.get("title", "")),
            outline=str(data.get("outline", "")),
            paragraphs=tuple(str(p) for p in data.get("paragraphs", ())),
            memory=str(data.get("memory", "")),
            plans=tuple(str(p) for p in data.get("plans", ())),
            long_term=tuple(LongTermEntry.from_dict(e) for e in data.get("long_term", ())),
            lore=tuple(LoreEntry.from_dict(e) for e in data.get("lore", ())),
            steps=int(data.get("steps", 0)),
        )
