"""Prompt files for the cognitive modules, one per purpose, per language.

English prompts are `reverie/engine/prompts/<name>.txt`; the prompts of another
language are `reverie/engine/prompts/<language>/<name>.txt`, with the same purposes,
the same `{{fields}}` and the same JSON answer schemas (only the instructions and the
examples differ, and they ask for free text in that language).

A run's language is `AgentConfig.language`. The cognitive modules call
`prompt(name, **fields)` without naming a language: the language is the one set by
`speaking(language)` around the work (World.advance, the interview, the whisper),
carried by a contextvar so every coroutine and gateway thread of that work sees it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path

from llm.prompts import render_prompt

__all__ = [
    "LANGUAGES",
    "PROMPTS",
    "PromptLanguageError",
    "chinese_clock",
    "chinese_date",
    "current_language",
    "prompt",
    "prompt_path",
    "speaking",
]

PROMPTS = Path(__file__).resolve().parent / "prompts"
LANGUAGES: tuple[str, ...] = ("en", "zh")
DEFAULT_LANGUAGE = "en"

_language: ContextVar[str] = ContextVar("reverie_prompt_language", default=DEFAULT_LANGUAGE)


class PromptLanguageError(ValueError):
    """An unknown language, or a purpose with no prompt file in the chosen language."""


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise PromptLanguageError(f"unknown prompt language {language!r}; choose from {', '.join(LANGUAGES)}")
    return language


def current_language() -> str:
    """The language `prompt()` renders in now ('en' unless inside `speaking(...)`)."""
    return _language.get()


@contextmanager
def speaking(language: str) -> Iterator[str]:
    """Render every prompt inside this block in `language` ('en' or 'zh')."""
    token = _language.set(_check_language(language))
    try:
        yield language
    finally:
        _language.reset(token)


def prompt_path(name: str, language: str = DEFAULT_LANGUAGE) -> Path:
    """The file of purpose `name` in `language`; a missing file is a clear error.
    Found files are remembered: a step renders a few hundred prompts, and asking the
    file system each time took a tenth of a second of the event loop's time."""
    return _found_prompt(PROMPTS, name, _check_language(language))


@functools.lru_cache(maxsize=512)
def _found_prompt(root: Path, name: str, language: str) -> Path:
    path = root / f"{name}.txt" if language == DEFAULT_LANGUAGE else root / language / f"{name}.txt"
    if not path.is_file():
        english = root / f"{name}.txt"
        if language != DEFAULT_LANGUAGE and english.is_file():
            raise PromptLanguageError(
                f"prompt {name!r} has no {language!r} version: write {path.relative_to(root.parent.parent.parent)}"
                f" (same {{{{fields}}}} as {english.name})"
            )
        raise PromptLanguageError(f"no prompt named {name!r} (looked for {path})")
    return path


def prompt(name: str, /, *, language: str | None = None, **fields: object) -> str:
    """Render `prompts/[<language>/]<name>.txt` (a missing field is an error, never a
    blank); the language is `language`, else the one `speaking()` set, else English."""
    return render_prompt(prompt_path(name, language or _language.get()), **fields)


_WEEKDAYS_ZH = "一二三四五六日"


def chinese_date(now: datetime, *, year: bool = False) -> str:
    """A date as a Chinese prompt names it: "2月13日（星期一）", with `year` "2023年2月13日（星期一）"."""
    day = f"{now.month}月{now.day}日（星期{_WEEKDAYS_ZH[now.weekday()]}）"
    return f"{now.year}年{day}" if year else day


def chinese_clock(now: datetime) -> str:
    """A date and time for a Chinese prompt: "2月13日（星期一）07:00"."""
    return f"{chinese_date(now)}{now:%H:%M}"
