"""The settings of one Retroformer run, in one typed, validated place.

They are stored with each run (as_json) so it can be explained and repeated. Every
check fails with one line naming the command-line flag that sets the value.

Defaults follow Reflexion/Retroformer where they said something: 4 trials (the paper
reports success after up to 4 retries), at most 3 reflections in the actor's prompt,
greedy decoding for the actor. The limits on prompt sizes and time are ours: they keep
a run bounded whatever the model or the environment does.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any


class RetroSettingsError(ValueError):
    """Settings that cannot describe a run (one line, for a command to print)."""


@dataclass(frozen=True)
class RetroSettings:
    trials: int = 4  # trials per task: the first attempt and up to trials-1 retries
    max_reflections: int = 3  # how many of the latest reflections the actor sees
    actor_max_tokens: int = 256  # one Thought + Action needs far fewer; a bound, not a target
    actor_temperature: float = 0.0
    reflector_max_tokens: int = 256
    reflector_temperature: float = 0.0
    step_timeout: float = 120.0  # seconds for one environment call (start, step, replay per action)
    trial_timeout: float = 1800.0  # wall-clock seconds for one trial, waits for batched calls included
    actor_context_chars: int = 12_000  # the trajectory in the actor's prompt keeps its latest steps within this
    reflector_context_chars: int = 8_000  # the same for the reflector's view of a failed trial
    observation_chars: int = 3_000  # one observation in a prompt (the stored record keeps it whole)
    env_workers: int = 8  # environment calls run at once (ALFWorld steps are slow)
    seed: int = 0  # for sampling, when a temperature is above 0

    def __post_init__(self) -> None:
        whole = {
            "trials": ("--trials", 1),
            "max_reflections": ("--max_reflections", 0),
            "actor_max_tokens": ("--actor_max_tokens", 1),
            "reflector_max_tokens": ("--reflector_max_tokens", 1),
            "actor_context_chars": ("--actor_context_chars", 200),
            "reflector_context_chars": ("--reflector_context_chars", 200),
            "observation_chars": ("--observation_chars", 50),
            "env_workers": ("--env_workers", 1),
        }
        for name, (flag, least) in whole.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise RetroSettingsError(f"{flag} must be a whole number (got {value!r})")
            if value < least:
                raise RetroSettingsError(f"{flag} must be at least {least} (got {value})")
        for name in ("actor_temperature", "reflector_temperature"):
            flag = f"--{name}"
            value = getattr(self, name)
            if not _number(value) or not 0 <= value <= 2:
                raise RetroSettingsError(f"{flag} must be between 0 and 2 (got {value!r})")
        for name in ("step_timeout", "trial_timeout"):
            flag = f"--{name}"
            value = getattr(self, name)
            if not _number(value) or value <= 0:
                raise RetroSettingsError(f"{flag} must be a positive number of seconds (got {value!r})")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise RetroSettingsError(f"--seed must be a whole number (got {self.seed!r})")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RetroSettings:
        """Settings saved by `as_json`; keys this version does not know are refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RetroSettingsError(f"unknown Retroformer settings: {', '.join(unknown)}")
        return cls(**data)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


__all__ = ["RetroSettings", "RetroSettingsError"]
