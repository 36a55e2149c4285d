"""Reacting to another agent, and talking with them.

Deciding (`react.decide`): when a persona perceives another, it weighs what it is
doing, what the other is doing and what it remembers of them, and chooses to talk,
wait for them, or carry on.

Conversation: each speaker first sums up its relationship with the other in one
sentence (`converse.relationship`, from memories retrieved with the other's name as
the focal point). Then speakers alternate; each line (`converse.line`) is written from
the speaker's identity, the relationship, the memories most relevant to the last line,
and the transcript. It ends when a speaker says so, when a line repeats, or after
`max_lines`. Both personas store the conversation as a chat memory, and each writes a
planning thought about it (`converse.memo`).

Fallbacks: a bad decision means "continue"; a bad line ends the conversation politely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reverie.engine.memory import MemoryNode, MemoryStream
from reverie.engine.persona import Identity
from reverie.engine.prompting import prompt
from reverie.engine.reflect import rate_poignancy
from reverie.engine.retrieve import retrieve
from reverie.engine.schemas import Memo, ReactDecision, Relationship, Utterance

MEMORIES_PER_LINE = 6
DEFAULT_MAX_LINES = 8


@dataclass
class Speaker:
    identity: Identity
    stream: MemoryStream
    doing: str  # current action description


@dataclass
class Conversation:
    lines: list[tuple[str, str]] = field(default_factory=list)
    ended_by: str = ""  # "speaker" | "repeat" | "limit" | "fallback"
    memories: dict[str, list[MemoryNode]] = field(default_factory=dict)


def _clock(now: datetime) -> str:
    return now.strftime("%A %B %d, %I:%M %p")


async def _recall(gw: Any, speaker: Speaker, focal: str, now: datetime, k: int) -> list[MemoryNode]:
    vector = (await gw.aembed([focal], purpose="converse.embed"))[0]
    found = retrieve(speaker.stream, None, [(focal, vector)], now, k=k, kinds=("event", "thought", "chat"))
    return [scored.node for scored in found[focal]]


def _bullets(nodes: list[MemoryNode]) -> str:
    return "\n".join(f"- {n.description}" for n in nodes) or "- (nothing in particular)"


async def decide_reaction(gw: Any, me: Speaker, other: Speaker, now: datetime) -> str:
    memories = await _recall(gw, me, other.identity.name, now, MEMORIES_PER_LINE)
    result = await gw.astructured(
        ReactDecision,
        prompt=prompt("react_decide", identity=me.identity.summary(), time=_clock(now),
                      first_name=me.identity.first_name, own_action=me.doing, other=other.identity.name,
                      other_action=other.doing, memories=_bullets(memories)),
        fallback=ReactDecision(decision="continue"),
        purpose="react.decide",
        max_tokens=12,
    )  # fmt: skip
    return str(result.value.decision)


async def _relationship(gw: Any, me: Speaker, other: Speaker, now: datetime) -> str:
    memories = await _recall(gw, me, other.identity.name, now, MEMORIES_PER_LINE)
    result = await gw.astructured(
        Relationship,
        prompt=prompt("converse_relationship", name=me.identity.name, other=other.identity.name,
                      memories=_bullets(memories)),
        fallback=Relationship(summary=f"{me.identity.first_name} knows {other.identity.name}."),
        purpose="converse.relationship",
        max_tokens=60,
    )  # fmt: skip
    return str(result.value.summary)


async def converse(
    gw: Any, first: Speaker, second: Speaker, now: datetime, *, place: str, max_lines: int = DEFAULT_MAX_LINES
) -> Conversation:
    """Run a conversation to its end; memories are stored by `remember_conversation`."""
    relations = {
        first.identity.name: await _relationship(gw, first, second, now),
        second.identity.name: await _relationship(gw, second, first, now),
    }
    convo = Conversation()
    speakers = (first, second)
    for turn in range(max_lines):
        me, other = speakers[turn % 2], speakers[(turn + 1) % 2]
        focal = convo.lines[-1][1] if convo.lines else other.identity.name
        memories = await _recall(gw, me, focal, now, MEMORIES_PER_LINE)
        transcript = "\n".join(f"{who}: {line}" for who, line in convo.lines) or "(they have just met)"
        result = await gw.astructured(
            Utterance,
            prompt=prompt("converse_line", identity=me.identity.summary(), time=_clock(now), place=place,
                          first_name=me.identity.first_name, other=other.identity.name,
                          relationship=relations[me.identity.name], memories=_bullets(memories),
                          transcript=transcript),
            fallback=Utterance(line="Anyway, I should get going. See you later!", end=True),
            purpose="converse.line",
            max_tokens=80,
        )  # fmt: skip
        line = result.value.line.strip()
        if any(line == said for who, said in convo.lines if who == me.identity.name):
            convo.ended_by = "repeat"
            break
        convo.lines.append((me.identity.name, line))
        if not result.ok:
            convo.ended_by = "fallback"
            break
        if result.value.end:
            convo.ended_by = "speaker"
            break
    else:
        convo.ended_by = "limit"
    return convo


async def remember_conversation(
    gw: Any, convo: Conversation, first: Speaker, second: Speaker, now: datetime
) -> dict[str, list[MemoryNode]]:
    """Store the conversation as a chat memory for both, plus each one's planning thought."""
    if not convo.lines:
        return {}
    transcript = "\n".join(f"{who}: {line}" for who, line in convo.lines)
    stored: dict[str, list[MemoryNode]] = {}
    for me, other in ((first, second), (second, first)):
        memo = await gw.astructured(
            Memo,
            prompt=prompt("converse_memo", name=me.identity.name, other=other.identity.name, transcript=transcript),
            fallback=Memo(text=f"{me.identity.first_name} talked with {other.identity.name}."),
            purpose="converse.memo",
            max_tokens=60,
        )  # fmt: skip
        description = f"{me.identity.name} talked with {other.identity.name}"
        scores = await rate_poignancy(
            gw, me.identity, [transcript[-400:], memo.value.text], purpose="converse.poignancy"
        )
        vectors = await gw.aembed([description + ": " + transcript[-300:], memo.value.text], purpose="converse.embed")
        chat = me.stream.add_chat(me.identity.name, "talks with", other.identity.name, description, created=now,
                                  poignancy=scores[0], filling=convo.lines, embedding=vectors[0])  # fmt: skip
        thought = me.stream.add_thought(me.identity.name, "plans", other.identity.name, memo.value.text, created=now,
                                        poignancy=scores[1], evidence=[chat.id], embedding=vectors[1],
                                        keywords={me.identity.name, other.identity.name})  # fmt: skip
        stored[me.identity.name] = [chat, thought]
    convo.memories = stored
    return stored
