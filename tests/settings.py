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
from environment.settings import DATABASES, STORAGES

# pytest-django runs the tests with DEBUG=False, where the manifest storage would look
# every `{% static %}` name up in STATIC_ROOT's manifest (absent, or stale from another
# collectstatic): plain names here. The production storage has its own test
# (tests/environment/test_static_files.py) and the browser tests' server uses it.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

TEST_POSTGRES = os.environ.get("TEST_POSTGRES", "1").strip().lower() not in {"0", "false", "no", "off"}

if TEST_POSTGRES:
    from tests.pgserver import postgres_database

    DATABASES["pg"] = postgres_database()
