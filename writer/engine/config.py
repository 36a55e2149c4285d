"""Settings of the RecurrentGPT engine, and how text is measured.

One frozen dataclass holds every size, cap and temperature the recurrence uses
(ARCHITECTURE.md principle 10); it is stored with each project so a run can be
explained and repeated. Two presets:

    WriterConfig.paper()     the recurrence as the paper describes it: 3 opening
                             paragraphs, 3 plans per step, paragraphs of ~200 words, a
                             short-term memory of a few hundred words, a small top-k.
    WriterConfig.compact()   what the bundled 270M base model can do in seconds: one
                             opening paragraph, short paragraphs, short plans, a small
                             memory and lorebook budget.

Lengths. `text_length(text, language)` counts *word-equivalents*: each run of Latin
letters/digits is one word, and each CJK character (Han, kana, hangul) is one word on
its own, since Chinese has no spaces and one character carries about as much as one
English word. The rule is the same for both languages (mixed text counts right either
way); `language` is accepted so callers state what they measure.

Tokens. `approx_tokens(text)` estimates model tokens without a tokenizer: 1.3 tokens
per Latin word (BPE vocabularies average ~0.75 words per token for English prose), 1
token per CJK character (most multilingual vocabularies, Gemma's included, spend about
one token per common Han character), and 1 per other non-space symbol (punctuation).
It is rounded up. It only has to rank and budget lorebook entries, not be exact.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Language = Literal["en", "zh"]
LANGUAGES: dict[str, str] = {"en": "English", "zh": "Chinese (简体中文)"}

_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # compatibility ideographs
)
CJK_CHAR = re.compile(f"[{_CJK}]")
_UNIT = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+(?:['’][^\\W{_CJK}]+)*")
_SYMBOL = re.compile(f"[^\\w\\s{_CJK}]")


def has_cjk(text: str) -> bool:
    return CJK_CHAR.search(text) is not None


def text_length(text: str, language: str = "en") -> int:
    """Word-equivalents in `text`: Latin words count 1, each CJK character counts 1."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {sorted(LANGUAGES)}, got {language!r}")
    return len(_UNIT.findall(text))


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate of model tokens (see the module docstring)."""
    cjk = len(CJK_CHAR.findall(text))
    words = sum(1 for unit in _UNIT.findall(text) if not CJK_CHAR.fullmatch(unit))
    symbols = len(_SYMBOL.findall(text))
    return math.ceil(1.3 * words + cjk + symbols)


def truncate_to_length(text: str, limit: int, language: str = "en") -> str:
    """The longest prefix of `text` (cut at a unit boundary) of at most `limit` units."""
    if limit <= 0:
        return ""
    end = 0
    for count, match in enumerate(_UNIT.finditer(text), 1):
        if count > limit:
            return text[:end].rstrip()
        end = match.end()
    return text


@dataclass(frozen=True, slots=True)
class Temperatures:
    """Sampling temperature per purpose (writer.init, writer.paragraph, ...)."""

    init: float = 0.7
    paragraph: float = 0.8
    memory: float = 0.0
    plans: float = 0.8
    choose: float = 0.0
    expand: float = 0.7

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not 0.0 <= value <= 2.0:
                raise ValueError(f"temperature for {name} must be in [0, 2], got {value!r}")


@dataclass(frozen=True, slots=True)
class WriterConfig:
    """Every setting of the recurrence. Defaults: the paper's shape."""

    language: Language = "en"
    plans: int = 3  # plans offered after each step
    init_paragraphs: int = 3  # paragraphs written by init
    top_k: int = 3  # long-term memories retrieved per step (plan as the query)
    memory_bound: int = 300  # short-term memory, in word-equivalents (text_length)
    memory_add_max: int = 3  # new facts the memory update may add per step
    fact_max_chars: int = 160  # one short-term memory fact
    summary_max_chars: int = 240  # one long-term summary
    plan_max_chars: int = 240  # one plan
    outline_max_chars: int = 600
    paragraph_words: int = 200  # target length of a paragraph (word-equivalents)
    paragraph_max_tokens: int = 600  # hard cap on one paragraph's generation
    lore_budget_tokens: int = 400  # approx_tokens of the lorebook entries in one prompt
    lore_scan_paragraphs: int = 2  # recent paragraphs scanned for lorebook keywords
    max_repairs: int = 2  # repair prompts per structured call before its fallback
    # How paragraphs are asked for: "instruct" (an instruction, for chat/instruction-tuned
    # models, as the original did with ChatGPT) or "continue" (the story itself, with the
    # plan and notes in brackets, to be continued: what a small base model can follow).
    prose: Literal["instruct", "continue"] = "instruct"
    recent_paragraphs: int = 2  # paragraphs shown verbatim in a "continue" prompt
    temperatures: Temperatures = field(default_factory=Temperatures)

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {sorted(LANGUAGES)}, got {self.language!r}")
        for name in ("plans", "init_paragraphs", "top_k", "memory_bound", "memory_add_max", "fact_max_chars",
                     "summary_max_chars", "plan_max_chars", "outline_max_chars", "paragraph_words",
                     "paragraph_max_tokens", "lore_scan_paragraphs", "recent_paragraphs"):  # fmt: skip
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.plans > 9:
            raise ValueError(f"plans must be at most 9, got {self.plans}")
        if self.prose not in ("instruct", "continue"):
            raise ValueError(f"prose must be 'instruct' or 'continue', got {self.prose!r}")
        if self.max_repairs < 0:
            raise ValueError(f"max_repairs must be >= 0, got {self.max_repairs}")
        if self.lore_budget_tokens < 0:
            raise ValueError(f"lore_budget_tokens must be >= 0, got {self.lore_budget_tokens}")
        if self.fact_max_chars < 20 or self.plan_max_chars < 20:
            raise ValueError("fact_max_chars and plan_max_chars must be at least 20")

    @property
    def language_name(self) -> str:
        return LANGUAGES[self.language]

    @classmethod
    def paper(cls, **changes: Any) -> WriterConfig:
        """The recurrence as the paper describes it (3 opening paragraphs, 3 plans)."""
        return replace(cls(), **changes)

    @classmethod
    def compact(cls, **changes: Any) -> WriterConfig:
        """Small enough for the bundled 270M base model to run a step in seconds."""
        base = cls(
            init_paragraphs=1,
            top_k=2,
            memory_bound=80,
            memory_add_max=1,
            fact_max_chars=80,
            summary_max_chars=100,
            plan_max_chars=80,
            outline_max_chars=160,
            max_repairs=1,
            prose="continue",
            paragraph_words=60,
            paragraph_max_tokens=110,
            lore_budget_tokens=120,
            lore_scan_paragraphs=1,
            temperatures=Temperatures(init=0.7, paragraph=0.7, memory=0.0, plans=0.7, choose=0.0, expand=0.7),
        )
        return replace(base, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WriterConfig:
        fields = dict(data)
        temps = fields.pop("temperatures", None)
        return cls(**fields, temperatures=Temperatures(**temps) if temps else Temperatures())
