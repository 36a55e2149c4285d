"""Celery tasks of the project shell."""

from __future__ import annotations

import os
import socket
from typing import Any

from celery import shared_task


@shared_task(name="environment.health")
def health() -> dict[str, Any]:
    """Report which worker ran the task and what it is configured to use."""
    from django.conf import settings
    from django.db import connection

    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "database": connection.vendor,
        "model": settings.LLM_MODEL,
    }
