"""RecurrentGPT pages: the project list, the co-writing page, exports, import, the reader.

Views look projects up for their owner only (another user's project is a 404, the same
as a missing one), call writer.services and present. The pages render from JSON over
their websocket (environment/writer/consumers.py); everything a model or a person
wrote reaches the DOM as text, never as HTML.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from environment.writer import i18n, read_i18n
from writer import exchange, services
from writer.models import Project

EXPORT_FORMATS = {"md": "text/markdown; charset=utf-8", "txt": "text/plain; charset=utf-8",
                  "epub": "application/epub+zip", "json": "application/json"}  # fmt: skip


def _project(request: HttpRequest, pk: int) -> Project:
    try:
        return services.get_project(request.user, pk)
    except services.WriterError:
        raise Http404(_("There is no project with that number among yours.")) from None


def _home_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    form = {"novel_type": "", "topic": "", "premise": "", "name": "", "language": "en", "preset": "compact"}
    form.update(extra.pop("form", {}))
    return {"projects": services.projects_of(request.user), "form": form, **extra}


@login_required
@require_GET
def writer_home(request: HttpRequest) -> HttpResponse:
    return render(request, "writer/home.html", _home_context(request))


@login_required
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    form = {k: request.POST.get(k, "") for k in ("novel_type", "topic", "premise", "name", "language", "preset")}
    try:
        project = services.create_project(
            request.user,
            novel_type=form["novel_type"],
            topic=form["topic"],
            premise=form["premise"],
            name=form["name"],
            language=form["language"] or "en",
            preset=form["preset"] or "compact",
        )
    except services.WriterError as exc:
        return render(request, "writer/home.html", _home_context(request, form=form, error=str(exc)), status=400)
    return redirect("writer_project", project.pk)


@login_required
@require_GET
def project_page(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    boot = {
        "project": project.pk,
        "name": project.name,
        "urls": {
            "ws": f"/ws/writer/{project.pk}/",
            "export": reverse("writer_export", args=[project.pk, "__FMT__"]),
            "read": reverse("writer_read", args=[project.pk]),
            "home": reverse("writer_home"),
        },
        "csrf_token": get_token(request),
        "i18n": i18n.writer_strings(),
    }
    return render(request, "writer/project.html", {"project": project, "boot": boot})


@login_required
@require_GET
def export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    project = _project(request, pk)
    if fmt not in EXPORT_FORMATS:
        raise Http404(_("Export as md, txt, epub or json."))
    node = project.head
    if request.GET.get("node"):
        try:
            node = services.project_node(project, request.GET["node"])
        except services.WriterError:
            raise Http404(_("There is no such step in this project.")) from None
    if fmt == "json":
        try:
            body: bytes | str = exchange.dump_document(services.export_document(project))
        except services.WriterError as exc:
            return HttpResponseBadRequest(str(exc))
        title = project.name
    else:
        if node is None:
            return HttpResponseBadRequest(_("The story has not started yet: there is nothing to export."))
        state = services.state_at(node)
        title = state.title or project.name
        meta = {"type": project.novel_type, "topic": project.topic}
        if fmt == "md":
            body = exchange.story_markdown(title, state.paragraphs, language=project.language, meta=meta)
        elif fmt == "txt":
            body = exchange.story_text(title, state.paragraphs, language=project.language, meta=meta)
        else:
            body = exchange.story_epub(title, state.paragraphs, language=project.language,
                                       author=request.user.get_username(), meta=meta)  # fmt: skip
    response = HttpResponse(body, content_type=EXPORT_FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{exchange.export_filename(title, fmt)}"'
    return response


@login_required
@require_POST
def import_project(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        error = _("Choose a project file (.json) exported from this page.")
    elif upload.size > exchange.MAX_UPLOAD_BYTES:
        error = _("That file is %(size)s MB; a project file can be at most %(max)s MB.") % {
            "size": f"{upload.size / 2**20:.1f}", "max": exchange.MAX_UPLOAD_BYTES // 2**20}  # fmt: skip
    else:
        try:
            project = services.import_document(request.user, upload.read())
        except (exchange.BadImport, services.WriterError) as exc:
            error = _("That project file cannot be imported: %(why)s") % {"why": str(exc)}
        else:
            return redirect("writer_project", project.pk)
    return render(request, "writer/home.html", _home_context(request, import_error=error), status=400)


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.delete_project(_project(request, pk))
    return redirect("writer_home")


@require_GET
def read(request: HttpRequest, pk: int) -> HttpResponse:
    """A published story for readers (the owner may preview an unpublished one)."""
    project = Project.objects.filter(pk=pk).first()
    if project is None or not (project.published or project.owner_id == getattr(request.user, "pk", None)):
        raise Http404(_("There is no published story with that number."))
    if not request.session.session_key:
        request.session.save()  # the reader's path is kept per browser session
    boot = {
        "project": project.pk,
        "urls": {"ws": f"/ws/read/{project.pk}/"},
        "i18n": read_i18n.reader_strings(),
    }
    return render(request, "writer/read.html", {"project": project, "boot": boot})
