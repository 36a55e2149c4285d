"""Pages of the project shell. Views only read and present (see selectors)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from environment.selectors import running_summary


def home(request: HttpRequest) -> HttpResponse:
    from reverie.selectors import simulations_overview

    return render(request, "environment/home.html", {"summary": running_summary(), "sims": simulations_overview()})


def healthz(request: HttpRequest) -> JsonResponse:
    summary = running_summary()
    return JsonResponse(
        {
            "model": summary.model,
            "embedding_model": summary.embedding_model,
            "database": summary.database,
            "channel_layer": summary.channel_layer,
            "celery_broker": summary.celery_broker,
        }
    )
