"""What the co-writing and reader pages show, as JSON-ready dicts (docs/frontend_api.md).

Entry and lorebook ids are 62-bit integers: they travel as strings, because a
JavaScript number keeps only 53 bits.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from writer import services
from writer.models import Job, Node, Project, ReaderPath


def _cost(node: Node) -> dict[str, Any]:
    return {"calls": node.calls, "tokens": node.tokens, "prompt_tokens": node.prompt_tokens,
            "completion_tokens": node.completion_tokens, "seconds": round(node.seconds, 2)}  # fmt: skip


EDIT_LABELS = {
    "paragraph": gettext_lazy("Edited paragraph %(arg)s"),
    "entry": gettext_lazy("Edited a long-term memory"),
    "memory": gettext_lazy("Edited the short-term memory"),
    "plans": gettext_lazy("Edited the plans"),
    "lore": gettext_lazy("Lorebook: %(arg)s"),
    "lore_removed": gettext_lazy("Removed a lorebook entry"),
}


def label_of(kind: str, label: str, details: dict[str, Any] | None) -> str:
    """The history label in the request's language (edits are stored with a code)."""
    code = (details or {}).get("edit") if kind == "edit" else None
    template = EDIT_LABELS.get(code) if isinstance(code, str) else None
    if template is None:
        return label
    return str(template) % {"arg": (details or {}).get("arg", "")}


def node_summary(node: Node) -> dict[str, Any]:
    return {
        "id": node.pk,
        "parent": node.parent_id,
        "kind": node.kind,
        "label": label_of(node.kind, node.label, node.details),
        "plan": node.plan,
        "paragraphs": node.paragraphs,
        "created": node.created.isoformat(),
        "cost": _cost(node),
    }


def _details(details: dict[str, Any]) -> dict[str, Any]:
    out = dict(details)
    out["retrieved"] = [{**r, "id": str(r.get("id"))} for r in details.get("retrieved", ())]
    out["lore"] = [{**h, "id": str(h.get("id"))} for h in details.get("lore", ())]
    return out


def story(node: Node) -> dict[str, Any]:
    """The story at `node`: title, outline, paragraphs with their long-term entries."""
    state = services.state_at(node)
    entries = {e.paragraph: e for e in state.long_term}
    return {
        "title": state.title,
        "outline": state.outline,
        "paragraphs": [
            {
                "n": i,
                "text": text,
                "entry": {"id": str(e.id), "summary": e.summary} if (e := entries.get(i)) is not None else None,
            }
            for i, text in enumerate(state.paragraphs)
        ],
    }


def tree(project: Project) -> list[dict[str, Any]]:
    """Every node of the writer's history (readers' paths are left out)."""
    rows = Node.objects.filter(project=project, reader=None).values_list(
        "pk", "parent_id", "kind", "label", "paragraphs", "created"
    )
    edits = dict(Node.objects.filter(project=project, reader=None, kind="edit").values_list("pk", "details"))
    return [
        {
            "id": pk,
            "parent": parent,
            "kind": kind,
            "label": label_of(kind, label, edits.get(pk)),
            "paragraphs": paragraphs,
            "created": created.isoformat(),
        }
        for pk, parent, kind, label, paragraphs, created in rows
    ]


def last_step(node: Node) -> Node:
    """The step (or opening) an edit was made on: what the "last step" panels describe."""
    while node.kind == "edit" and node.parent is not None:
        node = node.parent
    return node


def job_message(job: Job | None) -> dict[str, Any] | None:
    if job is None:
        return None
    return {**job.as_message(), "text": job.text}


def run_message(project: Project) -> dict[str, Any]:
    return {
        "state": project.run_state,
        "error": project.run_error or None,
        "waiting_since": project.waiting_since.isoformat() if project.waiting_since else None,
        "waiting_reason": project.waiting_reason or None,
    }


def project_info(project: Project) -> dict[str, Any]:
    return {
        "id": project.pk,
        "name": project.name,
        "novel_type": project.novel_type,
        "topic": project.topic,
        "premise": project.premise,
        "language": project.language,
        "preset": project.preset,
        "published": project.published,
    }


def view(project: Project) -> dict[str, Any]:
    """Everything the co-writing page shows, at the project's head."""
    project.refresh_from_db()
    head = project.head
    out: dict[str, Any] = {
        "type": "view",
        "project": project_info(project),
        "head": head.pk if head else None,
        "run": run_message(project),
        "job": job_message(services.writer_busy(project)),
        "failed": job_message(
            Job.objects.filter(project=project, reader=None, state="failed", finished__gt=project.head.created)
            .order_by("-id")
            .first()
            if head
            else Job.objects.filter(project=project, reader=None, state="failed").order_by("-id").first()
        ),
        "totals": services.totals(project),
        "tree": tree(project),
    }
    if head is None:
        out.update(node=None, story={"title": "", "outline": "", "paragraphs": []}, memory="", plans=[], lore=[])
        return out
    state = services.state_at(head)
    step = last_step(head)
    details = _details(step.details)
    fired = {h["id"] for h in details.get("lore", ()) if h.get("included")}
    out.update(
        # After an edit the panels still describe the step it was made on (and its cost).
        node={**node_summary(head), "details": details, "cost": _cost(step), "step": step.pk},
        story=story(head),
        memory=state.memory,
        plans=list(state.plans),
        lore=[{**e.to_dict(), "id": str(e.id), "fired": str(e.id) in fired} for e in state.lore],
    )
    return out


def compare(project: Project, a: Node, b: Node) -> dict[str, Any]:
    """Two versions side by side, with the paragraph where they part."""
    left, right = services.state_at(a), services.state_at(b)
    same = 0
    for x, y in zip(left.paragraphs, right.paragraphs, strict=False):
        if x != y:
            break
        same += 1
    return {
        "type": "compare",
        "a": {**node_summary(a), **story(a)},
        "b": {**node_summary(b), **story(b)},
        "common": same,
    }


def reader_view(path: ReaderPath) -> dict[str, Any]:
    """What a reader sees: the story along their path and the options to continue."""
    project = path.project
    node = path.node
    state = services.state_at(node)
    job = services.active_jobs(project).filter(reader=path).first()
    return {
        "type": "view",
        "project": {"id": project.pk, "name": project.name, "language": project.language},
        "title": state.title,
        "paragraphs": list(state.paragraphs),
        "options": list(state.plans),
        "node": node.pk,
        "can_go_back": node.parent_id is not None,
        "job": job_message(job),
        "failed": job_message(
            Job.objects.filter(reader=path, state="failed", finished__gt=node.created).order_by("-id").first()
        ),
    }
