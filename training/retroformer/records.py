"""What the Retroformer loop records: one step, one trial, one task's episode.

The JSON shapes are the ones the rest of `training` reads (the eval command, the
results page, `retroformer_collect`):

    step:    {"thought", "action", "observation", "raw", "invalid"}
    trial:   {"trial": k (0-based), "steps": [step...], "reward", "won", "reason"}
    episode: {"task_id", "env", "goal", "trials": [trial...], "reflections": [str...],
              "observation", "reflection_errors": [str...], "reflection_prompts": [[message...]...]}

`reflections[k]` was written after trial k failed; it is "" when the reflector could
not write one, and `reflection_errors[k]` says why ("" when it worked).
`reflection_prompts[k]` is the reflector's whole prompt for trial k (chat messages),
kept so a reflection can be rewarded and trained on exactly as it was asked for.
`observation` is the task's first observation (every trial starts from the same one).

A trial's `reason` is "" while it is being played (a run saved mid-trial), and then one
of REASONS, or "model error: ..." / "env error: ...". `reward` is the environment's
return so far, so a part-played trial's value is what it had reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llm.types import Message

FINISHED = "finished"  # the environment said the episode is over (answered, bought, won)
STEP_CAP = "step cap"  # env.max_steps actions without the environment ending it
TIMEOUT = "timeout"  # the trial's wall clock, or one environment call, ran past its limit
NO_VALID_ACTION = "no valid action"  # the step cap, and the actor never wrote a parsable action
MODEL_ERROR = "model error"  # "model error: <the gateway's one-line error>"
ENV_ERROR = "env error"  # "env error: ...": the environment raised (a bug, a broken task file)
REASONS = (FINISHED, STEP_CAP, TIMEOUT, NO_VALID_ACTION)


class RecordError(ValueError):
    """Saved episode JSON that cannot be read back; the message is one line naming the field."""


@dataclass
class Step:
    thought: str
    action: str  # "" when the answer had no parsable action (the environment was not called)
    observation: str
    raw: str  # the model's text, cut to a bounded length
    invalid: bool  # no parsable action, or the environment rejected the action

    def as_json(self) -> dict[str, Any]:
        return {
            "thought": self.thought,
            "action": self.action,
            "observation": self.observation,
            "raw": self.raw,
            "invalid": self.invalid,
        }

    @classmethod
    def from_json(cls, data: Any, *, where: str = "step") -> Step:
        data = _mapping(data, where)
        return cls(
            thought=_text(data, "thought", where),
            action=_text(data, "action", where),
            observation=_text(data, "observation", where),
            raw=_text(data, "raw", where, default=""),
            invalid=bool(data.get("invalid", False)),
        )


@dataclass
class Trial:
    trial: int
    steps: list[Step] = field(default_factory=list)
    reward: float = 0.0
    won: bool = False
    reason: str = ""  # "" while being played

    @property
    def finished(self) -> bool:
        return bool(self.reason)

    @property
    def env_error(self) -> bool:
        return self.reason.startswith(ENV_ERROR)

    def as_json(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "steps": [s.as_json() for s in self.steps],
            "reward": self.reward,
            "won": self.won,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Any, *, where: str = "trial") -> Trial:
        data = _mapping(data, where)
        steps = data.get("steps", [])
        if not isinstance(steps, list):
            raise RecordError(f"{where}.steps is {type(steps).__name__}, not a list")
        try:
            number = int(data["trial"])
            reward = float(data.get("reward", 0.0))
        except KeyError:
            raise RecordError(f"{where} has no 'trial'") from None
        except (TypeError, ValueError):
            raise RecordError(f"{where}: 'trial' must be a whole number and 'reward' a number") from None
        return cls(
            trial=number,
            steps=[Step.from_json(s, where=f"{where}.steps[{i}]") for i, s in enumerate(steps)],
            reward=reward,
            won=bool(data.get("won", False)),
            reason=_text(data, "reason", where, default=""),
        )


@dataclass
class TaskEpisode:
    task_id: str
    env: str
    goal: str
    trials: list[Trial] = field(default_factory=list)
    reflections: list[str] = field(default_factory=list)
    observation: str = ""
    reflection_errors: list[str] = field(default_factory=list)
    reflection_prompts: list[list[Message]] = field(default_factory=list)

    @property
    def won(self) -> bool:
        return any(t.won for t in self.trials)

    def done(self, trials: int) -> bool:
        """Nothing left to play: won, `trials` trials over, or the environment broke."""
        if self.won:
            return True
        if not self.trials:
            return False
        last = self.trials[-1]
        return last.finished and (last.env_error or len(self.trials) >= trials)

    def needs_reflection(self, trials: int) -> bool:
        """The last trial failed, another will follow, and it has no reflection yet."""
        return (
            bool(self.trials)
            and not self.done(trials)
            and self.trials[-1].finished
            and len(self.reflections) < len(self.trials)
        )

    def memory(self, max_reflections: int) -> list[str]:
        """The reflections the next trial's actor sees: the last few that were written."""
        written = [r for r in self.reflections if r]
        return written[-max_reflections:] if max_reflections > 0 else []

    def add_reflection(self, text: str, *, error: str = "", prompt: list[Message] | None = None) -> None:
        self.reflections.append(text)
        self.reflection_errors.append(error)
        self.reflection_prompts.append(list(prompt or []))

    def as_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "env": self.env,
            "goal": self.goal,
            "trials": [t.as_json() for t in self.trials],
            "reflections": list(self.reflections),
            "observation": self.observation,
            "reflection_errors": list(self.reflection_errors),
            "reflection_prompts": [list(p) for p in self.reflection_prompts],
        }

    @classmethod
    def from_json(cls, data: Any) -> TaskEpisode:
        data = _mapping(data, "episode")
        where = f"episode {data.get('task_id', '?')!s}"
        trials = data.get("trials", [])
        reflections = data.get("reflections", [])
        if not isinstance(trials, list) or not isinstance(reflections, list):
            raise RecordError(f"{where}: 'trials' and 'reflections' must be lists")
        if not all(isinstance(r, str) for r in reflections):
            raise RecordError(f"{where}: every reflection must be a string")
        errors = data.get("reflection_errors") or [""] * len(reflections)
        prompts = data.get("reflection_prompts") or [[] for _ in reflections]
        if len(errors) != len(reflections) or len(prompts) != len(reflections):
            raise RecordError(f"{where}: reflection_errors and reflection_prompts need one entry per reflection")
        episode = cls(
            task_id=_text(data, "task_id", "episode"),
            env=_text(data, "env", where),
            goal=_text(data, "goal", where, default=""),
            trials=[Trial.from_json(t, where=f"{where}: trials[{i}]") for i, t in enumerate(trials)],
            reflections=list(reflections),
            observation=_text(data, "observation", where, default=""),
            reflection_errors=[str(e) for e in errors],
            reflection_prompts=[_messages(p, f"{where}: reflection_prompts[{i}]") for i, p in enumerate(prompts)],
        )
        for i, trial in enumerate(episode.trials):
            if trial.trial != i:
                raise RecordError(f"{where}: trials[{i}] says it is trial {trial.trial}")
            if i < len(episode.trials) - 1 and not trial.finished:
                raise RecordError(f"{where}: trials[{i}] has no reason but a later trial exists")
        return episode


def _messages(data: Any, where: str) -> list[Message]:
    if not isinstance(data, list) or not all(isinstance(m, dict) for m in data):
        raise RecordError(f"{where} must be a list of chat messages")
    return [{str(k): str(v) for k, v in m.items()} for m in data]


def _mapping(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise RecordError(f"{where} is {type(data).__name__}, not an object")
    return data


def _text(data: dict[str, Any], key: str, where: str, *, default: str | None = None) -> str:
    value = data.get(key, default)
    if value is None:
        raise RecordError(f"{where} has no {key!r}")
    if not isinstance(value, str):
        raise RecordError(f"{where}: {key!r} is {type(value).__name__}, not a string")
    return value


__all__ = [
    "ENV_ERROR",
    "FINISHED",
    "MODEL_ERROR",
    "NO_VALID_ACTION",
    "REASONS",
    "STEP_CAP",
    "TIMEOUT",
    "RecordError",
    "Step",
    "TaskEpisode",
    "Trial",
]
