"""Run a management command and turn configuration mistakes into one line.

A person who mistypes DATABASE_URL or LLM_MODEL should read what to change, not a
40-line traceback. Set `TRACEBACK=1` to see the full traceback anyway.
"""

from __future__ import annotations

import os
import sys


def _one_line_reason(exc: BaseException) -> str | None:
    from django.core.exceptions import ImproperlyConfigured
    from django.db.utils import OperationalError

    from environment.config import ConfigError
    from llm.errors import LLMConfigError, LLMUnavailable

    if isinstance(exc, (ConfigError, LLMConfigError, LLMUnavailable, ImproperlyConfigured)):
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, OperationalError):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "operational error"
        return f"database error: {first}. Check DATABASE_URL and that the database server is running"
    return None


def run_friendly(argv: list[str]) -> None:
    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv)
    except Exception as exc:
        if os.environ.get("TRACEBACK"):
            raise
        reason = _one_line_reason(exc)
        if reason is None:
            raise
        print(f"error: {reason}", file=sys.stderr)
        sys.exit(2)
