"""Reacting to another agent, and talking with them.

Deciding (`react.decide`). The world checks the rules first, with no model call: no
new chats in `conversation.quiet_hours`, none while either is asleep or already
chatting, none while the other waits for someone, and none with a person talked to
within `chat_cooldown_steps` (the per-pair buffer; 800 steps in the original). Then
the persona weighs what it is doing, what the other is doing, what it remembers of
them (`react_memories` retrieved with the other's name as focal point) and when they
last talked and what about (or that they never did). The answer is a short reason
first, then "talk", "wait" (for the other to finish) or "continue".

A conversation (`converse`), speakers alternating, at most `max_lines` lines:
1. Relationship: the speaker retrieves `relationship_memories` memories with the
   other's name as focal point and sums up the relationship in one sentence
   (`converse.relationship`). With `relationship_per_line` (paper) this is redone
   before every line, as the original did; otherwise (compact) once per speaker per
   conversation, which saves a call per line. The next summary a speaker needs is
   started as soon as their own retrieval for this line is done, so it runs while the
   others talk and never lengthens the chain of calls; when the conversation ends
   first, that one call is wasted (it is still traced).
2. What the line sees: `memories_per_focal` memories for each of three focal points,
   the relationship summary, "<other> is <what the other is doing>" and the last 4
   lines (once there are any), merged without repeats. With `relationship_focal` off
   (compact), the relationship's part is the first `memories_per_focal` of the
   memories the summary was written from (the memories about the other it sums up),
   and the other two focal points are embedded while the summary is asked: the
   summary's own embedding is a call that could start only once the summary was in,
   one latency more on every conversation's first line.
3. The line (`converse.line`) is written from the speaker's identity, those memories,
   the previous conversation with this person and how long ago it was (the newest
   chat memory whose object is the other), the place, what each was doing, the
   relationship and the transcript. It ends when the speaker says so, when a speaker
   repeats a line ("repeat"), or at `max_lines` ("limit").
4. A line that fails validation ends the conversation where it stands ("fallback"):
   nothing is put in anyone's mouth. With no line said, nothing is remembered.

After a conversation (`remember_conversation`):
1. One call sums it up as "conversing about ..." (`converse.summary`). That summary is
   the chat memory's description, both speakers' action while the chat lasts, and
   the interruption the plan is revised around. Beside it, each speaker writes a memo
   of what they learned from the transcript (`converse.memo`), as the original's
   planning thought on a conversation did; a failed memo falls back on the summary.
2. Then, all at once: the whole conversation (summary and every line) is embedded for
   the chat memory, the memos are embedded, and each speaker rates the chat and their
   memo in one call (`converse.poignancy`); the caller may revise both plans meanwhile
   (they need only the summary). Each speaker stores a chat memory (me, "chat with",
   other) with the lines as filling, and a thought (me, "plans", other) citing it.
   The calls form a chain of two latencies after the last line, not five.
The chat's length in game minutes is ceil(characters of "Speaker: line" / 240), at
least 1 (the original: characters / 8 / 30).

Fallbacks, per purpose: react.decide -> "continue"; converse.relationship -> "<first
name> knows <other>."; converse.line -> the conversation ends without that line;
converse.summary -> 'conversing about "<the longest line>"' (what was actually said);
converse.memo -> "<name> talked with <other> about <summary>"; converse.poignancy -> 4.
A relationship, summary or memo that only copies the prompt's example answer is
invalid (repaired, then the fallback): a small model's copy would become a false memory.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reverie.engine.config import AgentConfig
from reverie.engine.memory import Kind, MemoryNode, MemoryStream
from reverie.engine.persona import Identity
from reverie.engine.ports import ModelGateway
from reverie.engine.prompting import chinese_clock, current_language, prompt
from reverie.engine.reflect import memory_line, rate_poignancy
from reverie.engine.retrieve import retrieve
from reverie.engine.schemas import (
    chat_summary_model,
    memo_model,
    react_model,
    relationship_model,
    utterance_model,
)

__all__ = [
    "Conversation",
    "Relationship",
    "Speaker",
    "chat_minutes",
    "converse",
    "decide_reaction",
    "in_quiet_hours",
    "last_chat_with",
    "relationship_summary",
    "remember_conversation",
    "summarise_conversation",
    "write_memos",
]

RECALL_KINDS: tuple[Kind, ...] = ("event", "thought", "chat")
LAST_LINES = 4  # the recent lines that are a focal point for the next one


@dataclass
class Speaker:
    identity: Identity
    stream: MemoryStream
    doing: str  # current action description

    @property
    def name(self) -> str:
        return self.identity.name


@dataclass(frozen=True)
class Relationship:
    """A speaker's one-sentence summary of the other, and the memories it was written from."""

    text: str
    memories: list[MemoryNode]


@dataclass
class Conversation:
    lines: list[tuple[str, str]] = field(default_factory=list)
    ended_by: str = ""  # "speaker" | "repeat" | "limit" | "fallback"
    summary: str = ""  # "conversing about ...", set by remember_conversation
    memories: dict[str, list[MemoryNode]] = field(default_factory=dict)

    def transcript(self) -> str:
        return "\n".join(f"{who}: {line}" for who, line in self.lines)


# --- small pure helpers ------------------------------------------------------------------


def _clock(now: datetime) -> str:
    if current_language() == "zh":
        return chinese_clock(now)
    return now.strftime("%A %B %d, %I:%M %p")


def in_quiet_hours(now: datetime, hours: tuple[int, int]) -> bool:
    """Whether `now` falls in [start, end) hours; a range past midnight wraps (23, 6)."""
    start, end = hours
    if start == end:
        return False
    if start < end:
        return start <= now.hour < end
    return now.hour >= start or now.hour < end


def chat_minutes(lines: Sequence[tuple[str, str]], chars_per_minute: int = 240) -> int:
    """Game minutes a conversation takes: its characters / `chars_per_minute`, rounded up, at least 1."""
    chars = sum(len(f"{who}: {line}") for who, line in lines)
    return max(1, math.ceil(chars / chars_per_minute))


def last_chat_with(stream: MemoryStream, other: str) -> MemoryNode | None:
    """The newest chat memory whose object is `other` (None if they never talked)."""
    for node in reversed(stream.by_kind("chat")):
        if node.object == other:
            return node
    return None


def _ago(minutes: int) -> str:
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    if minutes < 48 * 60:
        return f"about {round(minutes / 60)} hours ago"
    return f"{minutes // (24 * 60)} days ago"


def _past_chat(me: str, other: str, node: MemoryNode | None, now: datetime, *, when: bool = False) -> str:
    if node is None:
        return f"{me} and {other} have never talked before."
    minutes = max(0, int((now - node.created).total_seconds() // 60))
    at = f" ({_clock(node.created)})" if when else ""
    return f"{_ago(minutes).capitalize()}{at}, {me} and {other} were {node.description}."


def _bullets(nodes: Sequence[MemoryNode]) -> str:
    return "\n".join(f"- {memory_line(n)}" for n in nodes) or "- (nothing in particular)"


def example_in(prompt_text: str, field: str) -> str | None:
    """The value of `field` in the prompt's first "Example answer: {...}" (None if absent):
    an answer that only copies it is refused (see schemas._capped)."""
    match = re.search(r"Example answers?:\s*(\{.*\})", prompt_text)
    if match is None:
        return None
    try:
        value = json.loads(match.group(1)).get(field)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _excerpt(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


async def _recall(
    gw: ModelGateway, stream: MemoryStream, focals: Sequence[str], now: datetime, k: int, config: AgentConfig
) -> list[MemoryNode]:
    """The top `k` memories for each focal point (one embedding batch), merged without repeats."""
    focals = [f for f in dict.fromkeys(focals) if f.strip()]
    if not focals:
        return []
    vectors = await gw.aembed(list(focals), purpose="converse.embed")
    found = retrieve(stream, None, list(zip(focals, vectors, strict=True)), now, k=k, kinds=RECALL_KINDS,
                     config=config.retrieval)  # fmt: skip
    return _merged(*([scored.node for scored in found[focal]] for focal in focals))


def _merged(*groups: Sequence[MemoryNode]) -> list[MemoryNode]:
    """The memories of `groups`, in order, without repeats."""
    merged: dict[int, MemoryNode] = {}
    for group in groups:
        for node in group:
            merged.setdefault(node.id, node)
    return list(merged.values())


# --- deciding -------------------------------------------------------------------------------


async def decide_reaction(
    gw: ModelGateway, me: Speaker, other: Speaker, now: datetime, *, config: AgentConfig | None = None
) -> str:
    """ "talk", "wait" or "continue" (the rules are the caller's; see the module docstring)."""
    config = config or AgentConfig.compact()
    memories = await _recall(gw, me.stream, [other.name], now, config.conversation.react_memories, config)
    reason_chars = config.chars("react.decide", 80)
    model = react_model(reason_chars)
    last = last_chat_with(me.stream, other.name)
    last_chat = _past_chat(me.name, other.name, last, now, when=True)
    if last is not None:
        last_chat = "Last time they talked: " + last_chat
    result = await gw.astructured(
        model,
        prompt=prompt("react_decide", identity=me.identity.summary(), time=_clock(now),
                      first_name=me.identity.first_name, own_action=me.doing, other=other.name,
                      other_action=other.doing, last_chat=last_chat, memories=_bullets(memories),
                      reason_chars=reason_chars, examples=_react_examples(me, other, last, now, config)),
        fallback=lambda: model.model_construct(reasoning="", decision="continue"),
        **config.call_kwargs("react.decide"),
    )  # fmt: skip
    return str(result.value.decision)


_BALANCED_EXAMPLES = """Example answers:
{"reasoning": "Maria has news about the exam to share and Klaus is free", "decision": "talk"}
{"reasoning": "Klaus is in the middle of paying; Maria can ask him after", "decision": "wait"}
{"reasoning": "Maria is late for class and they spoke an hour ago", "decision": "continue"}"""


def _react_examples(me: Speaker, other: Speaker, last: MemoryNode | None, now: datetime, config: AgentConfig) -> str:
    """Three balanced examples (paper), or one built from the situation (compact's
    `situated_example`): a tiny model copies the example's decision, and with fixed
    examples it copied "continue" every time, so nobody ever talked. The situated example
    talks unless the two talked within `recent_chat_minutes`."""
    settings = config.conversation
    if not settings.situated_example:
        return _BALANCED_EXAMPLES
    first, them = me.identity.first_name, other.identity.first_name
    cap = config.chars("react.decide", 80)
    if last is not None and (now - last.created).total_seconds() < 60 * settings.recent_chat_minutes:
        answer = {"reasoning": f"{first} and {them} talked a short while ago", "decision": "continue"}
    else:
        answer = {"reasoning": f"{them} is {other.doing}; {first} has not talked with {them} today",
                  "decision": "talk"}  # fmt: skip
    answer["reasoning"] = answer["reasoning"][:cap]
    return "Example answer: " + json.dumps(answer, ensure_ascii=False)


# --- talking ----------------------------------------------------------------------------------


async def relationship_summary(
    gw: ModelGateway, me: Speaker, other: Speaker, now: datetime, config: AgentConfig
) -> Relationship:
    """What `me` knows and feels about `other`, from memories about them (`converse.relationship`)."""
    memories = await _recall(gw, me.stream, [other.name], now, config.conversation.relationship_memories, config)
    text = prompt("converse_relationship", name=me.name, other=other.name, memories=_bullets(memories))
    model = relationship_model(config.chars("converse.relationship", 160), example_in(text, "summary"))
    result = await gw.astructured(
        model,
        prompt=text,
        fallback=lambda: model.model_construct(summary=f"{me.identity.first_name} knows {other.name}."),
        **config.call_kwargs("converse.relationship"),
    )  # fmt: skip
    return Relationship(str(result.value.summary), memories)


def _situation(me: Speaker, other: Speaker, initiator: bool) -> str:
    if initiator:
        return (f"{me.name} was {me.doing} when {me.identity.first_name} saw {other.name} in the middle of "
                f"{other.doing}. {me.identity.first_name} is starting a conversation with {other.name}.")  # fmt: skip
    return (f"{me.name} was {me.doing} when {other.name}, who was {other.doing}, started a conversation "
            f"with {me.identity.first_name}.")  # fmt: skip


async def converse(
    gw: ModelGateway,
    first: Speaker,
    second: Speaker,
    now: datetime,
    *,
    place: str,
    config: AgentConfig | None = None,
    max_lines: int | None = None,
    relationships: dict[str, asyncio.Future[Relationship]] | None = None,
) -> Conversation:
    """Run a conversation to its end (`first` starts it); `remember_conversation` stores it.

    `relationships` (speaker name -> a running `relationship_summary`) are the speakers'
    first relationship summaries when the caller started them already; they are used
    instead of asking again.
    """
    config = config or AgentConfig.compact()
    settings = config.conversation
    started = dict(relationships or {})
    limit = max_lines if max_lines is not None else settings.max_lines
    per_line = settings.relationship_per_line
    partner = {first.name: second, second.name: first}
    past = {s.name: _past_chat(s.name, partner[s.name].name, last_chat_with(s.stream, partner[s.name].name), now)
            for s in (first, second)}  # fmt: skip
    model = utterance_model(config.chars("converse.line", 160))
    pending: dict[str, asyncio.Future[Relationship]] = {}
    k = settings.memories_per_focal

    def start_relationship(me: Speaker) -> None:
        given = started.pop(me.name, None)
        pending[me.name] = given or asyncio.ensure_future(relationship_summary(gw, me, partner[me.name], now, config))

    convo = Conversation()
    start_relationship(first)
    start_relationship(second)
    try:
        for turn in range(limit):
            me = first if turn % 2 == 0 else second
            other = partner[me.name]
            asked = pending.pop(me.name) if per_line else pending[me.name]
            focals = [f"{other.name} is {other.doing}"]
            if convo.lines:
                focals.append("\n".join(f"{who}: {line}" for who, line in convo.lines[-LAST_LINES:]))
            if settings.relationship_focal:
                relationship = await asked
                memories = await _recall(gw, me.stream, [relationship.text, *focals], now, k, config)
            else:
                relationship, recalled = await asyncio.gather(asked, _recall(gw, me.stream, focals, now, k, config))
                memories = _merged(relationship.memories[:k], recalled)
            if per_line and turn + 2 < limit:
                start_relationship(me)  # for this speaker's next line, while the other talks
            result = await gw.astructured(
                model,
                prompt=prompt("converse_line", identity=me.identity.summary(), time=_clock(now), place=place,
                              first_name=me.identity.first_name, other=other.name, relationship=relationship.text,
                              memories=_bullets(memories), past=past[me.name],
                              context=_situation(me, other, initiator=me is first),
                              transcript=convo.transcript() or
                              "[The conversation has not started yet: start it!]"),
                fallback=lambda: model.model_construct(line="", end=True),
                **config.call_kwargs("converse.line"),
            )  # fmt: skip
            if not result.ok:
                convo.ended_by = "fallback"  # an honest ending: no line is invented
                break
            line = str(result.value.line).strip()
            if any(line == said for who, said in convo.lines if who == me.name):
                convo.ended_by = "repeat"
                break
            convo.lines.append((me.name, line))
            if result.value.end:
                convo.ended_by = "speaker"
                break
        else:
            convo.ended_by = "limit"
    finally:
        leftovers = [task for task in pending.values() if not task.done()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*pending.values(), return_exceptions=True)
    return convo


# --- remembering ------------------------------------------------------------------------------


async def _summary_of(gw: ModelGateway, convo: Conversation, first: Speaker, second: Speaker,
                      config: AgentConfig) -> str:  # fmt: skip
    return convo.summary or await summarise_conversation(gw, convo, first, second, config=config)


async def write_memos(
    gw: ModelGateway, convo: Conversation, first: Speaker, second: Speaker, *, config: AgentConfig | None = None
) -> list[str | None]:
    """Both speakers' memos (first's, second's), at once; None for one that failed."""
    config = config or AgentConfig.compact()
    return list(await asyncio.gather(_memo(gw, first, second, convo, config), _memo(gw, second, first, convo, config)))


async def summarise_conversation(
    gw: ModelGateway, convo: Conversation, first: Speaker, second: Speaker, *, config: AgentConfig | None = None
) -> str:
    """'conversing about ...' (`converse.summary`); falls back to what was actually said."""
    config = config or AgentConfig.compact()
    cap = config.chars("converse.summary", 120)
    text = prompt("converse_summary", first=first.name, second=second.name, transcript=convo.transcript())
    model = chat_summary_model(cap, example_in(text, "summary"))
    longest = max((line for _, line in convo.lines), key=len, default="")
    fallback = f'conversing about "{_excerpt(longest, max(20, cap - 20))}"'
    result = await gw.astructured(
        model,
        prompt=text,
        fallback=lambda: model.model_construct(summary=fallback),
        **config.call_kwargs("converse.summary"),
    )  # fmt: skip
    return str(result.value.summary)


async def _memo(gw: ModelGateway, me: Speaker, other: Speaker, convo: Conversation, config: AgentConfig) -> str | None:
    """What `me` learned from the conversation (`converse.memo`), from the transcript
    alone, as the original's planning thought on a conversation: so it is written side
    by side with the summary. None when the call fails (the caller falls back on the summary)."""
    text = prompt("converse_memo", name=me.name, other=other.name, transcript=convo.transcript())
    model = memo_model(config.chars("converse.memo", 140), example_in(text, "text"))
    result = await gw.astructured(
        model,
        prompt=text,
        fallback=lambda: model.model_construct(text=""),
        **config.call_kwargs("converse.memo"),
    )  # fmt: skip
    return str(result.value.text) if result.ok else None


async def remember_conversation(
    gw: ModelGateway,
    convo: Conversation,
    first: Speaker,
    second: Speaker,
    now: datetime,
    *,
    config: AgentConfig | None = None,
    memos: Sequence[str | None] | None = None,
) -> dict[str, list[MemoryNode]]:
    """Summarise the conversation and store it for both: {name: [chat memory, memo thought]}.

    Sets `convo.summary` (unless set already) and `convo.memories`. A conversation with
    no line is not a memory (returns {}). `memos` (first's, second's; None for a failed
    one) when the caller wrote them already (`write_memos`, beside the summary). A failed
    memo falls back on the summary: "<me> talked with <other> about ...".
    """
    if not convo.lines:
        return {}
    config = config or AgentConfig.compact()
    pairs = ((first, second), (second, first))
    given = memos

    async def the_memos() -> list[str | None]:
        return list(given) if given is not None else await write_memos(gw, convo, first, second, config=config)

    # The summary and the memos do not need each other: side by side.
    convo.summary, written = await asyncio.gather(_summary_of(gw, convo, first, second, config), the_memos())
    topic = convo.summary.removeprefix("conversing ")
    notes = [
        memo or f"{me.name} talked with {other.name} {topic}" for memo, (me, other) in zip(written, pairs, strict=True)
    ]
    whole = f"{first.name} and {second.name} were {convo.summary}.\n{convo.transcript()}"
    ratings = [
        rate_poignancy(gw, me.identity, [f"{me.name} and {other.name} were {convo.summary}", note],
                       purpose="converse.poignancy", config=config)
        for (me, other), note in zip(pairs, notes, strict=True)
    ]  # fmt: skip
    # Everything left needs only the summary and the memos: one latency, all at once.
    chat_vectors, memo_vectors, *scores = await asyncio.gather(
        gw.aembed([whole], purpose="converse.embed"), gw.aembed(notes, purpose="converse.embed"), *ratings
    )
    vectors = [chat_vectors[0], *memo_vectors]
    stored: dict[str, list[MemoryNode]] = {}
    for i, ((me, other), memo, (chat_score, memo_score)) in enumerate(zip(pairs, notes, scores, strict=True)):
        keywords = {me.name, other.name}
        chat = me.stream.add_chat(me.name, "chat with", other.name, convo.summary, created=now,
                                  poignancy=chat_score, filling=convo.lines, embedding=vectors[0],
                                  keywords=keywords)  # fmt: skip
        thought = me.stream.add_thought(me.name, "plans", other.name, memo, created=now, poignancy=memo_score,
                                        evidence=[chat.id], embedding=vectors[1 + i], keywords=keywords)  # fmt: skip
        stored[me.name] = [chat, thought]
    convo.memories = stored
    return stored
