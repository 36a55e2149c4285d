"""`manage.py check --deploy` is clean with production values, and the check is real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PRODUCTION_SECRET = "x7Kq-9vPz_2LmN4rT8wY3bH6jF1cD5sA0eG-uQoWiZtXyR+pV8nM3kL6jH9"  # 50+ characters, many distinct
assert len(PRODUCTION_SECRET) >= 50


def _deploy_check(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "environment.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "false",
        "SECRET_KEY": PRODUCTION_SECRET,
        "ALLOWED_HOSTS": "example.org",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}",
        # Defaults must be production-ready on their own: clear any local overrides.
        **dict.fromkeys(
            [
                "SESSION_COOKIE_SECURE",
                "CSRF_COOKIE_SECURE",
                "SECURE_SSL_REDIRECT",
                "SECURE_HSTS_SECONDS",
                "SECURE_HSTS_INCLUDE_SUBDOMAINS",
                "SECURE_HSTS_PRELOAD",
            ],
            "",
        ),
        **overrides,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    result = _deploy_check(tmp_path)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "no issues" in result.stdout


def test_debug_true_fails_the_deploy_check(tmp_path: Path) -> None:
    result = _deploy_check(tmp_path, DEBUG="true")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "security.W018" in output  # DEBUG must not be True in deployment
    assert "security.W012" in output  # SESSION_COOKIE_SECURE follows DEBUG


def test_a_short_secret_key_fails_the_deploy_check(tmp_path: Path) -> None:
    result = _deploy_check(tmp_path, SECRET_KEY="short")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "security.W009" in output
