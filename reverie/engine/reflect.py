"""Reflection: turning accumulated experience into higher-level thoughts.

When the poignancy counted since the last reflection passes `reflection.threshold`
(150 in the paper, about two or three times a game day; see memory.ReflectionTrigger:
perceived events count, and chats too with `reflection.count_chats`), the persona:
1. asks for up to `reflection.questions` (3) salient high-level questions about its
   `recent_for_questions` (100) most recent memories (`reflect.questions`);
2. for each question, retrieves `retrieve_per_question` memories (15 compact, 30 as
   the original) by recency, importance and relevance to the question;
3. asks for up to `max_insights` (5) insights per question, each citing the statements
   it rests on (`reflect.insights`); the questions' calls run concurrently;
4. rates the insights' poignancy in one call (`reflect.poignancy`) and stores them as
   thought nodes (predicate "reflects") whose evidence links point at the cited
   memories.
Fallbacks: a failed questions call yields no questions and a failed insights call no
insights, so reflection is skipped, never wrong; a failed rating is 4.

`rate_poignancy` (one call for a batch of descriptions) and `memory_line` (how a
memory reads in a prompt) are shared with perception, conversation and interviews.
A rating sees the whole identity (paper, as the original), or with
`reflection.brief_identity` (compact) one line of it: name, age, traits, `currently`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from reverie.engine.config import AgentConfig
from reverie.engine.memory import Kind, MemoryNode, MemoryStream
from reverie.engine.persona import Identity
from reverie.engine.ports import ModelGateway
from reverie.engine.prompting import current_language, prompt
from reverie.engine.retrieve import retrieve
from reverie.engine.schemas import insights_model, questions_model, ratings_model

__all__ = ["brief_identity", "memory_line", "rate_poignancy", "reflect"]

KINDS: tuple[Kind, ...] = ("event", "thought", "chat")


def brief_identity(identity: Identity) -> str:
    """Who is rating, in one line (compact's `reflection.brief_identity`): enough to
    tell what matters to them, at a third of the whole identity's tokens."""
    if current_language() == "zh":
        return f"{identity.name}，{identity.age}岁（{identity.innate}）。近况：{''.join(identity.currently.split())}"
    return f"{identity.name}, {identity.age} ({identity.innate}). Currently: {' '.join(identity.currently.split())}"


def memory_line(node: MemoryNode) -> str:
    """A memory as a prompt reads it: a chat (whose description is "conversing about
    ...") says who talked; everything else is its description."""
    if node.kind == "chat":
        return f"{node.subject} and {node.object} were {node.description}"
    return node.description


async def rate_poignancy(
    gw: ModelGateway,
    identity: Identity,
    descriptions: list[str],
    *,
    purpose: str,
    config: AgentConfig | None = None,
) -> list[int]:
    """Poignancy 1-10 of each description, in one call (4 each on a bad answer)."""
    if not descriptions:
        return []
    config = config or AgentConfig.compact()
    model = ratings_model(len(descriptions))
    who = brief_identity(identity) if config.reflection.brief_identity else identity.summary()
    result = await gw.astructured(
        model,
        prompt=prompt("perceive_poignancy", identity=who, first_name=identity.first_name,
                      memories="\n".join(f"{i}. {d}" for i, d in enumerate(descriptions, 1)),
                      count=len(descriptions)),
        fallback=lambda: model(ratings=[4] * len(descriptions)),
        **config.call_kwargs(purpose, ratings=len(descriptions)),
    )  # fmt: skip
    return list(result.value.ratings)


async def _insights(
    gw: ModelGateway, identity: Identity, nodes: list[MemoryNode], config: AgentConfig
) -> list[tuple[str, tuple[int, ...]]]:
    model = insights_model(len(nodes), config.reflection.max_insights, config.chars("reflect.insights", 120))
    result = await gw.astructured(
        model,
        prompt=prompt("reflect_insights", name=identity.name, count=config.reflection.max_insights,
                      statements="\n".join(f"{i}. {memory_line(n)}" for i, n in enumerate(nodes, 1))),
        fallback=lambda: model.model_construct(insights=[]),
        **config.call_kwargs("reflect.insights"),
    )  # fmt: skip
    drafts = []
    for insight in result.value.insights:
        evidence = tuple(dict.fromkeys(nodes[i - 1].id for i in insight.because_of if 1 <= i <= len(nodes)))
        drafts.append((str(insight.text).strip(), evidence))
    return drafts


async def reflect(
    gw: ModelGateway, identity: Identity, stream: MemoryStream, now: datetime, *, config: AgentConfig | None = None
) -> list[MemoryNode]:
    """Run one reflection; returns the thought nodes it added."""
    config = config or AgentConfig.compact()
    settings = config.reflection
    recent = [n for n in stream.latest(settings.recent_for_questions, kinds=KINDS) if n.description]
    if not recent:
        return []
    model = questions_model(settings.questions, config.chars("reflect.questions", 100))
    questions = await gw.astructured(
        model,
        prompt=prompt("reflect_questions", name=identity.name, first_name=identity.first_name,
                      count=settings.questions, memories="\n".join(f"- {memory_line(n)}" for n in reversed(recent))),
        fallback=lambda: model.model_construct(questions=[]),
        **config.call_kwargs("reflect.questions"),
    )  # fmt: skip
    asked = list(dict.fromkeys(str(q) for q in questions.value.questions))
    if not asked:
        return []
    vectors = await gw.aembed(asked, purpose="reflect.embed")
    found = retrieve(stream, None, list(zip(asked, vectors, strict=True)), now, k=settings.retrieve_per_question,
                     kinds=KINDS, config=config.retrieval)  # fmt: skip
    groups = [[scored.node for scored in found[q]] for q in asked]
    answers = await asyncio.gather(*[_insights(gw, identity, nodes, config) for nodes in groups if nodes])
    drafts = [draft for answer in answers for draft in answer]
    drafts = list({text: (text, ev) for text, ev in drafts}.values())  # one thought per distinct insight
    if not drafts:
        return []
    texts = [text for text, _ in drafts]
    poignancy = await rate_poignancy(gw, identity, texts, purpose="reflect.poignancy", config=config)
    embeddings = await gw.aembed(texts, purpose="reflect.embed")
    added = []
    for (text, evidence), score, vector in zip(drafts, poignancy, embeddings, strict=True):
        # A thought is found again through the people and things its evidence was about.
        keywords = {identity.name}.union(*(stream.get(i).keywords for i in evidence))
        added.append(
            stream.add_thought(identity.name, "reflects", text, text, created=now, poignancy=score,
                               evidence=evidence, embedding=vector, keywords=keywords)
        )  # fmt: skip
    return added
