"""The compressed demo form of a simulation (docs/frontend_api.md, "format 1").

A stored simulation is one Movement row per agent per step: 25 agents for a game day
is 216,000 rows, nearly all repeating the row before (an agent sits at a desk for an
hour). The compressed form keeps, per agent, only the steps where its position, its
action (emoji + description) or its chat changed; a value holds until the next entry.
The demo page downloads this one file (gzip on the wire) and replays it client-side.

Rows are streamed in step order (`values_list(...).iterator()`), so memory grows with
the number of changes, not the number of rows.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Count, Max, Min

from reverie.models import Movement, Simulation
from reverie.selectors import game_time

FORMAT = 1
GZIP_LEVEL = 6  # level 9 is ~3x slower for a percent or two less
_CHUNK = 5000  # rows fetched per round trip when streaming

Progress = Callable[[int, int], None]  # (steps done, steps in all)


class NothingToCompress(Exception):
    """The simulation has no stored steps; the message is one line for a person."""


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _database_key(alias: str) -> str:
    """A short name for the database a simulation lives in: several databases (a dev
    database, each test database, a PostgreSQL server) can share one storage folder,
    and each numbers its simulations from 1."""
    db = connections[alias].settings_dict
    ident = f"{connections[alias].vendor}|{db.get('HOST') or ''}|{db.get('PORT') or ''}|{db.get('NAME')}"
    return hashlib.blake2b(ident.encode(), digest_size=6).hexdigest()


def demo_path(sim: Simulation) -> Path:
    """Where `compress_sim` writes a simulation: named by database, primary key and
    creation time (SQLite may reuse a deleted simulation's id), never by a URL part."""
    created = int(sim.created.timestamp() * 1000)
    return (
        Path(settings.STORAGE_DIR) / "compressed" / _database_key(sim._state.db or "default")
        / f"{int(sim.pk)}-{created}.json.gz"
    )  # fmt: skip


def _persona_order(sim: Simulation, seen: set[str]) -> list[str]:
    """The simulation's personas in their usual order, then anyone only the movements name."""
    known = [name for name in sim.personas.values_list("name", flat=True) if name in seen]
    return known + sorted(seen - set(known))


def compress(sim: Simulation, *, progress: Progress | None = None) -> dict[str, Any]:
    """The compressed form of the stored steps; NothingToCompress when there are none."""
    span = Movement.objects.filter(simulation=sim).aggregate(first=Min("step"), last=Max("step"), rows=Count("id"))
    if not span["rows"]:
        # A base is never run itself, its forks are.
        how = f"--fork {sim.name} --name my-run" if sim.is_base else f"--resume {sim.name}"
        raise NothingToCompress(
            f"simulation {sim.name!r} has no stored steps yet: run it first "
            f"(python manage.py reverie {how} --command 'run 100' --command fin)"
        )
    first, last = int(span["first"]), int(span["last"])
    total = last - first + 1
    # Per agent, the last value written, so that only changes are appended.
    last_pos: dict[str, tuple[int, int]] = {}
    last_act: dict[str, tuple[str, str]] = {}
    last_chat: dict[str, Any] = {}
    tracks: dict[str, dict[str, list[list[Any]]]] = {}
    rows = (
        Movement.objects.filter(simulation=sim)
        .order_by("step", "persona")  # the (simulation, step, persona) unique index: no sort
        .values_list("step", "persona", "x", "y", "emoji", "description", "chat")
        .iterator(chunk_size=_CHUNK)
    )
    current = first
    for step, name, x, y, emoji, description, chat in rows:
        if progress is not None and step != current:
            progress(step - first, total)
            current = step
        track = tracks.get(name)
        if track is None:
            track = tracks[name] = {"pos": [], "act": [], "chat": []}
        pos = (x, y)
        if last_pos.get(name) != pos:
            last_pos[name] = pos
            track["pos"].append([step, x, y])
        act = (emoji, description)
        if last_act.get(name) != act:
            last_act[name] = act
            track["act"].append([step, emoji, description])
        chat = chat or None  # an empty list is "not talking" too
        if name not in last_chat or last_chat[name] != chat:
            last_chat[name] = chat
            track["chat"].append([step, chat])
    if progress is not None:
        progress(total, total)
    personas = _persona_order(sim, set(tracks))
    return {
        "format": FORMAT,
        "sim": sim.name,
        "maze": sim.maze,
        "start_time": _iso(game_time(sim.start_time)),
        "sec_per_step": sim.sec_per_step,
        "first_step": first,
        "steps": total,
        "personas": personas,
        "tracks": {name: tracks[name] for name in personas},
    }


def encode(data: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON: emoji and names stay readable and one to four bytes each."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class DemoFile:
    path: Path
    raw_bytes: int  # the JSON before gzip
    gz_bytes: int
    first_step: int
    steps: int
    agents: int


def write_demo(sim: Simulation, *, progress: Progress | None = None) -> DemoFile:
    """Compress and write atomically: a reader sees the old file or the new one, never half."""
    data = compress(sim, progress=progress)
    raw = encode(data)
    packed = gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)  # mtime 0: same steps, same bytes
    path = demo_path(sim)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(packed)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the web server may run as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return DemoFile(path, len(raw), len(packed), data["first_step"], data["steps"], len(data["personas"]))


def write_compressed(sim: Simulation, *, progress: Progress | None = None) -> Path:
    return write_demo(sim, progress=progress).path


def load(sim: Simulation) -> dict[str, Any]:
    """The written compressed form (FileNotFoundError when compress_sim has not run)."""
    with gzip.open(demo_path(sim), "rb") as f:
        return json.loads(f.read())


def _value_at(entries: list[list[Any]], step: int) -> list[Any] | None:
    """The last entry with entry step <= step (entries are sorted by step)."""
    index = bisect.bisect_right(entries, step, key=lambda e: e[0])
    return entries[index - 1] if index else None


def expand(data: dict[str, Any], step: int) -> dict[str, Any]:
    """The full frame at `step` (as the frames endpoint gives it) from compressed data."""
    first, steps = int(data["first_step"]), int(data["steps"])
    if not first <= step < first + steps:
        raise ValueError(f"step {step} is outside the stored steps {first}..{first + steps - 1}")
    start = datetime.fromisoformat(data["start_time"])
    agents: dict[str, Any] = {}
    for name in data["personas"]:
        track = data["tracks"][name]
        pos, act, chat = (_value_at(track[key], step) for key in ("pos", "act", "chat"))
        if pos is None or act is None:
            continue  # this agent has no row yet at this step
        agents[name] = {
            "x": pos[1],
            "y": pos[2],
            "emoji": act[1],
            "action": act[2],
            "chat": chat[1] if chat is not None else None,
        }
    time = start + timedelta(seconds=step * int(data["sec_per_step"]))
    return {"step": step, "time": _iso(time), "agents": agents}
