"""What the co-writing and reader pages show, as JSON-ready dicts (docs/frontend_api.md).

Entry and lorebook ids are 62-bit integers: they travel as strings, because a
JavaScript number keeps only 53 bits.
"""

from __future__ import annotations

from typing import Any

from writer import services
from writer.models import Job, Node, Project, ReaderPath


def _cost(node: Node) -> dict[str, Any]:
    return {"calls": node.calls, "tokens": node.tokens, "prompt_tokens": node.prompt_tokens,
            "completion_tokens": node.completion_tokens, "seconds": round(node.seconds, 2)}  # fmt: skip


def node_summary(node: Node) -> dict[str, Any]:
    return {
        "id": node.pk,
        "parent": node.parent_id,
        "kind": node.kind,
        "label": node.label,
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
    return [
        {
            "id": pk,
            "parent": parent,
            "kind": kind,
            "label": label,
            "paragraphs": paragraphs,
            "created": created.isoformat(),
        }
        for pk, parent, kind, label, paragraphs, created in rows
    ]


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
    details = _details(head.details)
    fired = {h["id"] for h in details.get("lore", ()) if h.get("included")}
    out.update(
        node={**node_summary(head), "details": details},
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
