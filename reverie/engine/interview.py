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

The answer's example: with `interview.situated_example` (compact) it is built from
what the persona recalled first ("From what I remember: <that memory>", or that it
remembers nothing about it), because a tiny model copies the example: with the fixed
example the bundled model answered every question with the example's words, which the
copy check refused, so every interview came back unanswered. Copying a situated example
is allowed: it is the persona's own memory. The paper preset keeps one fixed example
and refuses a copy of it.

Fallbacks: interview.summary -> the memories themselves, listed; interview.answer ->
NO_ANSWER, and `reply` says so (`Reply.answered` False), so a measure can leave an
unanswered question out instead of judging the note. A summary, or a paper answer,
that only copies the prompt's example answer is invalid (repaired, then the fallback).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
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

__all__ = ["NO_ANSWER", "Reply", "recall_filter", "reply"]

PLAN_PREDICATES = ("plan", "plans")
NO_ANSWER = "(no answer: the model's reply could not be understood)"
_FIXED_EXAMPLE = {
    "en": "Yes, Klaus told me about his paper on Monday. I'm going to study with him on Friday.",
    "zh": "是的，阿哲周一跟我说过他的论文。我周五会和他一起复习。",
}
_SITUATED = {"en": ("From what I remember: {memory}", "I don't remember anything about that."),
             "zh": ("我记得：{memory}", "我不记得这件事。")}  # fmt: skip


@dataclass(frozen=True)
class Reply:
    text: str
    answered: bool  # False: the model's reply could not be understood (text is NO_ANSWER)


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


async def reply(
    gw: ModelGateway,
    identity: Identity,
    stream: MemoryStream,
    question: str,
    now: datetime,
    *,
    config: AgentConfig | None = None,
    history: Sequence[tuple[str, str]] = (),
) -> Reply:
    """The persona's answer to `question`, after the earlier turns in `history`, in the
    run's language (config.language), and whether the model gave one (if not, the text
    is NO_ANSWER)."""
    config = config or AgentConfig.compact()
    with speaking(config.language):
        return await _answer(gw, identity, stream, question, now, config=config, history=history)


def _example(config: AgentConfig, first: str | None) -> str:
    """The answer's example line: fixed (paper) or built from the first memory recalled."""
    language = "zh" if config.language == "zh" else "en"
    if not config.interview.situated_example:
        text = _FIXED_EXAMPLE[language]
    else:
        remembered, nothing = _SITUATED[language]
        text = remembered.format(memory=first) if first else nothing
        text = text[: config.chars("interview.answer", 400)]
    return "Example answer: " + json.dumps({"answer": text}, ensure_ascii=False)


async def _answer(
    gw: ModelGateway, identity: Identity, stream: MemoryStream, question: str, now: datetime, *,
    config: AgentConfig, history: Sequence[tuple[str, str]],
) -> Reply:  # fmt: skip
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
    recalled = found[question]
    text = prompt("interview_answer", identity=identity.summary(), time=when,
                  first_name=identity.first_name, memories=memories, question=question,
                  transcript=_transcript(identity.first_name, history, settings.history_turns),
                  example=_example(config, memory_line(recalled[0].node) if recalled else None))  # fmt: skip
    copy_refused = None if settings.situated_example else example_in(text, "answer")
    model = answer_model(config.chars("interview.answer", 400), copy_refused)
    result = await gw.astructured(
        model,
        prompt=text,
        fallback=lambda: model.model_construct(answer=NO_ANSWER),
        **config.call_kwargs("interview.answer"),
    )  # fmt: skip
    return Reply(str(result.value.answer), bool(result.ok))
