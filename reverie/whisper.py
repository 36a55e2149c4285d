"""Talking to the town from the live page: whispers (an inner voice that becomes one of
the agent's memories) and interviews (answers from its memories; nothing is stored).

A whisper is queued as a `Whisper` row first and planted only between steps, by whoever
holds the run's lease: the runner before its next step (and once more after its last
one), or, when nobody runs the simulation, the request itself, which takes the lease
for the moment it needs. So a step never sees half a whisper, two processes never plant
the same one, and a whisper queued before a server restart is planted by the next runner
(or the next whisper). Each is rated and embedded like the history files' whispers
(`reverie.engine.world.whisper`: purposes whisper.poignancy and whisper.embed), traced
under the run, the step and the agent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from environment.vectors.store import get_vector_store
from llm.context import call_context
from llm.errors import LLMError
from reverie import live
from reverie.models import Simulation, Whisper

log = logging.getLogger(__name__)

MAX_TEXT = 1000  # characters of a whisper or a question
MAX_HISTORY = 6  # earlier (question, answer) pairs an interview keeps


def _error(message: str) -> Exception:
    from reverie.services import SimulationError

    return SimulationError(message)


def clean_text(text: Any, what: str) -> str:
    """The stripped text, or SimulationError saying what is wrong with it."""
    if not isinstance(text, str):
        raise _error(f"the {what} must be text")
    text = text.strip()
    if not text:
        raise _error(f"the {what} is empty")
    if len(text) > MAX_TEXT:
        raise _error(f"the {what} is {len(text):,} characters long; at most {MAX_TEXT:,}")
    return text


def _check(sim: Simulation, persona: Any) -> str:
    from reverie.services import PersonaNotFound

    if sim.is_base:
        raise _error(f"{sim.name!r} is a base simulation: start a run from it first")
    if not isinstance(persona, str) or not sim.personas.filter(name=persona).exists():
        raise PersonaNotFound(f"no agent named {persona!r} in {sim.name!r}")
    return persona


def as_message(row: Whisper) -> dict[str, Any]:
    return {
        "id": row.pk,
        "persona": row.persona,
        "text": row.text,
        "status": row.status,
        "step": row.step,
        "error": row.error or None,
    }


def queued(sim: Simulation) -> list[Whisper]:
    return list(Whisper.objects.filter(simulation=sim, status="queued").order_by("id"))


def whisper(sim: Simulation, persona: Any, text: Any, *, author: str = "", gateway: Any = None) -> Whisper:
    """Queue a whisper to `persona` and plant it now unless a runner holds the run
    (then the runner plants it after the step in flight). Returns the row as it stands."""
    name = _check(sim, persona)
    row = Whisper.objects.create(simulation=sim, persona=name, text=clean_text(text, "whisper"), author=author[:150])
    drain(sim, gateway=gateway)
    row.refresh_from_db()
    return row


def drain(sim: Simulation, *, gateway: Any = None, restart: bool = True) -> int:
    """Plant the queued whispers now, holding the run's lease; 0 when a runner holds it
    (it plants them between its steps) or nothing is queued.

    A Play pressed meanwhile found the lease taken and started no runner: with
    `restart`, one is started once the whispers are planted (the runner itself, draining
    after its last step, passes False and goes on by itself)."""
    from reverie.runner import RunBusy, ensure_runner, lease
    from reverie.services import _gateway, load_session

    if not Whisper.objects.filter(simulation=sim, status="queued").exists():
        return 0
    try:
        with lease(sim):
            sim.refresh_from_db()
            done = apply_queued(sim, _gateway(gateway), session=load_session(sim))
    except RunBusy:
        return 0
    if restart:
        sim.refresh_from_db()
        if sim.run_state == "playing":
            ensure_runner(sim)
    return done


def apply_queued(sim: Simulation, gateway: Any, *, session: Any) -> int:
    """Plant every queued whisper into its agent (in `session`, the loaded world) and
    commit each as a memory at the current step; the caller holds the lease and calls
    this between steps. A model-server fault leaves the rest queued for the next time;
    returns the number planted."""
    from reverie.engine.world import whisper as plant
    from reverie.services import _store_new_memories

    done = 0
    for row in queued(sim):
        agent = session.world.agents.get(row.persona)
        if agent is None:
            _fail(row, f"no agent named {row.persona!r} in {sim.name!r} any more")
            continue
        before = max((n.id for n in agent.stream), default=0)
        try:
            with call_context(run=sim.run_label, step=session.world.step, item=row.persona):
                asyncio.run(plant(gateway, agent, [row.text], session.world.now))
        except LLMError:
            log.warning("whisper %s to %s stays queued: the model server failed", row.pk, row.persona, exc_info=True)
            break
        except Exception as exc:
            log.exception("whisper %s to %s failed", row.pk, row.persona)
            _fail(row, f"{type(exc).__name__}: {exc}")
            continue
        node = max((n.id for n in agent.stream), default=0)
        with transaction.atomic():
            _store_new_memories(session, row.persona, step=session.world.step, store=get_vector_store())
            row.status, row.step, row.applied = "applied", session.world.step, timezone.now()
            row.node_id = node if node > before else None
            row.save(update_fields=["status", "step", "applied", "node_id"])
        live.publish_whisper(sim, as_message(row))
        done += 1
    return done


def _fail(row: Whisper, message: str) -> None:
    row.status, row.error = "failed", message[:2000]
    row.save(update_fields=["status", "error"])
    live.publish_whisper(row.simulation, as_message(row))


def whispered_ids(sim: Simulation, persona: str) -> set[int]:
    """The memory ids of `persona` that are whispers (the persona state page marks them)."""
    return set(
        Whisper.objects.filter(simulation=sim, persona=persona, status="applied")
        .exclude(node_id=None)
        .values_list("node_id", flat=True)
    )


def clean_history(history: Any) -> list[tuple[str, str]]:
    """An interview's earlier (question, answer) pairs from a page: the last MAX_HISTORY
    well-formed ones, each cut to MAX_TEXT characters; anything else is dropped."""
    if not isinstance(history, Sequence) or isinstance(history, str):
        return []
    pairs = [
        (str(q)[:MAX_TEXT], str(a)[:MAX_TEXT])
        for q, a in (p for p in history if isinstance(p, Sequence) and not isinstance(p, str) and len(p) == 2)
        if isinstance(q, str) and isinstance(a, str)
    ]
    return pairs[-MAX_HISTORY:]


def interview(sim: Simulation, persona: Any, question: Any, *, history: Any = (), gateway: Any = None) -> str:
    """The agent's answer from its memories (services.interview; traced as interview.*);
    nothing is stored."""
    from reverie.services import interview as ask

    name = _check(sim, persona)
    return ask(sim, name, clean_text(question, "question"), gateway=gateway, history=clean_history(history))
