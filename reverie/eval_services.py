"""`reverie_eval`'s Django shell: load a run's state, interview, judge, store results.

The measures themselves are pure (reverie/evaluation/); this module only reads the
database, asks the model through the gateway and writes `EvalResult` rows.

- The state "at step 0" is rebuilt by loading only the memories created at step 0
  (MemoryNode.step <= 0: the base's history and starting relationships, and what the
  first step perceived) with their embeddings; "now" is every memory.
- Interviews use the engine's `interview.reply` with the run's own config
  (`services.agent_config`), or an ablation of it; nothing is written to memory.
  An ablation is `config.with_ablation(name)` passed to the answer, whose retrieval
  leaves out what the ablation switches off (reverie.engine.interview.recall_filter).
- Every interview runs in `call_context(run=<the run's label>, item="eval:<result>:<n>")`,
  so its traces (answer, summary, judge) can be listed from the results page.
- Interviews run concurrently (as many as the gateway's concurrency); Ctrl-C stops
  them and the result keeps what finished, with status "interrupted".
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db.models import Avg, Q, Sum
from django.db.models.functions import Length
from django.utils import timezone

from llm.context import call_context
from reverie import services
from reverie.engine import interview as interview_engine
from reverie.engine.config import ABLATIONS, AgentConfig
from reverie.engine.memory import MemoryStream
from reverie.engine.persona import Identity, identity_from_dict
from reverie.evaluation import (
    PAPER_ATTENDANCE,
    PAPER_DENSITY,
    PAPER_DIFFUSION,
    attendance,
    believability,
    judging,
    network,
    stats,
)
from reverie.evaluation.estimate import Estimate, tokens_of
from reverie.models import EvalResult, MemoryNode, Movement, Simulation
from reverie.selectors import frame_time, game_time

MEASURES = ("diffusion", "relationships", "attendance", "believability")
# Tokens per agent per step when a run has no traces yet: the presets' targets per game
# hour (docs/benchmarks.md) over 360 steps of 10 s.
_TOKENS_PER_AGENT_STEP = {"paper": 6000 / 360, "compact": 2000 / 360}

Progress = Callable[[int], None]  # called with the number of interviews just finished


class EvalError(services.SimulationError):
    """A problem a person can fix (unknown measure, no scenario to measure...)."""


# --- the agents as the evaluation sees them -------------------------------------------


@dataclass
class Subject:
    name: str
    identity: Identity
    stream: MemoryStream
    texts: list[str]  # what the agent could know from: its memories and its identity


def state_time(sim: Simulation, at_step: int | None) -> datetime:
    """Game time of the state: the start for step 0, the run's clock for "now"."""
    return frame_time(sim, at_step) if at_step is not None else game_time(sim.current_time)


def _identities_at_start(sim: Simulation) -> dict[str, dict[str, Any]]:
    """Each persona's identity before the run: the nearest simulation in the fork chain
    that never ran (the base; step 0). A run revises `currently` and the daily
    requirement every game day, so the run's own identities may know later news."""
    source: Simulation | None = sim
    seen = set()
    while source is not None and source.step > 0 and source.pk not in seen:
        seen.add(source.pk)
        source = source.forked_from
    return dict(source.personas.values_list("name", "identity")) if source is not None else {}


def load_subjects(sim: Simulation, *, at_step: int | None = None) -> dict[str, Subject]:
    """Every persona with the memories it had at `at_step` (None: now), loaded as
    services.load_session loads them; at step 0 with the identity it started with."""
    subjects = {}
    start = _identities_at_start(sim) if at_step == 0 else {}
    for p in sim.personas.all():
        stream = services.load_stream(p, at_step=at_step)
        identity = identity_from_dict(start.get(p.name) or p.identity)
        texts = [node.description for node in stream] + [identity.summary()]
        subjects[p.name] = Subject(p.name, identity, stream, texts)
    return subjects


async def ask(gw: Any, subject: Subject, question: str, now: datetime, config: AgentConfig) -> interview_engine.Reply:
    """The engine's interview answer under `config` (nothing is stored)."""
    return await interview_engine.reply(gw, subject.identity, subject.stream, question, now, config=config)


# --- running interviews ----------------------------------------------------------------


@dataclass
class Job:
    """One question to one persona, and what came of it."""

    number: int
    persona: str
    question: str
    state: str = "now"  # "start" (step 0) or "now"
    tags: dict[str, Any] = field(default_factory=dict)  # scenario, about, condition, category...
    answer: str | None = None
    verdict: dict[str, Any] | None = None

    def to_dict(self, result: EvalResult) -> dict[str, Any]:
        return {
            "n": self.number, "item": result.item(self.number), "persona": self.persona,
            "question": self.question, "state": self.state, **self.tags,
            "answer": self.answer, "verdict": self.verdict,
        }  # fmt: skip


async def _verdict(
    judge_gw: Any, job: Job, reply: interview_engine.Reply, *, fact: str, backed: bool
) -> dict[str, Any]:
    """The judge's verdict on `reply`; an unanswered question is not judged, and is
    neither aware nor a hallucination."""
    if not reply.answered:
        return {"aware": False, "evidence": "", "backed": backed, "judged": False, "answered": False,
                "counts": False, "hallucinated": False}  # fmt: skip
    verdict = await judging.judge(judge_gw, fact=fact, speaker=job.persona, question=job.question,
                                  answer=reply.text, backed=backed)  # fmt: skip
    return {**verdict.to_dict(), "answered": True}


def _run_jobs(
    sim: Simulation,
    result: EvalResult,
    jobs: Sequence[Job],
    work: Callable[[Job], Awaitable[None]],
    *,
    gw: Any,
    progress: Progress | None,
) -> None:
    """Run `work` on every job, `gw.concurrency` at a time, each under its trace item."""
    limit = max(1, int(getattr(gw, "concurrency", 4)))

    async def main() -> None:
        gate = asyncio.Semaphore(limit)

        async def one(job: Job) -> None:
            async with gate:
                with call_context(run=sim.run_label, step=None, item=result.item(job.number)):
                    await work(job)
                if progress is not None:
                    progress(1)

        await asyncio.gather(*(one(job) for job in jobs))

    asyncio.run(main())


def _scenarios(sim: Simulation) -> list[dict[str, Any]]:
    return [s for s in (sim.meta or {}).get("scenarios", []) if isinstance(s, dict) and s.get("id")]


def _states(sim: Simulation) -> list[tuple[str, int | None]]:
    """Step 0 and now (now only once the run has moved)."""
    return [("start", 0)] + ([("now", None)] if sim.step > 0 else [])


# --- the measures ---------------------------------------------------------------------


def _diffusion_jobs(sim: Simulation) -> list[Job]:
    names = list(sim.personas.values_list("name", flat=True))
    jobs: list[Job] = []
    for state, _ in _states(sim):
        for s in _scenarios(sim):
            if not s.get("probe"):
                continue
            for name in names:
                jobs.append(Job(len(jobs) + 1, name, str(s["probe"]), state, {"scenario": str(s["id"])}))
    return jobs


def _relationship_jobs(sim: Simulation) -> list[Job]:
    names = list(sim.personas.values_list("name", flat=True))
    jobs: list[Job] = []
    for state, _ in _states(sim):
        for me in names:
            for other in names:
                if other != me:
                    question = f"Do you know {other}? If you do, what do you know about them?"
                    jobs.append(Job(len(jobs) + 1, me, question, state, {"about": other}))
    return jobs


def _question_fields(sim: Simulation) -> dict[str, dict[str, str]]:
    rows = list(sim.personas.values_list("name", "identity", "extra"))
    names = [r[0] for r in rows]
    fields = {}
    for i, (name, identity, extra) in enumerate(rows):
        related = [n for n in (extra or {}).get("relationships", {}) if n in names and n != name]
        other = related[0] if related else (names[(i + 1) % len(names)] if len(names) > 1 else name)
        workplace = (extra or {}).get("workplace") or (identity or {}).get("workplace") or "town"
        fields[name] = {"first_name": name.split()[0], "other": other, "workplace": workplace}
    return fields


def _believability_jobs(sim: Simulation, personas: Sequence[str]) -> list[Job]:
    questions = believability.load_questions()
    fields = _question_fields(sim)
    jobs: list[Job] = []
    for name in personas:
        for q in questions:
            text = believability.fill(q, fields[name])
            for condition in ABLATIONS:
                tags = {"condition": condition, "category": q.category, "key": q.key}
                jobs.append(Job(len(jobs) + 1, name, text, "now", tags))
    return jobs


def _pick_personas(sim: Simulation, personas: Sequence[str] | None) -> list[str]:
    names = list(sim.personas.values_list("name", flat=True))
    if not personas:
        return names
    unknown = [p for p in personas if p not in names]
    if unknown:
        raise EvalError(f"no persona {unknown[0]!r} in {sim.name!r}; personas: {', '.join(names)}")
    return list(personas)


def diffusion(
    sim: Simulation, result: EvalResult, *, gw: Any, progress: Progress | None = None, judge_gw: Any = None
) -> None:
    scenarios = {str(s["id"]): s for s in _scenarios(sim) if s.get("probe")}
    if not scenarios:
        raise EvalError(f"{sim.name!r} has no scenarios with a probe question in its meta")
    config = services.agent_config(sim)
    states = dict(_states(sim))
    subjects = {state: load_subjects(sim, at_step=at) for state, at in states.items()}
    jobs = _diffusion_jobs(sim)

    async def work(job: Job) -> None:
        s = scenarios[job.tags["scenario"]]
        subject = subjects[job.state][job.persona]
        reply = await ask(gw, subject, job.question, state_time(sim, states[job.state]), config)
        job.answer = reply.text
        backed = judging.mentions(subject.texts, s.get("keywords") or [])
        fact = " ".join(str(s.get("description", "")).split())
        job.verdict = await _verdict(judge_gw or gw, job, reply, fact=fact, backed=backed)

    try:
        _run_jobs(sim, result, jobs, work, gw=gw, progress=progress)
    finally:
        _finish(result, jobs, _diffusion_summary(sim, jobs, scenarios, states))


def _diffusion_summary(
    sim: Simulation, jobs: Sequence[Job], scenarios: dict[str, Any], states: dict[str, int | None]
) -> dict[str, Any]:
    total = sim.personas.count()
    out: dict[str, Any] = {"agents": total, "steps": {s: (0 if at == 0 else sim.step) for s, at in states.items()}}
    per: dict[str, Any] = {}
    for sid, s in scenarios.items():
        row: dict[str, Any] = {"description": " ".join(str(s.get("description", "")).split()),
                               "paper": PAPER_DIFFUSION.get(sid)}  # fmt: skip
        for state in states:
            done = [j for j in jobs if j.tags["scenario"] == sid and j.state == state and j.verdict]
            aware = sorted(j.persona for j in done if j.verdict and j.verdict["counts"])
            hallucinated = sorted(j.persona for j in done if j.verdict and j.verdict["hallucinated"])
            unanswered = sorted(j.persona for j in done if j.verdict and not j.verdict.get("answered", True))
            row[state] = {"aware": aware, "hallucinated": hallucinated, "unanswered": unanswered,
                          "asked": len(done), "pct": judging.percent(len(aware), total)}  # fmt: skip
        per[sid] = row
    out["scenarios"] = per
    return out


def relationships(
    sim: Simulation, result: EvalResult, *, gw: Any, progress: Progress | None = None, judge_gw: Any = None
) -> None:
    names = list(sim.personas.values_list("name", flat=True))
    if len(names) < 2:
        raise EvalError(f"{sim.name!r} has fewer than two personas: there are no relationships to measure")
    config = services.agent_config(sim)
    states = dict(_states(sim))
    subjects = {state: load_subjects(sim, at_step=at) for state, at in states.items()}
    jobs = _relationship_jobs(sim)

    async def work(job: Job) -> None:
        other = job.tags["about"]
        subject = subjects[job.state][job.persona]
        reply = await ask(gw, subject, job.question, state_time(sim, states[job.state]), config)
        job.answer = reply.text
        backed = judging.mentions(subject.texts, [other])
        fact = f"{job.persona} knows who {other} is (has met them or knows something about them)."
        job.verdict = await _verdict(judge_gw or gw, job, reply, fact=fact, backed=backed)

    try:
        _run_jobs(sim, result, jobs, work, gw=gw, progress=progress)
    finally:
        _finish(result, jobs, _relationship_summary(sim, names, jobs, states))


def _relationship_summary(
    sim: Simulation, names: list[str], jobs: Sequence[Job], states: dict[str, int | None]
) -> dict[str, Any]:
    out: dict[str, Any] = {"names": names, "paper": list(PAPER_DENSITY),
                           "steps": {s: (0 if at == 0 else sim.step) for s, at in states.items()}}  # fmt: skip
    for state in states:
        done = [j for j in jobs if j.state == state and j.verdict]
        edges = sorted([j.persona, j.tags["about"]] for j in done if j.verdict and j.verdict["counts"])
        hallucinated = sorted([j.persona, j.tags["about"]] for j in done if j.verdict and j.verdict["hallucinated"])
        unanswered = sorted([j.persona, j.tags["about"]] for j in done
                            if j.verdict and not j.verdict.get("answered", True))  # fmt: skip
        out[state] = {
            "edges": edges, "hallucinated": hallucinated, "unanswered": unanswered, "asked": len(done),
            "density": round(network.density(len(names), [tuple(e) for e in edges]), 3),  # type: ignore[misc]
        }  # fmt: skip
    return out


def attendance_of(sim: Simulation, result: EvalResult, **_: Any) -> None:
    """Who was at the party's place during its window (no model calls)."""
    party = next((s for s in _scenarios(sim) if attendance.window_of(s) is not None), None)
    if party is None:
        raise EvalError(
            f"{sim.name!r} has no scenario with place, starts and ends in its meta (see docs/evaluation.md)"
        )
    window = attendance.window_of(party)
    assert window is not None
    names = list(sim.personas.values_list("name", flat=True))
    start = game_time(sim.start_time)
    steps = window.steps(start, sim.sec_per_step)
    maze = services.maze_for(sim.maze)
    at_place: dict[str, int] = {}
    for persona, x, y, description in (
        Movement.objects.filter(simulation=sim, step__gte=steps.start, step__lt=steps.stop)
        .values_list("persona", "x", "y", "description")
        .iterator(chunk_size=5000)
    ):
        # Where the persona stands, not where its action is headed: someone walking to
        # the cafe is not at the party yet. The action's address only stands in for a
        # tile outside the map.
        if maze.in_bounds(x, y):
            parts = maze.address_at(x, y).split(":")
            sector = parts[1] if len(parts) > 1 else ""
        else:
            sector = attendance.sector_of(description)
        if sector == window.place:
            at_place[persona] = at_place.get(persona, 0) + 1
    pattern = judging.keyword_pattern(party.get("keywords") or [])
    first_heard: dict[str, datetime] = {}
    words = [str(k) for k in party.get("keywords") or [] if str(k).strip()]
    if pattern is not None and words:
        query = Q()
        for word in words:
            query |= Q(description__icontains=word)
        for name, created, description in (
            MemoryNode.objects.filter(query, persona__simulation=sim)
            .order_by("created", "node_id")
            .values_list("persona__name", "created", "description")
        ):
            if name not in first_heard and pattern.search(description):
                first_heard[name] = game_time(created)
    found = attendance.attendance(
        names, host=str(party.get("seeded_in") or ""), steps_at_place=at_place, sec_per_step=sim.sec_per_step,
        first_heard=first_heard, starts=window.starts,
    )  # fmt: skip
    now = game_time(sim.current_time)
    summary = {
        "scenario": str(party["id"]), "place": window.place,
        "starts": window.starts.isoformat(), "ends": window.ends.isoformat(),
        "window_steps": [steps.start, steps.stop], "reached": attendance.window_reached(window, now),
        "agents": len(names), "paper": PAPER_ATTENDANCE, **found.to_dict(),
    }  # fmt: skip
    _finish(result, [], summary)


def believability_of(
    sim: Simulation,
    result: EvalResult,
    *,
    gw: Any,
    progress: Progress | None = None,
    judge: bool = False,
    personas: Sequence[str] | None = None,
    judge_gw: Any = None,
) -> None:
    chosen = _pick_personas(sim, personas)
    base = services.agent_config(sim)
    configs = {c: base.with_ablation(c) for c in ABLATIONS}
    subjects = load_subjects(sim)  # the ablation's config decides what an answer may recall
    now = state_time(sim, None)
    jobs = _believability_jobs(sim, chosen)

    async def work(job: Job) -> None:
        condition = job.tags["condition"]
        reply = await ask(gw, subjects[job.persona], job.question, now, configs[condition])
        job.answer = reply.text
        if not reply.answered:  # kept for the record, never ranked against an answer
            job.tags["answered"] = False

    compares: list[Job] = []
    try:
        _run_jobs(sim, result, jobs, work, gw=gw, progress=progress)
        if judge:
            compares = _comparison_jobs(jobs, start=len(jobs) + 1)
            identities = {name: subjects[name].identity.summary() for name in chosen}

            async def compare(job: Job) -> None:
                better, reason, judged = await judging.compare(
                    judge_gw or gw, identity=identities[job.persona], question=job.question,
                    answer_a=job.tags["answer_a"], answer_b=job.tags["answer_b"],
                )  # fmt: skip
                job.verdict = {"better": better, "reason": reason, "judged": judged}

            _run_jobs(sim, result, compares, compare, gw=gw, progress=progress)
    finally:
        _finish(result, [*jobs, *compares], _believability_summary(chosen, jobs, compares, judge))


def _comparison_jobs(jobs: Sequence[Job], *, start: int) -> list[Job]:
    """Every pair of conditions per persona and question; A/B order drawn per pair (seeded)."""
    by_key: dict[tuple[str, str], dict[str, Job]] = {}
    for job in jobs:
        if job.answer is not None and job.tags.get("answered", True):
            by_key.setdefault((job.persona, job.tags["key"]), {})[job.tags["condition"]] = job
    out: list[Job] = []
    for (persona, key), answers in by_key.items():
        for a, b in believability.pairs([c for c in ABLATIONS if c in answers]):
            if random.Random(f"{persona}|{key}|{a}|{b}").random() < 0.5:
                a, b = b, a
            ja, jb = answers[a], answers[b]
            tags = {"kind": "compare", "key": key, "category": ja.tags["category"], "condition_a": a,
                    "condition_b": b, "answer_a": ja.answer, "answer_b": jb.answer}  # fmt: skip
            out.append(Job(start + len(out), persona, ja.question, "now", tags))
    return out


def _believability_summary(
    personas: Sequence[str], jobs: Sequence[Job], compares: Sequence[Job], judged: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {"personas": list(personas), "conditions": list(ABLATIONS),
                           "answered": sum(1 for j in jobs if j.answer is not None and j.tags.get("answered", True)),
                           "asked": len(jobs),
                           "paper_mu": believability.PAPER_MU}  # fmt: skip
    if judged:
        matches = [(j.tags["condition_a"], j.tags["condition_b"], j.verdict["better"]) for j in compares if j.verdict]
        ratings = believability.trueskill_rank(matches)
        out["standings"] = believability.standings(ratings)
        out["matches"] = len(matches)
    return out


def _finish(result: EvalResult, jobs: Sequence[Job], summary: dict[str, Any]) -> None:
    result.summary = summary
    result.interviews = [j.to_dict(result) for j in jobs if j.answer is not None or j.verdict is not None]
    if result.status == "running":
        asked = [j for j in jobs if j.answer is not None or j.verdict is not None]
        result.status = "done" if len(asked) == len(jobs) else "interrupted"
    result.save()


# --- one measurement, repeated runs -----------------------------------------------------


def measure(
    sim: Simulation,
    name: str,
    *,
    gateway: Any = None,
    progress: Progress | None = None,
    judge: bool = False,
    personas: Sequence[str] | None = None,
    settings: dict[str, Any] | None = None,
    judge_gateway: Any = None,
) -> EvalResult:
    """Measure `name` on `sim` now and store the result (kept, partly, on Ctrl-C).

    `judge_gateway` judges the answers (and ranks believability) when given; otherwise
    the agents' own model does.
    """
    if name not in MEASURES:
        raise EvalError(f"unknown measure {name!r}; choose from {', '.join(MEASURES)}")
    config = services.agent_config(sim)
    gw = services._gateway(gateway) if name != "attendance" else None
    judge_gw = (judge_gateway or gw) if gw is not None else None
    result = EvalResult.objects.create(
        simulation=sim, measure=name, step=sim.step,
        settings={"preset": config.preset, "judge": judge, "personas": list(personas or []),
                  "judge_model": judge_model(judge_gw), **(settings or {})},
    )  # fmt: skip
    try:
        if name == "diffusion":
            diffusion(sim, result, gw=gw, progress=progress, judge_gw=judge_gw)
        elif name == "relationships":
            relationships(sim, result, gw=gw, progress=progress, judge_gw=judge_gw)
        elif name == "attendance":
            attendance_of(sim, result)
        else:
            believability_of(sim, result, gw=gw, progress=progress, judge=judge, personas=personas,
                             judge_gw=judge_gw)  # fmt: skip
    except KeyboardInterrupt:
        result.status = "interrupted"
        result.save(update_fields=["status", "updated"])
        raise
    except BaseException:
        if result.status == "running":
            result.status = "failed"
            result.save(update_fields=["status", "updated"])
        raise
    finally:
        for used in {id(g): g for g in (gw, judge_gw) if g is not None}.values():
            if hasattr(used, "flush"):
                used.flush()  # the traces the page links to
    return result


def judge_model(gw: Any) -> str:
    """The judge's model name, as its traces record it ("" when unknown)."""
    return str(getattr(gw, "model", "") or "") if gw is not None else ""


def weak_judge(model: str) -> bool:
    """True for the bundled 270M model, which copies its prompt's example verdict."""
    return "bundled" in model or "270m" in model.lower()


def headline(result: EvalResult) -> dict[str, float]:
    """The numbers a repeated run averages: one per scenario, density, attendance, mu."""
    s = result.summary or {}
    if result.measure == "diffusion":
        return {f"{sid} % aware": float(row.get("now", row.get("start", {})).get("pct", 0.0))
                for sid, row in s.get("scenarios", {}).items()}  # fmt: skip
    if result.measure == "relationships":
        return {"density": float(s.get("now", s.get("start", {})).get("density", 0.0))}
    if result.measure == "attendance":
        return {
            "invited": float(len(s.get("invited", []))),
            "invited who came": float(len(s.get("invited_attended", []))),
            "uninvited who came": float(len(s.get("uninvited_attended", []))),
        }
    return {f"mu {row['condition']}": float(row["mu"]) for row in s.get("standings", []) or []}


def _fork_name(source: str, name: str, i: int) -> str:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    candidate = f"{source}-eval-{name}-{i}"
    return candidate if not Simulation.objects.filter(name=candidate).exists() else f"{candidate}-{stamp}"


def repeated(
    source: Simulation,
    name: str,
    *,
    runs: int,
    steps: int,
    preset: str = "paper",
    gateway: Any = None,
    progress: Progress | None = None,
    on_fork: Callable[[int, Simulation], None] | None = None,
    judge: bool = False,
    personas: Sequence[str] | None = None,
    judge_gateway: Any = None,
) -> tuple[EvalResult, list[EvalResult]]:
    """Fork `source` `runs` times, run `steps` steps each under `preset` (the paper's
    sampling temperatures make the runs differ), measure each, and store the mean and a
    95% t-interval of the headline numbers on `source`."""
    if runs < 1 or steps < 0:
        raise EvalError("--runs must be >= 1 and --steps >= 0")
    config = AgentConfig.preset_named(preset)
    results: list[EvalResult] = []
    gw = services._gateway(gateway)
    for i in range(1, runs + 1):
        fork = services.fork(source.name, _fork_name(source.name, name, i), preset=config.preset, gateway=gw)
        if on_fork is not None:
            on_fork(i, fork)
        if steps:
            fork = services.run_steps(fork, steps, gateway=gw)
        results.append(measure(fork, name, gateway=gw, progress=progress, judge=judge, personas=personas,
                               settings={"run": i, "of": runs, "source": source.name},
                               judge_gateway=judge_gateway))  # fmt: skip
    keys = list(dict.fromkeys(k for r in results for k in headline(r)))
    combined: dict[str, Any] = {}
    for key in keys:
        values = [headline(r)[key] for r in results if key in headline(r)]
        mean, interval = stats.mean_interval(values)
        combined[key] = {"values": values, "mean": round(mean, 3),
                         "low": round(interval[0], 3) if interval else None,
                         "high": round(interval[1], 3) if interval else None}  # fmt: skip
    aggregate = EvalResult.objects.create(
        simulation=source, measure=name, step=source.step, status="done",
        settings={"runs": runs, "steps": steps, "preset": preset, "forks": [r.simulation.name for r in results]},
        summary={"repeated": combined, "results": [r.pk for r in results]},
    )  # fmt: skip
    return aggregate, results


# --- the estimate ------------------------------------------------------------------------


def estimate(
    sim: Simulation,
    name: str,
    *,
    runs: int = 0,
    steps: int = 0,
    preset: str | None = None,
    judge: bool = False,
    personas: Sequence[str] | None = None,
) -> Estimate:
    """Calls and tokens the evaluation will use (reverie/evaluation/estimate.py says how)."""
    config = AgentConfig.preset_named(preset) if preset else services.agent_config(sim)
    n = sim.personas.count()
    # After --steps the run has moved, so both states are asked; otherwise as it stands.
    n_states = 2 if (sim.step > 0 or steps > 0) else 1
    if name == "diffusion":
        interviews = n_states * n * sum(1 for s in _scenarios(sim) if s.get("probe"))
    elif name == "relationships":
        interviews = n_states * n * (n - 1)
    elif name == "believability":
        interviews = len(_pick_personas(sim, personas)) * len(believability.load_questions()) * len(ABLATIONS)
    else:
        interviews = 0
    lengths = [len(identity_from_dict(i).summary()) for i in sim.personas.values_list("identity", flat=True)]
    identity_chars = sum(lengths) / len(lengths) if lengths else 0.0
    mean_memory = MemoryNode.objects.filter(persona__simulation=sim).aggregate(m=Avg(Length("description")))["m"] or 80
    template = (Path(interview_engine.__file__).parent / "prompts" / "interview_answer.txt").read_text()
    memories = config.interview.memories * (mean_memory + 3)
    prompt_tokens = tokens_of(identity_chars + memories + len(template) + 120)
    completion = config.call("interview.answer").max_tokens
    calls = 1
    if config.interview.summarise and "interview.summary" in config.calls:
        calls, prompt_tokens = 2, prompt_tokens * 2
        completion += config.call("interview.summary").max_tokens
    judge_prompt = tokens_of(len((Path(interview_engine.__file__).parent / "prompts" / "eval_judge.txt").read_text()))
    if name in ("diffusion", "relationships"):
        judge_calls, j_prompt, j_completion = (
            interviews,
            judge_prompt + 60 + completion // 2,
            judging.JUDGE["max_tokens"],
        )
    elif name == "believability" and judge:
        judge_calls = (interviews // len(ABLATIONS)) * len(believability.pairs())
        j_prompt, j_completion = 250 + completion, judging.COMPARE["max_tokens"]
    else:
        judge_calls, j_prompt, j_completion = 0, 0, 0
    per_step, source = _tokens_per_agent_step(sim, config.preset)
    repeat = max(runs, 1)
    return Estimate(
        interviews=interviews * repeat, calls_per_interview=calls, prompt_tokens_per_interview=prompt_tokens,
        completion_tokens_per_interview=completion, judge_calls=judge_calls * repeat,
        judge_prompt_tokens=j_prompt, judge_completion_tokens=int(j_completion), run_steps=steps * runs,
        agents=n, tokens_per_agent_step=per_step, step_source=source,
    )  # fmt: skip


def _tokens_per_agent_step(sim: Simulation, preset: str) -> tuple[float, str]:
    from environment.llmlog.models import LLMCall

    row = LLMCall.objects.filter(run=sim.run_label, step__isnull=False).aggregate(
        p=Sum("prompt_tokens"), c=Sum("completion_tokens")
    )
    tokens = (row["p"] or 0) + (row["c"] or 0)
    agents = max(sim.personas.count(), 1)
    if tokens and sim.step:
        return tokens / (sim.step * agents), f"measured on {sim.name}'s own {sim.step} steps"
    return _TOKENS_PER_AGENT_STEP.get(preset, _TOKENS_PER_AGENT_STEP["compact"]), f"the {preset} preset's target"


# --- reads for the page ----------------------------------------------------------------


def latest(sim: Simulation) -> dict[str, EvalResult]:
    """The newest result of each measure (aggregates of repeated runs included)."""
    found: dict[str, EvalResult] = {}
    for result in EvalResult.objects.filter(simulation=sim).order_by("-created", "-id"):
        found.setdefault(result.measure, result)
    return found


def diffusion_history(sim: Simulation) -> dict[str, list[tuple[int, float]]]:
    """Per scenario, % aware by step from every stored diffusion result (step 0 once)."""
    series: dict[str, dict[int, float]] = {}
    for result in EvalResult.objects.filter(simulation=sim, measure="diffusion").order_by("created", "id"):
        steps = (result.summary or {}).get("steps", {})
        for sid, row in (result.summary or {}).get("scenarios", {}).items():
            for state in ("start", "now"):
                if state in row and state in steps:
                    series.setdefault(sid, {})[int(steps[state])] = float(row[state]["pct"])
    return {sid: sorted(points.items()) for sid, points in series.items()}
