"""ALFWorld for Retroformer: household tasks played by ALFWorld's own TextWorld PDDL engine.

    env = AlfworldEnv()
    task = env.load(None)[0]                 # the 134 eval games, or our own sample set
    session = env.start(task)
    session.observation                      # "You are in the middle of a room. ...\\nYour task is to: ..."
    session.step("go to cabinet 4").observation     # "You arrive at cabinet 4. The cabinet 4 is closed."
    session.step("open cabinet 4").observation      # "You open the cabinet 4. The cabinet 4 is open. In it, ..."
    ...
    r = session.step("move mug 1 to coffeemachine 1")
    r.won, r.reward, r.done                  # True, 1.0, True
    session.close()

The engine (alfworld_games/engine.py) is what ALFWorld plays: TextWorld's `PddlEnv` with
the ALFRED PDDL domain and text grammar shipped in the `alfworld` package, wrapped in
ALFWorld's `AlfredDemangler` (names like "mug 1"). Observations are the engine's text;
the first one drops the "-= Welcome to TextWorld, ALFRED! =-" banner and joins the room
description and the "Your task is to: ..." line with one newline, as Reflexion did.

Where the games come from (`load`):

1. `path=None`: ALFWorld's out-of-distribution evaluation games (134 with the released
   data), when `$ALFWORLD_DATA/json_2.1.1/valid_unseen` exists. ALFWORLD_DATA defaults
   to ~/.cache/alfworld, where `alfworld-download` puts the data (the same default
   alfworld itself uses). Otherwise our own sample set (data/alfworld/tasks.jsonl).
2. A folder holding `json_2.1.1/valid_unseen` (an ALFWORLD_DATA folder): those games.
   Any other folder: the games in it and below it.
3. A `.tw-pddl` file: that one game.
4. A `.jsonl` file: our format, one task a line: `id`, `type` (one of the six task
   types), `goal` (the sentence after "Your task is to: ") and `problem` (a PDDL problem
   file in the ALFRED domain, relative to the JSONL file's folder).

Game folders are read as ALFWorld's `AlfredTWEnv.collect_game_files` reads them: a game
is a folder with `traj_data.json` and `game.tw-pddl`; folders with "movable" or "Sliced"
in their path, task types other than the six, and games not marked `solvable` are
skipped; the order is sorted by path. Task ids: `alfworld-<task folder>-<trial folder>`
for game files, `alfworld-<id>` for our JSONL.

Every problem is parsed when loaded: one that does not parse, or uses a predicate or
object it never declares, raises BadData naming its file (`start` does the same if the
engine still cannot load it).

Actions are the engine's commands ("go to cabinet 1", "take mug 1 from cabinet 1",
"move mug 1 to countertop 1", "open/close X", "clean/heat/cool X with Y", "use desklamp 1",
"examine X", "inventory", "look", "help"). Case, extra spaces and a final full stop are
forgiven; "put X in/on Y" (the older ALFWorld wording Reflexion's prompts use) is played
as "move X to Y", and "toggle X" as "use X", when that command is possible (and
"move X to Y" as "put X in/on Y" in game files made with that older grammar). `think: ...`
is not played: it answers "OK." (Reflexion's ALFWorld actor thinks this way), and counts
as a step. Anything the engine does not accept gets its "Nothing happens." with
`info["invalid"] = True`.

Success is the engine's `won` (the goal holds), never `done`; reward 1.0 once won, else
0.0. The episode ends when won or after 50 actions (`info["reason"]`: "finished" or
"step cap"). `info` also carries "won" and the engine's "admissible_commands".
"""

from __future__ import annotations

import json
import os
import re
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm.prompts import render_prompt
from training.envs.alfworld_games.engine import (
    check_problem,
    close_game,
    domain_text,
    game_data,
    open_game,
    step_game,
)
from training.envs.alfworld_games.layouts import TASK_TYPES
from training.envs.base import BadData
from training.envs.data import PROMPTS, SAMPLES, prompt_text, read_jsonl
from training.envs.interactive import StepResult, Task

MAX_STEPS = 50
SPLIT = Path("json_2.1.1") / "valid_unseen"  # ALFWorld's eval_out_of_distribution data
ENDED = "The episode is over."
THINK_REPLY = "OK."
_GOAL_IN_GRAMMAR = re.compile(r"Your task is to: ([^\"\n]*?)\.?\"")
_BANNER = "-= Welcome to TextWorld, ALFRED! =-"


def alfworld_data_root() -> Path:
    """$ALFWORLD_DATA, or alfworld's own default (~/.cache/alfworld)."""
    return Path(os.environ.get("ALFWORLD_DATA") or Path.home() / ".cache" / "alfworld").expanduser()


# --- actions --------------------------------------------------------------------------

_PUT = re.compile(r"(?:put|place)\s+(.+?)\s+(?:in/on|in|on|into|onto|to)\s+(.+)")
_MOVE = re.compile(r"move\s+(.+?)\s+to\s+(.+)")
_TOGGLE = re.compile(r"(?:toggle|turn on|turn off|switch on|switch off)\s+(.+)")
_THINK = re.compile(r"\s*think\s*:", re.IGNORECASE)
_LONGEST = 300  # no command is longer; a longer action is left to the engine as it is


def is_think(action: str) -> bool:
    return _THINK.match(action) is not None


def to_command(action: str, admissible: list[str] | tuple[str, ...]) -> str:
    """The engine command for what the actor wrote (unchanged when nothing fits better)."""
    text = " ".join(action.split()).strip("`'\"").strip()
    if text.startswith(">"):  # Reflexion's transcripts prefix actions with "> "
        text = text[1:].strip()
    text = text.rstrip(".").strip().lower()
    if text in admissible or len(text) > _LONGEST:
        return text
    # Game files made with an older grammar say "put X in/on Y" where ours say "move X to Y".
    rewrites = ((_PUT, "move {} to {}"), (_PUT, "put {} in/on {}"), (_MOVE, "put {} in/on {}"), (_TOGGLE, "use {}"))
    for pattern, template in rewrites:
        m = pattern.fullmatch(text)
        if m and template.format(*m.groups()) in admissible:
            return template.format(*m.groups())
    return text


def first_observation(feedback: str) -> str:
    """The room and the task, without TextWorld's banner (as Reflexion showed them)."""
    parts = [p.strip() for p in feedback.split("\n\n") if p.strip()]
    if parts and parts[0] == _BANNER:
        parts = parts[1:]
    return "\n".join(parts)


# --- loading --------------------------------------------------------------------------


def _goal_of(grammar: str, where: str) -> str:
    m = _GOAL_IN_GRAMMAR.search(grammar)
    if m is None or not m.group(1).strip() or "UNKNOWN GOAL" in m.group(1):
        raise BadData(f"{where}: no 'Your task is to: ...' goal in the game's grammar")
    return m.group(1).strip()


def _read_game(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise BadData(f"{path}: cannot read ({e})") from None
    except json.JSONDecodeError as e:
        raise BadData(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(data, dict):
        raise BadData(f"{path}: not a game file (a JSON object with pddl_domain, grammar and pddl_problem)")
    for key in ("pddl_domain", "grammar", "pddl_problem"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise BadData(f"{path}: no {key!r} text")
    return data


def _game_task(game_file: Path, data: dict[str, Any], task_id: str, task_type: str) -> Task:
    goal = _goal_of(data["grammar"], str(game_file))
    check_problem(data["pddl_domain"], data["pddl_problem"], str(game_file))
    return Task(id=task_id, env="alfworld", goal=goal, data={"game_file": str(game_file), "type": task_type})


def _task_type(traj_file: Path) -> str:
    try:
        traj = json.loads(traj_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise BadData(f"{traj_file}: cannot read ({e})") from None
    except json.JSONDecodeError as e:
        raise BadData(f"{traj_file}: not JSON ({e.msg} at line {e.lineno})") from None
    task_type = traj.get("task_type") if isinstance(traj, dict) else None
    if not isinstance(task_type, str):
        raise BadData(f"{traj_file}: no 'task_type'")
    return task_type


def load_game_folder(folder: Path, *, limit: int | None = None) -> list[Task]:
    """The playable games under `folder`, as ALFWorld's evaluation picks them."""
    tasks: list[Task] = []
    for traj_file in sorted(folder.rglob("traj_data.json")):
        if limit is not None and len(tasks) >= limit:
            break
        trial = traj_file.parent
        game_file = trial / "game.tw-pddl"
        rel = trial.relative_to(folder)
        if "movable" in str(rel) or "Sliced" in str(rel) or not game_file.is_file():
            continue
        task_type = _task_type(traj_file)
        if task_type not in TASK_TYPES:
            continue
        data = _read_game(game_file)
        if data.get("solvable") is not True:  # alfworld skips games not known to be solvable
            continue
        tasks.append(_game_task(game_file, data, "alfworld-" + "-".join(rel.parts), task_type))
    if not tasks and limit != 0:
        raise BadData(f"{folder}: no playable ALFWorld games (folders with traj_data.json and a solvable game.tw-pddl)")
    return tasks


def load_game_file(game_file: Path) -> Task:
    """One game file, played whatever its `solvable` flag says (it was asked for by name)."""
    traj_file = game_file.parent / "traj_data.json"
    task_type = _task_type(traj_file) if traj_file.is_file() else ""
    return _game_task(game_file, _read_game(game_file), f"alfworld-{game_file.parent.name}", task_type)


def load_jsonl(path: Path, *, limit: int | None = None) -> list[Task]:
    """Our own problems: one task a line (id, type, goal, problem)."""
    tasks: list[Task] = []
    seen: set[str] = set()
    domain = domain_text()
    for n, row in read_jsonl(path, ("id", "type", "goal", "problem")):
        if limit is not None and len(tasks) >= limit:
            break
        where = f"{path} line {n}"
        if row["type"] not in TASK_TYPES:
            raise BadData(f"{where}: type {row['type']!r} is not one of {', '.join(TASK_TYPES)}")
        if row["id"] in seen:
            raise BadData(f"{where}: id {row['id']!r} is used twice")
        seen.add(row["id"])
        goal = " ".join(row["goal"].split()).rstrip(".")
        if not goal:
            raise BadData(f"{where}: empty goal")
        problem = path.parent / row["problem"]
        try:
            text = problem.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise BadData(f"{where}: cannot read problem {problem} ({e})") from None
        check_problem(domain, text, str(problem))
        tasks.append(
            Task(
                id=f"alfworld-{row['id']}",
                env="alfworld",
                goal=goal,
                data={"problem": str(problem.resolve()), "type": row["type"]},
            )
        )
    if not tasks and limit != 0:
        raise BadData(f"{path}: no tasks (the file is empty)")
    return tasks


# --- playing --------------------------------------------------------------------------


@dataclass
class _Game:
    env: Any  # the AlfredDemangler-wrapped PddlEnv
    pddl_env: Any


class AlfworldSession:
    """One game of one task; see the module docstring for what `step` does."""

    def __init__(self, task: Task, data: dict[str, Any], where: str, *, max_steps: int = MAX_STEPS) -> None:
        self.task = task
        self.max_steps = max_steps
        self.steps = 0
        env, pddl_env, state = open_game(data, where)
        self._game: _Game | None = _Game(env, pddl_env)
        # A session dropped without close() still gives its library copy back.
        self._finalizer = weakref.finalize(self, close_game, pddl_env)
        self.observation = first_observation(state.feedback)
        self._admissible: list[str] = list(state["admissible_commands"] or [])
        self._won = False
        self._reason = ""

    @property
    def admissible_commands(self) -> list[str]:
        return list(self._admissible)

    def step(self, action: str) -> StepResult:
        if self._game is None:
            raise RuntimeError(f"{self.task.id}: step() after close()")
        if self._reason:
            return self._result(ENDED, invalid=True)
        self.steps += 1
        if is_think(action):
            observation, invalid = THINK_REPLY, False
        else:
            command = to_command(action, self._admissible)
            invalid = command not in self._admissible
            state = step_game(self._game.env, command)
            observation = str(state.feedback).strip()
            self._admissible = list(state["admissible_commands"] or [])
            self._won = bool(state["won"])
        if self._won:
            self._reason = "finished"
        elif self.steps >= self.max_steps:
            self._reason = "step cap"
        return self._result(observation, invalid=invalid)

    def _result(self, observation: str, *, invalid: bool) -> StepResult:
        info: dict[str, Any] = {"invalid": invalid, "won": self._won, "admissible_commands": list(self._admissible)}
        if self._reason:
            info["reason"] = self._reason
        return StepResult(
            observation=observation,
            reward=1.0 if self._won else 0.0,
            done=bool(self._reason),
            won=self._won,
            info=info,
        )

    def close(self) -> None:
        self._game = None
        self._finalizer()  # runs close_game once; later calls do nothing


class AlfworldEnv:
    name = "alfworld"
    max_steps = MAX_STEPS

    def sample_path(self) -> Path:
        return SAMPLES / "alfworld" / "tasks.jsonl"

    def load(self, path: str | Path | None, *, limit: int | None = None) -> list[Task]:
        if limit is not None and limit < 0:
            raise BadData(f"limit {limit}: must be 0 or more")
        if path is None:
            split = alfworld_data_root() / SPLIT
            if split.is_dir():
                return load_game_folder(split, limit=limit)
            return load_jsonl(self.sample_path(), limit=limit)
        local = Path(path).expanduser()
        if local.is_dir():
            return load_game_folder(local / SPLIT if (local / SPLIT).is_dir() else local, limit=limit)
        if not local.exists():
            raise BadData(f"{local}: no such file or folder")
        if local.suffix == ".tw-pddl":
            return [] if limit == 0 else [load_game_file(local)]
        if local.suffix == ".jsonl":
            return load_jsonl(local, limit=limit)
        raise BadData(f"{local}: expected a .jsonl task file, a .tw-pddl game or a folder of ALFWorld games")

    def start(self, task: Task) -> AlfworldSession:
        if "game_file" in task.data:
            game_file = Path(task.data["game_file"])
            return AlfworldSession(task, _read_game(game_file), str(game_file), max_steps=self.max_steps)
        problem = Path(task.data["problem"])
        try:
            text = problem.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise BadData(f"{problem}: cannot read ({e})") from None
        return AlfworldSession(task, game_data(text, task.goal), str(problem), max_steps=self.max_steps)

    def instructions(self) -> str:
        return render_prompt(PROMPTS / "alfworld_instructions.txt", max_steps=self.max_steps)

    def examples(self) -> str:
        return prompt_text("alfworld_examples")
