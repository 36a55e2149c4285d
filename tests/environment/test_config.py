"""environment.config: every mistake is a one-line ConfigError that names the setting."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from environment import config
from environment.config import ConfigError, database_config, env_bool, env_float, env_int, env_list

SETTINGS_FILE = Path(config.__file__).with_name("settings.py")


# --- DATABASE_URL ----------------------------------------------------------------


def test_sqlite_url_gives_a_file_database_with_wal_and_immediate_transactions(tmp_path: Path) -> None:
    db = database_config(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "db.sqlite3")
    assert db["CONN_MAX_AGE"] == 0
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_postgres_url_gives_the_postgresql_backend_with_a_connect_timeout(scheme: str) -> None:
    db = database_config(f"{scheme}://alice:s3cret@db.example.org:6543/town", conn_max_age=30)
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "alice",
        "s3cret",
        "db.example.org",
        6543,
        "town",
    )
    assert db["CONN_MAX_AGE"] == 30
    assert db["OPTIONS"]["connect_timeout"] == 5


def test_postgres_query_options_are_kept() -> None:
    db = database_config("postgres://db.example.org/town?sslmode=require")
    assert db["OPTIONS"] == {"sslmode": "require", "connect_timeout": 5}


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysqlx://x", "unsupported scheme 'mysqlx'"),
        ("mysql://u:p@h/db", "unsupported scheme 'mysql'"),
        ("not a url", "unsupported scheme ''"),
        ("", "unsupported scheme ''"),
        ("sqlite:////nonexistent/dir/db.sqlite3", "folder /nonexistent/dir does not exist"),
        ("sqlite://", "names no file"),
        ("postgres://u:p@h:5432/", "names no database"),
        ("postgres://u:p@h:notaport/db", "cannot be parsed"),
        ("postgres://u:p@h:99999/db", "cannot be parsed"),
        ("postgres://u:p@[::1/db", "cannot be parsed"),
    ],
)
def test_bad_database_urls_raise_one_line_naming_the_setting(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        database_config(url)
    message = str(caught.value)
    assert "DATABASE_URL" in message
    assert says in message
    assert "\n" not in message
    assert "sqlite:///" in message or "create it" in message  # says how to fix it


@pytest.mark.parametrize(
    "url",
    ["postgres://alice:hunter2@h:notaport/db", "postgres://alice:hunter2@h/", "mysql://alice:hunter2@h/db"],
)
def test_error_messages_never_show_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        database_config(url)
    assert "hunter2" not in str(caught.value)
    assert "***" in str(caught.value)


# --- scalar settings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), (" Yes ", True), ("ON", True), ("0", False), ("false", False), ("off", False)],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env_bool("SOME_FLAG", not expected) is expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_env_bool_missing_or_empty_is_the_default(monkeypatch: pytest.MonkeyPatch, raw: str | None) -> None:
    if raw is None:
        monkeypatch.delenv("SOME_FLAG", raising=False)
    else:
        monkeypatch.setenv("SOME_FLAG", raw)
    assert env_bool("SOME_FLAG", True) is True
    assert env_bool("SOME_FLAG", False) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "y e s"])
def test_env_bool_rejects_anything_else(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("DEBUG", raw)
    with pytest.raises(ConfigError, match=r"^DEBUG=.* is not a boolean: use true or false$"):
        env_bool("DEBUG", True)


def test_env_int_and_env_float(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_INT", "42")
    monkeypatch.setenv("SOME_FLOAT", "2.5")
    assert env_int("SOME_INT", 0) == 42
    assert env_float("SOME_FLOAT", 0.0) == 2.5
    monkeypatch.setenv("SOME_INT", "forty")
    monkeypatch.setenv("SOME_FLOAT", "fast")
    with pytest.raises(ConfigError, match=r"^SOME_INT='forty' is not a whole number$"):
        env_int("SOME_INT", 0)
    with pytest.raises(ConfigError, match=r"^SOME_FLOAT='fast' is not a number$"):
        env_float("SOME_FLOAT", 0.0)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_HOSTS", " example.org, ,www.example.org ,")
    assert env_list("SOME_HOSTS", ["default"]) == ["example.org", "www.example.org"]
    monkeypatch.setenv("SOME_HOSTS", "")
    assert env_list("SOME_HOSTS", ["default"]) == ["default"]


# --- settings.py as a whole ------------------------------------------------------------


def _load_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> dict[str, object]:
    """Execute a fresh copy of environment/settings.py under the given environment.

    Every variable the checks depend on is set explicitly (possibly to ""), so a
    developer's `.env` file cannot fill it in (python-dotenv never overrides).
    """
    base = {
        "DEBUG": "",
        "SECRET_KEY": "",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "LLM_CACHE": "",
    }
    for name, value in {**base, **env}.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE), run_name="fresh_settings")


def test_secret_key_is_required_when_debug_is_false(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^SECRET_KEY is not set and DEBUG is false"):
        _load_settings(monkeypatch, tmp_path, DEBUG="false")


def test_debug_defaults_to_true_with_a_development_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    values = _load_settings(monkeypatch, tmp_path)
    assert values["DEBUG"] is True
    assert values["SECRET_KEY"]
    assert values["SESSION_COOKIE_SECURE"] is False


def test_production_values_switch_on_with_debug_false(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = "k" * 20 + "-production-secret-value-0123456789"
    values = _load_settings(monkeypatch, tmp_path, DEBUG="false", SECRET_KEY=secret)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31536000


def test_bad_debug_value_stops_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^DEBUG='sometimes'"):
        _load_settings(monkeypatch, tmp_path, DEBUG="sometimes")


def test_bad_database_url_stops_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^DATABASE_URL='mysqlx://x'"):
        _load_settings(monkeypatch, tmp_path, DATABASE_URL="mysqlx://x")


def test_bad_llm_cache_value_stops_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^LLM_CACHE='forever'"):
        _load_settings(monkeypatch, tmp_path, LLM_CACHE="forever")


def test_redis_url_switches_channel_layer_and_broker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    embedded = _load_settings(monkeypatch, tmp_path)
    assert embedded["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert str(embedded["CELERY_BROKER_URL"]).startswith("sqla+sqlite:///")

    scaled = _load_settings(monkeypatch, tmp_path, REDIS_URL="redis://127.0.0.1:6379/3")
    assert scaled["CHANNEL_LAYERS"]["default"] == {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": ["redis://127.0.0.1:6379/3"]},
    }
    assert scaled["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"
