"""`/ws/writer/<project>/` (the co-writing page) and `/ws/read/<project>/` (a reader's path).

The pages send commands; the runner writes in the background and publishes to the
project's group (writer.services.publish_*), so a second tab, a refresh or a closed
tab never disturbs a step. Every message the server sends, and the commands each
consumer accepts, are listed in docs/frontend_api.md. A command that cannot be carried
out gets `{"type": "error", "command": ..., "error": "<one line>"}` and the page stays
usable; a project that is not the user's (or not published, for readers) is closed
with 4404, exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from environment.consumers import JsonMessageConsumer
from writer import selectors, services
from writer.models import Node, Project, ReaderPath


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise services.WriterError(_("%(what)s must be a number") % {"what": what})
    try:
        return int(value)
    except (TypeError, ValueError):
        raise services.WriterError(_("%(what)s must be a number") % {"what": what}) from None


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise services.WriterError(_("%(what)s must be text") % {"what": what})
    return value


def _plans(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise services.WriterError(_("plans must be a list of texts"))
    return value


def _owned(user: Any, pk: str) -> Project | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        project = services.get_project(user, pk)
    except services.WriterError:
        return None
    from writer.runner import resume

    resume(project)  # queued steps left by a restarted server go on
    return project


class WriterConsumer(JsonMessageConsumer):
    expected = '{"type": "ping"}, or a command listed in docs/frontend_api.md ("write", "stop", "edit_memory", ...)'
    project: Project | None = None
    # Edits carry a paragraph or a memory: allow more than the base's 64 KiB.
    max_message_chars = 256 * 1024

    async def connect(self) -> None:
        pk = self.scope["url_route"]["kwargs"]["project"]
        self.project = await database_sync_to_async(_owned)(self.scope.get("user"), pk)
        await self.accept()
        if self.project is None:
            await self.close_not_found(f"there is no project {pk!r} of yours")
            return
        await self.join_group(services.group_name(self.project.pk))
        await self.send_view()

    async def send_view(self) -> None:
        assert self.project is not None
        await self.send_json(await database_sync_to_async(selectors.view)(self.project))

    async def receive_command(self, kind: str, content: dict[str, Any]) -> bool:
        handler = getattr(self, f"do_{kind}", None)
        if handler is None or self.project is None:
            return False
        try:
            reply = await database_sync_to_async(handler)(self.project, content)
        except services.WriterError as exc:
            await self.send_json({"type": "error", "command": kind, "error": str(exc)})
            return True
        await self.send_json(reply or {"type": "ok", "command": kind})
        return True

    # --- commands (run in a database thread) ---------------------------------------------

    def do_write(self, project: Project, content: dict[str, Any]) -> dict[str, Any]:
        node = services.project_node(project, content["node"]) if content.get("node") is not None else None
        job = services.enqueue_step(project, plan=_str(content.get("plan"), "plan"), node=node)
        return {"type": "ok", "command": "write", "job": job.pk}

    def do_auto(self, project: Project, content: dict[str, Any]) -> dict[str, Any]:
        job = services.enqueue_step(project, plan="", auto=True)
        return {"type": "ok", "command": "auto", "job": job.pk}

    def do_regenerate(self, project: Project, content: dict[str, Any]) -> dict[str, Any]:
        job = services.regenerate(project)
        return {"type": "ok", "command": "regenerate", "job": job.pk}

    def do_stop(self, project: Project, content: dict[str, Any]) -> dict[str, Any]:
        return {"type": "ok", "command": "stop", "stopped": services.cancel_jobs(project)}

    def do_goto(self, project: Project, content: dict[str, Any]) -> None:
        services.goto(project, _int(content.get("node"), "node"))

    def do_edit_paragraph(self, project: Project, content: dict[str, Any]) -> None:
        services.edit_story_paragraph(project, _int(content.get("n"), "n"), _str(content.get("text"), "text"))

    def do_edit_entry(self, project: Project, content: dict[str, Any]) -> None:
        services.edit_entry(project, _int(content.get("id"), "id"), summary=_str(content.get("summary"), "summary"))

    def do_edit_memory(self, project: Project, content: dict[str, Any]) -> None:
        services.edit_short_memory(project, _str(content.get("memory"), "memory"))

    def do_edit_plans(self, project: Project, content: dict[str, Any]) -> None:
        services.edit_plan_list(project, _plans(content.get("plans")))

    def do_save_lore(self, project: Project, content: dict[str, Any]) -> None:
        entry = content.get("entry")
        if isinstance(entry, dict) and entry.get("id") not in (None, ""):
            entry = {**entry, "id": _int(entry["id"], "id")}
        services.save_lore(project, entry)

    def do_delete_lore(self, project: Project, content: dict[str, Any]) -> None:
        services.delete_lore(project, _int(content.get("id"), "id"))

    def do_publish(self, project: Project, content: dict[str, Any]) -> None:
        Project.objects.filter(pk=project.pk).update(published=bool(content.get("published")))
        services.publish_view(project)

    def do_compare(self, project: Project, content: dict[str, Any]) -> dict[str, Any]:
        a = services.project_node(project, content.get("a"))
        b = services.project_node(project, content.get("b"))
        return selectors.compare(project, a, b)

    def do_view(self, project: Project, content: dict[str, Any]) -> dict[str, Any]:
        return selectors.view(project)

    # --- what the runner publishes --------------------------------------------------------

    async def writer_piece(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "piece", "job": event["job"], "text": event["text"], "reset": event["reset"]})

    async def writer_job(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "job", "job": event["job"]})

    async def writer_changed(self, event: dict[str, Any]) -> None:
        await self.send_view()


# --- readers --------------------------------------------------------------------------------


def reader_key(user: Any, session_key: str | None) -> str | None:
    if getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"session:{session_key}" if session_key else None


def reader_path(project: Project, key: str) -> ReaderPath:
    """The reader's path, started at the opening the first time."""
    path = ReaderPath.objects.filter(project=project, reader=key).select_related("node", "project").first()
    if path is not None:
        return path
    root = Node.objects.filter(project=project, parent=None, reader=None).order_by("id").first()
    if root is None:
        raise services.WriterError(_("this story has not started yet"))
    path, _created = ReaderPath.objects.get_or_create(project=project, reader=key, defaults={"node": root})
    return path


def _published(user: Any, session: Any, pk: str) -> ReaderPath | str:
    """The reader's path, or why there is none (one line for the error frame)."""
    missing = f"there is no published story {pk!r}"
    try:
        number = int(pk)
    except ValueError:
        return missing
    project = Project.objects.filter(pk=number).first()
    if project is None or not (project.published or project.owner_id == getattr(user, "pk", None)):
        return missing
    session_key = getattr(session, "session_key", None)
    # Only a session the server made (the page saves one): invented keys would make paths at will.
    if not getattr(user, "is_authenticated", False) and not (session_key and session.exists(session_key)):
        return "open the story's page first: your place in it is kept with your browser session"
    key = reader_key(user, session_key)
    if key is None:
        return missing
    try:
        path = reader_path(project, key)
    except services.WriterError as exc:
        return str(exc)
    from writer.runner import resume

    resume(project)
    return path


def choose(path: ReaderPath, option: int) -> dict[str, Any]:
    """Continue the reader's story with option `option`: follow a step already written
    from here with that plan (the writer's, or this reader's), or queue a new one."""
    node = path.node
    plans = services.state_at(node).plans
    if not 0 <= option < len(plans):
        raise services.WriterError(
            _("there is no option %(n)s here; choose one of 1–%(count)s") % {"n": option + 1, "count": len(plans)}
        )
    plan = plans[option]
    written = (
        Node.objects.filter(parent=node, plan=plan, kind="step").filter(reader=None).order_by("id").first()
        or Node.objects.filter(parent=node, plan=plan, kind="step", reader=path).order_by("id").first()
    )
    if written is not None:
        ReaderPath.objects.filter(pk=path.pk).update(node=written)
        return {"type": "ok", "command": "choose", "written": True}
    job = services.enqueue_step(path.project, plan=plan, node=node, reader=path)
    return {"type": "ok", "command": "choose", "job": job.pk}


def back(path: ReaderPath) -> None:
    if path.node.parent_id is None:
        raise services.WriterError(_("this is the beginning of the story"))
    services.cancel_jobs(path.project, reader=path)
    ReaderPath.objects.filter(pk=path.pk).update(node_id=path.node.parent_id)


def restart(path: ReaderPath) -> None:
    root = Node.objects.filter(project=path.project, parent=None, reader=None).order_by("id").first()
    services.cancel_jobs(path.project, reader=path)
    ReaderPath.objects.filter(pk=path.pk).update(node=root)


class ReaderConsumer(JsonMessageConsumer):
    expected = (
        '{"type": "ping"}, {"type": "choose", "option": <0-based>}, {"type": "stop"}, {"type": "back"} '
        'or {"type": "restart"}'
    )
    path: ReaderPath | None = None

    async def connect(self) -> None:
        pk = self.scope["url_route"]["kwargs"]["project"]
        found = await database_sync_to_async(_published)(self.scope.get("user"), self.scope.get("session"), pk)
        await self.accept()
        if isinstance(found, str):
            await self.close_not_found(found)
            return
        self.path = found
        await self.join_group(services.group_name(self.path.project_id, self.path.pk))
        await self.send_view()

    def _view(self) -> dict[str, Any]:
        assert self.path is not None
        self.path = ReaderPath.objects.select_related("node", "project").get(pk=self.path.pk)
        return selectors.reader_view(self.path)

    async def send_view(self) -> None:
        await self.send_json(await database_sync_to_async(self._view)())

    async def receive_command(self, kind: str, content: dict[str, Any]) -> bool:
        if kind not in ("choose", "back", "restart", "stop") or self.path is None:
            return False

        def run() -> dict[str, Any] | None:
            assert self.path is not None
            path = ReaderPath.objects.select_related("node", "project").get(pk=self.path.pk)
            if kind == "choose":
                return choose(path, _int(content.get("option"), "option"))
            if kind == "stop":
                return {"type": "ok", "command": "stop", "stopped": services.cancel_jobs(path.project, reader=path)}
            if kind == "back":
                back(path)
            else:
                restart(path)
            return None

        try:
            reply = await database_sync_to_async(run)()
        except services.WriterError as exc:
            await self.send_json({"type": "error", "command": kind, "error": str(exc)})
            return True
        await self.send_json(reply or {"type": "ok", "command": kind})
        if reply is None or reply.get("written"):
            await self.send_view()
        return True

    async def writer_piece(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "piece", "job": event["job"], "text": event["text"], "reset": event["reset"]})

    async def writer_job(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "job", "job": event["job"]})

    async def writer_changed(self, event: dict[str, Any]) -> None:
        await self.send_view()
