"""Pages of the project shell. Views only read and present (see selectors)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from environment.selectors import running_summary


def home(request: HttpRequest) -> HttpResponse:
    return render_home(request)


def render_home(
    request: HttpRequest, *, form_error: str = "", status: int = 200, fork: dict[str, str] | None = None
) -> HttpResponse:
    """The landing page; the forms on it (fork, delete) come back here with `form_error` shown.

    `fork` refills the fork form (`source`, `name`, `preset`, `language`) after a refused fork.
    """
    from environment.smallville.views import start_form
    from reverie.selectors import fork_presets, simulations_overview

    context = {
        "summary": running_summary(),
        "sims": simulations_overview(request.user),  # your runs first
        "form_error": form_error,
        "fork": fork or {},
        "presets": fork_presets(),
        "start": start_form(request, fork=fork),
    }
    return render(request, "environment/home.html", context, status=status)


def healthz(request: HttpRequest) -> JsonResponse:
    summary = running_summary()
    return JsonResponse(
        {
            "model": summary.model,
            "embedding_model": summary.embedding_model,
            # The engine only: anyone may ask, and the file's path or host is nobody's business.
            "database": summary.database_engine,
            "channel_layer": summary.channel_layer,
            "celery_broker": summary.celery_broker,
        }
    )
