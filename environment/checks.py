"""System checks: catch a wrong model setting at start-up (`manage.py check`,
`runserver`), cheaply, without loading any model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from llm.errors import LLMConfigError
from llm.spec import parse_embedding_spec, parse_model_spec


@register()
def check_model_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    try:
        spec = parse_model_spec(settings.LLM_MODEL)
        local = spec.backend in ("llama_cpp", "transformers") and spec.target != "bundled"
        if local and not Path(spec.target).expanduser().exists():
            problems.append(Error(f"LLM_MODEL={settings.LLM_MODEL!r}: {spec.target} not found", id="llm.E002"))
        if spec.backend == "openai" and not (settings.LLM_BASE_URL or settings.LLM_API_KEY):
            problems.append(Error(f"LLM_MODEL={settings.LLM_MODEL!r} needs LLM_BASE_URL or LLM_API_KEY", id="llm.E003"))
    except LLMConfigError as exc:
        problems.append(Error(str(exc), id="llm.E001"))
    try:
        parse_embedding_spec(settings.EMBEDDING_MODEL)
    except LLMConfigError as exc:
        problems.append(Error(str(exc), id="llm.E004"))
    if settings.VECTOR_DIM <= 0:
        problems.append(Warning("VECTOR_DIM must be positive", id="llm.W001"))
    return problems


@register()
def check_runner_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Celery-run simulations publish frames from the worker: only a shared channel
    layer (Redis) carries them to the web server's websockets."""
    if settings.SIM_RUNNER == "celery" and not settings.REDIS_URL:
        return [
            Warning(
                "SIM_RUNNER=celery without REDIS_URL: runs advance in the worker, but live pages only "
                "see new steps after a reload",
                hint="set REDIS_URL (channels_redis), or use SIM_RUNNER=thread on one machine",
                id="reverie.W001",
            )
        ]
    return []
