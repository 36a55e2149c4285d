"""The process-wide gateway, built once from Django settings.

    from environment.gateway import get_gateway
    gw = get_gateway()

Traces go to the database (environment.llmlog) and the response cache too, so
every worker shares them and `manage.py llm_stats` sees every process's calls.
"""

from __future__ import annotations

import threading

from django.conf import settings

from llm.factory import build_gateway
from llm.gateway import Gateway

_gateway: Gateway | None = None
_lock = threading.Lock()


def gateway_from_settings(*, model: str | None = None) -> Gateway:
    from environment.llmlog.store import DjangoCache, DjangoRecorder

    return build_gateway(
        model or settings.LLM_MODEL,
        base_url=settings.LLM_BASE_URL,
        api_key=settings.LLM_API_KEY,
        embedding_model=settings.EMBEDDING_MODEL,
        embedding_base_url=settings.EMBEDDING_BASE_URL,
        cache=DjangoCache(),
        recorder=DjangoRecorder(retention_days=settings.LLM_TRACE_RETENTION_DAYS),
        cache_policy=settings.LLM_CACHE,
        timeout=settings.LLM_TIMEOUT,
        concurrency=settings.LLM_CONCURRENCY or None,
    )


def get_gateway() -> Gateway:
    """The shared gateway (loading an in-process model takes a moment, once)."""
    global _gateway
    if _gateway is None:
        with _lock:
            if _gateway is None:
                _gateway = gateway_from_settings()
    return _gateway


def reset_gateway() -> None:
    """Close and forget the shared gateway (tests, or after changing settings)."""
    global _gateway
    with _lock:
        if _gateway is not None:
            _gateway.close()
        _gateway = None
