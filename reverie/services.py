"""Everything that changes a simulation: load a base, fork, run steps, plant history.

Views, commands and Celery tasks call these; the engine (reverie/engine/) does the
thinking. A step is committed in one transaction as soon as it finishes, so a killed
process loses only the step in flight, and the next run resumes from the database.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import JSONField, OuterRef, Subquery
from django.utils import timezone

from environment.bulk import update_rows
from environment.llmlog.models import LLMCall
from environment.vectors.models import VectorItem
from environment.vectors.store import VectorBatch, get_vector_store
from llm.context import call_context
from llm.errors import LLMError
from llm.resilience import RunGuard
from reverie import heap
from reverie.engine.config import PRESETS, AgentConfig, default_preset_for_model
from reverie.engine.memory import MemoryStream, ReflectionTrigger, has_cjk
from reverie.engine.persona import (
    Identity,
    Scratch,
    identity_from_dict,
    identity_to_dict,
    scratch_from_dict,
    scratch_to_dict,
)
from reverie.engine.ports import InMemoryVectorIndex
from reverie.engine.prompting import LANGUAGES, speaking
from reverie.engine.spatial import SpatialMemory
from reverie.engine.world import Agent, Movement, World, whisper
from reverie.models import MemoryNode, Persona, PersonaSnapshot, Simulation
from reverie.models import Movement as MovementRow
from reverie.selectors import game_time as _game_time  # the engine works in naive game time
from reverie.town import Maze, load_maze

BASES = Path(settings.BASE_DIR) / "storage" / "base"
PRIVATE_KINDS = {"house", "home", "dorm", "apartment", "apartments", "co-living"}
_mazes: dict[str, Maze] = {}


class SimulationError(Exception):
    """A problem a person can fix; the message is one line."""


class SimulationNotFound(SimulationError):
    pass


class BaseNotLoaded(SimulationNotFound):
    """A base listed in storage/base that nobody has loaded into the database yet."""


class SimulationExists(SimulationError):
    pass


class PersonaNotFound(SimulationError):
    pass


class HistoryFileError(SimulationError):
    pass


def maze_for(name: str) -> Maze:
    if name not in _mazes:
        maze = load_maze(name)
        # The pathfinder (its landmark distances: ~0.15 s for the_ville) is built with the
        # maze, once per process, not on the first step that walks somewhere.
        maze.pathfinder  # noqa: B018
        _mazes[name] = maze
    return _mazes[name]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _aware(value: datetime) -> datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value, timezone.get_default_timezone())


# --- bases and forks ---------------------------------------------------------------


def base_names() -> list[str]:
    return sorted(p.parent.name for p in BASES.glob("*/meta.yaml"))


def get_simulation(name: str) -> Simulation:
    """The simulation named `name`, read only: nothing is created.

    A base listed in storage/base that is not in the database yet raises BaseNotLoaded
    (a SimulationNotFound whose message says how to load it); write paths (fork, the
    CLI, `manage.py prepare`) call ensure_base instead.
    """
    found = Simulation.objects.filter(name=name).first()
    if found is not None:
        return found
    if name in base_names():
        raise BaseNotLoaded(
            f"base simulation {name!r} is not loaded yet: run python manage.py prepare, or fork it (which loads it)"
        )
    raise SimulationNotFound(f"no simulation named {name!r}; bases: {', '.join(base_names()) or 'none'}")


def ensure_base(name: str) -> Simulation:
    """The simulation named `name`, loading it from storage/base first if it is a listed
    base not in the database yet (the write side of get_simulation)."""
    found = Simulation.objects.filter(name=name).first()
    if found is not None:
        return found
    # Only names listed from the folder load a base: a name is never joined into a
    # path unchecked, so "../x" or an absolute path cannot reach outside storage/base.
    if name not in base_names():
        raise SimulationNotFound(f"no simulation named {name!r}; bases: {', '.join(base_names()) or 'none'}")
    try:
        return _load_base(name)
    except IntegrityError:  # loaded by another process meanwhile
        found = Simulation.objects.filter(name=name).first()
        if found is None:
            raise
        return found


def _known_addresses(maze: Maze, home_sector: str, workplace: str) -> list[str]:
    """What a newcomer knows of the town: home, workplace and every public place."""
    known = []
    for sector in maze.spec.sectors:
        public = sector.kind not in PRIVATE_KINDS
        if public or sector.name in (home_sector, workplace):
            prefix = f"{maze.world}:{sector.name}:"
            known += [a for a in maze.addresses("game_object") if a.startswith(prefix)]
            known += [a for a in maze.addresses("arena") if a.startswith(prefix)]
    return known


PERCEPTION_FIELDS = ("vision_radius", "attention_bandwidth", "retention")


def _start_scratch(name: str, person: dict[str, Any], tile: tuple[int, int]) -> Scratch:
    """A persona's scratch at step 0: on its spawn tile, with the perception settings of
    personas.yaml (positive whole numbers; the ones left out keep Scratch's defaults)."""
    scratch = Scratch(tile=tile)
    for key, value in _perception(name, person).items():
        setattr(scratch, key, value)
    return scratch


def _perception(name: str, person: dict[str, Any]) -> dict[str, int]:
    out = {}
    for key in PERCEPTION_FIELDS:
        if key not in person:
            continue
        value = person[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SimulationError(
                f"storage/base/{name}/personas.yaml: {person.get('name', '?')}'s {key} must be a positive "
                f"whole number, got {value!r}"
            )
        out[key] = value
    return out


@transaction.atomic
def _load_base(name: str) -> Simulation:
    folder = BASES / name
    meta = yaml.safe_load((folder / "meta.yaml").read_text(encoding="utf-8"))
    people = yaml.safe_load((folder / "personas.yaml").read_text(encoding="utf-8"))
    maze = maze_for(meta.get("maze", "the_ville"))
    start = _aware(datetime.fromisoformat(str(meta["start_time"])))
    sim = Simulation.objects.create(
        name=name, is_base=True, maze=meta.get("maze", "the_ville"), start_time=start, current_time=start,
        sec_per_step=int(meta.get("sec_per_step", 10)), step=int(meta.get("step", 0)),
        meta={k: meta[k] for k in ("description", "scenarios", "language", "town_labels") if k in meta},
    )  # fmt: skip
    by_name = {p["name"]: p for p in people}
    for person_name in meta["personas"]:
        p = by_name.get(person_name)
        if p is None:
            raise SimulationError(f"{folder}/meta.yaml lists {person_name!r}, who is not in personas.yaml")
        tile = maze.spawn_tile(p["home"])
        living_area = ":".join(maze.address_at(*tile).split(":")[:3])
        identity = identity_from_dict({**p, "living_area": living_area})
        spatial = SpatialMemory()
        spatial.learn_many(_known_addresses(maze, p.get("home_sector", ""), p.get("workplace", "")))
        spatial.learn(living_area)
        Persona.objects.create(
            simulation=sim, name=identity.name, identity=vars(identity),
            scratch=scratch_to_dict(_start_scratch(name, p, tile)), spatial=spatial.to_dict(),
            trigger=ReflectionTrigger().to_dict(),
            extra={"relationships": p.get("relationships", {}), "workplace": p.get("workplace", ""),
                   "home": p["home"]},
        )  # fmt: skip
    return sim


# The one rule for a new simulation's name, used by every way a name is made: the fork
# form and its JSON API (environment/smallville/views.py), the CLI's --name and prompt
# (reverie/cli.py), scripts and bench/ -- all call fork(), which calls this.
# A name becomes a URL path segment (/simulator_home/<name>/), a lookup key in commands
# and a label in logs, so it must survive all three unchanged:
# - surrounding whitespace is removed, not refused: a pasted "july1 " means "july1";
# - "/" and "\\" would split or escape the path segment;
# - "." and ".." (and any all-dots name) are path segments that browsers and proxies
#   resolve away, so every link would point at another page;
# - "?", "#" and "%" start a query, a fragment or an escape in a hand-built URL (a shell
#   script, a link typed by a person, JavaScript joining strings), which then names
#   another run; reverse() would escape them, but not everything goes through reverse();
# - control characters (Unicode Cc: NUL, newline, tab, DEL...), line and paragraph
#   separators (Zl, Zp), invisible format characters (Cf: zero-width spaces, bidi
#   overrides that display a name backwards) and lone surrogates (Cs, not encodable in
#   UTF-8) break paths, log lines and terminals, or make two different names look alike.
NAME_MAX_LENGTH = 200  # Simulation.name's max_length
_NAME_FORBIDDEN_CHARS = "/\\?#%"
_NAME_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def check_simulation_name(name: str | None) -> str:
    """The name, stripped, if it may name a new simulation; SimulationError (one line) if not."""
    name = (name or "").strip()
    if not name:
        raise SimulationError("a simulation name cannot be empty")
    if len(name) > NAME_MAX_LENGTH:
        raise SimulationError(f"a simulation name has at most {NAME_MAX_LENGTH} characters, got {len(name)}")
    bad = [c for c in name if unicodedata.category(c) in _NAME_FORBIDDEN_CATEGORIES]
    if bad:
        codes = ", ".join(dict.fromkeys(f"U+{ord(c):04X}" for c in bad))
        raise SimulationError(
            f"{name!r} is not a usable simulation name: it contains control or invisible characters ({codes})"
        )
    if set(name) == {"."}:
        raise SimulationError(f"{name!r} is not a usable simulation name: a name cannot be only dots")
    if any(c in _NAME_FORBIDDEN_CHARS for c in name):
        raise SimulationError(f"{name!r} is not a usable simulation name: no slashes, ?, # or % (they break its links)")
    return name


def _check_new_name(name: str) -> str:
    name = check_simulation_name(name)
    if Simulation.objects.filter(name=name).exists() or (BASES / name / "meta.yaml").is_file():
        raise SimulationExists(f"a simulation named {name!r} already exists; pick another name")
    return name


def default_preset() -> str:
    """The preset a fork of a base gets when none is named: follows settings.LLM_MODEL
    (`compact` for the bundled model, `paper` for any other)."""
    return default_preset_for_model(settings.LLM_MODEL)


def fork_config(source: Simulation, preset: str | None = None) -> dict[str, Any]:
    """The agent config a fork of `source` stores in its meta["agent_config"]: the named
    preset, else the source's own config, else the default preset for the model."""
    if preset is not None:
        chosen = str(preset).strip()
        if chosen not in PRESETS:
            raise SimulationError(f"unknown preset {chosen!r}; choose from {', '.join(PRESETS)}")
        return _as_json(AgentConfig.preset_named(chosen).to_dict())
    stored = (source.meta or {}).get("agent_config")
    if stored:
        return dict(stored)
    return _as_json(AgentConfig.preset_named(default_preset()).to_dict())


def _check_language(language: str) -> str:
    chosen = str(language).strip()
    if chosen not in LANGUAGES:
        raise SimulationError(f"unknown language {chosen!r}; choose from {', '.join(LANGUAGES)}")
    return chosen


def source_language(source: Simulation) -> str:
    """The language a fork of `source` speaks when none is chosen: the source's own
    (its stored agent config, else its base's meta.yaml `language`), else English."""
    meta = source.meta or {}
    stored = (meta.get("agent_config") or {}).get("language") or meta.get("language") or "en"
    return str(stored) if stored in LANGUAGES else "en"


def _as_json(data: dict[str, Any]) -> dict[str, Any]:
    """As the database gives it back (tuples become lists), so a fork's meta reads the same
    before and after a reload."""
    result: dict[str, Any] = json.loads(json.dumps(data))
    return result


# Starting relationships become thought memories with a fixed poignancy: 5 is the middle
# of the 1-10 scale, the value the original gives the daily plan thought it stores
# without a model call; rating each sentence with the model would make a fork cost
# ~120 calls on the 25-agent base, and a first acquaintance is neither trivial nor momentous.
RELATIONSHIP_POIGNANCY = 5


@dataclass
class _Relationships:
    """One persona's starting relationships, made into memories before the fork's transaction."""

    nodes: list[Any]  # reverie.engine.memory.MemoryNode
    vectors: np.ndarray


def relationship_text(name: str, other: str, text: str) -> str:
    text = " ".join(str(text).split())
    if has_cjk(text):  # a Chinese base's relationship reads as Chinese
        return f"{name}认识{other}：{text}"
    return f"{name} knows {other}: {text}"


def _relationship_memories(src: Simulation, gateway: Any, run: str) -> dict[str, _Relationships]:
    """The relationship memories of every persona of `src` that has not had them yet
    (all personas of a base), embedded in one batch through the gateway, traced under
    the run label `run`."""
    todo: list[tuple[Persona, list[tuple[str, str]]]] = []
    for persona in src.personas.all():
        extra = persona.extra or {}
        relationships = extra.get("relationships") or {}
        if relationships and not extra.get("relationships_loaded"):
            todo.append(
                (persona, [(str(o), relationship_text(persona.name, str(o), t)) for o, t in relationships.items()])
            )
    if not todo:
        return {}
    texts = [text for _, pairs in todo for _, text in pairs]
    try:
        with call_context(run=run, item="relationships"):
            vectors = np.asarray(_gateway(gateway).embed(texts, purpose="fork.relationships"), dtype=np.float32)
    except LLMError as exc:
        raise SimulationError(f"cannot embed the starting relationships of {src.name!r}: {_one_line(exc)}") from None
    now = _game_time(src.current_time)
    out: dict[str, _Relationships] = {}
    row = 0
    for persona, pairs in todo:
        last = persona.memories.order_by("-node_id").values_list("node_id", flat=True).first() or 0
        stream = MemoryStream.from_dict({"nodes": [], "next_id": last + 1}, index=InMemoryVectorIndex())
        nodes = []
        for other, text in pairs:
            nodes.append(stream.add_thought(persona.name, "knows", other, text, created=now,
                                            poignancy=RELATIONSHIP_POIGNANCY, embedding=vectors[row],
                                            keywords={persona.name, other}))  # fmt: skip
            row += 1
        out[persona.name] = _Relationships(nodes, vectors[row - len(pairs) : row])
    return out


def _store_relationships(persona: Persona, loaded: _Relationships, *, step: int) -> None:
    nodes = loaded.nodes
    MemoryNode.objects.bulk_create(
        [MemoryNode(persona=persona, node_id=n.id, data=n.to_dict(), kind=n.kind, description=n.description,
                    created=_aware(n.created), last_accessed=_aware(n.last_accessed), step=step) for n in nodes]
    )  # fmt: skip
    get_vector_store().add(
        owner=persona.vector_owner, kind="memory", vectors=loaded.vectors, refs=[str(n.id) for n in nodes],
        texts=[n.description for n in nodes], created_at=[_aware(n.created) for n in nodes],
    )  # fmt: skip


def fork(
    source: str,
    new_name: str,
    *,
    preset: str | None = None,
    gateway: Any = None,
    owner: Any = None,
    language: str | None = None,
) -> Simulation:
    """Copy a simulation (personas, memories, embeddings, movements) under a new name.

    A base not in the database yet is loaded first. The fork stores its agent config in
    meta["agent_config"] (see fork_config: `preset` names one, else the source's is kept),
    with the language its agents think and speak in (`language`: "en" or "zh"; None
    keeps the source's, which for a base is its meta.yaml's `language`, else "en").
    Personas whose starting relationships were never made memories (every persona of a
    base) get them now, once: one thought per relationship, embedded through `gateway`
    (the shared gateway when None), and the persona is marked so a fork of the fork
    does not add them again. `owner` (a User, or None) is who started the run.
    """
    # Checks that need no source come first, so a refused fork writes nothing (not even the base).
    name = _check_new_name(new_name)
    if preset is not None:
        fork_config(Simulation(), preset)  # validates the preset name
    if language is not None:
        language = _check_language(language)
    src = ensure_base(source)
    config = fork_config(src, preset)
    config["language"] = language or source_language(src)
    meta = {**(src.meta or {}), "agent_config": config}
    # Model calls stay outside the transaction. The fork has no pk yet, so its traces
    # carry a label of their own until it has: then they become the fork's, and
    # `llm_stats --run sim:N` counts them with the rest of its run.
    pending_run = f"fork:{uuid.uuid4().hex}"
    relationships = _relationship_memories(src, gateway, pending_run)
    if relationships:
        _gateway(gateway).flush()  # the embedding's trace is written before it is relabelled
    try:
        with transaction.atomic():
            sim = _copy(src, name, meta, relationships)
            if owner is not None:
                sim.owner = owner
                sim.save(update_fields=["owner"])
            if relationships:
                LLMCall.objects.filter(run=pending_run).update(run=sim.run_label)
            return sim
    except IntegrityError:
        if Simulation.objects.filter(name=name).exists():
            raise SimulationExists(f"a simulation named {name!r} already exists; pick another name") from None
        raise


def _copy(src: Simulation, name: str, meta: dict[str, Any], relationships: dict[str, _Relationships]) -> Simulation:
    sim = Simulation.objects.create(
        name=name, forked_from=src, maze=src.maze, start_time=src.start_time, current_time=src.current_time,
        sec_per_step=src.sec_per_step, step=src.step, meta=meta,
    )  # fmt: skip
    for old in src.personas.all():
        loaded = relationships.get(old.name)
        extra = {**(old.extra or {}), "relationships_loaded": True} if loaded else old.extra
        new = Persona.objects.create(simulation=sim, name=old.name, identity=old.identity, scratch=old.scratch,
                                     spatial=old.spatial, trigger=old.trigger, extra=extra)  # fmt: skip
        MemoryNode.objects.bulk_create(
            [MemoryNode(persona=new, node_id=m.node_id, data=m.data, kind=m.kind, description=m.description,
                        created=m.created, last_accessed=m.last_accessed, step=m.step)
             for m in old.memories.all()],
            batch_size=500,
        )  # fmt: skip
        VectorItem.objects.bulk_create(
            [VectorItem(owner=new.vector_owner, kind=v.kind, ref=v.ref, text=v.text, metadata=v.metadata,
                        created_at=v.created_at, embedding=v.embedding)
             for v in VectorItem.objects.filter(owner=old.vector_owner)],
            batch_size=500,
        )  # fmt: skip
        PersonaSnapshot.objects.bulk_create(
            [PersonaSnapshot(persona=new, step=snap.step, scratch=snap.scratch) for snap in old.snapshots.all()],
            batch_size=500,
        )
        if loaded:
            _store_relationships(new, loaded, step=src.step)
    MovementRow.objects.bulk_create(
        [MovementRow(simulation=sim, step=m.step, persona=m.persona, x=m.x, y=m.y, emoji=m.emoji,
                     description=m.description, chat=m.chat) for m in src.movements.all()],
        batch_size=1000,
    )  # fmt: skip
    return sim


# --- loading and saving a running world --------------------------------------------


@dataclass
class Session:
    """A loaded simulation and what was last saved, so a save writes only changes."""

    sim: Simulation
    world: World
    personas: dict[str, Persona]
    saved_ids: dict[str, int] = field(default_factory=dict)  # persona -> highest saved node id
    snapshot_hashes: dict[str, str] = field(default_factory=dict)  # persona -> hash of the last snapshot
    spatial_saved: dict[str, int] = field(default_factory=dict)  # persona -> SpatialMemory.changes last written


# Scratch fields that change nearly every step; snapshots leave them out (see PersonaSnapshot).
_VOLATILE = ("now", "tile", "path", "path_set")


def snapshot_of(scratch: dict[str, Any]) -> dict[str, Any]:
    """The part of a scratch worth keeping per step for the persona state page."""
    kept = {k: v for k, v in scratch.items() if k not in _VOLATILE}
    if isinstance(kept.get("chat"), dict):
        kept["chat"] = {k: v for k, v in kept["chat"].items() if k != "cooldown"}
    return kept


def _digest(data: dict[str, Any]) -> str:
    return hashlib.blake2b(json.dumps(data, sort_keys=True, default=str).encode(), digest_size=16).hexdigest()


def agent_config(sim: Simulation) -> AgentConfig:
    """The settings this run thinks with (stored in its meta; `compact` for runs made
    before configs were stored, which is what they ran with)."""
    stored = (sim.meta or {}).get("agent_config")
    return AgentConfig.from_dict(stored) if stored else AgentConfig.compact()


def load_stream(persona: Persona, *, at_step: int | None = None) -> MemoryStream:
    """A persona's memory stream with its embeddings; with `at_step`, only the memories
    created by that step (the state an evaluation interviews "at step 0")."""
    return load_streams([persona], at_step=at_step)[persona.pk]


def load_streams(personas: Sequence[Persona], *, at_step: int | None = None) -> dict[int, MemoryStream]:
    """`load_stream` for several personas (by pk) in two queries, not two per persona."""
    rows = MemoryNode.objects.filter(persona__in=[p.pk for p in personas]).order_by("persona_id", "node_id")
    if at_step is not None:
        rows = rows.filter(step__lte=at_step)
    data: dict[int, list[dict[str, Any]]] = {p.pk: [] for p in personas}
    for persona_id, node in rows.values_list("persona_id", "data"):
        data[persona_id].append(node)
    ids = {p.vector_owner: {str(d["id"]) for d in data[p.pk]} for p in personas}
    indexes = {owner: InMemoryVectorIndex() for owner in ids}
    vectors = VectorItem.objects.filter(owner__in=list(ids)).order_by("owner", "pk")
    for owner, ref, kind, created, embedding in vectors.values_list("owner", "ref", "kind", "created_at", "embedding"):
        if ref in ids[owner]:
            indexes[owner].add(int(ref), kind, np.asarray(embedding, dtype=np.float32), _game_time(created))
    streams = {}
    for p in personas:
        nodes = data[p.pk]
        next_id = max((int(d["id"]) for d in nodes), default=0) + 1
        streams[p.pk] = MemoryStream.from_dict({"nodes": nodes, "next_id": next_id}, index=indexes[p.vector_owner])
    return streams


def load_session(sim: Simulation) -> Session:
    maze = maze_for(sim.maze)
    agents, personas, saved_ids = [], {}, {}
    last_snapshot = PersonaSnapshot.objects.filter(persona=OuterRef("pk")).order_by("-step").values("scratch")[:1]
    rows = list(sim.personas.annotate(last_snapshot=Subquery(last_snapshot, output_field=JSONField())))
    streams = load_streams(rows)
    hashes = {}
    for p in rows:
        stream = streams[p.pk]
        agent = Agent(
            identity=identity_from_dict(p.identity),
            scratch=scratch_from_dict(p.scratch),
            stream=stream,
            spatial=SpatialMemory.from_dict(p.spatial) if p.spatial else SpatialMemory(),
            trigger=ReflectionTrigger.from_dict(p.trigger) if p.trigger else ReflectionTrigger(),
        )
        agents.append(agent)
        personas[p.name] = p
        saved_ids[p.name] = max((n.id for n in stream), default=0)
        if p.last_snapshot is not None:
            hashes[p.name] = _digest(p.last_snapshot)
    world = World(maze, agents, now=_game_time(sim.current_time), step=sim.step, sec_per_step=sim.sec_per_step,
                  run=sim.run_label, config=agent_config(sim))  # fmt: skip
    # Each row holds its persona's spatial memory as loaded (its change count, 0).
    return Session(sim, world, personas, saved_ids, hashes, spatial_saved=dict.fromkeys(personas, 0))


def save_step(session: Session, moves: dict[str, Movement], *, gateway: Any = None) -> None:
    """Commit one finished step: movements, new and touched memories, personas, clock."""
    world, sim = session.world, session.sim
    step = world.step - 1
    store = get_vector_store()
    with transaction.atomic():
        MovementRow.objects.bulk_create(
            [MovementRow(simulation=sim, step=step, persona=m.name, x=m.tile[0], y=m.tile[1], emoji=m.emoji,
                         description=m.description, chat=[list(line) for line in m.chat] if m.chat else None)
             for m in moves.values()]
        )  # fmt: skip
        # One statement per kind of row for all agents together, not one per agent: a
        # 25-agent step's commit went from ~0.13 s to ~0.05 s (bench/orchestration.py).
        new_rows: list[MemoryNode] = []
        new_vectors: list[VectorBatch] = []
        touched: dict[int, dict[int, Any]] = {}  # persona pk -> node id -> node
        seen: dict[str, set[int]] = {}  # persona -> the touched ids this save writes
        snapshots: list[PersonaSnapshot] = []
        revised: list[Persona] = []
        grown: list[Persona] = []  # personas whose spatial memory learnt a place since the last save
        for name, agent in world.agents.items():
            persona = session.personas[name]
            last_saved = session.saved_ids.get(name, 0)
            rows, vectors = _new_memory_rows(session, name, step=step)
            new_rows.extend(rows)
            new_vectors.extend([vectors] if vectors is not None else [])
            # Older memories retrieval touched since the last save (the stream keeps their
            # ids: comparing every node cost O(memories) a step, 0.8 ms an agent at 5,000,
            # 20 ms a step for 25 such agents).
            seen[name] = agent.stream.touched()
            for node_id in seen[name]:
                if node_id <= last_saved:
                    touched.setdefault(persona.pk, {})[node_id] = agent.stream.get(node_id)
            persona.scratch = scratch_to_dict(agent.scratch)
            snapshot = snapshot_of(persona.scratch)
            digest = _digest(snapshot)
            if session.snapshot_hashes.get(name) != digest:
                snapshots.append(PersonaSnapshot(persona=persona, step=step, scratch=snapshot))
                session.snapshot_hashes[name] = digest
            if session.spatial_saved.get(name) != agent.spatial.changes:  # the tree grew: write it
                persona.spatial = agent.spatial.to_dict()
                grown.append(persona)
            persona.trigger = agent.trigger.to_dict()
            identity = identity_to_dict(agent.identity)
            if identity != persona.identity:  # `currently` and the daily requirement are revised once a game day
                persona.identity = identity
                revised.append(persona)
        store.add_many(new_vectors)
        MemoryNode.objects.bulk_create(new_rows, batch_size=500)
        if touched:
            wanted = sorted({i for ids in touched.values() for i in ids})
            rows = MemoryNode.objects.filter(persona_id__in=list(touched), node_id__in=wanted)
            changed = []
            for row in rows:
                node = touched[row.persona_id].get(row.node_id)
                if node is not None:
                    row.data, row.last_accessed = node.to_dict(), _aware(node.last_accessed)
                    changed.append(row)
            update_rows(changed, ["data", "last_accessed"])
        PersonaSnapshot.objects.bulk_create(snapshots)
        update_rows(list(session.personas.values()), ["scratch", "trigger"])
        update_rows(grown, ["spatial"])
        if revised:
            update_rows(revised, ["identity"])
        sim.step = world.step
        sim.current_time = _aware(world.now)
        sim.save(update_fields=["step", "current_time", "updated"])
        if gateway is not None:
            gateway.flush()  # this step's traces commit with it
    for name, ids in seen.items():  # only once committed: a failed save writes them next time
        world.agents[name].stream.saved_access(ids)
    for persona in grown:
        session.spatial_saved[persona.name] = world.agents[persona.name].spatial.changes


def _gateway(gateway: Any) -> Any:
    if gateway is not None:
        return gateway
    from environment.gateway import get_gateway

    return get_gateway()


def step_once(session: Session, gateway: Any) -> int:
    """Think, commit and publish one step; returns the step committed."""
    from reverie import live

    moves = asyncio.run(session.world.advance(gateway))
    save_step(session, moves, gateway=gateway)
    step = session.world.step - 1
    live.publish_step(session.sim, step)
    return step


def run_steps(
    sim: Simulation,
    steps: int,
    *,
    gateway: Any = None,
    progress: Callable[[int, int], None] | None = None,
    guard: RunGuard | None = None,
) -> Simulation:
    """Advance `steps` steps, committing each one as it finishes.

    Model-server faults cost time, not the run: a step whose calls still fail after
    the gateway's retries is thrown away and run again, and an outage is waited out
    (see llm.resilience; `guard` says how, e.g. stop_on_outage and what to report).
    """
    if steps < 1:
        raise SimulationError(f"the number of steps must be a positive whole number, got {steps}")
    if sim.is_base:
        raise SimulationError(f"{sim.name!r} is a base simulation: fork it first and run the fork")
    from reverie.runner import RunBusy, lease

    gw = _gateway(gateway)
    guard = guard or RunGuard(gw)
    try:
        with lease(sim):
            stepper = GuardedStepper(sim, gw, guard)
            for done in range(1, steps + 1):
                stepper.step()
                if progress is not None:
                    progress(done, steps)
    except RunBusy as exc:
        raise SimulationError(str(exc)) from None
    sim.refresh_from_db()
    return sim


class GuardedStepper:
    """Runs steps under a RunGuard: a failed step is rolled back by reloading the
    session from the database (the step never reached it) and run again."""

    def __init__(self, sim: Simulation, gateway: Any, guard: RunGuard) -> None:
        self.sim, self.gateway, self.guard = sim, gateway, guard
        self.session = load_session(sim)
        self._unsettled = 0
        heap.settle()  # the process and the session, out of the collector's full passes

    def step(self) -> int:
        step = self.guard.run(
            lambda: step_once(self.session, self.gateway), rollback=self._reload, what=f"step {self.session.world.step}"
        )
        self._unsettled += 1
        if self._unsettled >= heap.RESETTLE_STEPS:  # between steps: the memories made since
            heap.settle()
            self._unsettled = 0
        return step

    def _reload(self) -> None:
        self.sim.refresh_from_db()
        self.session = load_session(self.sim)
        heap.settle()


# --- history (whispers) and interviews ----------------------------------------------


# A history file is a few lines per persona; anything this big is the wrong file, and
# reading it whole (then embedding every line) would stall the command.
HISTORY_MAX_BYTES = 10 * 1024 * 1024


def _size_text(size: int) -> str:
    return f"{size / 2**20:.3g} MB" if size >= 2**20 else f"{size:,} bytes"


@dataclass(frozen=True)
class HistoryRow:
    line: int  # where the row starts in the file (1 is the header)
    name: str
    whispers: list[str]


def _history_rows(path: str) -> list[HistoryRow]:
    """The rows of a Name,Whisper CSV file; HistoryFileError naming the file (and line).

    Accepts a UTF-8 byte-order mark and Windows (CRLF) line endings, as spreadsheet
    programs write them; refuses a file over HISTORY_MAX_BYTES before reading it.
    """
    file = Path(path) if Path(path).is_absolute() else BASES / path
    limit = _size_text(HISTORY_MAX_BYTES)
    try:
        file = file.resolve()
        size = file.stat().st_size
        if size > HISTORY_MAX_BYTES:
            raise HistoryFileError(
                f"history file {path!r} is {size:,} bytes, over the {limit} limit for history files; "
                "is it the right file?"
            )
        # utf-8-sig drops a leading BOM (so the header still reads Name,Whisper); text mode
        # turns Windows "\r\n" (and old Mac "\r") line endings into "\n".
        with file.open(encoding="utf-8-sig") as handle:
            text = handle.read(HISTORY_MAX_BYTES + 1)  # never more, even if the file grew since stat
    except OSError as exc:
        raise HistoryFileError(f"cannot read history file {path!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise HistoryFileError(f"history file {path!r} is not UTF-8 text; save it as CSV UTF-8") from None
    if len(text) > HISTORY_MAX_BYTES:
        raise HistoryFileError(f"history file {path!r} is over the {limit} limit for history files")
    rows: list[HistoryRow] = []
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header[:2]] != ["name", "whisper"]:
            raise HistoryFileError(f"{path}:1: the header must be Name,Whisper")
        line_no = reader.line_num + 1  # the line the next row starts on
        for row in reader:
            start, line_no = line_no, reader.line_num + 1
            if not row or not any(cell.strip() for cell in row):
                continue
            whispers = [s.strip() for s in row[1].split(";") if s.strip()] if len(row) == 2 else []
            if len(row) != 2 or not row[0].strip() or not whispers:
                raise HistoryFileError(f"{path}:{start}: expected 'name,memory; memory; ...', got {row!r}")
            rows.append(HistoryRow(start, row[0].strip(), whispers))
    except csv.Error as exc:
        raise HistoryFileError(f"{path}:{reader.line_num}: not a valid CSV line: {exc}") from None
    return rows


def load_history(sim: Simulation, path: str, *, gateway: Any = None) -> int:
    """Plant each row's memories ("whispers") into the named persona; all or nothing."""
    rows = _history_rows(path)
    names = set(sim.personas.values_list("name", flat=True))
    unknown = [row for row in rows if row.name not in names]
    if unknown:
        where = "; ".join(f"{path}:{row.line}: {row.name!r}" for row in unknown)
        verb = "is" if len(unknown) == 1 else "are"
        raise HistoryFileError(
            f"{where} {verb} not in simulation {sim.name!r}; personas: {', '.join(sorted(names)) or 'none'}"
        )
    gw = _gateway(gateway)
    session = load_session(sim)
    now = session.world.now
    added = 0
    with speaking(session.world.config.language):
        for row in rows:
            added += asyncio.run(whisper(gw, session.world.agents[row.name], row.whispers, now))
    with transaction.atomic():
        _save_memories_only(session)
    return added


def _save_memories_only(session: Session) -> None:
    store = get_vector_store()
    for name in session.world.agents:
        _store_new_memories(session, name, step=session.sim.step, store=store)


def _store_new_memories(session: Session, name: str, *, step: int, store: Any) -> None:
    """Write the persona's memories added since the last save, with their embeddings."""
    rows, vectors = _new_memory_rows(session, name, step=step)
    if vectors is not None:
        store.add_many([vectors])
    MemoryNode.objects.bulk_create(rows, batch_size=500)


def _new_memory_rows(session: Session, name: str, *, step: int) -> tuple[list[MemoryNode], VectorBatch | None]:
    """Rows for the persona's memories added since the last save, and their embeddings
    for the vector store (the caller writes both, in one transaction)."""
    agent, persona = session.world.agents[name], session.personas[name]
    new = [n for n in agent.stream if n.id > session.saved_ids.get(name, 0)]
    if not new:
        return [], None
    index = agent.stream.index
    with_vectors = [n for n in new if n.id in index]  # type: ignore[operator]
    vectors = None
    if with_vectors:
        vectors = VectorBatch(
            owner=persona.vector_owner, kind="memory",
            vectors=np.stack([index.vector(n.id) for n in with_vectors]),  # type: ignore[attr-defined]
            refs=[str(n.id) for n in with_vectors], texts=[n.description for n in with_vectors],
            created_at=[_aware(n.created) for n in with_vectors],
        )  # fmt: skip
    session.saved_ids[name] = max(n.id for n in new)
    rows = [
        MemoryNode(persona=persona, node_id=n.id, data=n.to_dict(), kind=n.kind, description=n.description,
                   created=_aware(n.created), last_accessed=_aware(n.last_accessed), step=step)
        for n in new
    ]  # fmt: skip
    return rows, vectors


def delete(sim: Simulation) -> None:
    """Delete a run with everything it owns (memories, embeddings, movements, traces stay)."""
    from reverie.runner import lease_alive

    if sim.is_base:
        raise SimulationError(f"{sim.name!r} is a base simulation shipped with the project; it cannot be deleted")
    sim.refresh_from_db()
    if sim.run_state == "playing" or lease_alive(sim):
        raise SimulationError(f"{sim.name!r} is running; pause it before deleting it")
    from reverie.compress import demo_path

    demo = demo_path(sim)
    with transaction.atomic():
        owners = [p.vector_owner for p in sim.personas.all()]
        VectorItem.objects.filter(owner__in=owners).delete()
        sim.delete()
    demo.unlink(missing_ok=True)


def interview(
    sim: Simulation,
    persona: str,
    question: str,
    *,
    gateway: Any = None,
    history: Sequence[tuple[str, str]] = (),
    config: AgentConfig | None = None,
) -> str:
    """Answer a question in character from retrieved memories; nothing is stored.

    `history` is the interview so far, as (question, answer) pairs; `config` defaults
    to the run's own settings (`agent_config(sim)`), ablation switches included.
    """
    from reverie.engine.interview import reply

    session = load_session(sim)
    agent = session.world.agents.get(persona)
    if agent is None:
        raise PersonaNotFound(f"no persona {persona!r} in {sim.name!r}; personas: {', '.join(session.world.agents)}")
    gw = _gateway(gateway)
    thinking = config or session.world.config
    with call_context(run=sim.run_label, item=persona):
        answered = asyncio.run(reply(gw, agent.identity, agent.stream, question, session.world.now,
                                     config=thinking, history=tuple(history)))  # fmt: skip
    return answered.text


def persona_identity(sim: Simulation, persona: str) -> Identity:
    row = sim.personas.filter(name=persona).first()
    if row is None:
        raise PersonaNotFound(f"no persona {persona!r} in {sim.name!r}")
    return identity_from_dict(row.identity)
