"""The distributed setup on a real redis-server: channels_redis across processes, and
a Celery worker with a Redis broker and result backend."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from environment.asgi import application
from environment.celery import app as project_app
from tests.environment.test_celery_worker import configured, get_result, running_worker, worker_env
from tests.redis_server import RedisServer, redis_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.redis

REPO = Path(__file__).resolve().parents[2]
ORIGIN = (b"origin", b"http://localhost")

SEND_FROM_ANOTHER_PROCESS = textwrap.dedent(
    """
    import os, sys
    import django
    django.setup()
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.conf import settings

    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisChannelLayer", settings.CHANNEL_LAYERS
    async_to_sync(layer.group_send)("status", {"type": "status.message", "data": {"from_pid": os.getpid()}})
    print(os.getpid())
    """
)


@pytest.fixture
def redis_layer(redis_server: RedisServer) -> Iterator[str]:  # noqa: F811
    """This process's channel layer on the test redis-server (db 1 holds channel data)."""
    url = redis_server.url(1)
    config = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url]}}}
    channel_layers.backends = {}
    with override_settings(CHANNEL_LAYERS=config, REDIS_URL=url):
        yield url
    channel_layers.backends = {}


async def test_group_send_from_another_process_reaches_the_websocket(redis_layer: str, tmp_path: Path) -> None:
    communicator = WebsocketCommunicator(application, "/ws/status/", headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "environment.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "DEBUG": "true",
            "REDIS_URL": redis_layer,
        }
        sender = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", SEND_FROM_ANOTHER_PROCESS],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sender.returncode == 0, sender.stderr
        sender_pid = int(sender.stdout.strip().splitlines()[-1])
        assert sender_pid != os.getpid()

        message = await communicator.receive_json_from(timeout=15)
        assert message == {"type": "status", "data": {"from_pid": sender_pid}}

        # The socket still answers after the cross-process message.
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    finally:
        await communicator.disconnect()
        layer = get_channel_layer()
        await layer.flush()
        await layer.close_pools()


def test_celery_worker_with_redis_broker_and_result_backend(
    redis_server: RedisServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    broker = redis_server.url(2)
    backend = redis_server.url(3)
    env = worker_env(tmp_path, REDIS_URL=broker, CELERY_BROKER_URL="", CELERY_RESULT_BACKEND=backend)
    app: Celery
    with (
        configured(project_app, broker_url=broker, result_backend=backend, task_always_eager=False) as app,
        running_worker(env, tmp_path / "worker.log") as worker,
    ):
        result = app.send_task("environment.health")
        answer = get_result(result, worker)
        assert answer["pid"] == worker.process.pid
        assert answer["database"] == "sqlite"
        assert answer["model"] == "worker-test-model"
        result.forget()
    assert worker.process.returncode is not None
