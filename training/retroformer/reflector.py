"""The retrospective model: after a failed trial, a diagnosis and a new plan.

Retroformer's reflector reads the failed trajectory and writes a reflection: "a
diagnosis of a possible reason for failure and a new, concise, high-level plan".
The next trial's actor sees it (with the last few others) as its memory.

The reflector is its own gateway, built from its own spec, so a frozen actor can be
paired with a trained reflector. Its prompt (prompts/reflector.txt, our own words)
holds the task's goal, what earlier reflections concluded, the failed trial bounded to
its latest steps (`reflector_context_chars`) and how the trial ended.

`reflect` raises the gateway's LLMError; the loop (trials.py) turns a failure into a
recorded reason and plays the next trial without a new reflection.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from llm.errors import LLMError
from llm.gateway import Gateway
from llm.prompts import render_prompt
from llm.types import Message
from training.envs.interactive import Task
from training.retroformer.actor import PROMPTS, render_trajectory
from training.retroformer.records import Trial
from training.retroformer.settings import RetroSettings

MAX_REFLECTION_CHARS = 2_000


class EmptyReflection(LLMError):
    """The reflector answered, but with nothing usable."""


def outcome_text(trial: Trial) -> str:
    reason = trial.reason or "unfinished"
    return f"{reason}, after {len(trial.steps)} step{'s' if len(trial.steps) != 1 else ''}, reward {trial.reward:g}"


def reflection_messages(
    task: Task,
    first_observation: str,
    trial: Trial,
    reflections: Sequence[str],
    *,
    settings: RetroSettings,
) -> list[Message]:
    """The reflector's whole prompt for `trial`, as chat messages (what gets recorded)."""
    written = [r.strip() for r in reflections if r.strip()]
    kept = written[-settings.max_reflections :] if settings.max_reflections > 0 else []
    earlier = ""
    if kept:
        listed = "\n".join(f"- {r}" for r in kept)
        earlier = render_prompt(PROMPTS / "reflector_earlier.txt", reflections=listed)
    content = render_prompt(
        PROMPTS / "reflector.txt",
        goal=task.goal.strip(),
        earlier=earlier,
        trial=trial.trial + 1,
        trajectory=render_trajectory(
            first_observation,
            trial.steps,
            max_chars=settings.reflector_context_chars,
            observation_chars=settings.observation_chars,
        ),
        outcome=outcome_text(trial),
    )
    return [{"role": "user", "content": content}]


def clean_reflection(text: str) -> str:
    """The reflection as the actor will read it: no surrounding quotes or markdown
    fences, blank lines dropped, bounded to MAX_REFLECTION_CHARS."""
    text = re.sub(r"```\w*", "", text).strip().strip('"').strip()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(line for line in lines if line)
    return text[:MAX_REFLECTION_CHARS].rstrip()


def reflect(
    reflector: Gateway,
    task: Task,
    trial: Trial,
    reflections: Sequence[str],
    *,
    settings: RetroSettings,
    first_observation: str = "",
) -> str:
    """One reflection on a failed trial; raises LLMError (EmptyReflection for an empty answer)."""
    messages = reflection_messages(task, first_observation, trial, reflections, settings=settings)
    answer = reflector.chat(
        messages,
        purpose=REFLECT_PURPOSE,
        max_tokens=settings.reflector_max_tokens,
        temperature=settings.reflector_temperature,
        seed=None if settings.reflector_temperature == 0 else settings.seed + trial.trial,
    )
    return accept(answer.text)


def accept(text: str) -> str:
    cleaned = clean_reflection(text)
    if not cleaned:
        raise EmptyReflection("the reflector answered with no text")
    return cleaned


REFLECT_PURPOSE = "retro.reflect"

__all__ = [
    "MAX_REFLECTION_CHARS",
    "REFLECT_PURPOSE",
    "EmptyReflection",
    "accept",
    "clean_reflection",
    "outcome_text",
    "reflect",
    "reflection_messages",
]
