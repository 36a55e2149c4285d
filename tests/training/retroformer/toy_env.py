"""A tiny deterministic text game for the Retroformer engine's tests.

Each task hides an order of coloured buttons ("press red", "press blue"). A right
press lights one more lamp; a wrong one puts every lamp out (start again). Lighting
them all wins (reward 1). The reward is the return so far: the share of lamps lit.
Anything but "press <colour>" is invalid: the environment's error text comes back and
the game goes on. After `max_steps` actions the session is done ("step cap").

`task.data` can also ask for a broken task ("broken": raise on start) or a slow step
("sleep": seconds every step takes). The env keeps every session it started, so tests
can look at their state and whether they were closed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from training.envs.interactive import StepResult, Task

COLOURS = ("red", "green", "blue")
INVALID = "Invalid action: write press <colour> (red, green or blue)."
SOLUTIONS = {
    "toy-1": ["press red", "press blue"],
    "toy-2": ["press green", "press green", "press red"],
    "toy-3": ["press blue"],
    "toy-4": ["press red", "press green"],
    "toy-5": ["press blue", "press red"],
}


class ToySession:
    def __init__(self, task: Task, max_steps: int) -> None:
        if task.data.get("broken"):
            raise ValueError(f"task {task.id}: the game file does not parse")
        self.task = task
        self.max_steps = max_steps
        self.solution: list[str] = list(task.data["solution"])
        self.lit = 0
        self.steps = 0
        self.actions: list[str] = []
        self.closed = False
        self.observation = (
            f"Task {task.id}: press the buttons in the hidden order to light all "
            f"{len(self.solution)} lamps. Buttons: {', '.join(COLOURS)}."
        )

    def step(self, action: str) -> StepResult:
        if self.closed:
            raise RuntimeError("step on a closed session")
        sleep = float(self.task.data.get("sleep", 0))
        if sleep:
            time.sleep(sleep)
        self.steps += 1
        self.actions.append(action)
        words = action.strip().lower().split()
        reward = self.lit / len(self.solution)
        if len(words) != 2 or words[0] != "press" or words[1] not in COLOURS:
            return self._result(INVALID, reward, invalid=True)
        if action.strip().lower() == self.solution[self.lit]:
            self.lit += 1
            if self.lit == len(self.solution):
                return StepResult("All lamps are lit. You win!", 1.0, True, True, {"invalid": False})
            return self._result(f"Lamp {self.lit} lights up.", self.lit / len(self.solution))
        self.lit = 0
        return self._result("Wrong button: every lamp goes out.", 0.0)

    def _result(self, text: str, reward: float, *, invalid: bool = False) -> StepResult:
        if self.steps >= self.max_steps:
            return StepResult(text, reward, True, False, {"invalid": invalid, "reason": "step cap"})
        return StepResult(text, reward, False, False, {"invalid": invalid})

    def close(self) -> None:
        self.closed = True


class ToyEnv:
    name = "toy"

    def __init__(self, max_steps: int = 6) -> None:
        self.max_steps = max_steps
        self.sessions: list[ToySession] = []
        self._lock = threading.Lock()

    def sample_path(self) -> Path:
        return Path("/nonexistent")

    def load(self, path: str | Path | None, *, limit: int | None = None) -> list[Task]:
        tasks = [task(name) for name in SOLUTIONS]
        return tasks[:limit] if limit else tasks

    def start(self, task: Task) -> ToySession:
        session = ToySession(task, self.max_steps)
        with self._lock:
            self.sessions.append(session)
        return session

    def instructions(self) -> str:
        return "Light every lamp by pressing buttons. Actions: press red, press green, press blue."

    def examples(self) -> str:
        return "Task x: ...\nThought: I will try red first.\nAction: press red\nObservation: Lamp 1 lights up."


def task(name: str, solution: list[str] | None = None, **extra: Any) -> Task:
    """A toy task; `extra` goes into its data ("broken": True, "sleep": seconds)."""
    moves = solution or SOLUTIONS.get(name, ["press red"])
    return Task(id=name, env="toy", goal=f"light the lamps of {name}", data={"solution": moves, **extra})
