"""Load the configured model, make one structured call and report how it went.

The last line is always a one-line summary; the exit status is non-zero when the
model cannot be loaded or called, or its answer never validated.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from pydantic import BaseModel, Field

from llm import LLMError, call_context, render_prompt
from llm.prompts import LLM_PROMPTS


class CheckAnswer(BaseModel):
    answer: str = Field(min_length=1, max_length=40)
    confidence: int = Field(ge=0, le=10)


class Command(BaseCommand):
    help = "Check the configured language model (and embeddings) with one real call each."
    requires_system_checks: list[str] = []  # it reports model problems itself, in one line

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", help="a model spec to check instead of LLM_MODEL")
        parser.add_argument("--skip-embeddings", action="store_true", help="do not load the embeddings model")

    def handle(self, *args: Any, **opts: Any) -> None:
        from environment.gateway import gateway_from_settings

        spec = opts["model"] or settings.LLM_MODEL
        self.stdout.write(f"model:      {spec}")
        t0 = time.perf_counter()
        try:
            gw = gateway_from_settings(model=spec)
        except LLMError as exc:
            raise CommandError(f"llm_check: FAILED to load: {exc}") from None
        # Closed on every way out: an in-process model left to the garbage collector is freed
        # during interpreter shutdown, which prints a traceback.
        try:
            load = time.perf_counter() - t0
            self.stdout.write(f"backend:    {gw.backend.describe()} (loaded in {load:.2f}s)")
            prompt = render_prompt(LLM_PROMPTS / "check.txt")
            try:
                with call_context(run="llm_check"):
                    result = gw.structured(
                        CheckAnswer,
                        prompt=prompt,
                        purpose="check.structured",
                        fallback=CheckAnswer(answer="(fallback)", confidence=0),
                        max_tokens=48,
                        cache=False,
                    )
            except LLMError as exc:
                raise CommandError(f"llm_check: FAILED to call the model: {exc}") from None
            tok_s = result.completion_tokens / result.seconds if result.seconds > 0 else 0.0
            self.stdout.write(f"answer:     {result.value.model_dump()}")
            self.stdout.write(f"raw:        {result.raw[-1] if result.raw else ''!r}")
            self.stdout.write(
                f"latency:    {result.seconds:.2f}s, {result.completion_tokens} tokens, {tok_s:.1f} tokens/s"
            )
            self.stdout.write(f"validated:  {'yes' if result.ok else 'no'} ({result.outcome})")
            embed_note = "embeddings skipped"
            if not opts["skip_embeddings"]:
                try:
                    t1 = time.perf_counter()
                    with call_context(run="llm_check"):
                        vectors = gw.embed(["a quick check of the embeddings model"], purpose="check.embed")
                    took = time.perf_counter() - t1
                    embed_note = f"embeddings {settings.EMBEDDING_MODEL} {vectors.shape[1]}d in {took:.2f}s"
                except LLMError as exc:
                    raise CommandError(f"llm_check: FAILED embeddings: {exc}") from None
                self.stdout.write(f"embeddings: {embed_note}")
        except BaseException:
            _close_quietly(gw)  # the error in flight is the one to report
            raise
        gw.close()
        summary = (
            f"model={spec} latency={result.seconds:.2f}s {tok_s:.1f} tok/s structured={result.outcome} {embed_note}"
        )
        if not result.ok:
            raise CommandError(f"llm_check: FAILED: answer never validated ({'; '.join(result.errors)}) {summary}")
        self.stdout.write(f"llm_check: OK {summary}")


def _close_quietly(gw: Any) -> None:
    """Close the gateway after an error without hiding it: if flushing the traces fails
    too (say the database is not migrated), still free the model."""
    try:
        gw.close()
    except Exception:
        with contextlib.suppress(Exception):
            gw.backend.close()
