"""What the writer asks the model for, as pydantic models.

Answers are small on purpose (bounded strings, short lists) so the bundled 270M
model can fill them under a grammar and a strong chat model cannot ramble. Sizes
come from the `WriterConfig`, so the models are built per call.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, create_model


def _has_words(text: str) -> str:
    """Reject strings that are only punctuation or digits (a small model's filler)."""
    if sum(ch.isalpha() for ch in text) < 2:
        raise ValueError("must contain words")
    return " ".join(text.split())


def bounded_text(min_length: int, max_length: int) -> Any:
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_has_words)]


def opening_model(title_chars: int = 80, outline_chars: int = 600) -> type[BaseModel]:
    """writer.init: a title and an outline."""
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Opening", title=(bounded_text(2, title_chars), ...), outline=(bounded_text(10, outline_chars), ...)
    )


def memory_update_model(lines: int, add_max: int, fact_chars: int, summary_chars: int) -> type[BaseModel]:
    """writer.memory: a summary of the new paragraph, which memory lines to drop (by
    their 1-based numbers) and which new facts to add."""
    line = Annotated[int, Field(ge=1, le=max(1, lines))]
    fact = bounded_text(3, fact_chars)
    return create_model(  # type: ignore[call-overload,no-any-return]
        "MemoryUpdate",
        summary=(bounded_text(5, summary_chars), ...),
        drop=(list[line], Field(default_factory=list, max_length=max(1, lines))),
        add=(
            list[fact],  # type: ignore[valid-type]
            Field(min_length=1, max_length=add_max),
        ),
    )


def plans_model(count: int, plan_chars: int) -> type[BaseModel]:
    """writer.plans: exactly `count` instructions for the next paragraph."""
    plan = bounded_text(8, plan_chars)
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Plans",
        plans=(list[plan], Field(min_length=count, max_length=count)),  # type: ignore[valid-type]
    )


def choice_model(count: int) -> type[BaseModel]:
    """writer.choose: the number of the chosen plan (1-based) and why."""
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Choice", choice=(Annotated[int, Field(ge=1, le=count)], ...), reason=(bounded_text(3, 200), ...)
    )


def refined_plan_model(plan_chars: int) -> type[BaseModel]:
    """writer.refine: the chosen plan, made more concrete."""
    return create_model("RefinedPlan", plan=(bounded_text(8, plan_chars), ...))  # type: ignore[call-overload,no-any-return]
