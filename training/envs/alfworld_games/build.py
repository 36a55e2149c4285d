"""Write our household problems, and ALFWorld-style game files made from them.

python -m training.envs.alfworld_games.build
    rewrites training/envs/data/alfworld/ (problems/*.pddl and tasks.jsonl) from
    layouts.py: run it after editing a room or a task, and commit the result.

python -m training.envs.alfworld_games.build --game-tree DIR [--split valid_unseen]
    writes DIR/json_2.1.1/<split>/<task dir>/<trial dir>/ with game.tw-pddl,
    initial_state.pddl and traj_data.json for every sample task, laid out like the
    data `alfworld-download` fetches, so `ALFWORLD_DATA=DIR` plays them through the
    same path as the real 134 games. `solvable` and `walkthrough` come from the
    engine's own planner (about a second per game).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from training.envs.alfworld_games.engine import check_problem, domain_text, game_data, plan
from training.envs.alfworld_games.layouts import OBJECT_TYPES, RECEPTACLE_TYPES, SAMPLE_TASKS, HouseTask
from training.envs.alfworld_games.problem import problem_text

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "alfworld"
INDEX = "tasks.jsonl"


def index_row(task: HouseTask) -> dict[str, str]:
    return {
        "id": task.id,
        "type": task.type,
        "goal": task.goal,
        "problem": f"problems/{task.id}.pddl",
        "room": task.plan.name,
    }


def sample_files(tasks: Iterable[HouseTask] = SAMPLE_TASKS) -> dict[str, str]:
    """Relative path -> text of every file of the sample set."""
    tasks = list(tasks)
    files = {f"problems/{t.id}.pddl": problem_text(t) for t in tasks}
    files[INDEX] = "".join(json.dumps(index_row(t)) + "\n" for t in tasks)
    return files


def write_sample(out: Path = SAMPLE_DIR) -> list[Path]:
    written = []
    for rel, text in sample_files().items():
        path = out / rel
        if rel.endswith(".pddl"):
            check_problem(domain_text(), text, str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _traj_data(task: HouseTask) -> dict[str, Any]:
    # The fields ALFWorld reads: task_type (which games to play) and pddl_params (what
    # `alfworld-generate` fills its goal templates with).
    return {
        "task_id": task.id,
        "task_type": task.type,
        "pddl_params": {
            "object_target": OBJECT_TYPES[task.obj],
            "parent_target": RECEPTACLE_TYPES[task.recep] if task.recep else "",
            "toggle_target": OBJECT_TYPES[task.toggle] if task.toggle else "",
            "mrecep_target": "",
            "object_sliced": False,
        },
    }


def write_game_tree(
    root: Path,
    tasks: Iterable[HouseTask] = SAMPLE_TASKS,
    *,
    split: str = "valid_unseen",
    walkthroughs: Mapping[str, list[str]] | None = None,
) -> list[Path]:
    """Game files in ALFWorld's layout under root/json_2.1.1/<split>/; returns their paths.

    A task's walkthrough is taken from `walkthroughs` when given there, else found by
    the engine's planner; a game with none is written with solvable false."""
    game_files = []
    for task in tasks:
        obj = OBJECT_TYPES[task.obj]
        target = RECEPTACLE_TYPES[task.recep] if task.recep else OBJECT_TYPES[task.toggle or ""]
        folder = root / "json_2.1.1" / split / f"{task.type}-{obj}-None-{target}-{task.plan.name}" / f"trial_{task.id}"
        folder.mkdir(parents=True, exist_ok=True)
        problem = problem_text(task)
        known = (walkthroughs or {}).get(task.id)
        walkthrough = known if known is not None else plan(game_data(problem, task.goal), task.id)
        (folder / "initial_state.pddl").write_text(problem, encoding="utf-8")
        (folder / "traj_data.json").write_text(json.dumps(_traj_data(task), indent=1), encoding="utf-8")
        game_file = folder / "game.tw-pddl"
        game_file.write_text(json.dumps(game_data(problem, task.goal, walkthrough=walkthrough)), encoding="utf-8")
        game_files.append(game_file)
    return game_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--game-tree", type=Path, help="write ALFWorld-style game files under this folder instead")
    parser.add_argument("--split", default="valid_unseen", help="the split folder for --game-tree")
    args = parser.parse_args(argv)
    if args.game_tree:
        paths = write_game_tree(args.game_tree, split=args.split)
        print(f"wrote {len(paths)} games under {args.game_tree / 'json_2.1.1' / args.split}")
    else:
        paths = write_sample()
        print(f"wrote {len(paths)} files under {SAMPLE_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
