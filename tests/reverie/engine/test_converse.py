"""Reacting and conversing with a scripted model: turn-taking, endings, memories."""

import json
from datetime import datetime, timedelta

from reverie.engine.config import AgentConfig
from reverie.engine.converse import (
    Speaker,
    chat_minutes,
    converse,
    decide_reaction,
    in_quiet_hours,
    remember_conversation,
)
from reverie.engine.memory import MemoryStream
from reverie.engine.persona import Identity
from reverie.engine.schemas import react_model
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_persona import ISABELLA

NOW = datetime(2023, 2, 13, 10, 0)
KLAUS = Identity(
    name="Klaus Mueller", age=20, innate="curious, earnest", learned="Klaus studies sociology.",
    currently="writing a paper on gentrification", lifestyle="sleeps at midnight, wakes at 7",
    living_area="the_ville:Oak Hill College Dorm:Klaus's room",
)  # fmt: skip


def speakers():
    return (
        Speaker(ISABELLA, MemoryStream(), "serving coffee"),
        Speaker(KLAUS, MemoryStream(), "ordering coffee"),
    )


def counting_lines(limit_end_at: int):
    """Alternating numbered lines; the speaker ends on line `limit_end_at`."""
    count = {"n": 0}

    def reply(_prompt: str) -> str:
        count["n"] += 1
        end = "true" if count["n"] >= limit_end_at else "false"
        return f'{{"line": "This is line number {count["n"]}", "end": {end}}}'

    return reply


async def test_turns_alternate_and_the_speaker_can_end_it():
    gw = routed_gateway({"how does": '{"summary": "They are friendly acquaintances."}',
                         "next line": counting_lines(3)})  # fmt: skip
    isabella, klaus = speakers()
    convo = await converse(gw, isabella, klaus, NOW, place="Hobbs Cafe")
    assert [who for who, _ in convo.lines] == ["Isabella Rodriguez", "Klaus Mueller", "Isabella Rodriguez"]
    assert convo.ended_by == "speaker"


async def test_conversations_stop_at_the_limit():
    gw = routed_gateway({"next line": counting_lines(100)})
    isabella, klaus = speakers()
    convo = await converse(gw, isabella, klaus, NOW, place="Hobbs Cafe", max_lines=4)
    assert len(convo.lines) == 4 and convo.ended_by == "limit"


async def test_a_repeated_line_ends_the_loop():
    gw = routed_gateway({"next line": '{"line": "Nice weather today.", "end": false}'})
    isabella, klaus = speakers()
    convo = await converse(gw, isabella, klaus, NOW, place="Hobbs Cafe", max_lines=8)
    assert len(convo.lines) == 2 and convo.ended_by == "repeat"


async def test_garbage_ends_the_chat_without_inventing_a_line():
    gw = routed_gateway({}, default="<html>")
    isabella, klaus = speakers()
    convo = await converse(gw, isabella, klaus, NOW, place="Hobbs Cafe")
    assert convo.lines == [] and convo.ended_by == "fallback"
    # Nothing was said, so nothing is remembered.
    assert await remember_conversation(gw, convo, isabella, klaus, NOW) == {}
    assert isabella.stream.count("chat") == klaus.stream.count("chat") == 0


async def test_both_remember_the_chat_and_a_planning_thought():
    gw = routed_gateway({"next line": counting_lines(2), "what should": '{"text": "Visit the cafe again tomorrow."}',
                         "rate how poignant": '{"ratings": [5, 3]}'})  # fmt: skip
    isabella, klaus = speakers()
    convo = await converse(gw, isabella, klaus, NOW, place="Hobbs Cafe")
    stored = await remember_conversation(gw, convo, isabella, klaus, NOW)
    for speaker in (isabella, klaus):
        chat, thought = stored[speaker.identity.name]
        assert chat.kind == "chat" and chat.filling == convo.lines and chat.poignancy == 5
        assert thought.kind == "thought" and thought.evidence == (chat.id,)
        assert thought.description == "Visit the cafe again tomorrow."
        assert speaker.stream.count("chat") == 1


async def test_reaction_decision_and_its_fallback():
    isabella, klaus = speakers()
    talk = '{"reasoning": "Klaus looks free", "decision": "talk"}'
    assert await decide_reaction(routed_gateway({"Should": talk}), isabella, klaus, NOW) == "talk"
    assert await decide_reaction(routed_gateway({}, default="maybe?"), isabella, klaus, NOW) == "continue"


# --- what a chat is remembered by, and where that goes next ------------------------------------

SUMMARY = "conversing about Isabella's Valentine's Day party at Hobbs Cafe"


def party_routes(**extra):
    return {
        "Summarise in one phrase": json.dumps({"summary": SUMMARY}),
        "how does": '{"summary": "Klaus is a regular at the cafe."}',
        "next line": counting_lines(4),
        "what should": '{"text": "Isabella learned Klaus will come to the party on the 14th."}',
        "rate how poignant": '{"ratings": [6, 3]}',
        **extra,
    }


def prompts_of(gw, purpose):
    return [t.prompt for t in gw.recorder.traces if t.purpose == purpose]


async def test_the_summary_is_what_the_chat_is_remembered_by_and_it_reaches_later_prompts():
    gw = routed_gateway(party_routes())
    isabella, klaus = speakers()
    convo = await converse(gw, isabella, klaus, NOW, place="cafe in Hobbs Cafe")
    stored = await remember_conversation(gw, convo, isabella, klaus, NOW)
    assert convo.summary == SUMMARY
    for me, other in ((isabella, klaus), (klaus, isabella)):
        chat, memo = stored[me.name]
        assert chat.description == SUMMARY and chat.triple == (me.name, "chat with", other.name)
        assert memo.predicate == "plans" and "party on the 14th" in memo.description
    # Each memo is written from what was said (as the original's planning thought on a
    # conversation), so it is written beside the summary, not after it.
    memo_prompts = prompts_of(gw, "converse.memo")
    assert len(memo_prompts) == 2 and all(line in p for p in memo_prompts for _, line in convo.lines)
    assert not any(SUMMARY in p for p in memo_prompts)
    # The chat memory's vector is the whole conversation's, not its last 300 characters.
    whole = next(t for t in gw.embedder.encoded if SUMMARY in t and all(line in t for _, line in convo.lines))
    chat = stored["Isabella Rodriguez"][0]
    assert isabella.stream.index.similarities(gw.embed([whole])[0], [chat.id])[chat.id] > 0.999
    # Half an hour later, deciding whether to talk again and talking again both see it.
    later = NOW + timedelta(minutes=30)
    await decide_reaction(gw, isabella, klaus, later)
    decide = prompts_of(gw, "react.decide")[-1]
    assert "30 minutes ago" in decide and SUMMARY in decide
    await converse(gw, klaus, isabella, later, place="cafe in Hobbs Cafe", max_lines=1)
    line = prompts_of(gw, "converse.line")[-1]
    assert "30 minutes ago, Klaus Mueller and Isabella Rodriguez were " + SUMMARY in line


async def test_fallbacks_keep_what_was_said():
    gw = routed_gateway(party_routes(**{"Summarise in one phrase": "???", "what should": "nope"}))
    isabella, klaus = speakers()
    convo = await converse(gw, isabella, klaus, NOW, place="Hobbs Cafe")
    stored = await remember_conversation(gw, convo, isabella, klaus, NOW)
    # No summary: the chat is about what was actually said, never "X talked with Y".
    assert convo.summary.startswith("conversing about") and "This is line number" in convo.summary
    chat, memo = stored["Klaus Mueller"]
    assert chat.description == convo.summary
    assert memo.description.startswith("Klaus Mueller talked with Isabella Rodriguez about")
    assert "This is line number" in memo.description
    fallbacks = {t.purpose for t in gw.recorder.traces if t.outcome == "fallback"}
    assert fallbacks == {"converse.summary", "converse.memo"}


async def test_a_failed_line_ends_the_chat_with_nothing_invented():
    replies = iter(['{"line": "Hi Klaus, coming to my party?", "end": false}', "<html>"])
    gw = routed_gateway({"next line": lambda _p: next(replies, "<html>")})
    isabella, klaus = speakers()
    convo = await converse(gw, isabella, klaus, NOW, place="Hobbs Cafe")
    assert convo.lines == [("Isabella Rodriguez", "Hi Klaus, coming to my party?")]
    assert convo.ended_by == "fallback"


async def test_what_each_line_sees(monkeypatch):
    """Paper: 50 memories for the relationship (other's name), then 15 for each of the
    relationship, the other's action and the last lines; the relationship is re-summed
    before every line. Compact sums it once per speaker."""
    import reverie.engine.converse as module

    asked = []
    real = module.retrieve

    def spy(stream, index, focal_points, now, **kw):
        asked.append(([text for text, _ in focal_points], kw["k"]))
        return real(stream, index, focal_points, now, **kw)

    monkeypatch.setattr(module, "retrieve", spy)
    relationship = "Klaus is a regular at the cafe."
    gw = routed_gateway(party_routes(**{"how does": json.dumps({"summary": relationship})}))
    isabella, klaus = speakers()
    fact = "Klaus Mueller likes cappuccino"
    isabella.stream.add_thought("Isabella Rodriguez", "knows", "Klaus", fact, created=NOW, poignancy=3,
                                embedding=gw.embed([fact])[0])  # fmt: skip
    convo = await converse(gw, isabella, klaus, NOW, place="Hobbs Cafe", config=AgentConfig.paper())
    assert len(convo.lines) == 4
    assert (["Klaus Mueller"], 50) in asked and (["Isabella Rodriguez"], 50) in asked
    line_focals = [focals for focals, k in asked if k == 15]
    assert line_focals[0] == [relationship, "Klaus Mueller is ordering coffee"]  # nothing said yet
    assert line_focals[1][:2] == [relationship, "Isabella Rodriguez is serving coffee"]
    assert line_focals[1][2] == "Isabella Rodriguez: This is line number 1"
    assert "This is line number 3" in line_focals[3][2] and len(line_focals[3][2].splitlines()) == 3
    first_line = prompts_of(gw, "converse.line")[0]
    assert relationship in first_line and "Klaus Mueller likes cappuccino" in first_line
    assert "never talked" in first_line
    assert len(prompts_of(gw, "converse.relationship")) >= 4  # once per line (one may be prefetched)
    gw = routed_gateway(party_routes())
    await converse(gw, *speakers(), NOW, place="Hobbs Cafe")
    assert len(prompts_of(gw, "converse.relationship")) == 2  # compact: once per speaker


async def _first_line_while_relationship_is_asked(config: AgentConfig) -> tuple[bool, list, str]:
    """Whether Isabella's first line's focal point was embedded while her relationship
    summary was being asked; with the focal points retrieved for and the line's prompt."""
    import threading

    import reverie.engine.converse as module

    embedded = threading.Event()
    while_asked = []

    def relationship(_prompt: str) -> str:
        while_asked.append(embedded.wait(1.0))
        return json.dumps({"summary": "Klaus is a regular at the cafe."})

    gw = routed_gateway({"how does Isabella Rodriguez know": relationship, **party_routes()})
    encode = gw.embedder.encode

    def spying(texts, **kw):
        if "Klaus Mueller is ordering coffee" in texts:
            embedded.set()
        return encode(texts, **kw)

    gw.embedder.encode = spying
    asked = []
    real = module.retrieve

    def spy(stream, index, focal_points, now, **kw):
        asked.append([text for text, _ in focal_points])
        return real(stream, index, focal_points, now, **kw)

    isabella, klaus = speakers()
    fact = "Klaus Mueller likes cappuccino"
    isabella.stream.add_thought("Isabella Rodriguez", "knows", "Klaus", fact, created=NOW, poignancy=3,
                                embedding=gw.embed([fact])[0])  # fmt: skip
    module.retrieve = spy
    try:
        await converse(gw, isabella, klaus, NOW, place="Hobbs Cafe", config=config, max_lines=1)
    finally:
        module.retrieve = real
    return while_asked[0], asked, prompts_of(gw, "converse.line")[0]


async def test_compact_embeds_a_lines_focal_points_while_the_relationship_is_asked():
    """Compact gives a line the memories its relationship summary was written from (the
    memories about the other), so the line's own focal points need not wait for the
    summary: they are embedded while it is asked, one latency less on a first line. The
    paper preset keeps the original's order: the summary is itself a focal point."""
    overlapped, asked, line = await _first_line_while_relationship_is_asked(AgentConfig.compact())
    assert overlapped
    assert ["Klaus Mueller is ordering coffee"] in asked  # the summary is not a focal point
    assert "Klaus is a regular at the cafe." in line and "Klaus Mueller likes cappuccino" in line
    overlapped, asked, line = await _first_line_while_relationship_is_asked(AgentConfig.paper())
    assert not overlapped
    assert ["Klaus is a regular at the cafe.", "Klaus Mueller is ordering coffee"] in asked
    assert "Klaus is a regular at the cafe." in line and "Klaus Mueller likes cappuccino" in line


async def test_the_decision_gives_a_reason_first_and_knows_they_never_talked():
    assert list(react_model(80).model_fields) == ["reasoning", "decision"]
    gw = routed_gateway({"Should": '{"reasoning": "she wants to invite him", "decision": "talk"}'})
    isabella, klaus = speakers()
    assert await decide_reaction(gw, isabella, klaus, NOW, config=AgentConfig.paper()) == "talk"
    text = prompts_of(gw, "react.decide")[0]
    assert "Isabella Rodriguez and Klaus Mueller have never talked before." in text
    assert all(f'"decision": "{d}"' in text for d in ("talk", "wait", "continue"))  # balanced examples
    assert text.count('"reasoning"') == 3


async def test_compacts_example_is_built_from_the_situation():
    """The bundled model copies the example's decision: compact shows one that talks to
    someone not talked with lately, and carries on after a recent chat."""
    gw = routed_gateway({"Should": '{"reasoning": "x y", "decision": "continue"}'})
    isabella, klaus = speakers()
    await decide_reaction(gw, isabella, klaus, NOW)
    text = prompts_of(gw, "react.decide")[0]
    assert text.count('"reasoning"') == 1 and '"decision": "talk"' in text
    assert f"Klaus is {klaus.doing}; Isabella has not talked with Klaus today" in text
    isabella.stream.add_chat(isabella.name, "chat with", klaus.name, "conversing about the party",
                             created=NOW - timedelta(minutes=20), poignancy=4, filling=[(isabella.name, "Hi!")],
                             embedding=gw.embed(["party"])[0])  # fmt: skip
    await decide_reaction(gw, isabella, klaus, NOW)
    text = prompts_of(gw, "react.decide")[1]
    assert '"decision": "continue"' in text and '"decision": "talk"' not in text


def test_chat_length_and_quiet_hours():
    assert chat_minutes([("A", "x" * 200)]) == 1 and chat_minutes([("A", "x" * 237), ("B", "y")]) == 2
    assert chat_minutes([]) == 1
    assert in_quiet_hours(datetime(2023, 2, 13, 23, 30), (23, 24))
    assert not in_quiet_hours(datetime(2023, 2, 13, 0, 30), (23, 24))
    assert in_quiet_hours(datetime(2023, 2, 13, 2, 0), (23, 6)) and not in_quiet_hours(NOW, (23, 6))


async def test_a_copied_example_is_not_a_memory():
    """A small model that parrots the prompt's example would store a false memory."""
    copied = '{"summary": "conversing about Maria\'s physics exam and studying together at the library on Friday"}'
    gw = routed_gateway(party_routes(**{"Summarise in one phrase": copied}))
    isabella, klaus = speakers()
    convo = await converse(gw, isabella, klaus, NOW, place="Hobbs Cafe")
    await remember_conversation(gw, convo, isabella, klaus, NOW)
    assert "physics" not in convo.summary and "This is line number" in convo.summary
    summary_call = next(t for t in gw.recorder.traces if t.purpose == "converse.summary")
    assert summary_call.outcome == "fallback"
