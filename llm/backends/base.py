"""The interface every backend implements, and helpers they share."""

from __future__ import annotations

import abc
from collections.abc import Generator
from typing import Any

from llm.prompts import LLM_PROMPTS, render_prompt
from llm.types import Generation, GenParams, Message


class Backend(abc.ABC):
    """A model behind one of the supported engines.

    `timeout` is in seconds for this call; a backend raises LLMTimeout when it
    passes, RetryableError (with its fault kind) for failures worth retrying,
    LLMConfigError / LLMUnavailable for the rest. No other exception may escape.
    `schema` (a JSON schema) asks for constrained decoding where supported.
    """

    kind: str = "?"
    model_id: str = "?"
    default_concurrency: int = 1
    # True when one call can serve many prompts at once (real batching); otherwise
    # the gateway fans prompts out across its concurrency limit.
    native_batch: bool = False
    # True when the model only follows instructions given as chat messages (an
    # instruction-tuned model behind a chat endpoint); the gateway then sends a
    # completion-style prompt as one user message.
    prefers_chat: bool = False

    @abc.abstractmethod
    def complete(
        self, prompt: str, *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]: ...

    @abc.abstractmethod
    def chat(
        self, messages: list[Message], *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[Generation]: ...

    def complete_batch(
        self, prompts: list[str], *, params: GenParams, n: int, schema: dict[str, Any] | None, timeout: float
    ) -> list[list[Generation]]:
        return [self.complete(p, params=params, n=n, schema=schema, timeout=timeout) for p in prompts]

    def stream(
        self, kind: str, payload: str | list[Message], *, params: GenParams, timeout: float
    ) -> Generator[str, None, Generation]:
        """Yield text pieces as the model writes them, then return the whole Generation
        (text and token counts). Closing the generator stops the model. This default
        writes the whole answer as one piece; backends that can stream override it."""
        if kind == "complete":
            gens = self.complete(str(payload), params=params, n=1, schema=None, timeout=timeout)
        else:
            gens = self.chat(payload, params=params, n=1, schema=None, timeout=timeout)  # type: ignore[arg-type]
        gen = gens[0]
        if gen.text:
            yield gen.text
        return gen

    def probe(self, *, timeout: float) -> None:  # noqa: B027 - optional hook
        """Raise RetryableError (or LLMError) unless the model answers at all; an
        in-process model always does."""

    def describe(self) -> str:
        return f"{self.kind}:{self.model_id}"

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


def messages_as_prompt(messages: list[Message]) -> str:
    """Render a conversation for a model without a chat template (a base model)."""
    names = {"system": "System", "user": "User", "assistant": "Assistant"}
    transcript = "\n".join(f"{names.get(m['role'], m['role'].title())}: {m['content'].strip()}" for m in messages)
    return render_prompt(LLM_PROMPTS / "chat_as_completion.txt", transcript=transcript).rstrip("\n") + " "


def render_chat_prompt(tokenizer: Any, messages: list[Message], params: GenParams) -> tuple[str, GenParams]:
    """The prompt a chat becomes for a local model: its tokenizer's chat template, or
    plain "User: / Assistant:" turns with stops at the next turn when it has none (a
    base model). Backends that batch natively render chats with this so the gateway can
    batch them as completions."""
    if getattr(tokenizer, "chat_template", None):
        return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)), params
    stop = (*params.stop, "\nUser:", "\nSystem:")
    return messages_as_prompt(messages), GenParams(**{**params.as_key(), "stop": stop})
