"""Reads over traces: accounting per run and purpose, and the traces themselves."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.db.models import Count, Q, QuerySet, Sum

from environment.llmlog.models import LLMCall
from llm.tracing import Totals


def traces(
    *,
    run: str | None = None,
    step: int | None = None,
    item: str | None = None,
    purpose: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
) -> QuerySet[LLMCall]:
    qs = LLMCall.objects.all()
    if run is not None:
        qs = qs.filter(run=run)
    if step is not None:
        qs = qs.filter(step=step)
    if item is not None:
        qs = qs.filter(item=item)
    if purpose is not None:
        qs = qs.filter(purpose__startswith=purpose)
    if outcome is not None:
        qs = qs.filter(outcome=outcome)
    if since is not None:
        qs = qs.filter(created__gte=since)
    return qs


def stats_by_run_and_purpose(*, run: str | None = None, since: datetime | None = None) -> list[tuple[str, str, Totals]]:
    rows = (
        traces(run=run, since=since)
        .order_by()
        .values("run", "purpose")
        .annotate(
            calls=Count("id"),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            seconds=Sum("seconds"),
            cache_hits=Count("id", filter=Q(cached=True)),
            repairs=Count("id", filter=Q(outcome="repaired")),
            fallbacks=Count("id", filter=Q(outcome="fallback")),
            errors=Count("id", filter=Q(outcome="error")),
            retries=Sum("retries"),
        )
        .order_by("run", "purpose")
    )
    return [
        (
            r["run"],
            r["purpose"],
            Totals(
                calls=r["calls"],
                prompt_tokens=r["prompt_tokens"] or 0,
                completion_tokens=r["completion_tokens"] or 0,
                seconds=r["seconds"] or 0.0,
                cache_hits=r["cache_hits"],
                repairs=r["repairs"],
                fallbacks=r["fallbacks"],
                errors=r["errors"],
                retries=r["retries"] or 0,
            ),
        )
        for r in rows
    ]


def faults_by_purpose(*, run: str | None = None, since: datetime | None = None) -> dict[tuple[str, str], Counter[str]]:
    """Failed attempts per (run, purpose) and fault kind (refused, dropped, timeout, ...),
    retried or not. Only calls that had faults are read."""
    out: dict[tuple[str, str], Counter[str]] = {}
    rows = traces(run=run, since=since).exclude(faults=[]).values_list("run", "purpose", "faults")
    for run_label, purpose, faults in rows.iterator():
        counter = out.setdefault((run_label, purpose), Counter())
        counter.update(f.get("kind", "?") for f in faults or [] if isinstance(f, dict))
    return out
