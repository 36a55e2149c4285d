"""Unattended writing: the human simulator chooses, refines and expands; each step is
saved as the page's steps are.

`services.run_job` writes a job of kind "auto" by letting the simulator choose one of
the plans. An unattended run (`manage.py recurrent`) needs two more things, which live
here until services grows them:

- the simulator may also *refine* the chosen plan before the step and *expand* the new
  paragraph after it: `job.options` {"refine": bool, "expand": bool};
- a stop hook of the caller's own (Ctrl-C at a terminal), checked with the page's stop
  button wherever the engine checks for cancellation: before the plan is chosen and
  while a paragraph streams.

`run_job` is `services.run_job` with those additions: the same job row (so the page
shows the step being written and its stop button works), the same streamed pieces, the
same node (`services.save_node`, kind "init" or "step", details with the retrieved
entries, the fired lorebook entries, the memory diff and the simulator's choice), and
the head moved in the same transaction. Details an unattended step adds:
`choice.plan` (the plan chosen, before refining), `refined` (the plan followed, when
refining changed it) and `expanded` (whether the paragraph was rewritten longer).

A stop during the expansion keeps the step as written before it (finished work is
never thrown away); a stop before or while the paragraph streams saves nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from llm.context import call_context
from writer import services
from writer.engine import (
    Cancelled,
    Choice,
    EntryIndex,
    LoreEntry,
    choose_plan,
    expand_paragraph,
    init,
    refine_plan,
    step,
)
from writer.models import Job, Node, Project

StopCheck = Callable[[], bool]
OnPiece = Callable[[str], None]


@dataclass(frozen=True)
class Written:
    """One saved node and how it was made (for a command's report)."""

    node: Node
    kind: str  # "init" | "step"
    title: str
    paragraph: str  # the newest paragraph (an opening's last)
    paragraphs: tuple[str, ...]  # the whole story at the node
    plan: str = ""  # the plan followed (refined when it was)
    choice: Choice | None = None
    refined: bool = False
    expanded: bool = False
    fallbacks: tuple[str, ...] = ()


class _Stream(services._Stream):
    """The page's stream (pieces to viewers, the stop button) plus the caller's stop hook
    and a copy of each piece for the caller (a progress bar)."""

    def __init__(self, project: Project, job: Job, stop: StopCheck | None, on_piece: OnPiece | None) -> None:
        super().__init__(project, job)
        self.stop, self.forward = stop, on_piece

    def on_piece(self, piece: str) -> None:
        super().on_piece(piece)
        if self.forward is not None:
            self.forward(piece)

    def should_cancel(self) -> bool:
        if self.stop is not None and self.stop():
            self.cancelled = True
            return True
        return super().should_cancel()


def opening_job(project: Project) -> Job:
    """The job that writes the opening of a project that has none, marked running: the
    one create_project queued, one left active by a killed run, or a new one with the
    lorebook of the last one."""
    with transaction.atomic():
        job = Job.objects.filter(project=project, kind="init", reader=None, state__in=Job.ACTIVE).order_by("id").last()
        if job is None:
            last = Job.objects.filter(project=project, kind="init").order_by("id").last()
            options = {"lore": list(last.options.get("lore", ()))} if last is not None else {}
            job = Job.objects.create(project=project, kind="init", options=options)
        Job.objects.filter(pk=job.pk).update(state="running", text="")
    job.state = "running"
    return job


def auto_job(project: Project, *, refine: bool = False, expand: bool = False) -> Job:
    """A step from the head whose plan the simulator chooses, marked running.
    `services.Busy` when one of the writer's steps is already queued or running."""
    job = services.enqueue_step(project, plan="", auto=True, start=False)
    options = {**job.options, "refine": bool(refine), "expand": bool(expand)}
    Job.objects.filter(pk=job.pk).update(state="running", options=options)
    job.state, job.options = "running", options
    return job


def abandon(job: Job, state: str = "cancelled", error: str = "") -> None:
    """End a job that will not be finished (interrupted, or failed outside the engine)."""
    if not Job.objects.filter(pk=job.pk, state__in=Job.ACTIVE).exists():
        return
    if state == "failed":
        services.fail_job(job, error)
        return
    services._finish(job, state, error=error)
    services.publish_job(Project.objects.get(pk=job.project_id), job)


def run_job(
    job: Job,
    gw: Any,
    *,
    index: EntryIndex | None = None,
    stop: StopCheck | None = None,
    on_piece: OnPiece | None = None,
) -> Written | None:
    """Write `job` (kind "init", "step" or "auto") and save its node; None when it was
    stopped (by `stop` or on the page) before anything worth keeping was written."""
    project = Project.objects.get(pk=job.project_id)
    config = services.config_for(project)
    stream = _Stream(project, job, stop, on_piece)
    run = f"writer:{project.pk}"
    started = time.monotonic()
    services.publish_job(project, job)
    before = gw.accounting.total(run)
    choice: Choice | None = None
    refined = expanded = False
    fallbacks: tuple[str, ...] = ()
    try:
        with call_context(run=run, item=f"job:{job.pk}"):
            if job.kind == "init":
                lore = [LoreEntry.from_dict(e) for e in job.options.get("lore", ())]
                opened = init(
                    gw, novel_type=project.novel_type, topic=project.topic, premise=project.premise,
                    config=config, lore=lore, on_piece=stream.on_piece, cancel=stream.should_cancel,
                )  # fmt: skip
                state, parent, plan, kind = opened.state, None, "", "init"
                fallbacks = opened.fallbacks
                details: dict[str, Any] = {"fallbacks": list(fallbacks)}
                label = state.title
            else:
                parent = job.node
                if parent is None:
                    raise services.WriterError("the step has no node to start from")
                before_state = services.state_at(parent)
                plan = job.plan
                if job.kind == "auto":
                    if stream.should_cancel():
                        raise Cancelled("")
                    choice = choose_plan(gw, before_state, config=config)
                    plan = choice.plan
                    if job.options.get("refine"):
                        plan = refine_plan(gw, before_state, choice.plan, config=config)
                        refined = " ".join(plan.split()) != " ".join(choice.plan.split())
                result = step(gw, before_state, plan, config=config, index=index,
                              on_piece=stream.on_piece, cancel=stream.should_cancel)  # fmt: skip
                state, kind, plan = result.state, "step", result.plan
                fallbacks = result.fallbacks
                details = services._retrieved_details(result)
                if choice is not None:
                    details["choice"] = {"index": choice.index, "reason": choice.reason, "fallback": choice.fallback,
                                         "plan": choice.plan}  # fmt: skip
                    if refined:
                        details["refined"] = plan
                if job.options.get("expand"):
                    stream.restart()
                    try:
                        longer = expand_paragraph(gw, state, config=config, index=index,
                                                  on_piece=stream.on_piece, cancel=stream.should_cancel)  # fmt: skip
                    except Cancelled:
                        longer = state  # the step itself is finished: keep it as written
                    expanded = longer is not state
                    state = longer
                    details["expanded"] = expanded
                label = plan
    except Cancelled:
        stream.flush()
        services._finish(job, "cancelled")
        services.publish_job(project, job)
        return None
    stream.flush()
    usage = services._usage(gw, run, before)
    usage["seconds"] = time.monotonic() - started
    details["first_piece_seconds"] = None if stream.first_piece is None else round(stream.first_piece, 3)
    with transaction.atomic():
        node = services.save_node(project, parent, state, kind=kind, label=label, plan=plan, details=details,
                                  usage=usage)  # fmt: skip
        job.result = node
        services._finish(job, "done", result=node)
        Project.objects.filter(pk=project.pk).update(head=node, updated=timezone.now())
    project.refresh_from_db()
    services.publish_job(project, job)
    services.publish_view(project)
    return Written(
        node=node,
        kind=kind,
        title=state.title,
        paragraph=state.previous_paragraph,
        paragraphs=state.paragraphs,
        plan=plan,
        choice=choice,
        refined=refined,
        expanded=expanded,
        fallbacks=fallbacks,
    )
