"""Reacting and conversing with a scripted model: turn-taking, endings, memories."""

from datetime import datetime

from reverie.engine.converse import Speaker, converse, decide_reaction, remember_conversation
from reverie.engine.memory import MemoryStream
from reverie.engine.persona import Identity
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
