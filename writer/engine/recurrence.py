"""The RecurrentGPT recurrence (Zhou et al. 2023): init, then one paragraph per step.

init(novel type, topic, premise?, target length?)
    1. `writer.init`      a title and an outline (structured);
    2. `writer.paragraph` the first `init_paragraphs` paragraphs, one call each (text);
    3. `writer.memory`    the short-term memory: facts from those paragraphs (structured);
    4. long-term memory   one entry per paragraph, embedded in one call;
    5. `writer.plans`     N plans for the next paragraph (structured).

step(state, plan)
    1. retrieval          the plan is embedded and is the query; the top-k long-term
                          entries by cosine (the previous paragraph, already in the
                          prompt verbatim, is left out);
    2. lorebook           entries whose keywords/aliases occur in the recent
                          paragraphs or the plan, within the token budget;
    3. `writer.paragraph` the new paragraph, streamed (`on_piece` gets each piece,
                          `cancel()` returning True stops the model: `Cancelled`);
    4. `writer.memory`    a one-line summary of the new paragraph, the memory lines to
                          drop and the facts to add; then the memory is bounded;
    5. long-term memory   the new paragraph's entry, embedded once (the only document
                          embedding of the step, whatever the story's length);
    6. `writer.plans`     N new plans.
    It returns a new state (the given one is never changed) and what was used.

Every structured call has a typed fallback, and a paragraph with no words falls back
to the plan's text (init: the outline), so bad model output never raises; which
purposes fell back is reported. Only transport failures (LLMError) and a
cancellation raise. Calls are tagged with `call_context(step=...)`; the caller sets
the run.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from llm.context import call_context
from llm.gateway import Gateway
from writer.engine.config import WriterConfig, text_length, truncate_to_length
from writer.engine.lorebook import LoreHit, match_lore, render_entry
from writer.engine.memory import (
    EntryIndex,
    Retrieved,
    brief,
    embed_entries,
    fill_index,
    memory_lines,
    retrieve,
    update_memory,
)
from writer.engine.prompting import prompt
from writer.engine.schemas import memory_update_model, opening_model, plans_model
from writer.engine.state import LongTermEntry, LoreEntry, StoryState, new_id

OnPiece = Callable[[str], None]
CancelCheck = Callable[[], bool]

# Where a base model tends to start the next section of the prompt instead of writing on.
PARAGRAPH_STOPS = (
    "\n\n\n",
    "Next paragraph:",
    "Plan for the next paragraph",
    "\nParagraph ",
    "\n[",
    "* * *",
    "In the next paragraph:",
)
# A block a base model writes after the story that is not story: a bracketed note, a
# heading, or the prompt's instructions echoed.
_NOT_PROSE = re.compile(
    r"^\s*(?:\[|#|Title:|Chapter\b|Write the\b|Plan:|In the next paragraph|第.{1,4}章)", re.IGNORECASE
)

FALLBACK_PLANS: dict[str, tuple[str, ...]] = {
    "en": (
        "Continue the scene and show how the main character reacts.",
        "Introduce an unexpected obstacle that raises the stakes.",
        "Reveal a new detail about the central mystery of the story.",
        "Move to a new place where another character acts.",
        "Slow down for a quiet moment of reflection and memory.",
        "Bring in a conflict between two characters.",
        "Let the main character make a bold decision.",
        "Show the consequences of what just happened.",
        "End the scene with a surprising turn.",
    ),
    "zh": (
        "继续当前场景，写出主角的反应。",
        "引入一个意想不到的障碍，让局势更紧张。",
        "揭示故事核心谜团的一个新细节。",
        "转到一个新的地点，让另一个角色行动。",
        "放慢节奏，写一段安静的回忆与思考。",
        "让两个角色之间发生冲突。",
        "让主角做出一个大胆的决定。",
        "写出刚才发生之事的后果。",
        "以一个出人意料的转折结束这一场景。",
    ),
}


class Cancelled(Exception):
    """The paragraph was stopped by the cancel hook; nothing was saved."""

    def __init__(self, partial: str) -> None:
        super().__init__("the paragraph was cancelled")
        self.partial = partial


@dataclass(frozen=True, slots=True)
class StepResult:
    """A new state and what went into it (for the page: scores, fired lore, memory diff)."""

    state: StoryState
    paragraph: str
    plan: str
    query: str
    retrieved: tuple[Retrieved, ...] = ()
    lore: tuple[LoreHit, ...] = ()
    memory_added: tuple[str, ...] = ()
    memory_dropped: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()
    fallbacks: tuple[str, ...] = ()  # purposes whose answer was a fallback
    prompt: str = field(default="", repr=False)  # the paragraph prompt, for inspection


@dataclass(frozen=True, slots=True)
class InitResult:
    state: StoryState
    fallbacks: tuple[str, ...] = ()


# ----------------------------------------------------------------------- helpers
def _has_words(text: str) -> bool:
    return sum(ch.isalpha() for ch in text) >= 2


def clean_paragraph(text: str, config: WriterConfig) -> str:
    """One paragraph from raw model text: its first block (a base model that goes on
    past a blank line tends to echo the prompt), cut at a label the model began, lines
    joined, capped at twice the target, a cut-off last sentence dropped when enough remains."""
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if _has_words(b)]
    if config.prose == "continue":
        # Continuing the story, the model's later blocks are more story: take them, up to
        # the target length, until one is not prose.
        taken: list[str] = []
        for block in blocks:
            if _NOT_PROSE.match(block) or (taken and text_length(" ".join(taken), config.language)
                                           >= config.paragraph_words):  # fmt: skip
                break
            taken.append(block.strip())
        text = "\n".join(taken)
    else:
        text = blocks[0].strip() if blocks else ""
    for stop in PARAGRAPH_STOPS:
        at = text.find(stop)
        if at > 0:
            text = text[:at]
    joiner = "" if config.language == "zh" else " "
    text = joiner.join(line.strip() for line in text.splitlines() if line.strip())
    text = truncate_to_length(text, 2 * config.paragraph_words, config.language) if text else ""
    ends = [m.end() for m in re.finditer(r"[.!?。！？…][\"'”’」』)]?", text)]
    if ends and ends[-1] < len(text) and ends[-1] >= len(text) // 2:
        text = text[: ends[-1]]
    return text.strip()


def write_text(
    gw: Gateway,
    text_prompt: str,
    *,
    purpose: str,
    config: WriterConfig,
    temperature: float,
    on_piece: OnPiece | None = None,
    cancel: CancelCheck | None = None,
) -> str:
    """Stream one paragraph; returns the cleaned text ('' when the model wrote no words).

    A small model sometimes opens with a stop sequence (the prompt's `* * *`, blank
    lines) and writes nothing: that one attempt is made again, a little warmer. Nothing
    was streamed to the page then, so the second attempt's pieces are all it sees."""
    for attempt in range(2):
        stream = gw.stream(text_prompt, purpose=purpose, max_tokens=config.paragraph_max_tokens,
                           temperature=min(1.5, temperature + 0.2 * attempt), stop=PARAGRAPH_STOPS)  # fmt: skip
        if cancel is not None and cancel():
            stream.cancel()
        for piece in stream:
            if on_piece is not None:
                on_piece(piece)
            if cancel is not None and cancel():
                stream.cancel()
        if stream.cancelled:
            raise Cancelled(stream.text)
        if _has_words(stream.text):
            break
    cleaned = clean_paragraph(stream.text, config)
    return cleaned if _has_words(cleaned) else ""


def _structured(gw: Gateway, schema: type[BaseModel], *, purpose: str, text_prompt: str, fallback: BaseModel,
                temperature: float, max_tokens: int, fallbacks: list[str], max_repairs: int = 2) -> Any:  # fmt: skip
    result = gw.structured(schema, prompt=text_prompt, fallback=fallback, purpose=purpose,
                           temperature=temperature, max_tokens=max_tokens, max_repairs=max_repairs)  # fmt: skip
    if not result.ok:
        fallbacks.append(purpose)
    return result.value


def _or_none(text: str, language: str) -> str:
    return text if text.strip() else ("(无)" if language == "zh" else "(none)")


def _tokens_for(chars: int) -> int:
    """max_tokens for a JSON field of `chars` characters (generous: CJK ~1 token/char)."""
    return chars + 40


_LIST_ITEM = re.compile(r"^\s*(?:\d+\s*[.)、:：]|[-*•])?\s*")


def parse_plan_lines(text: str, count: int, plan_chars: int) -> list[str]:
    """Plans from a numbered list the model continued ("1." is in the prompt); a JSON
    {"plans": [...]} answer is read too. Each plan cut to `plan_chars`, duplicates dropped."""
    items: list[str] = []
    stripped = text.strip()
    if stripped.startswith("{"):
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            items = [str(p) for p in json.loads(stripped).get("plans", [])]
    if not items:
        items = [_LIST_ITEM.sub("", line, count=1) for line in stripped.splitlines()]
    plans: list[str] = []
    seen: set[str] = set()
    for item in items:
        plan = " ".join(item.split()).strip("\"'[]{} ")
        if not _has_words(plan) or len(plan) < 8 or _NOT_PROSE.match(plan) or plan.casefold() in seen:
            continue
        if len(plan) > plan_chars:  # at a sentence end if one is near, else at a word (a character for CJK)
            cut = plan[:plan_chars]
            end = max(cut.rfind(m) for m in ".!?。！？")
            space = cut.rfind(" ")
            plan = cut[: end + 1] if end >= plan_chars // 3 else cut[:space] if space >= plan_chars // 2 else cut
            plan = plan.rstrip(",;:、，； ")
        seen.add(plan.casefold())
        plans.append(plan)
        if len(plans) == count:
            break
    return plans


def _continued_plans(gw: Gateway, state: StoryState, config: WriterConfig, fallbacks: list[str]) -> tuple[str, ...]:
    """`writer.plans` for a base model: it continues a numbered list after the story."""
    generic = FALLBACK_PLANS[config.language]
    text_prompt = prompt(
        "writer_plans_continue", novel_type=state.novel_type, language_name=config.language_name,
        title=state.title, outline=state.outline, count=config.plans,
        recent="\n\n".join(state.paragraphs[-config.recent_paragraphs :]),
    )  # fmt: skip
    answer = gw.complete(text_prompt, purpose="writer.plans", temperature=config.temperatures.plans,
                         max_tokens=_tokens_for(config.plans * config.plan_max_chars // 2),
                         stop=("\n\n", f"\n{config.plans + 1}."))  # fmt: skip
    plans = parse_plan_lines(answer.text, config.plans, config.plan_max_chars)
    if len(plans) < config.plans:
        fallbacks.append("writer.plans")
        plans += [p for p in generic if p not in plans][: config.plans - len(plans)]
    return tuple(plans)


def new_plans(gw: Gateway, state: StoryState, config: WriterConfig, fallbacks: list[str]) -> tuple[str, ...]:
    """`writer.plans`: N plans for the paragraph after the latest one."""
    if config.prose == "continue":
        return _continued_plans(gw, state, config, fallbacks)
    schema = plans_model(config.plans, config.plan_max_chars)
    generic = FALLBACK_PLANS[config.language][: config.plans]
    value = _structured(
        gw, schema, purpose="writer.plans",
        text_prompt=prompt("writer_plans", novel_type=state.novel_type, language_name=config.language_name,
                           title=state.title, outline=state.outline,
                           memory=_or_none("; ".join(memory_lines(state.memory)), config.language),
                           paragraph=state.previous_paragraph, count=config.plans),
        fallback=schema.model_construct(plans=list(generic)),
        temperature=config.temperatures.plans,
        max_tokens=_tokens_for(config.plans * config.plan_max_chars // 2),
        fallbacks=fallbacks,
        max_repairs=config.max_repairs,
    )  # fmt: skip
    return tuple(value.plans)


def _memory_call(gw: Gateway, memory: str, paragraph: str, config: WriterConfig, fallbacks: list[str]) -> Any:
    lines = memory_lines(memory)
    schema = memory_update_model(len(lines), config.memory_add_max, config.fact_max_chars, config.summary_max_chars)
    fallback = schema.model_construct(
        summary=brief(paragraph, config.summary_max_chars), drop=[], add=[brief(paragraph, config.fact_max_chars)]
    )
    numbered = "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
    return _structured(
        gw, schema, purpose="writer.memory",
        text_prompt=prompt("writer_step_memory", language_name=config.language_name, add_max=config.memory_add_max,
                           memory=_or_none(numbered, config.language), paragraph=paragraph),
        fallback=fallback,
        temperature=config.temperatures.memory,
        max_tokens=_tokens_for(config.summary_max_chars + config.memory_add_max * config.fact_max_chars) // 2 + 40,
        fallbacks=fallbacks,
        max_repairs=config.max_repairs,
    )  # fmt: skip


# -------------------------------------------------------------------------- init
def _not_the_example(
    opening: Any,
    schema: type[BaseModel],
    novel_type: str,
    topic: str,
    premise: str,
    config: WriterConfig,
    fallbacks: list[str],
) -> Any:
    """A small base model copies the prompt's example story instead of planning this one:
    a title or outline taken from the example (and not from the writer's topic) is
    replaced by one made from the topic, and counted as a fallback."""
    example = prompt("writer_init", language_name="", novel_type="", topic="", premise="", target_length="")
    given = f"{novel_type} {topic} {premise}".casefold()

    example_words = set(re.findall(r"\w{4,}", example.casefold())) - set(re.findall(r"\w{4,}", given))

    def copied(text: str) -> bool:
        # Most of its longer words come from the example, not from what the writer gave.
        words = re.findall(r"\w{4,}", text.casefold())
        return bool(words) and sum(w in example_words for w in words) >= 0.6 * len(words)

    if not (copied(opening.title) or copied(opening.outline)):
        return opening
    fallbacks.append("writer.init")
    title = opening.title if not copied(opening.title) else brief(topic, 80) or novel_type
    outline = opening.outline if not copied(opening.outline) else brief(
        f"{novel_type}: {topic}. {premise}".strip(), config.outline_max_chars)  # fmt: skip
    return schema.model_construct(title=title, outline=outline)


def init(
    gw: Gateway,
    *,
    novel_type: str,
    topic: str,
    premise: str = "",
    target_length: str = "",
    config: WriterConfig | None = None,
    lore: Sequence[LoreEntry] = (),
    on_piece: OnPiece | None = None,
    cancel: CancelCheck | None = None,
) -> InitResult:
    """Title, outline, the first paragraphs, the short-term memory and N plans."""
    config = config or WriterConfig()
    fallbacks: list[str] = []
    with call_context(step=0):
        schema = opening_model(outline_chars=config.outline_max_chars)
        opening = _structured(
            gw, schema, purpose="writer.init",
            text_prompt=prompt("writer_init", language_name=config.language_name, novel_type=novel_type,
                               topic=topic, premise=premise or "-", target_length=target_length or "-"),
            fallback=schema.model_construct(title=brief(topic, 80) or novel_type,
                                            outline=brief(f"{novel_type}: {topic}. {premise}".strip(),
                                                          config.outline_max_chars)),
            temperature=config.temperatures.init,
            max_tokens=_tokens_for(80 + config.outline_max_chars) // 2 + 40,
            fallbacks=fallbacks,
            max_repairs=config.max_repairs,
        )  # fmt: skip
        opening = _not_the_example(opening, schema, novel_type, topic, premise, config, fallbacks)
        paragraphs: list[str] = []
        for number in range(1, config.init_paragraphs + 1):
            story = "\n\n".join(paragraphs)
            if config.prose == "continue":
                opening_prompt = (
                    prompt(
                        "writer_init_paragraph_continue",
                        novel_type=novel_type,
                        language_name=config.language_name,
                        title=opening.title,
                        outline=opening.outline,
                        story_so_far=story,
                        chapter="第一章" if config.language == "zh" else "Chapter One",
                    ).rstrip("\n")
                    + "\n\n"
                )
            else:
                opening_prompt = prompt(
                    "writer_init_paragraph",
                    novel_type=novel_type,
                    language_name=config.language_name,
                    title=opening.title,
                    outline=opening.outline,
                    story_so_far=story,
                    number=number,
                    words=config.paragraph_words,
                )
            text = write_text(
                gw,
                opening_prompt,
                purpose="writer.paragraph", config=config, temperature=config.temperatures.paragraph,
                on_piece=on_piece, cancel=cancel,
            )  # fmt: skip
            if not text:
                fallbacks.append("writer.paragraph")
                text = opening.outline if number == 1 else brief(opening.outline, config.summary_max_chars)
            paragraphs.append(text)
        update = _memory_call(gw, "", "\n\n".join(paragraphs), config, fallbacks)
        change = update_memory("", [], list(update.add), bound=config.memory_bound, language=config.language)
        entries = embed_entries(
            gw,
            [LongTermEntry(id=new_id(), paragraph=i, summary=brief(p, config.summary_max_chars), text=p)
             for i, p in enumerate(paragraphs)],
        )  # fmt: skip
        state = StoryState(
            novel_type=novel_type,
            topic=topic,
            premise=premise,
            language=config.language,
            title=opening.title,
            outline=opening.outline,
            paragraphs=tuple(paragraphs),
            memory=change.memory,
            long_term=tuple(entries),
            lore=tuple(lore),
        )
        plans = new_plans(gw, state, config, fallbacks)
    return InitResult(state=replace(state, plans=plans), fallbacks=tuple(fallbacks))


# -------------------------------------------------------------------------- step
def paragraph_prompt(
    state: StoryState, plan: str, retrieved: Sequence[Retrieved], lore: Sequence[LoreHit], config: WriterConfig
) -> str:
    """The `writer.paragraph` prompt of a step (also what a page can show)."""
    lang = config.language
    if config.prose == "continue":
        return (
            prompt(
                "writer_step_paragraph_continue",
                novel_type=state.novel_type,
                language_name=config.language_name,
                title=state.title,
                outline=state.outline,
                memory=_or_none("; ".join(memory_lines(state.memory)), lang),
                retrieved=_or_none(" / ".join(r.entry.summary or brief(r.entry.text, 200) for r in retrieved), lang),
                lore=_or_none(" / ".join(render_entry(h.entry) for h in lore if h.included), lang),
                recent="\n\n".join(state.paragraphs[-config.recent_paragraphs :]),
                plan=plan,
            ).rstrip("\n")
            + "\n\n"
        )
    return prompt(
        "writer_step_paragraph",
        novel_type=state.novel_type,
        language_name=config.language_name,
        title=state.title,
        outline=state.outline,
        memory=_or_none("\n".join(f"- {line}" for line in memory_lines(state.memory)), lang),
        retrieved=_or_none("\n".join(f"- {r.entry.summary or brief(r.entry.text, 200)}" for r in retrieved), lang),
        lore=_or_none("\n".join(render_entry(h.entry) for h in lore if h.included), lang),
        previous=_or_none(state.previous_paragraph, lang),
        plan=plan,
        words=config.paragraph_words,
    )


def step(
    gw: Gateway,
    state: StoryState,
    plan: str,
    *,
    config: WriterConfig | None = None,
    index: EntryIndex | None = None,
    on_piece: OnPiece | None = None,
    cancel: CancelCheck | None = None,
) -> StepResult:
    """One recurrence step from `state` with `plan` (chosen, edited or the writer's own)."""
    config = config or WriterConfig()
    plan = " ".join(plan.split())
    if not _has_words(plan):
        raise ValueError("the plan for the next paragraph is empty")
    fallbacks: list[str] = []
    with call_context(step=state.steps + 1):
        if any(e.vector is None for e in state.long_term):  # a state loaded without its vectors
            state = replace(state, long_term=tuple(embed_entries(gw, state.long_term)))
        last = state.entry_for(len(state.paragraphs) - 1)
        retrieved = retrieve(gw, state, plan, k=config.top_k, index=index, exclude=[last.id] if last else [])
        scanned = [*state.paragraphs[-config.lore_scan_paragraphs :], plan]
        lore = match_lore(state.lore, scanned, config.lore_budget_tokens)
        text_prompt = paragraph_prompt(state, plan, retrieved, lore, config)
        paragraph = write_text(gw, text_prompt, purpose="writer.paragraph", config=config,
                               temperature=config.temperatures.paragraph, on_piece=on_piece, cancel=cancel)  # fmt: skip
        if not paragraph:
            fallbacks.append("writer.paragraph")
            paragraph = plan
        update = _memory_call(gw, state.memory, paragraph, config, fallbacks)
        change = update_memory(state.memory, list(update.drop), list(update.add),
                               bound=config.memory_bound, language=config.language)  # fmt: skip
        (entry,) = embed_entries(
            gw, [LongTermEntry(id=new_id(), paragraph=len(state.paragraphs), summary=update.summary, text=paragraph)]
        )
        if index is not None:
            fill_index(index, [entry])
        written = replace(
            state,
            paragraphs=(*state.paragraphs, paragraph),
            memory=change.memory,
            long_term=(*state.long_term, entry),
            steps=state.steps + 1,
        )
        plans = new_plans(gw, written, config, fallbacks)
    return StepResult(
        state=replace(written, plans=plans),
        paragraph=paragraph,
        plan=plan,
        query=plan,
        retrieved=tuple(retrieved),
        lore=tuple(lore),
        memory_added=change.added,
        memory_dropped=change.dropped,
        plans=plans,
        fallbacks=tuple(fallbacks),
        prompt=text_prompt,
    )


def memory_within_bound(state: StoryState, config: WriterConfig) -> bool:
    return text_length(state.memory, config.language) <= config.memory_bound
