"""What each cognitive step asks the model for, as pydantic models.

Answers are kept small on purpose: enums where the options are known, bounded
strings and short lists. The gateway turns each into a grammar for constrained
decoding, validates, repairs, and falls back (see llm/gateway.py); small answers are
also what keeps the cost per agent-hour low.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, create_model


def _has_words(text: str) -> str:
    """Reject strings that are only punctuation (a small model's '}, {' filler)."""
    if sum(ch.isalpha() for ch in text) < 2:
        raise ValueError("must contain words")
    return text.strip()


Short = Annotated[str, Field(min_length=2, max_length=60), AfterValidator(_has_words)]
Activity = Annotated[str, Field(min_length=2, max_length=50), AfterValidator(_has_words)]


class WakeUp(BaseModel):
    hour: int = Field(ge=4, le=11)


class DailyPlan(BaseModel):
    items: list[Short] = Field(min_length=4, max_length=8)


class Block(BaseModel):
    activity: Activity
    hours: int = Field(ge=1, le=6)


class HourlyPlan(BaseModel):
    blocks: list[Block] = Field(min_length=3, max_length=10)


class Subtask(BaseModel):
    activity: Activity
    minutes: int = Field(ge=5, le=60)


class Decomposition(BaseModel):
    subtasks: list[Subtask] = Field(min_length=2, max_length=8)


class Revision(BaseModel):
    subtasks: list[Subtask] = Field(min_length=1, max_length=6)


class ActionDetails(BaseModel):
    emoji: str = Field(min_length=1, max_length=4)
    object_state: Annotated[str, Field(min_length=2, max_length=30), AfterValidator(_has_words)]


Rating = Annotated[int, Field(ge=1, le=10)]


def ratings_model(count: int) -> type[BaseModel]:
    """Poignancy (1 mundane .. 10 life-changing) of `count` memories in one answer."""
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Ratings", ratings=(list[Rating], Field(min_length=count, max_length=count))
    )


def choice_model(name: str, field: str, options: Sequence[str]) -> type[BaseModel]:
    """A one-field model whose value must be one of `options` (built per call)."""
    unique = tuple(dict.fromkeys(options))
    if not unique:
        raise ValueError(f"{name}: no options to choose from")
    return create_model(name, **{field: (Literal[unique], ...)})  # type: ignore[call-overload,no-any-return]


Question = Annotated[str, Field(min_length=5, max_length=100), AfterValidator(_has_words)]


class Questions(BaseModel):
    questions: list[Question] = Field(min_length=1, max_length=3)


def insights_model(statements: int) -> type[BaseModel]:
    """Up to 5 insights, each citing statements by their 1-based numbers."""
    cite = Annotated[int, Field(ge=1, le=max(1, statements))]
    insight = create_model(  # type: ignore[call-overload]
        "Insight",
        text=(Annotated[str, Field(min_length=8, max_length=120), AfterValidator(_has_words)], ...),
        because_of=(list[cite], Field(min_length=1, max_length=5)),
    )
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Insights", insights=(list[insight], Field(min_length=1, max_length=5))
    )


class ReactDecision(BaseModel):
    decision: Literal["talk", "wait", "continue"]


class Relationship(BaseModel):
    summary: Annotated[str, Field(min_length=5, max_length=160), AfterValidator(_has_words)]


class Utterance(BaseModel):
    line: Annotated[str, Field(min_length=1, max_length=160), AfterValidator(_has_words)]
    end: bool


class Memo(BaseModel):
    text: Annotated[str, Field(min_length=5, max_length=140), AfterValidator(_has_words)]


class Answer(BaseModel):
    answer: Annotated[str, Field(min_length=1, max_length=400), AfterValidator(_has_words)]
