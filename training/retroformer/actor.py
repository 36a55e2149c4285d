"""The actor: ReAct prompting (Thought / Action / Observation) and the parsing of its answer.

The actor's prompt (prompts/actor.txt) is, in order:

    env.instructions()              what the task is and which actions exist
    env.examples()                  solved trajectories in Thought/Action/Observation form
    memory                          the last `max_reflections` reflections written after
                                    failed trials of this task (prompts/actor_memory.txt)
    the trajectory so far           the first observation, then each step's
                                    Thought / Action / Observation lines

and the model is asked for the next "Thought: ...\\nAction: ..." (the call stops at
"\\nObservation", where the environment takes over).

Parsing keeps exactly one action per turn. Chat models often write several
Thought/Action/Observation rounds at once, number them ("Action 1:") as Reflexion's
prompts did, wrap them in markdown, or skip the thought; the parser takes the first
`Action:` line, cuts what follows the action (a second action, an invented
observation, a closing remark), and accepts an answer that is only an action. With
no `Action:` label, a line that is a bracketed action alone ("1. Search[Paris]", what
the bundled 270M model writes) is the action. An answer with neither has no action:
the environment is not called, and the step's observation is INVALID_FORMAT. Answers
are cut to MAX_RAW_CHARS before parsing and storing, so a 100 KB answer costs no more
than a short one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llm.prompts import render_prompt
from llm.types import Message
from training.retroformer.records import Step
from training.retroformer.settings import RetroSettings

PROMPTS = Path(__file__).resolve().parent / "prompts"
INVALID_FORMAT = "Invalid format: write one line 'Action: <action>'"
ACTOR_STOP = ("\nObservation",)
MAX_RAW_CHARS = 4_000  # the model's text kept per step (and all the parser reads)
MAX_THOUGHT_CHARS = 1_000
MAX_ACTION_CHARS = 500

# "Action:", "Action 2:", "**Action:**", "2. Action:", "- Action:" at the start of a line.
_ACTION_LINE = re.compile(r"^[ \t>*_`#-]*(?:\d+[.)][ \t]*)?[*_`]*action[ \t]*\d*[ \t]*[*_`]*[ \t]*:[*_`]*", re.I | re.M)
# The same label inside a line ("Thought: I should look. Action: Search[x]"): capitalised only.
_ACTION_INLINE = re.compile(r"(?<![A-Za-z])Action[ \t]*\d*[ \t]*:")
_THOUGHT_LABEL = re.compile(r"[*_`]*thought[ \t]*\d*[ \t]*[*_`]*[ \t]*:[*_`]*", re.I)
# What ends an action written on the same line as other text.
_AFTER_ACTION = re.compile(r"\s(?:Observation|Thought|Action)[ \t]*\d*[ \t]*:", re.I)
_BRACKETED = re.compile(r"^[A-Za-z][\w ]{0,40}?\[")
# A bracketed action alone on its line, maybe numbered or bulleted: "1. Search[Paris]".
_BARE_ACTION = re.compile(
    r"^[ \t>*_`#-]*(?:\d+[.)][ \t]*)?[*_`]*(?=[A-Za-z][A-Za-z ]{0,20}\[[^\]\n]*\][*_`.]*[ \t]*$)", re.M
)


@dataclass(frozen=True)
class ParsedTurn:
    thought: str
    action: str | None  # None: no parsable action


def parse_turn(raw: str) -> ParsedTurn:
    """The thought and the first action of an actor's answer (see the module docstring)."""
    text = bound_raw(raw)
    match = _ACTION_LINE.search(text) or _ACTION_INLINE.search(text) or _BARE_ACTION.search(text)
    if match is None:
        return ParsedTurn(_thought(text), None)
    thought = _thought(text[: match.start()])
    rest = text[match.end() :]
    line, _, after = rest.partition("\n")
    if not line.strip():  # "Action:" alone on its line, the action on the next one
        line = next((candidate for candidate in after.split("\n") if candidate.strip()), "")
    action = clean_action(line)
    return ParsedTurn(thought, action or None)


def bound_raw(raw: str) -> str:
    return raw[:MAX_RAW_CHARS]


def clean_action(line: str) -> str:
    """One action from the text after an `Action:` label: no second action, no junk after it."""
    cut = _AFTER_ACTION.search(" " + line)
    if cut is not None:
        line = (" " + line)[: cut.start()]
    action = line.strip().strip("*_`\"'").strip()
    if _BRACKETED.match(action):
        # Search[x], click[Buy Now], Finish[an answer]: the action ends at its bracket.
        depth = 0
        for i, ch in enumerate(action):
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    action = action[: i + 1]
                    break
    else:
        # "go to desk 1." : plain commands never end with punctuation.
        action = action.rstrip(" .,;:!")
    return action[:MAX_ACTION_CHARS].strip()


def _thought(text: str) -> str:
    labels = list(_THOUGHT_LABEL.finditer(text))
    if labels:
        text = text[labels[-1].end() :]
    return " ".join(text.split())[:MAX_THOUGHT_CHARS]


# ---------------------------------------------------------------------------- prompts
def render_step(step: Step, *, observation_chars: int) -> str:
    lines = []
    if step.thought:
        lines.append(f"Thought: {step.thought}")
    if step.action:
        lines.append(f"Action: {step.action}")
    lines.append(f"Observation: {_cut(step.observation, observation_chars)}")
    return "\n".join(lines)


def render_trajectory(first_observation: str, steps: Sequence[Step], *, max_chars: int, observation_chars: int) -> str:
    """The first observation and the latest steps that fit in `max_chars`; older steps
    are replaced by one line saying how many were left out."""
    head = _cut(first_observation, observation_chars)
    budget = max_chars - len(head)
    kept: list[str] = []
    for step in reversed(steps):
        block = render_step(step, observation_chars=observation_chars)
        if kept and budget - len(block) - 1 < 0:
            break
        kept.append(block)
        budget -= len(block) + 1
    left_out = len(steps) - len(kept)
    parts = [head]
    if left_out:
        parts.append(f"({left_out} earlier step{'s' if left_out != 1 else ''} left out)")
    parts.extend(reversed(kept))
    return "\n".join(parts)


def memory_text(reflections: Sequence[str], max_reflections: int) -> str:
    """The actor's memory section: the last `max_reflections` non-empty reflections, or ""."""
    written = [r for r in reflections if r.strip()]
    kept = written[-max_reflections:] if max_reflections > 0 else []
    if not kept:
        return ""
    listed = "\n".join(f"- Attempt {i}: {r.strip()}" for i, r in enumerate(kept, start=1))
    return render_prompt(PROMPTS / "actor_memory.txt", reflections=listed) + "\n\n"


def actor_messages(
    instructions: str,
    examples: str,
    first_observation: str,
    steps: Sequence[Step],
    reflections: Sequence[str],
    *,
    settings: RetroSettings,
) -> list[Message]:
    """The chat the actor answers for its next step (`instructions` and `examples` are
    the environment's, read once per run)."""
    content = render_prompt(
        PROMPTS / "actor.txt",
        instructions=instructions.strip(),
        examples=examples.strip(),
        memory=memory_text(reflections, settings.max_reflections),
        trajectory=render_trajectory(
            first_observation,
            steps,
            max_chars=settings.actor_context_chars,
            observation_chars=settings.observation_chars,
        ),
    )
    return [{"role": "user", "content": content}]


def _cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 15].rstrip() + " ... (cut)"


__all__ = [
    "ACTOR_STOP",
    "INVALID_FORMAT",
    "MAX_RAW_CHARS",
    "ParsedTurn",
    "actor_messages",
    "bound_raw",
    "clean_action",
    "memory_text",
    "parse_turn",
    "render_step",
    "render_trajectory",
]
