"""Interviews ("call -- analysis"): a persona answers questions from its memories.

For each question (the paper's believability interviews; the original's "analysis"
conversation):
1. retrieve `interview.memories` memories (50 in the paper) with the question as the
   only focal point: earlier turns shape the answer but not what is recalled, as in
   the original;
2. with `interview.summarise` (paper), sum up what those memories say about the
   question (`interview.summary`); otherwise (compact) the memories are shown as a list;
3. answer in character (`interview.answer`) from the identity, that summary and the
   transcript of the earlier turns (`history`, (question, answer) pairs; the last
   `interview.history_turns` of them, all in the paper).

What can be recalled follows `config.memory`, the paper's ablations: without
observations no event memories, without reflections no thoughts that reflect, without
plans no plan thoughts (predicate "plan"/"plans": daily plans and chat memos).
Conversations (chat memories) always stay, and so do planted memories.

Nothing is written to memory and no last-access time changes (`touch=False`), so an
interview never alters the run.

Fallbacks: interview.summary -> the memories themselves, listed; interview.answer ->
a note that the reply could not be understood. A summary or answer that only copies
the prompt's example answer is invalid (repaired, then the fallback).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from reverie.engine.config import AgentConfig, MemoryAccess
from reverie.engine.converse import example_in
from reverie.engine.memory import Kind, MemoryStream
from reverie.engine.persona import Identity
from reverie.engine.ports import ModelGateway
from reverie.engine.prompting import chinese_clock, prompt, speaking
from reverie.engine.reflect import memory_line
from reverie.engine.retrieve import retrieve
from reverie.engine.schemas import answer_model, memory_summary_model

__all__ = ["answer", "recall_filter"]

PLAN_PREDICATES = ("plan", "plans")


def recall_filter(access: MemoryAccess) -> tuple[tuple[Kind, ...], tuple[str, ...]]:
    """The memory kinds and the thought predicates left out that `access` implies (no
    kinds at all when recall is off: retrieval then finds nothing)."""
    if not access.recall:
        return (), ()
    kinds: tuple[Kind, ...] = ("event", "thought", "chat") if access.observations else ("thought", "chat")
    excluded = (() if access.reflections else ("reflects",)) + (() if access.plans else PLAN_PREDICATES)
    return kinds, excluded


def _transcript(first_name: str, history: Sequence[tuple[str, str]], turns: int | None) -> str:
    shown = list(history) if turns is None else list(history)[-turns:] if turns else []
    lines = []
    for question, reply in shown:
        lines.append(f'Interviewer: "{question}"')
        lines.append(f'{first_name}: "{reply}"')
    return "\n".join(lines) or "(this is the first question)"


async def answer(
    gw: ModelGateway,
    identity: Identity,
    stream: MemoryStream,
    question: str,
    now: datetime,
    *,
    config: AgentConfig | None = None,
    history: Sequence[tuple[str, str]] = (),
) -> str:
    """The persona's answer to `question`, after the earlier turns in `history`, in the
    run's language (config.language)."""
    config = config or AgentConfig.compact()
    with speaking(config.language):
        return await _answer(gw, identity, stream, question, now, config=config, history=history)


async def _answer(
    gw: ModelGateway, identity: Identity, stream: MemoryStream, question: str, now: datetime, *,
    config: AgentConfig, history: Sequence[tuple[str, str]],
) -> str:  # fmt: skip
    settings = config.interview
    question = question.replace('"', "'")
    vector = (await gw.aembed([question], purpose="interview.embed"))[0]
    kinds, excluded = recall_filter(config.memory)
    found = retrieve(stream, None, [(question, vector)], now, k=settings.memories, kinds=kinds,
                     exclude_predicates=excluded, config=config.retrieval, touch=False)  # fmt: skip
    listed = "\n".join(f"- {memory_line(s.node)}" for s in found[question]) or "- (nothing relevant)"
    memories = listed
    if settings.summarise and found[question]:
        text = prompt("interview_summary", name=identity.name, first_name=identity.first_name, memories=listed,
                      question=question)  # fmt: skip
        summary_model = memory_summary_model(config.chars("interview.summary", 300), example_in(text, "summary"))
        summary = await gw.astructured(
            summary_model,
            prompt=text,
            fallback=lambda: summary_model.model_construct(summary=""),
            **config.call_kwargs("interview.summary"),
        )  # fmt: skip
        if summary.ok:
            memories = str(summary.value.summary)
    when = chinese_clock(now) if config.language == "zh" else now.strftime("%A %B %d, %I:%M %p")
    text = prompt("interview_answer", identity=identity.summary(), time=when,
                  first_name=identity.first_name, memories=memories, question=question,
                  transcript=_transcript(identity.first_name, history, settings.history_turns))  # fmt: skip
    model = answer_model(config.chars("interview.answer", 400), example_in(text, "answer"))
    result = await gw.astructured(
        model,
        prompt=text,
        fallback=lambda: model.model_construct(answer="(no answer: the model's reply could not be understood)"),
        **config.call_kwargs("interview.answer"),
    )  # fmt: skip
    return str(result.value.answer)
