"""manage.py answers configuration mistakes with one line and exit status 2.

Each case runs the real `python manage.py ...` in a subprocess, with a temporary
SQLite path so nothing touches storage/db.sqlite3.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.redis_server import free_port

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "environment.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "true",
        "SECRET_KEY": "",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}",
    }
    env.pop("TRACEBACK", None)
    env.update(overrides)
    return env


def _manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _assert_one_line_error(result: subprocess.CompletedProcess[str], *names: str) -> str:
    detail = f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 2, detail
    assert "Traceback" not in result.stderr + result.stdout, detail
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, detail
    line = lines[0]
    assert line.startswith("error: "), detail
    for name in names:
        assert name in line, detail
    return line


def test_check_passes_with_a_good_configuration(tmp_path: Path) -> None:
    result = _manage(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_unsupported_database_scheme(tmp_path: Path) -> None:
    line = _manage_error(tmp_path, "check", DATABASE_URL="mysqlx://x")
    assert "unsupported scheme 'mysqlx'" in line


def test_sqlite_file_in_a_missing_folder(tmp_path: Path) -> None:
    line = _manage_error(tmp_path, "check", DATABASE_URL="sqlite:////nonexistent/dir/db.sqlite3")
    assert "/nonexistent/dir does not exist" in line


def test_unparsable_database_url_keeps_the_password_secret(tmp_path: Path) -> None:
    line = _manage_error(tmp_path, "check", DATABASE_URL="postgres://u:hunter2@h:notaport/db")
    assert "cannot be parsed" in line
    assert "hunter2" not in line


def test_debug_false_without_secret_key(tmp_path: Path) -> None:
    result = _manage(tmp_path, "check", DEBUG="false", SECRET_KEY="")
    _assert_one_line_error(result, "SECRET_KEY")


def test_bad_boolean(tmp_path: Path) -> None:
    result = _manage(tmp_path, "check", DEBUG="sometimes")
    _assert_one_line_error(result, "DEBUG")


@pytest.mark.parametrize("command", [("migrate", "--check"), ("showmigrations",)])
def test_postgres_server_not_running_is_a_database_error(tmp_path: Path, command: tuple[str, ...]) -> None:
    closed_port = free_port()  # nothing listens there
    result = _manage(tmp_path, *command, DATABASE_URL=f"postgres://u:hunter2@127.0.0.1:{closed_port}/town")
    line = _assert_one_line_error(result, "DATABASE_URL")
    assert line.startswith("error: database error: ")
    assert "hunter2" not in line


def test_traceback_env_shows_the_full_traceback(tmp_path: Path) -> None:
    result = _manage(tmp_path, "check", DATABASE_URL="mysqlx://x", TRACEBACK="1")
    assert result.returncode not in (0, 2)
    assert "Traceback" in result.stderr
    assert "ConfigError" in result.stderr


def _manage_error(tmp_path: Path, *args: str, **env: str) -> str:
    return _assert_one_line_error(_manage(tmp_path, *args, **env), "DATABASE_URL")
