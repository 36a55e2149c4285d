"""Suite-wide pytest hooks and fixtures."""

from __future__ import annotations

import pytest
from django.conf import settings


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `postgres` tests only when PostgreSQL was switched off with TEST_POSTGRES=0."""
    if "pg" in settings.DATABASES:
        return
    skip = pytest.mark.skip(reason="TEST_POSTGRES=0: no PostgreSQL server for this run")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """`manage.py prepare` compiles the catalogues; a bare `pytest` run does it here."""
    from pathlib import Path

    from environment.i18n import compile_messages

    compile_messages([Path(p) for p in settings.LOCALE_PATHS])
