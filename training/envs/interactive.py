"""What every Retroformer environment offers: tasks, and sessions that play one task.

RISE's environments (base.py) grade one answer; Retroformer's are played over many
steps (Reflexion's HotPotQA, ALFWorld and WebShop), so they have their own interface:

    env = get_text_env("hotpotqa")
    tasks = env.load(None, limit=10)         # the sample set shipped with the project
    session = env.start(tasks[0])            # a fresh, independent game for this task
    obs = session.observation                # the first observation (the question, the room, the shop)
    r = session.step("Search[Paris]")        # one action, exactly as the actor wrote it
    r.observation, r.reward, r.done, r.won, r.info
    session.close()

Rules every environment keeps:
- `step` never raises on a bad action: an invalid or unparsable action gets the
  environment's error text as the observation (`r.info["invalid"] = True`), and the
  episode goes on. Only a broken environment (a bug, a file that vanished) raises.
- `reward` is the episode's return so far, in [0, 1]: HotPotQA exact match (0/1),
  ALFWorld 1 when won, WebShop the attribute/option/price score after buying.
  `won` is the environment's own success test (ALFWorld `won`, HotPotQA exact match,
  WebShop reward 1.0), never just `done`.
- After `max_steps` actions the session is done (reward as it stands) with
  `info["reason"] = "step cap"`; the loop also bounds it with a timeout.
- Sessions are independent: several sessions of one env may be played at once from
  different threads (one session is only ever used from one thread at a time).
- `load` raises BadData (one line naming the file and line) for a malformed file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from training.envs.base import BadData, UnknownEnv


@dataclass(frozen=True)
class Task:
    id: str  # stable across runs: "<env>-<id in the file>"
    env: str  # "hotpotqa" | "alfworld" | "webshop"
    goal: str  # one line for tables and logs: the question, the household goal, the shopping instruction
    data: dict[str, Any] = field(default_factory=dict)  # what the env needs to start the task (JSON-able)


@dataclass(frozen=True)
class StepResult:
    observation: str
    reward: float  # the episode's return so far, in [0, 1]
    done: bool
    won: bool
    info: dict[str, Any] = field(default_factory=dict)  # "invalid": bool, "reason": str, env extras


class Session(Protocol):
    task: Task
    observation: str  # the first observation, before any action
    steps: int  # actions taken so far

    def step(self, action: str) -> StepResult:
        """Play one action (the text inside the actor's `Action:` line, e.g. `Search[x]`)."""

    def close(self) -> None:
        """Free what the session holds (a TextWorld game); safe to call twice."""


class TextEnv(Protocol):
    name: str
    max_steps: int  # the step cap (HotPotQA 6, ALFWorld 50, WebShop 15)

    def sample_path(self) -> Path:
        """The sample set shipped with the project (the default --data)."""

    def load(self, path: str | Path | None, *, limit: int | None = None) -> list[Task]:
        """Tasks from a file (or the env's real data when present), else the sample set."""

    def start(self, task: Task) -> Session:
        """A fresh game of `task`."""

    def instructions(self) -> str:
        """The fixed part of the actor's prompt: what the task is and which actions exist."""

    def examples(self) -> str:
        """Few-shot solved trajectories in Thought/Action/Observation form (from a prompt file)."""


__all__ = ["BadData", "Session", "StepResult", "Task", "TextEnv", "UnknownEnv"]
