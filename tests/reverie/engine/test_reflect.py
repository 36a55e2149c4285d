"""Reflection with a scripted model: questions -> retrieval -> cited insights -> thoughts."""

from datetime import datetime, timedelta

import pytest

from reverie.engine.memory import MemoryStream
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
