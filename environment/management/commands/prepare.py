"""Get a fresh checkout ready to run: the bundled models on disk, base data loaded.

`make run` and `make test` call it after `migrate`. It is safe to run again.

The shared part (model files, translations) is here; what an app needs on top (its
base data) is the app's own hook: an AppConfig may define `prepare(self, stdout)`,
and this command calls every installed app's hook in INSTALLED_APPS order
(reverie's loads the base simulations). A hook writes a line per thing it readied.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, OutputWrapper

from llm.spec import parse_embedding_spec, parse_model_spec


def app_hooks() -> list[tuple[str, Callable[[OutputWrapper], None]]]:
    """(app label, hook) of every installed app whose AppConfig defines `prepare`."""
    found = []
    for config in apps.get_app_configs():
        hook = getattr(config, "prepare", None)
        if callable(hook):
            found.append((config.label, hook))
    return found


class Command(BaseCommand):
    help = "Assemble the bundled model files and load base data (idempotent)."
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **opts: Any) -> None:
        model = parse_model_spec(settings.LLM_MODEL)
        if model.target == "bundled" and model.backend in ("llama_cpp", "transformers"):
            from llm.backends.llama_cpp_backend import bundled_gguf_path

            start = time.perf_counter()
            path = bundled_gguf_path()
            self.stdout.write(f"language model: {path} ({time.perf_counter() - start:.1f}s)")
        else:
            self.stdout.write(f"language model: {settings.LLM_MODEL} (not bundled; nothing to assemble)")
        embedding = parse_embedding_spec(settings.EMBEDDING_MODEL)
        if embedding.backend == "sentence_transformers" and embedding.target == "bundled":
            from llm.embeddings import bundled_embedding_path

            self.stdout.write(f"embeddings:     {bundled_embedding_path()}")
        else:
            self.stdout.write(f"embeddings:     {settings.EMBEDDING_MODEL}")
        from environment.i18n import compile_messages

        for mo in compile_messages([Path(p) for p in settings.LOCALE_PATHS]):
            self.stdout.write(f"translations:   {mo.relative_to(settings.BASE_DIR)}")
        for _label, hook in app_hooks():
            hook(self.stdout)
        self.stdout.write("prepare: OK")
