"""One simulation step for every agent in the town.

A step is 10 seconds of game time (`sec_per_step`). For each agent, concurrently:

1. perceive the tiles around it (new events -> memories, poignancy counted);
2. reflect when the counter says so (then reset it, whatever came out);
3. when its current action has finished (or it has none), plan the next one;
4. consider reacting to another agent it attends to: talk, wait or carry on.

Then, sequentially so that nobody joins two conversations, the pairs that chose to
talk hold their conversations (pairs concurrently), and every agent walks one tile
along its path (agents may share tiles, so doorways never deadlock; see
town/pathfinding.py). The step returns one `Movement` per agent: tile, emoji,
"activity @ address" and the chat lines spoken this step, which the Django shell
stores as the replay record.

Every model call is tagged with `call_context(run, step, item=agent name)`, so the
traces say which agent thought what at which step.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from llm.context import call_context
from reverie.engine.config import AgentConfig
from reverie.engine.converse import (
    Relationship,
    Speaker,
    chat_minutes,
    converse,
    decide_reaction,
    in_quiet_hours,
    relationship_summary,
    remember_conversation,
    summarise_conversation,
    write_memos,
)
from reverie.engine.embeddings import EmbeddingMemo
from reverie.engine.memory import MemoryNode, MemoryStream, ReflectionTrigger, cjk_keywords, is_doing
from reverie.engine.perceive import WorldEvent, attend, perceive
from reverie.engine.persona import Action, Identity, Scratch, Tile
from reverie.engine.plan import PlaceOptions, is_sleeping, next_action, plan_day, revise_for_interruption
from reverie.engine.ports import ModelGateway, Town
from reverie.engine.prompting import speaking
from reverie.engine.reflect import rate_poignancy, reflect
from reverie.engine.spatial import SpatialMemory

__all__ = ["Agent", "Movement", "Town", "World", "whisper"]


@dataclass
class Agent:
    identity: Identity
    scratch: Scratch
    stream: MemoryStream = field(default_factory=MemoryStream)
    spatial: SpatialMemory = field(default_factory=SpatialMemory)
    trigger: ReflectionTrigger = field(default_factory=ReflectionTrigger)

    @property
    def name(self) -> str:
        return self.identity.name

    def doing(self) -> str:
        return self.scratch.action.description if self.scratch.action else "idle"


@dataclass
class Movement:
    name: str
    tile: Tile
    emoji: str
    description: str  # "activity @ address"
    chat: list[tuple[str, str]] | None = None


def _arena_label(address: str) -> str | None:
    parts = address.split(":")
    return f"{parts[1]}: {parts[2]}" if len(parts) >= 3 else None


class World:
    def __init__(
        self, town: Town, agents: Iterable[Agent], *, now: datetime, step: int = 0, sec_per_step: int = 10,
        run: str = "", config: AgentConfig | None = None,
    ) -> None:  # fmt: skip
        self.config = config or AgentConfig.compact()
        self.town = town
        self.agents = {a.name: a for a in agents}
        self.now = now
        self.step = step
        self.sec_per_step = sec_per_step
        self.run = run
        self._memo: EmbeddingMemo | None = None

    # --- what is happening where --------------------------------------------------
    def events_by_tile(self) -> dict[Tile, list[WorldEvent]]:
        events: dict[Tile, list[WorldEvent]] = {}
        for agent in self.agents.values():
            tile, action = agent.scratch.tile, agent.scratch.action
            if tile is None:
                continue
            description = is_doing(agent.name, action.description) if action else f"{agent.name} is idle"
            subject, predicate, obj = action.event if action and action.event[0] else (agent.name, "is", "idle")
            events.setdefault(tile, []).append(WorldEvent(tile, subject, predicate, obj, description))
            if action and action.object_event[0]:
                o_subject, o_predicate, o_state = action.object_event
                for obj_tile in self._object_tiles(action.address):
                    events.setdefault(obj_tile, []).append(
                        WorldEvent(obj_tile, o_subject, o_predicate, o_state, is_doing(o_subject, o_state))
                    )
        return events

    def _object_tiles(self, address: str) -> tuple[Tile, ...]:
        if address.count(":") != 3:
            return ()
        try:
            return self.town.tiles_of(address)
        except KeyError:
            return ()

    def places_for(self, agent: Agent) -> PlaceOptions:
        world = self.town.world
        home = _arena_label(agent.identity.living_area) or "home: home"
        here = self.town.address_at(*agent.scratch.tile) if agent.scratch.tile else agent.identity.living_area
        current = _arena_label(here) or home
        known = agent.spatial.arena_objects(world)
        arenas = [f"{s}: {a}" for s, a in known]
        objects: dict[str, list[str]] = {}
        for label in dict.fromkeys([current, home, *arenas]):
            sector, _, arena = label.partition(": ")
            objects[label] = known.get((sector.strip(), arena.strip()), [])
        return PlaceOptions(world=world, home=home, current=current, arenas=arenas, objects=objects)

    # --- the step -----------------------------------------------------------------
    async def advance(self, gw: ModelGateway) -> dict[str, Movement]:
        """Run one step for every agent and move the clock; returns the movements.
        Every prompt of the step is in the run's language (config.language)."""
        with speaking(self.config.language):
            return await self._advance(gw)

    async def _advance(self, gw: ModelGateway) -> dict[str, Movement]:
        now = self.now
        events = self.events_by_tile()
        chats: dict[str, list[tuple[str, str]]] = {}
        gw, names = self._with_memo(gw)
        loop = asyncio.get_running_loop()
        wishes: dict[str, asyncio.Future[tuple[Agent, Agent] | None]] = {n: loop.create_future() for n in self.agents}
        activities: dict[str, asyncio.Future[str]] = {n: loop.create_future() for n in self.agents}
        thinking: dict[str, asyncio.Future[tuple[str, Agent] | None]] = {
            agent.name: asyncio.ensure_future(
                self._think(gw, agent, events, now, wish=wishes[agent.name], activity=activities[agent.name])
            )
            for agent in self.agents.values()
        }

        def settle(name: str, task: asyncio.Future[Any]) -> None:
            """An agent's thinking ended: whatever it had not told yet, it never will."""
            told: tuple[asyncio.Future[Any], ...] = (wishes[name], activities[name])
            for future in told:
                if future.done():
                    continue
                if task.cancelled():
                    future.cancel()
                elif task.exception() is not None:
                    future.set_exception(task.exception())  # type: ignore[arg-type]
                else:
                    future.set_result(None)

        for name, thought in thinking.items():
            thought.add_done_callback(functools.partial(settle, name))
        # Each speaker's first relationship summary is asked as soon as one of the two
        # decides to talk, while the others are still deciding (a pair the pairing then
        # drops has asked for nothing it uses: its calls are cancelled or wasted).
        early: dict[frozenset[str], dict[str, asyncio.Future[Relationship]]] = {}

        def start_early(wish: asyncio.Future[tuple[Agent, Agent] | None]) -> None:
            if wish.cancelled() or wish.exception() is not None or wish.result() is None:
                return
            a, b = wish.result()  # type: ignore[misc]
            key = frozenset((a.name, b.name))
            if key not in early:
                early[key] = {me.name: self._relationship_early(gw, me, other, now) for me, other in ((a, b), (b, a))}

        for wish in wishes.values():
            wish.add_done_callback(start_early)
        try:
            # Conversations start as soon as every agent has decided whether to talk,
            # while their plans are still choosing places, objects and details; a pair's
            # conversation waits for both agents' thinking only before it changes their
            # plans and actions (`_talk`).
            wants = await asyncio.gather(*wishes.values())
            pairs = self._pair_up([w for w in wants if w is not None])
            talks = [self._talk(gw, a, b, now, activities, thinking, early.pop(frozenset((a.name, b.name)), None))
                     for a, b in pairs]  # fmt: skip
            dropped = [task for started in early.values() for task in started.values()]
            for task in dropped:
                task.cancel()
            await asyncio.gather(*dropped, return_exceptions=True)
            results = await asyncio.gather(*talks)
            reactions = await asyncio.gather(*thinking.values())
        except BaseException:
            others: list[asyncio.Future[Any]] = [*thinking.values()]
            others += [task for started in early.values() for task in started.values()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            futures: list[asyncio.Future[Any]] = [*wishes.values(), *activities.values()]
            for future in futures:
                if future.done() and not future.cancelled():
                    future.exception()  # retrieved: the step's error is the one raised
            raise
        if names is not None:
            await names
        for agent, reaction in zip(self.agents.values(), reactions, strict=True):
            if reaction is not None and reaction[0] == "wait":  # stands where its new action would have taken it from
                self._wait_for(agent, reaction[1], now)
        for (a, b), lines in zip(pairs, results, strict=True):
            if lines:
                chats[a.name] = chats[b.name] = lines
        for agent in self.agents.values():
            agent.scratch.chat.cooldown = {k: v - 1 for k, v in agent.scratch.chat.cooldown.items() if v > 1}
        moves = {agent.name: self._walk(agent, chats.get(agent.name)) for agent in self.agents.values()}
        self.step += 1
        self.now = now + timedelta(seconds=self.sec_per_step)
        return moves

    def _with_memo(self, gw: ModelGateway) -> tuple[EmbeddingMemo, asyncio.Task[Any] | None]:
        """The world's embedding memo over `gw` (see reverie/engine/embeddings.py), and,
        the first time, the task embedding every agent's name beside the step's work."""
        if self._memo is not None and self._memo.gateway is gw:
            return self._memo, None
        self._memo = memo = EmbeddingMemo(gw)
        names = list(self.agents)

        async def embed_names() -> None:
            # A failure here reaches whoever waits for a name, in that agent's own call.
            with call_context(run=self.run, step=self.step), contextlib.suppress(Exception):
                await memo.aembed(names, purpose="world.names")

        return self._memo, (asyncio.ensure_future(embed_names()) if names else None)

    async def _think(
        self,
        gw: ModelGateway,
        agent: Agent,
        events: dict[Tile, list[WorldEvent]],
        now: datetime,
        *,
        wish: asyncio.Future[tuple[Agent, Agent] | None],
        activity: asyncio.Future[str],
    ) -> tuple[str, Agent] | None:
        """One agent's thinking in a step: perceive, plan, decide whether to react, reflect.
        Returns the reaction, ("talk" | "wait", other) or None.

        `wish` gets (agent, other) as soon as the agent decides to talk, else None;
        `activity` gets the agent's activity this step as soon as it is known (its new
        one when it plans). If the thinking stops first, `_advance` settles them.
        """
        with call_context(run=self.run, step=self.step, item=agent.name):
            action = agent.scratch.action
            # Someone waited for was busy; once the wait is over, they may be approached.
            waited_for = action.event[2] if action and action.event[1] == "waits for" and action.finished(now) else None

            def known(text: str) -> None:
                if not activity.done():
                    activity.set_result(text)

            async def plan() -> None:
                # A new day is planned at its first step (as the original does); a chat that
                # runs past midnight goes on, and the new day's actions start after it.
                try:
                    new_day = agent.scratch.is_new_day(now)
                    if action is None or action.finished(now) or (new_day and not agent.scratch.chat.partner):
                        agent.scratch.action = await next_action(gw, agent.identity, agent.scratch, now,
                                                                 self.places_for(agent), stream=agent.stream,
                                                                 config=self.config, on_activity=known)  # fmt: skip
                        agent.scratch.path, agent.scratch.path_set = [], False
                    elif new_day:
                        await plan_day(gw, agent.identity, agent.scratch, now, stream=agent.stream,
                                       config=self.config)  # fmt: skip
                finally:
                    known(agent.doing())  # no new action: what it was doing

            async def react() -> tuple[str, Agent] | None:
                noticed = await perceive(gw, agent.identity, agent.scratch, agent.stream, agent.spatial, self.town,
                                         events, now, agent.trigger, config=self.config)  # fmt: skip
                # Only what was newly noticed can prompt a reaction: an agent does not
                # reconsider the same person doing the same thing every 10 seconds.
                fresh = {n.subject for n in noticed} | ({waited_for} if waited_for else set())
                reaction = await self._consider_reacting(gw, agent, events, now, fresh, doing=await activity)
                wish.set_result((agent, reaction[1]) if reaction and reaction[0] == "talk" else None)
                return reaction

            # Perceiving and planning do not wait for each other (one chain of latencies,
            # not two; perception learns the places in sight before its first call, so
            # planning already knows them). Whether to talk is decided as soon as the new
            # activity is known, while its place and details are still being chosen. Then
            # reflection, as in the original's order (perceive, plan and react, reflect).
            reaction, _ = await asyncio.gather(react(), plan())
            if agent.trigger.should_reflect(self.config.reflection.threshold):
                try:
                    if self.config.reflection.enabled:
                        await reflect(gw, agent.identity, agent.stream, now, config=self.config)
                finally:
                    agent.trigger.reset()
            agent.scratch.now = now
            return reaction

    async def _consider_reacting(
        self,
        gw: ModelGateway,
        agent: Agent,
        events: dict[Tile, list[WorldEvent]],
        now: datetime,
        noticed: set[str],
        *,
        doing: str,
    ) -> tuple[str, Agent] | None:
        """("talk" | "wait", other) for the first newly noticed person the rules allow,
        else None (after "continue" the pair is left alone for `react_cooldown_steps`).

        `doing` is the agent's activity this step (its new one when it just planned).
        The rules come before any model call: no new chats in the quiet hours, none
        while either is asleep or chatting, none with someone who is waiting for
        another, and none within the per-pair buffer (`chat_cooldown_steps`).
        """
        settings = self.config.conversation
        if agent.scratch.chat.partner or agent.scratch.tile is None or is_sleeping(doing):
            return None
        if in_quiet_hours(now, settings.quiet_hours):
            return None
        seen = attend(self.town, agent.name, agent.scratch.tile, events, radius=agent.scratch.vision_radius,
                      bandwidth=agent.scratch.attention_bandwidth)  # fmt: skip
        for event in seen:
            if event.subject not in noticed:
                continue
            other = self.agents.get(event.subject)
            if other is None or other.name in agent.scratch.chat.cooldown or other.scratch.chat.partner:
                continue
            if is_sleeping(other.doing()) or _waiting(other):
                continue
            me, them = Speaker(agent.identity, agent.stream, doing), Speaker(
                other.identity, other.stream, other.doing())  # fmt: skip
            decision = await decide_reaction(gw, me, them, now, config=self.config)
            if decision in ("talk", "wait"):
                return (decision, other)
            agent.scratch.chat.cooldown[other.name] = settings.react_cooldown_steps  # leave them be a while
            return None
        return None

    def _wait_for(self, agent: Agent, other: Agent, now: datetime) -> None:
        """Stand by (at most 10 minutes) until the other's current action ends."""
        ends = other.scratch.action.end if other.scratch.action else now + timedelta(minutes=5)
        minutes = max(1, min(10, int((ends - now).total_seconds() // 60)))
        here = self.town.address_at(*agent.scratch.tile) if agent.scratch.tile else agent.identity.living_area
        agent.scratch.action = Action(
            address=agent.scratch.action.address if agent.scratch.action else here,
            description=f"waiting for {other.identity.first_name} to finish {other.doing()}",
            start=now,
            minutes=minutes,
            emoji="⌛",
            event=(agent.name, "waits for", other.name),
        )
        agent.scratch.path, agent.scratch.path_set = [], True  # stay where they are

    @staticmethod
    def _pair_up(wants: list[tuple[Agent, Agent]]) -> list[tuple[Agent, Agent]]:
        """Pairs that will talk this step; nobody is in two (first by initiator's name)."""
        taken: set[str] = set()
        pairs = []
        for a, b in sorted(wants, key=lambda p: (p[0].name, p[1].name)):
            if a.name in taken or b.name in taken:
                continue
            taken.update((a.name, b.name))
            pairs.append((a, b))
        return pairs

    def _place_label(self, agent: Agent) -> str:
        """The place of the conversation, as "<arena> in <sector>"."""
        address = self.town.address_at(*agent.scratch.tile) if agent.scratch.tile else ""
        parts = address.split(":")
        return f"{parts[2]} in {parts[1]}" if len(parts) >= 3 else (parts[1] if len(parts) == 2 else self.town.world)

    async def _talk(
        self,
        gw: ModelGateway,
        a: Agent,
        b: Agent,
        now: datetime,
        activities: dict[str, asyncio.Future[str]] | None = None,
        thinking: dict[str, asyncio.Future[tuple[str, Agent] | None]] | None = None,
        relationships: dict[str, asyncio.Future[Relationship]] | None = None,
    ) -> list[tuple[str, str]]:
        """Hold a conversation (a starts it), remember it, and make it both agents' action.

        In a step it starts while the two may still be choosing where their new
        activities take place (`activities` has the activities, `thinking` each agent's
        thinking; without them, what the agents are doing now and nothing to wait for):
        the summary and the memos are written, then it waits for both to finish thinking
        before it stores anything, revises their plans or sets their action.
        The chat's summary ("conversing about ...") is both agents' action description
        while it lasts and the interruption their plans are revised around; the chat
        memory's poignancy counts toward both reflections (`reflection.count_chats`).
        With no line said (the first line failed), nothing happened: the pair only waits
        out `react_cooldown_steps` before trying again.
        """
        config = self.config
        if activities is not None:
            doing_a, doing_b = await asyncio.gather(activities[a.name], activities[b.name])
        else:
            doing_a, doing_b = a.doing(), b.doing()
        first, second = Speaker(a.identity, a.stream, doing_a), Speaker(b.identity, b.stream, doing_b)
        pair = f"{a.name} & {b.name}"
        memos: list[str | None] = []
        with call_context(run=self.run, step=self.step, item=pair):
            convo = await converse(gw, first, second, now, place=self._place_label(a), config=config,
                                   relationships=relationships)  # fmt: skip
            if convo.lines:
                convo.summary, memos = await asyncio.gather(
                    summarise_conversation(gw, convo, first, second, config=config),
                    write_memos(gw, convo, first, second, config=config),
                )
        if thinking is not None:
            await asyncio.gather(thinking[a.name], thinking[b.name])
        if not convo.lines:
            for me, other in ((a, b), (b, a)):
                me.scratch.chat.cooldown[other.name] = config.conversation.react_cooldown_steps
            return []
        minutes = chat_minutes(convo.lines, config.conversation.chars_per_minute)

        async def remember() -> dict[str, list[MemoryNode]]:
            with call_context(run=self.run, step=self.step, item=pair):
                return await remember_conversation(gw, convo, first, second, now, config=config, memos=memos)

        async def revise(me: Agent) -> None:
            with call_context(run=self.run, step=self.step, item=me.name):
                await revise_for_interruption(gw, me.identity, me.scratch, now, convo.summary, minutes, config=config)

        # The plans need only the summary: they are revised while the chat is remembered.
        stored, _, _ = await asyncio.gather(remember(), revise(a), revise(b))
        if config.reflection.count_chats:
            for me in (a, b):
                me.trigger.record(stored[me.name][0])
        for me, other in ((a, b), (b, a)):
            me.scratch.chat.cooldown[other.name] = config.conversation.chat_cooldown_steps
            me.scratch.chat.lines = list(convo.lines)
            me.scratch.chat.partner = other.name
            me.scratch.chat.ends_at = now + timedelta(minutes=minutes)
            me.scratch.action = Action(
                address=f"<persona> {other.name}",
                description=convo.summary,
                start=now,
                minutes=minutes,
                emoji="💬",
                event=(me.name, "chat with", other.name),
            )
            me.scratch.path, me.scratch.path_set = [], True  # stand still while talking
        return convo.lines

    def _relationship_early(
        self, gw: ModelGateway, me: Agent, other: Agent, now: datetime
    ) -> asyncio.Future[Relationship]:
        """`me`'s relationship summary of `other`, started before the pair is confirmed
        (`_advance`); traced as the conversation's, as `converse` would ask it."""

        async def ask() -> Relationship:
            with call_context(run=self.run, step=self.step, item=f"{me.name} & {other.name}"):
                speaker, them = Speaker(me.identity, me.stream, ""), Speaker(other.identity, other.stream, "")
                return await relationship_summary(gw, speaker, them, now, self.config)

        return asyncio.ensure_future(ask())

    def _walk(self, agent: Agent, chat: list[tuple[str, str]] | None) -> Movement:
        s = agent.scratch
        if s.chat.partner and s.chat.ends_at is not None and self.now >= s.chat.ends_at:
            s.chat.partner, s.chat.ends_at, s.chat.lines = None, None, []
        action = s.action
        if s.tile is not None and action is not None and not s.path_set and action.address.count(":") >= 2:
            try:
                s.path = self.town.path_to_address(s.tile, action.address)[1:]
            except (KeyError, ValueError):
                s.path = []  # an unreachable or unknown place: stay put rather than crash
            s.path_set = True
        if s.path:
            s.tile = s.path.pop(0)
        address = action.address if action else ""
        return Movement(
            name=agent.name,
            tile=s.tile or (0, 0),
            emoji=action.emoji if action else "🙂",
            description=f"{action.description} @ {address}" if action else "idle",
            chat=chat,
        )


async def whisper(gw: ModelGateway, agent: Agent, statements: list[str], now: datetime) -> int:
    """Plant memories (the history CSVs' "whispers"): rated, embedded, stored as thoughts."""
    statements = [s.strip() for s in statements if s.strip()]
    if not statements:
        return 0
    with call_context(item=agent.name):
        scores = await rate_poignancy(gw, agent.identity, statements, purpose="whisper.poignancy")
        vectors = await gw.aembed(statements, purpose="whisper.embed")
    for text, score, vector in zip(statements, scores, vectors, strict=True):
        agent.stream.add_thought(agent.name, "knows", text, text, created=now, poignancy=score, embedding=vector,
                                 keywords={agent.name, *_names_in(text)})  # fmt: skip
    return len(statements)


def _waiting(agent: Agent) -> bool:
    action = agent.scratch.action
    return action is not None and action.event[1] == "waits for" and action.event[0] == agent.name


def _names_in(text: str) -> set[str]:
    """Capitalised word pairs ("Hobbs Cafe", "Klaus Mueller"): good retrieval keywords;
    Chinese has no spaces or capitals, so its character n-grams stand in (cjk_keywords)."""
    words = text.replace(",", " ").replace(".", " ").split()
    return {f"{a} {b}" for a, b in pairwise(words) if a[:1].isupper() and b[:1].isupper()} | set(cjk_keywords(text))
