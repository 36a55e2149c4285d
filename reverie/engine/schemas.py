"""What each cognitive step asks the model for, as pydantic models.

Answers are kept small on purpose: enums where the options are known, bounded
strings and short lists. The gateway turns each into a grammar for constrained
decoding, validates, repairs, and falls back (see llm/gateway.py); small answers are
also what keeps the cost per agent-hour low.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, Field, create_model

# The model factories below are cached: building a pydantic model takes about a
# millisecond, and a step of 25 agents asked for ~250 of them with the same few caps.
_MODELS = 4096


def _has_words(text: str) -> str:
    """Reject strings that are only punctuation (a small model's '}, {' filler)."""
    if sum(ch.isalpha() for ch in text) < 2:
        raise ValueError("must contain words")
    return text.strip()


Short = Annotated[str, Field(min_length=2, max_length=60), AfterValidator(_has_words)]
Activity = Annotated[str, Field(min_length=2, max_length=50), AfterValidator(_has_words)]


# --- planning ----------------------------------------------------------------------------
# The classes are the compact defaults; the `*_model` builders make the same shapes
# with the caps a config asks for (built per call).

Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$")]  # "17:00"; "24:00" is midnight


def _text(min_length: int, max_length: int) -> Any:
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_has_words)]


class WakeUp(BaseModel):
    hour: int = Field(ge=4, le=11)


@lru_cache(maxsize=_MODELS)
def wake_up_model(low: int, high: int) -> type[BaseModel]:
    """The wake-up hour, limited to `low`..`high` (the compact range is 4-11; paper 0-23)."""
    return create_model("WakeUp", hour=(int, Field(ge=low, le=high)))  # type: ignore[call-overload,no-any-return]


class IdentityRevision(BaseModel):
    """The morning revision of who the persona is today (`plan.identity`)."""

    currently: Annotated[str, Field(min_length=5, max_length=200), AfterValidator(_has_words)]
    daily_requirement: Annotated[str, Field(min_length=5, max_length=200), AfterValidator(_has_words)]


@lru_cache(maxsize=_MODELS)
def identity_revision_model(max_chars: int) -> type[BaseModel]:
    return create_model(  # type: ignore[call-overload,no-any-return]
        "IdentityRevision", currently=(_text(5, max_chars), ...), daily_requirement=(_text(5, max_chars), ...)
    )


class DailyPlan(BaseModel):
    items: list[Short] = Field(min_length=4, max_length=8)


@lru_cache(maxsize=_MODELS)
def daily_plan_model(max_chars: int) -> type[BaseModel]:
    items: Any = list[_text(2, max_chars)]  # type: ignore[misc]
    return create_model(  # type: ignore[call-overload,no-any-return]
        "DailyPlan", items=(items, Field(min_length=4, max_length=8))
    )


class Block(BaseModel):
    """One block of the day's schedule, at clock times (24-hour "HH:MM")."""

    start: Clock
    end: Clock
    activity: Activity


class HourlyPlan(BaseModel):
    blocks: list[Block] = Field(min_length=3, max_length=12)


@lru_cache(maxsize=_MODELS)
def hourly_plan_model(max_chars: int) -> type[BaseModel]:
    block = create_model(  # type: ignore[call-overload]
        "Block", start=(Clock, ...), end=(Clock, ...), activity=(_text(2, max_chars), ...)
    )
    return create_model(  # type: ignore[call-overload,no-any-return]
        "HourlyPlan",
        blocks=(list[block], Field(min_length=3, max_length=12)),  # type: ignore[valid-type]
    )


class Subtask(BaseModel):
    activity: Activity
    minutes: int = Field(ge=5, le=60)


class Decomposition(BaseModel):
    subtasks: list[Subtask] = Field(min_length=2, max_length=8)


class Revision(BaseModel):
    subtasks: list[Subtask] = Field(min_length=1, max_length=6)


@lru_cache(maxsize=_MODELS)
def subtasks_model(name: str, max_chars: int, *, min_items: int, max_items: int) -> type[BaseModel]:
    """Decomposition (2-8 subtasks) or Revision (1-6) with activities capped at `max_chars`."""
    subtask = create_model(  # type: ignore[call-overload]
        "Subtask", activity=(_text(2, max_chars), ...), minutes=(int, Field(ge=5, le=60))
    )
    return create_model(  # type: ignore[call-overload,no-any-return]
        name,
        subtasks=(list[subtask], Field(min_length=min_items, max_length=max_items)),  # type: ignore[valid-type]
    )


class ActionDetails(BaseModel):
    emoji: str = Field(min_length=1, max_length=4)
    object_state: Annotated[str, Field(min_length=2, max_length=30), AfterValidator(_has_words)]


Rating = Annotated[int, Field(ge=1, le=10)]


@lru_cache(maxsize=_MODELS)
def ratings_model(count: int) -> type[BaseModel]:
    """Poignancy (1 mundane .. 10 life-changing) of `count` memories in one answer."""
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Ratings", ratings=(list[Rating], Field(min_length=count, max_length=count))
    )


def choice_model(name: str, field: str, options: Sequence[str]) -> type[BaseModel]:
    """A one-field model whose value must be one of `options` (built once per option list)."""
    return _choice_model(name, field, tuple(options))


class _Choice(BaseModel):
    """The base of choice_model's classes. Their JSON schema is written out here, as
    pydantic would write it (tests/reverie/engine/test_schemas.py compares the two):
    each agent's place and object lists differ, so most are new classes, and pydantic's
    schema generator spent ~0.2 ms on each, in the same burst as every other agent's call."""

    __choice__: ClassVar[dict[str, Any]] = {}

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if args or kwargs or not cls.__choice__:
            return super().model_json_schema(*args, **kwargs)
        return copy.deepcopy(cls.__choice__)


@lru_cache(maxsize=_MODELS)
def _choice_model(name: str, field: str, options: tuple[str, ...]) -> type[BaseModel]:
    unique = tuple(dict.fromkeys(options))
    if not unique:
        raise ValueError(f"{name}: no options to choose from")
    model: type[_Choice] = create_model(name, __base__=_Choice, **{field: (Literal[unique], ...)})  # type: ignore[call-overload]
    allowed = {"enum": list(unique)} if len(unique) > 1 else {"const": unique[0]}
    title = field.replace("_", " ").title()
    model.__choice__ = {
        "properties": {field: {**allowed, "title": title, "type": "string"}},
        "required": [field],
        "title": name,
        "type": "object",
    }
    return model


# --- reflection, reacting, conversations, interviews ----------------------------------------
# The classes are the compact defaults; the `*_model` builders make the same shapes with
# the caps a config asks for (built per call, `config.chars(purpose, default)`).


def _capped(max_length: int, min_length: int = 1, example: str | None = None) -> Any:
    """A bounded free-text field; with `example`, an answer that only copies the prompt's
    example answer is invalid (a small model's habit: it would become a false memory)."""
    field = Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_has_words)]
    if not example:
        return field
    return Annotated[field, AfterValidator(_not_a_copy(example))]  # type: ignore[valid-type]


def _squash(text: str) -> str:
    return " ".join(text.split()).lower().rstrip(".!")


def _not_a_copy(example: str) -> Any:
    def check(text: str) -> str:
        if _squash(text) == _squash(example):
            raise ValueError("this copies the example answer; answer about these people and this situation")
        return text

    return check


Question = Annotated[str, Field(min_length=5, max_length=100), AfterValidator(_has_words)]


class Questions(BaseModel):
    questions: list[Question] = Field(min_length=1, max_length=3)


@lru_cache(maxsize=_MODELS)
def questions_model(count: int = 3, max_chars: int = 100) -> type[BaseModel]:
    """Up to `count` reflection questions of at most `max_chars` characters each."""
    items: Any = list[_capped(max_chars, 5)]  # type: ignore[misc]
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Questions", questions=(items, Field(min_length=1, max_length=count))
    )


@lru_cache(maxsize=_MODELS)
def insights_model(statements: int, max_insights: int = 5, max_chars: int = 120) -> type[BaseModel]:
    """Up to `max_insights` insights, each citing statements by their 1-based numbers."""
    cite = Annotated[int, Field(ge=1, le=max(1, statements))]
    insight = create_model(  # type: ignore[call-overload]
        "Insight",
        text=(_capped(max_chars, 8), ...),
        because_of=(list[cite], Field(min_length=1, max_length=5)),
    )
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Insights",
        insights=(list[insight], Field(min_length=1, max_length=max_insights)),  # type: ignore[valid-type]
    )


Decision = Literal["talk", "wait", "continue"]


class ReactDecision(BaseModel):
    reasoning: str = Field(max_length=80)
    decision: Decision


@lru_cache(maxsize=_MODELS)
def react_model(reasoning_chars: int = 80) -> type[BaseModel]:
    """A short reason first (so the decision follows from it), then the decision."""
    return create_model(  # type: ignore[call-overload,no-any-return]
        "ReactDecision",
        reasoning=(str, Field(max_length=reasoning_chars)),
        decision=(Decision, ...),
    )


class Relationship(BaseModel):
    summary: Annotated[str, Field(min_length=5, max_length=160), AfterValidator(_has_words)]


@lru_cache(maxsize=_MODELS)
def relationship_model(max_chars: int = 160, example: str | None = None) -> type[BaseModel]:
    return create_model("Relationship", summary=(_capped(max_chars, 5, example), ...))  # type: ignore[call-overload,no-any-return]


class Utterance(BaseModel):
    line: Annotated[str, Field(min_length=1, max_length=160), AfterValidator(_has_words)]
    end: bool


@lru_cache(maxsize=_MODELS)
def utterance_model(max_chars: int = 160) -> type[BaseModel]:
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Utterance", line=(_capped(max_chars), ...), end=(bool, ...)
    )


def _conversing_about(text: str) -> str:
    """'They talked about X' / 'Conversing about X' -> 'conversing about X'."""
    text = " ".join(text.split()).rstrip(".")
    if re.search(r"[\u4e00-\u9fff]", text):  # a Chinese run's summary ("聊到...") stays as written
        text = text.rstrip("。")
        if text in ("聊到", "聊天", "谈话"):
            raise ValueError("say what the conversation was about")
        return text
    lowered = text.lower()
    if lowered in ("conversing about", "conversing", "talking", "talking about"):
        raise ValueError("say what the conversation was about")
    for prefix in ("conversing about ", "they are conversing about ", "they were conversing about "):
        if lowered.startswith(prefix):
            return "conversing about " + text[len(prefix) :]
    for prefix in ("talking about ", "they talked about ", "discussing ", "about "):
        if lowered.startswith(prefix):
            text = text[len(prefix) :]
            break
    return "conversing about " + text


@lru_cache(maxsize=_MODELS)
def chat_summary_model(max_chars: int = 120, example: str | None = None) -> type[BaseModel]:
    """What a conversation was about, always in the form 'conversing about ...'."""
    summary: Any = Annotated[_capped(max_chars, 5, example), AfterValidator(_conversing_about)]  # type: ignore[valid-type]
    return create_model("ChatSummary", summary=(summary, ...))  # type: ignore[call-overload,no-any-return]


class Memo(BaseModel):
    text: Annotated[str, Field(min_length=5, max_length=140), AfterValidator(_has_words)]


@lru_cache(maxsize=_MODELS)
def memo_model(max_chars: int = 140, example: str | None = None) -> type[BaseModel]:
    return create_model("Memo", text=(_capped(max_chars, 5, example), ...))  # type: ignore[call-overload,no-any-return]


class Answer(BaseModel):
    answer: Annotated[str, Field(min_length=1, max_length=400), AfterValidator(_has_words)]


@lru_cache(maxsize=_MODELS)
def answer_model(max_chars: int = 400, example: str | None = None) -> type[BaseModel]:
    return create_model("Answer", answer=(_capped(max_chars, 1, example), ...))  # type: ignore[call-overload,no-any-return]


@lru_cache(maxsize=_MODELS)
def memory_summary_model(max_chars: int = 300, example: str | None = None) -> type[BaseModel]:
    """An interview's summary of the retrieved memories that bear on the question."""
    return create_model("MemorySummary", summary=(_capped(max_chars, 5, example), ...))  # type: ignore[call-overload,no-any-return]
