"""Plain data passed between the gateway, its backends and its callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
T = TypeVar("T")


@dataclass(frozen=True)
class GenParams:
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def as_key(self) -> dict[str, Any]:
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": list(self.stop),
            "seed": self.seed,
        }


@dataclass
class Generation:
    """One sampled answer from a backend."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"


class Outcome(StrEnum):
    OK = "ok"  # a plain text/chat/embedding call that returned
    FIRST_TRY = "first_try"  # structured output valid on the first answer
    REPAIRED = "repaired"  # valid after one or more repair prompts
    FALLBACK = "fallback"  # never valid: the caller's fallback was returned
    ERROR = "error"  # the call raised (server unreachable, rate limited...)
    CANCELLED = "cancelled"  # a stream the caller stopped before the model finished


@dataclass
class Completion:
    """The answer to one prompt: `n` texts plus what it cost."""

    texts: list[str]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cached: bool = False
    finish_reasons: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.texts[0] if self.texts else ""


@dataclass
class Structured(Generic[T]):
    """A validated value (or the caller's fallback) and how it was obtained."""

    value: T
    outcome: Outcome
    attempts: int
    errors: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.FIRST_TRY, Outcome.REPAIRED)
