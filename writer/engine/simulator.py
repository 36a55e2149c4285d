"""The human simulator: an LLM playing the writer, for unattended runs.

choose_plan    `writer.choose`  picks the most promising plan and says why; the
               answer is a 1-based number validated against the plans, so the
               choice is always one of them (fallback: the first plan);
refine_plan    `writer.refine`  makes the chosen plan concrete (fallback: as is);
expand_paragraph `writer.expand` rewrites the latest paragraph richer; applied as
               an edit (one re-embedding); kept only when it has words and is
               longer than the original.
simulate_step  choose (+ refine) -> step (+ expand).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from llm.context import call_context
from llm.gateway import Gateway
from writer.engine.config import WriterConfig, text_length
from writer.engine.edits import edit_paragraph
from writer.engine.memory import EntryIndex
from writer.engine.prompting import prompt
from writer.engine.recurrence import CancelCheck, OnPiece, StepResult, step, write_text
from writer.engine.schemas import choice_model, refined_plan_model
from writer.engine.state import StoryState


@dataclass(frozen=True, slots=True)
class Choice:
    index: int  # 0-based, into the plans offered
    plan: str
    reason: str
    fallback: bool = False


def choose_plan(gw: Gateway, state: StoryState, *, config: WriterConfig | None = None,
                plans: list[str] | None = None) -> Choice:  # fmt: skip
    config = config or WriterConfig()
    offered = list(plans if plans is not None else state.plans)
    if not offered:
        raise ValueError("there are no plans to choose from")
    schema = choice_model(len(offered))
    fallback_reason = "第一个计划（默认）" if config.language == "zh" else "the first plan (default)"
    with call_context(step=state.steps):
        result = gw.structured(
            schema,
            prompt=prompt("writer_choose_plan", language_name=config.language_name,
                          paragraph=state.previous_paragraph,
                          plans="\n".join(f"{i}. {p}" for i, p in enumerate(offered, 1))),
            fallback=schema.model_construct(choice=1, reason=fallback_reason),
            purpose="writer.choose",
            temperature=config.temperatures.choose,
            max_repairs=config.max_repairs,
            max_tokens=90,
        )  # fmt: skip
    value: Any = result.value
    index = int(value.choice) - 1
    return Choice(index=index, plan=offered[index], reason=str(value.reason), fallback=not result.ok)


def refine_plan(gw: Gateway, state: StoryState, plan: str, *, config: WriterConfig | None = None) -> str:
    config = config or WriterConfig()
    schema = refined_plan_model(config.plan_max_chars)
    with call_context(step=state.steps):
        result = gw.structured(
            schema,
            prompt=prompt("writer_refine_plan", language_name=config.language_name,
                          paragraph=state.previous_paragraph, plan=plan),
            fallback=schema.model_construct(plan=plan),
            purpose="writer.refine",
            temperature=config.temperatures.choose,
            max_repairs=config.max_repairs,
            max_tokens=config.plan_max_chars // 2 + 40,
        )  # fmt: skip
    refined: Any = result.value
    return str(refined.plan)


def expand_paragraph(
    gw: Gateway,
    state: StoryState,
    *,
    config: WriterConfig | None = None,
    index: EntryIndex | None = None,
    on_piece: OnPiece | None = None,
    cancel: CancelCheck | None = None,
) -> StoryState:
    """The state with its latest paragraph rewritten richer (unchanged if the rewrite
    is empty or not longer)."""
    config = config or WriterConfig()
    original = state.previous_paragraph
    if not original:
        return state
    with call_context(step=state.steps):
        text = write_text(
            gw,
            prompt("writer_expand_paragraph", novel_type=state.novel_type, language_name=config.language_name,
                   paragraph=original, words=int(config.paragraph_words * 1.5)),
            purpose="writer.expand", config=replace(config, paragraph_words=int(config.paragraph_words * 1.5)),
            temperature=config.temperatures.expand, on_piece=on_piece, cancel=cancel,
        )  # fmt: skip
    if not text or text_length(text, config.language) <= text_length(original, config.language):
        return state
    return edit_paragraph(gw, state, -1, text, config=config, index=index)


def simulate_step(
    gw: Gateway,
    state: StoryState,
    *,
    config: WriterConfig | None = None,
    refine: bool = False,
    expand: bool = False,
    index: EntryIndex | None = None,
    on_piece: OnPiece | None = None,
    cancel: CancelCheck | None = None,
) -> tuple[StepResult, Choice]:
    """One unattended step: the simulator chooses (and may refine) a plan, the engine
    writes, and the simulator may expand the new paragraph."""
    config = config or WriterConfig()
    choice = choose_plan(gw, state, config=config)
    plan = refine_plan(gw, state, choice.plan, config=config) if refine else choice.plan
    result = step(gw, state, plan, config=config, index=index, on_piece=on_piece, cancel=cancel)
    if expand:
        expanded = expand_paragraph(gw, result.state, config=config, index=index)
        result = replace(result, state=expanded, paragraph=expanded.previous_paragraph)
    return result, choice
