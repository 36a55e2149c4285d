"""The landing page and /healthz say what this deployment runs."""

from __future__ import annotations

from html import unescape

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

# The landing page also lists the simulations in the database.
pytestmark = pytest.mark.django_db

IN_MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

REDIS_LAYER = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": ["redis://:pw-secret@cache.internal:6380/2"]},
    }
}


def _text(client: Client, path: str = "/") -> str:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return unescape(response.content.decode())


def test_home_shows_the_configured_model_database_and_channel_layer(client: Client) -> None:
    with override_settings(
        LLM_MODEL="openai:test-model-7b",
        LLM_BASE_URL="",
        EMBEDDING_MODEL="test-embedder",
        REDIS_URL="",
        CHANNEL_LAYERS=IN_MEMORY_LAYER,
    ):
        page = _text(client)
    assert '<td id="model">openai:test-model-7b</td>' in page
    assert "test-embedder" in page
    kind = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[connection.vendor]
    assert f'<td id="database">{kind} ' in page
    if kind == "SQLite":
        assert f'<td id="database">SQLite {settings.DATABASES["default"]["NAME"]}</td>' in page
    assert '<td id="channel-layer">InMemoryChannelLayer</td>' in page
    assert "in-process" in page  # no model server configured


def test_home_with_the_real_settings(client: Client) -> None:
    page = _text(client)
    assert f'<td id="model">{settings.LLM_MODEL}</td>' in page
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    assert layer in page


def test_home_names_redis_and_the_model_server_without_credentials(client: Client) -> None:
    with override_settings(
        REDIS_URL="redis://:pw-secret@cache.internal:6380/2",
        CHANNEL_LAYERS=REDIS_LAYER,
        CELERY_BROKER_URL="redis://:pw-secret@cache.internal:6380/2",
        LLM_BASE_URL="https://user:key-secret@llm.internal:8000/v1",
    ):
        page = _text(client)
    assert '<td id="channel-layer">RedisChannelLayer (redis://cache.internal:6380/2)</td>' in page
    assert "https://llm.internal:8000/v1" in page
    assert "pw-secret" not in page
    assert "key-secret" not in page


def test_home_lists_the_four_apps(client: Client) -> None:
    page = _text(client)
    for title in ("Smallville", "RecurrentGPT", "RISE", "Retroformer"):
        assert title in page


def test_healthz_reports_the_same_facts_as_json(client: Client) -> None:
    with override_settings(LLM_MODEL="openai:test-model-7b", REDIS_URL="", CHANNEL_LAYERS=IN_MEMORY_LAYER):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["model"] == "openai:test-model-7b"
    assert body["database"] == {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[connection.vendor]
    # The engine only: no file path, host or database name for anonymous callers.
    assert str(settings.DATABASES["default"]["NAME"]) not in response.content.decode()
    assert body["channel_layer"] == "InMemoryChannelLayer"
    assert set(body) == {"model", "embedding_model", "database", "channel_layer", "celery_broker"}


def test_healthz_broker_hides_credentials(client: Client) -> None:
    with override_settings(CELERY_BROKER_URL="redis://:pw-secret@cache.internal:6380/2"):
        body = client.get("/healthz").json()
    assert body["celery_broker"] == "redis://cache.internal:6380/2"
    with override_settings(CELERY_BROKER_URL="sqla+sqlite:////tmp/broker.sqlite3"):
        body = client.get("/healthz").json()
    assert body["celery_broker"] == "SQLite file (single machine)"


def test_home_lists_simulations_with_step_and_links(client: Client) -> None:
    from reverie import services

    services.ensure_base("base_the_ville_isabella_maria_klaus")
    services.fork("base_the_ville_isabella_maria_klaus", "my-town")
    page = _text(client)
    assert "base_the_ville_isabella_maria_klaus" in page and "my-town" in page
    assert 'href="/simulator_home/my-town/"' in page
    assert "forked from base_the_ville_isabella_maria_klaus" in page
