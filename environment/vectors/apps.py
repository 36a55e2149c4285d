from __future__ import annotations

import logging
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db import connections
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate

logger = logging.getLogger(__name__)

DEFAULT_EF_SEARCH = 100


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def configure_pgvector_session(*, sender: Any = None, connection: Any, **kwargs: Any) -> None:
    """Tune HNSW search on every new PostgreSQL connection.

    `hnsw.ef_search` sets the candidate list size (recall vs. speed). With pgvector
    >= 0.8, `hnsw.iterative_scan = relaxed_order` lets a filtered query (one owner,
    some kinds, a time range) keep scanning the index until it has k rows instead of
    returning fewer. Failures are logged at debug level and ignored: search still
    works, only with pgvector's defaults.
    """
    if connection.vendor != "postgresql" or connection.connection is None:
        return
    ef_search = int(getattr(settings, "VECTOR_HNSW_EF_SEARCH", DEFAULT_EF_SEARCH))
    try:
        with connection.connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('hnsw.ef_search', %s, false), "
                "(SELECT extversion FROM pg_extension WHERE extname = 'vector')",
                [str(ef_search)],
            )
            row = cursor.fetchone()
            version = row[1] if row else None
            if version and _version_tuple(version) >= (0, 8):
                cursor.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', false)")
    except Exception as exc:  # a tuning failure must never break the connection
        logger.debug("pgvector session settings not applied on %s: %s", connection.alias, exc)


class VectorsConfig(AppConfig):
    name = "environment.vectors"
    label = "vectors"
    verbose_name = "Vector memory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        connection_created.connect(configure_pgvector_session, dispatch_uid="vectors.configure_pgvector_session")
        # A connection opened before migration 0001 created the extension could not tell
        # pgvector's version: set the session up again once the app is migrated.
        post_migrate.connect(_configure_after_migrate, sender=self, dispatch_uid="vectors.configure_after_migrate")


def _configure_after_migrate(*, using: str = "default", **kwargs: Any) -> None:
    configure_pgvector_session(connection=connections[using])
