"""Settings read from the process environment and an optional `.env` file.

Every setting the project reads is declared here once, with its default, so the
README table, `settings.py` and the error messages agree. Mistakes raise
`ConfigError` with one line that names the setting and says how to fix it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
STORAGE_DIR = BASE_DIR / "storage"


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for a person."""


def load_dotenv_file(path: Path | None = None) -> None:
    """Read `.env` (repo root) without overriding variables already set."""
    env_path = path or BASE_DIR / ".env"
    if env_path.is_file():
        from dotenv import load_dotenv

        load_dotenv(env_path, override=False)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: use true or false")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


_DB_HELP = "use sqlite:///path/to/file.sqlite3 or postgres://user:password@host:5432/dbname"


def database_config(url: str, *, conn_max_age: int = 60) -> dict[str, Any]:
    """Turn DATABASE_URL into a Django DATABASES entry, or say what is wrong."""
    import dj_database_url

    try:
        scheme = urlsplit(url).scheme
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket; the URL may hold a password
        raise ConfigError(f"DATABASE_URL cannot be parsed ({exc}); {_DB_HELP}") from None
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(f"DATABASE_URL={_redact(url)!r}: unsupported scheme {scheme!r}; {_DB_HELP}")
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=conn_max_age))
    except Exception as exc:  # dj-database-url raises several exception types
        raise ConfigError(f"DATABASE_URL={_redact(url)!r} cannot be parsed ({exc}); {_DB_HELP}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = str(config.get("NAME") or "")
        if not name or name == ":memory:":
            raise ConfigError(f"DATABASE_URL={url!r} names no file; {_DB_HELP}")
        parent = Path(name).expanduser().resolve().parent
        if not parent.is_dir():
            raise ConfigError(f"DATABASE_URL={url!r}: folder {parent} does not exist; create it or pick another path")
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            # WAL lets the web server read while a simulation step writes; IMMEDIATE
            # transactions take the write lock up front instead of failing halfway.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    else:
        if not config.get("NAME"):
            raise ConfigError(f"DATABASE_URL={_redact(url)!r} names no database; {_DB_HELP}")
        config["ENGINE"] = "django.db.backends.postgresql"
        config.setdefault("OPTIONS", {})["connect_timeout"] = 5
    return config


def default_database_url() -> str:
    return f"sqlite:///{STORAGE_DIR / 'db.sqlite3'}"


def _redact(url: str) -> str:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable URL>"
    if password:
        return url.replace(f":{password}@", ":***@")
    return url
