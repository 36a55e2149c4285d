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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from writer import services
from writer.engine import (
    Choice,
    EntryIndex,
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
    services.finish_job(job, state, error=error)
    services.publish_job(Project.objects.get(pk=job.project_id), job)


def run_job(
    job: Job,
    gw: Any,
    *,
    index: EntryIndex | None = None,
    stop: StopCheck | None = None,
    on_piece: OnPiece | None = None,
) -> Written | None:
    """Write `job` (kind "init", "step" or "auto") exactly as the page's runner does
    (services.run_job) and describe what was written; None when it was stopped (by
    `stop` or on the page) before anything worth keeping was written."""
    node = services.run_job(job, gw, index=index, stop=stop, on_piece=on_piece)
    if node is None:
        return None
    state = services.state_at(node)
    details = node.details
    made = details.get("choice")
    choice = (
        Choice(index=made["index"], plan=made.get("plan", node.plan), reason=made["reason"], fallback=made["fallback"])
        if isinstance(made, dict)
        else None
    )
    return Written(
        node=node,
        kind=node.kind,
        title=state.title,
        paragraph=state.previous_paragraph,
        paragraphs=state.paragraphs,
        plan=node.plan,
        choice=choice,
        refined="refined" in details,
        expanded=bool(details.get("expanded")),
        fallbacks=tuple(details.get("fallbacks", ())),
    )
