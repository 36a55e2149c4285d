"""Reflection with a scripted model: questions -> retrieval -> cited insights -> thoughts."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from reverie.engine.config import AgentConfig
from reverie.engine.memory import MemoryStream, ReflectionTrigger
from reverie.engine.reflect import reflect
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_persona import ISABELLA

NOW = datetime(2023, 2, 13, 18, 0)


async def _stream(gw) -> MemoryStream:
    stream = MemoryStream()
    facts = [
        ("Klaus Mueller", "is", "reading about gentrification", 3),
        ("Klaus Mueller", "talks", "about his research paper", 5),
        ("Maria Lopez", "is", "studying physics", 2),
        ("Isabella Rodriguez", "is", "decorating the cafe for the party", 6),
    ]
    vectors = await gw.aembed([f"{s} {p} {o}" for s, p, o, _ in facts])
    for i, ((s, p, o, score), vec) in enumerate(zip(facts, vectors, strict=True)):
        stream.add_event(s, p, o, f"{s} {p} {o}", created=NOW - timedelta(hours=4 - i), poignancy=score,
                         embedding=vec)  # fmt: skip
    return stream


async def test_reflection_adds_thoughts_with_evidence_links():
    gw = routed_gateway({
        "salient high-level questions": '{"questions": ["What is Klaus working on?"]}',
        "high-level insights": '{"insights": [{"text": "Klaus is devoted to his research on gentrification", '
                               '"because_of": [1, 2]}]}',
        "rate how poignant": '{"ratings": [7]}',
    })  # fmt: skip
    stream = await _stream(gw)
    thoughts = await reflect(gw, ISABELLA, stream, NOW)
    assert len(thoughts) == 1
    thought = thoughts[0]
    assert thought.kind == "thought" and thought.poignancy == 7 and thought.depth == 1
    cited = {stream.get(i).description for i in thought.evidence}
    assert cited and all(d in {n.description for n in stream.by_kind("event")} for d in cited)
    cited_keywords = set().union(*(stream.get(i).keywords for i in thought.evidence))
    assert cited_keywords <= thought.keywords
    purposes = [t.purpose for t in gw.recorder.traces if t.kind != "embed"]
    assert purposes[0] == "reflect.questions" and "reflect.insights" in purposes and "reflect.poignancy" in purposes


async def test_citations_outside_the_statements_are_rejected():
    gw = routed_gateway({
        "salient high-level questions": '{"questions": ["What is Klaus working on?"]}',
        "high-level insights": '{"insights": [{"text": "Klaus is devoted to his research", "because_of": [99]}]}',
    })  # fmt: skip
    stream = await _stream(gw)
    assert await reflect(gw, ISABELLA, stream, NOW) == []
    assert stream.count("thought") == 0


@pytest.mark.parametrize("garbage", ["", "nonsense", '{"questions": []}'])
async def test_bad_answers_skip_reflection_without_raising(garbage):
    gw = routed_gateway({}, default=garbage)
    stream = await _stream(gw)
    assert await reflect(gw, ISABELLA, stream, NOW) == []


async def test_empty_memory_means_nothing_to_reflect_on():
    gw = routed_gateway({})
    assert await reflect(gw, ISABELLA, MemoryStream(), NOW) == []
    assert gw.recorder.traces == []


async def test_the_config_sets_the_counts_and_the_prompts_show_them():
    gw = routed_gateway({
        "salient high-level questions": '{"questions": ["What is Klaus working on?", "Who is at the cafe?"]}',
        "high-level insights": '{"insights": [{"text": "Klaus is devoted to his research", "because_of": [1]}]}',
        "rate how poignant": '{"ratings": [5]}',
    })  # fmt: skip
    stream = await _stream(gw)
    lines = [("Klaus Mueller", "My paper is due Friday.")]
    chat = stream.add_chat("Isabella Rodriguez", "chat with", "Klaus Mueller", "conversing about his paper",
                           created=NOW, poignancy=5, filling=lines)  # fmt: skip
    base = AgentConfig.compact()
    config = replace(base, reflection=replace(base.reflection, questions=2, retrieve_per_question=2, max_insights=4))
    thoughts = await reflect(gw, ISABELLA, stream, NOW, config=config)
    asked = next(t.prompt for t in gw.recorder.traces if t.purpose == "reflect.questions")
    assert "the 2 most salient" in asked
    assert f"Isabella Rodriguez and Klaus Mueller were {chat.description}" in asked  # chats read as who talked
    insights = [t.prompt for t in gw.recorder.traces if t.purpose == "reflect.insights"]
    assert len(insights) == 2 and all("Give up to 4" in p for p in insights)
    assert all("3. " not in p.split("Statements about")[1].split("What high-level")[0] for p in insights)
    assert len(thoughts) == 1  # the same insight twice is one thought


def test_the_threshold_can_come_from_the_config():
    trigger = ReflectionTrigger(threshold=20)
    trigger.record(8)
    assert not trigger.should_reflect() and trigger.should_reflect(8) and not trigger.should_reflect(9)
    assert ReflectionTrigger.from_dict({"threshold": 20, "accumulated": 3}).to_dict()["threshold"] == 20
