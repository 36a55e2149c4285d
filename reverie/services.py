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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from environment.vectors.models import VectorItem
from environment.vectors.store import get_vector_store
from llm.context import call_context
from reverie.engine.memory import MemoryStream, ReflectionTrigger
from reverie.engine.persona import Identity, Scratch, identity_from_dict, scratch_from_dict, scratch_to_dict
from reverie.engine.ports import InMemoryVectorIndex
from reverie.engine.spatial import SpatialMemory
from reverie.engine.town import Maze, load_maze
from reverie.engine.world import Agent, Movement, World, whisper
from reverie.live import game_time as _game_time  # the engine works in naive game time
from reverie.models import MemoryNode, Persona, PersonaSnapshot, Simulation
from reverie.models import Movement as MovementRow

BASES = Path(settings.BASE_DIR) / "storage" / "base"
PRIVATE_KINDS = {"house", "home", "dorm", "apartment", "apartments", "co-living"}
_mazes: dict[str, Maze] = {}


class SimulationError(Exception):
    """A problem a person can fix; the message is one line."""


class SimulationNotFound(SimulationError):
    pass


class SimulationExists(SimulationError):
    pass


class PersonaNotFound(SimulationError):
    pass


class HistoryFileError(SimulationError):
    pass


def maze_for(name: str) -> Maze:
    if name not in _mazes:
        _mazes[name] = load_maze(name)
    return _mazes[name]


def _aware(value: datetime) -> datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value, timezone.get_default_timezone())


# --- bases and forks ---------------------------------------------------------------


def base_names() -> list[str]:
    return sorted(p.parent.name for p in BASES.glob("*/meta.yaml"))


def get_simulation(name: str) -> Simulation:
    found = Simulation.objects.filter(name=name).first()
    if found is not None:
        return found
    # Only names listed from the folder load a base: a name is never joined into a
    # path unchecked, so "../x" or an absolute path cannot reach outside storage/base.
    if name in base_names():
        return _load_base(name)
    raise SimulationNotFound(f"no simulation named {name!r}; bases: {', '.join(base_names()) or 'none'}")


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
        meta={k: meta[k] for k in ("description", "scenarios") if k in meta},
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
            scratch=scratch_to_dict(Scratch(tile=tile)), spatial=spatial.to_dict(),
            trigger=ReflectionTrigger().to_dict(),
            extra={"relationships": p.get("relationships", {}), "workplace": p.get("workplace", ""),
                   "home": p["home"]},
        )  # fmt: skip
    return sim


def _check_new_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200 or "/" in name or "\\" in name:
        raise SimulationError(f"{name!r} is not a usable simulation name (1-200 characters, no slashes)")
    if Simulation.objects.filter(name=name).exists() or (BASES / name / "meta.yaml").is_file():
        raise SimulationExists(f"a simulation named {name!r} already exists; pick another name")
    return name


@transaction.atomic
def fork(source: str, new_name: str) -> Simulation:
    """Copy a simulation (personas, memories, embeddings, movements) under a new name."""
    src = get_simulation(source)
    name = _check_new_name(new_name)
    sim = Simulation.objects.create(
        name=name, forked_from=src, maze=src.maze, start_time=src.start_time, current_time=src.current_time,
        sec_per_step=src.sec_per_step, step=src.step, meta=src.meta,
    )  # fmt: skip
    for old in src.personas.all():
        new = Persona.objects.create(simulation=sim, name=old.name, identity=old.identity, scratch=old.scratch,
                                     spatial=old.spatial, trigger=old.trigger, extra=old.extra)  # fmt: skip
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
    saved_access: dict[str, dict[int, datetime]] = field(default_factory=dict)
    snapshot_hashes: dict[str, str] = field(default_factory=dict)  # persona -> hash of the last snapshot


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


def load_session(sim: Simulation) -> Session:
    maze = maze_for(sim.maze)
    agents, personas, saved_ids, saved_access = [], {}, {}, {}
    for p in sim.personas.all():
        index = InMemoryVectorIndex()
        for ref, kind, created, embedding in VectorItem.objects.filter(owner=p.vector_owner).values_list(
            "ref", "kind", "created_at", "embedding"
        ):
            index.add(int(ref), kind, np.asarray(embedding, dtype=np.float32), _game_time(created))
        rows = list(p.memories.order_by("node_id").values_list("data", flat=True))
        stream = MemoryStream.from_dict({"nodes": rows, "next_id": len(rows) + 1}, index=index)
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
        saved_access[p.name] = {n.id: n.last_accessed for n in stream}
    world = World(maze, agents, now=_game_time(sim.current_time), step=sim.step, sec_per_step=sim.sec_per_step,
                  run=sim.run_label)  # fmt: skip
    hashes = {}
    for name, persona in personas.items():
        last = persona.snapshots.order_by("-step").values_list("scratch", flat=True).first()
        if last is not None:
            hashes[name] = _digest(last)
    return Session(sim, world, personas, saved_ids, saved_access, hashes)


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
        for name, agent in world.agents.items():
            persona = session.personas[name]
            last_saved = session.saved_ids.get(name, 0)
            _store_new_memories(session, name, step=step, store=store)
            access = session.saved_access.setdefault(name, {})
            touched = [n for n in agent.stream if n.id <= last_saved and access.get(n.id) != n.last_accessed]
            if touched:
                rows = {r.node_id: r for r in persona.memories.filter(node_id__in=[n.id for n in touched])}
                for n in touched:
                    row = rows[n.id]
                    row.data, row.last_accessed = n.to_dict(), _aware(n.last_accessed)
                MemoryNode.objects.bulk_update(list(rows.values()), ["data", "last_accessed"], batch_size=500)
            access.update({n.id: n.last_accessed for n in agent.stream})
            persona.scratch = scratch_to_dict(agent.scratch)
            snapshot = snapshot_of(persona.scratch)
            digest = _digest(snapshot)
            if session.snapshot_hashes.get(name) != digest:
                PersonaSnapshot.objects.create(persona=persona, step=step, scratch=snapshot)
                session.snapshot_hashes[name] = digest
            persona.spatial = agent.spatial.to_dict()
            persona.trigger = agent.trigger.to_dict()
            persona.save(update_fields=["scratch", "spatial", "trigger"])
        sim.step = world.step
        sim.current_time = _aware(world.now)
        sim.save(update_fields=["step", "current_time", "updated"])
        if gateway is not None:
            gateway.flush()  # this step's traces commit with it


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
    sim: Simulation, steps: int, *, gateway: Any = None, progress: Callable[[int, int], None] | None = None
) -> Simulation:
    """Advance `steps` steps, committing each one as it finishes."""
    if steps < 1:
        raise SimulationError(f"the number of steps must be a positive whole number, got {steps}")
    if sim.is_base:
        raise SimulationError(f"{sim.name!r} is a base simulation: fork it first and run the fork")
    from reverie.runner import RunBusy, lease

    gw = _gateway(gateway)
    try:
        with lease(sim):
            session = load_session(sim)
            for done in range(1, steps + 1):
                step_once(session, gw)
                if progress is not None:
                    progress(done, steps)
    except RunBusy as exc:
        raise SimulationError(str(exc)) from None
    sim.refresh_from_db()
    return sim


# --- history (whispers) and interviews ----------------------------------------------


def _history_rows(path: str) -> list[tuple[str, list[str]]]:
    file = Path(path) if Path(path).is_absolute() else BASES / path
    try:
        text = file.resolve().read_text(encoding="utf-8")
    except OSError as exc:
        raise HistoryFileError(f"cannot read history file {path!r}: {exc.strerror or exc}") from None
    rows: list[tuple[str, list[str]]] = []
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header[:2]] != ["name", "whisper"]:
        raise HistoryFileError(f"{path}:1: the header must be Name,Whisper")
    for line_no, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise HistoryFileError(f"{path}:{line_no}: expected 'name,memory; memory; ...', got {row!r}")
        rows.append((row[0].strip(), [s for s in row[1].split(";") if s.strip()]))
    return rows


def load_history(sim: Simulation, path: str, *, gateway: Any = None) -> int:
    """Plant each row's memories ("whispers") into the named persona; all or nothing."""
    rows = _history_rows(path)
    names = set(sim.personas.values_list("name", flat=True))
    unknown = sorted({name for name, _ in rows} - names)
    if unknown:
        raise HistoryFileError(f"{path}: {', '.join(unknown)} not in simulation {sim.name!r}")
    gw = _gateway(gateway)
    session = load_session(sim)
    now = session.world.now
    added = 0
    for name, statements in rows:
        added += asyncio.run(whisper(gw, session.world.agents[name], statements, now))
    with transaction.atomic():
        _save_memories_only(session)
    return added


def _save_memories_only(session: Session) -> None:
    store = get_vector_store()
    for name in session.world.agents:
        _store_new_memories(session, name, step=session.sim.step, store=store)


def _store_new_memories(session: Session, name: str, *, step: int, store: Any) -> None:
    """Write the persona's memories added since the last save, with their embeddings."""
    agent, persona = session.world.agents[name], session.personas[name]
    new = [n for n in agent.stream if n.id > session.saved_ids.get(name, 0)]
    if not new:
        return
    MemoryNode.objects.bulk_create(
        [MemoryNode(persona=persona, node_id=n.id, data=n.to_dict(), kind=n.kind, description=n.description,
                    created=_aware(n.created), last_accessed=_aware(n.last_accessed), step=step) for n in new]
    )  # fmt: skip
    index = agent.stream.index
    with_vectors = [n for n in new if n.id in index]  # type: ignore[operator]
    if with_vectors:
        store.add(
            owner=persona.vector_owner, kind="memory",
            vectors=np.stack([index.vector(n.id) for n in with_vectors]),  # type: ignore[attr-defined]
            refs=[str(n.id) for n in with_vectors], texts=[n.description for n in with_vectors],
            created_at=[_aware(n.created) for n in with_vectors],
        )  # fmt: skip
    session.saved_ids[name] = max(n.id for n in new)


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


def interview(sim: Simulation, persona: str, question: str, *, gateway: Any = None) -> str:
    """Answer a question in character from retrieved memories; nothing is stored."""
    from reverie.engine.interview import answer

    session = load_session(sim)
    agent = session.world.agents.get(persona)
    if agent is None:
        raise PersonaNotFound(f"no persona {persona!r} in {sim.name!r}; personas: {', '.join(session.world.agents)}")
    gw = _gateway(gateway)
    with call_context(run=sim.run_label, item=persona):
        return asyncio.run(answer(gw, agent.identity, agent.stream, question, session.world.now))


def persona_identity(sim: Simulation, persona: str) -> Identity:
    row = sim.personas.filter(name=persona).first()
    if row is None:
        raise PersonaNotFound(f"no persona {persona!r} in {sim.name!r}")
    return identity_from_dict(row.identity)
