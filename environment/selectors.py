"""Read-only facts about what this deployment runs, for the landing page."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class AppLink:
    title: str
    description: str
    url: str | None  # None while the app has not landed yet


@dataclass(frozen=True)
class RunningSummary:
    model: str
    model_server: str
    embedding_model: str
    database: str  # engine and location (host/name or the SQLite file's path)
    database_engine: str  # "SQLite" or "PostgreSQL": what /healthz shows anyone
    vector_search: str
    channel_layer: str
    celery_broker: str
    runner: str = "thread"
    apps: list[AppLink] = field(default_factory=list)


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _url_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def running_summary() -> RunningSummary:
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        engine = "PostgreSQL"
        database = f"PostgreSQL {db.get('HOST') or 'local socket'}/{db.get('NAME')}"
        vector_search = "pgvector HNSW (cosine)"
    else:
        engine = "SQLite"
        database = f"SQLite {db.get('NAME')}"
        vector_search = "numpy, per-owner matrices"
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    if settings.REDIS_URL:
        layer += f" ({_without_credentials(settings.REDIS_URL)})"
    broker = settings.CELERY_BROKER_URL
    broker = "SQLite file (single machine)" if broker.startswith("sqla+sqlite") else _without_credentials(broker)
    apps = [
        AppLink("Smallville", "Generative agents living in a town.", _url_or_none("simulator_home")),
        AppLink("RecurrentGPT", "Co-write arbitrarily long text.", _url_or_none("writer_home")),
        AppLink("RISE", "Multi-turn self-improvement on GSM8K and MATH.", _url_or_none("rise_home")),
        AppLink("Retroformer", "Reflections trained from environment reward.", _url_or_none("retroformer_home")),
    ]
    return RunningSummary(
        model=settings.LLM_MODEL,
        model_server=_without_credentials(settings.LLM_BASE_URL) if settings.LLM_BASE_URL else "in-process",
        embedding_model=settings.EMBEDDING_MODEL,
        database=database,
        database_engine=engine,
        vector_search=vector_search,
        channel_layer=layer,
        celery_broker=broker,
        runner=("Celery worker" if settings.SIM_RUNNER == "celery" else "in-process thread (the web server runs them)"),
        apps=apps,
    )
