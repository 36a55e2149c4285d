"""The process-wide gateway, built once from Django settings.

    from environment.gateway import get_gateway
    gw = get_gateway()

Traces go to the database (environment.llmlog) and the response cache too, so
every worker shares them and `manage.py llm_stats` sees every process's calls.
"""

from __future__ import annotations

import atexit
import contextlib
import sys
import threading

from django.conf import settings

from llm.factory import build_gateway
from llm.gateway import Gateway

_gateway: Gateway | None = None
_lock = threading.Lock()
_exit_hook_registered = False


def gateway_from_settings(*, model: str | None = None, base_url: str | None = None) -> Gateway:
    from environment.llmlog.store import DjangoCache, DjangoRecorder

    return build_gateway(
        model or settings.LLM_MODEL,
        base_url=settings.LLM_BASE_URL if base_url is None else base_url,
        api_key=settings.LLM_API_KEY,
        embedding_model=settings.EMBEDDING_MODEL,
        embedding_base_url=settings.EMBEDDING_BASE_URL,
        cache=DjangoCache(),
        recorder=DjangoRecorder(retention_days=settings.LLM_TRACE_RETENTION_DAYS),
        cache_policy=settings.LLM_CACHE,
        timeout=settings.LLM_TIMEOUT,
        concurrency=settings.LLM_CONCURRENCY or None,
        outage_window=settings.LLM_OUTAGE_SECONDS,
        retry_base_delay=settings.LLM_RETRY_BASE_DELAY,
    )


def get_gateway() -> Gateway:
    """The shared gateway (loading an in-process model takes a moment, once).

    It is closed when the process exits (see _close_at_exit), so a command, a worker or
    the server never needs to remember to; commands that know they are done close it
    earlier with reset_gateway().
    """
    global _gateway, _exit_hook_registered
    if _gateway is None:
        with _lock:
            if _gateway is None:
                _gateway = gateway_from_settings()
                if not _exit_hook_registered:
                    # Registered once the gateway has loaded its libraries, so after any
                    # exit hook they register on import: atexit runs hooks last-in
                    # first-out, so this one runs before theirs, while llama.cpp and the
                    # database are still usable.
                    atexit.register(_close_at_exit)
                    _exit_hook_registered = True
    return _gateway


def _close_at_exit() -> None:
    """Close the shared gateway before the interpreter tears its modules down.

    Left to the garbage collector, the in-process model is freed during shutdown, when
    llama_cpp's module globals are already gone: `Exception ignored in: Llama.__del__`
    and a TypeError traceback. atexit hooks run while everything still works (after
    non-daemon threads, and so every model call in flight, have finished); closing also
    flushes the last traces. A failure here is reported in one line, never raised.
    """
    gateway = _gateway
    try:
        reset_gateway()
    except Exception as exc:  # the process is ending: say what went wrong and go
        sys.stderr.write(f"warning: closing the model gateway at exit failed: {type(exc).__name__}: {exc}\n")
        if gateway is not None:
            with contextlib.suppress(Exception):
                gateway.backend.close()  # free the model even if its last traces could not be flushed


def reset_gateway() -> None:
    """Close and forget the shared gateway (tests, or after changing settings)."""
    global _gateway
    with _lock:
        gateway, _gateway = _gateway, None
        if gateway is not None:
            gateway.close()
