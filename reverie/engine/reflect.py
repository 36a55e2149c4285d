"""Reflection: turning accumulated experience into higher-level thoughts.

When the poignancy of new memories passes the threshold (150 in the paper, about two
or three times a game day), the persona:
1. asks for up to 3 salient high-level questions about its 100 most recent memories
   (`reflect.questions`);
2. for each question, retrieves the relevant memories (recency, importance and
   relevance to the question);
3. asks for up to 5 insights per question, each citing the statements it rests on
   (`reflect.insights`);
4. rates the insights' poignancy in one call (`reflect.poignancy`) and stores them as
   thought nodes whose evidence links point at the cited memories.
A failed call yields no questions or no insights: reflection is skipped, never wrong.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reverie.engine.memory import MemoryNode, MemoryStream
from reverie.engine.persona import Identity
from reverie.engine.prompting import prompt
from reverie.engine.retrieve import RetrievalConfig, retrieve
from reverie.engine.schemas import Questions, insights_model, ratings_model

RECENT_FOR_QUESTIONS = 100
RETRIEVE_PER_QUESTION = 15


async def rate_poignancy(gw: Any, identity: Identity, descriptions: list[str], *, purpose: str) -> list[int]:
    """Poignancy 1-10 of each description, in one call (default 4 on a bad answer)."""
    if not descriptions:
        return []
    model = ratings_model(len(descriptions))
    result = await gw.astructured(
        model,
        prompt=prompt("perceive_poignancy", identity=identity.summary(), first_name=identity.first_name,
                      memories="\n".join(f"{i}. {d}" for i, d in enumerate(descriptions, 1)),
                      count=len(descriptions)),
        fallback=lambda: model(ratings=[4] * len(descriptions)),
        purpose=purpose,
        max_tokens=8 + 4 * len(descriptions),
    )  # fmt: skip
    return list(result.value.ratings)


async def reflect(
    gw: Any, identity: Identity, stream: MemoryStream, now: datetime, *, config: RetrievalConfig | None = None
) -> list[MemoryNode]:
    """Run one reflection; returns the thought nodes it added."""
    recent = [n for n in stream.latest(RECENT_FOR_QUESTIONS, kinds=("event", "thought", "chat")) if n.description]
    if not recent:
        return []
    questions = await gw.astructured(
        Questions,
        prompt=prompt("reflect_questions", name=identity.name, first_name=identity.first_name, count=3,
                      memories="\n".join(f"- {n.description}" for n in reversed(recent))),
        fallback=Questions.model_construct(questions=[]),
        purpose="reflect.questions",
        max_tokens=120,
    )  # fmt: skip
    asked = list(questions.value.questions)
    if not asked:
        return []
    vectors = await gw.aembed(asked, purpose="reflect.embed")
    found = retrieve(stream, None, list(zip(asked, vectors, strict=True)), now, k=RETRIEVE_PER_QUESTION,
                     kinds=("event", "thought", "chat"), config=config)  # fmt: skip
    drafts: list[tuple[str, tuple[int, ...]]] = []
    for question in asked:
        nodes = [scored.node for scored in found[question]]
        if not nodes:
            continue
        model = insights_model(len(nodes))
        result = await gw.astructured(
            model,
            prompt=prompt("reflect_insights", name=identity.name,
                          statements="\n".join(f"{i}. {n.description}" for i, n in enumerate(nodes, 1))),
            fallback=model.model_construct(insights=[]),
            purpose="reflect.insights",
            max_tokens=200,
        )  # fmt: skip
        for insight in result.value.insights:
            evidence = tuple(dict.fromkeys(nodes[i - 1].id for i in insight.because_of if 1 <= i <= len(nodes)))
            drafts.append((insight.text.strip(), evidence))
    drafts = list({text: (text, ev) for text, ev in drafts}.values())  # one thought per distinct insight
    if not drafts:
        return []
    texts = [text for text, _ in drafts]
    poignancy = await rate_poignancy(gw, identity, texts, purpose="reflect.poignancy")
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
