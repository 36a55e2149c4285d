"""Test settings: the project's settings plus a real PostgreSQL as the "pg" alias.

The default alias stays SQLite (a file, see environment.settings). Tests that need
PostgreSQL + pgvector use `@pytest.mark.django_db(databases=["default", "pg"])` and
the `postgres` marker. The server is started once per test session by
tests/pgserver.py; if it cannot start, importing these settings fails. Opt out with
TEST_POSTGRES=0 (the `postgres` tests are then skipped, see tests/conftest.py).
"""

from __future__ import annotations

import os

from environment.settings import *  # noqa: F403
from environment.settings import DATABASES

TEST_POSTGRES = os.environ.get("TEST_POSTGRES", "1").strip().lower() not in {"0", "false", "no", "off"}

if TEST_POSTGRES:
    from tests.pgserver import postgres_database

    DATABASES["pg"] = postgres_database()
