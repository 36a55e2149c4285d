"""Where problems come from, shared by the environments; and re-grading saved answers.

`load_problems(env, path, limit=)` decides by the path:

1. None: the sample set shipped with the project (`env.sample_path()`).
2. An existing local file: JSONL, one JSON object per line. Blank lines are skipped;
   every other line must parse, be an object and carry the env's required string
   fields, else `BadData("<file> line <n>: ...")` names the 1-based line. The env then
   checks the answer field (GSM8K: a `#### N`; MATH: a `\\boxed{}`), so a bad gold
   answer fails at load, not mid-run. `Problem.id` is `<env>-<n>` with n the line
   number, so a resumed run finds its problems again.
3. A path that does not exist but looks like a Hugging Face dataset id
   (`openai/gsm8k`, `gsm8k:main:test`, `HuggingFaceH4/MATH-500::test`, i.e.
   `name[:config[:split]]`): `datasets.load_dataset`, imported only here. Rows get
   ids `<env>-<row number, from 1>`, as a JSONL export of the same split would.
   Offline or unknown -> one-line `BadData` that says to pass a local JSONL file.
4. Anything else: `BadData("<path>: no such file")`.

`regrade(env, lines)` re-grades saved completions (`{"completion", "gold"}` per line)
for `manage.py run_rise_grade`; `Tally` counts the rewards for its summary line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.envs.base import RIGHT, UNREADABLE, BadData, Env, Grade, Problem

PROMPTS = Path(__file__).resolve().parent / "prompts"
SAMPLES = Path(__file__).resolve().parent / "data"

# name[:config[:split]] with a Hub-style name: "gsm8k", "openai/gsm8k", "a/b:main:test".
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(?:/[\w.-]+)?(?::[\w.-]*){0,2}$")

Row = dict[str, Any]
# Turns one checked row into a Problem; raises ValueError with a reason for a bad row.
RowToProblem = Callable[[Row, str], Problem]


def prompt_text(name: str) -> str:
    """The text of training/envs/prompts/<name>.txt (trailing newline dropped)."""
    return (PROMPTS / f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")


def looks_like_dataset_id(path: str) -> bool:
    """Whether a path that does not exist should be tried as a Hugging Face dataset id."""
    if path.endswith((".jsonl", ".json", ".txt", ".csv", ".parquet")) or path.startswith((".", "~")):
        return False
    return bool(_HF_ID.match(path))


def read_jsonl(path: Path, required: Iterable[str]) -> Iterator[tuple[int, Row]]:
    """(line number, object) for every non-blank line; BadData names a bad line."""
    required = tuple(required)
    name = str(path)
    try:
        handle = path.open(encoding="utf-8")
    except IsADirectoryError:
        raise BadData(f"{name}: is a directory, not a JSONL file") from None
    except OSError as e:
        raise BadData(f"{name}: cannot read ({e.strerror or e})") from None
    with handle:
        n = 0
        try:
            for n, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                yield n, parse_line(line, required, where=f"{name} line {n}")
        except UnicodeDecodeError:
            raise BadData(f"{name} near line {n + 1}: not UTF-8 text") from None


def parse_line(line: str, required: Iterable[str], *, where: str) -> Row:
    """One JSONL line as an object with the required string fields."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise BadData(f"{where}: not JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(row, dict):
        raise BadData(f"{where}: not a JSON object but {type(row).__name__}")
    for key in required:
        if key not in row:
            raise BadData(f"{where}: no {key!r} field")
        if not isinstance(row[key], str):
            raise BadData(f"{where}: {key!r} is {type(row[key]).__name__}, not a string")
    return row


def load_problems(
    env: str,
    path: str | Path | None,
    *,
    sample: Path,
    required: tuple[str, ...],
    to_problem: RowToProblem,
    hf_config: Callable[[str], str | None] = lambda name: None,
    limit: int | None = None,
) -> list[Problem]:
    """Problems for `env` from the sample set, a local JSONL file or a Hugging Face id."""
    if limit is not None and limit < 0:
        raise BadData(f"limit {limit}: must be 0 or more")
    if path is None:
        path = sample
    text = str(path)
    local = Path(text).expanduser()
    if local.exists():
        problems: list[Problem] = []
        for n, row in read_jsonl(local, required):
            if limit is not None and len(problems) >= limit:
                break
            problems.append(_checked(to_problem, row, f"{env}-{n}", f"{local} line {n}"))
        if not problems and limit != 0:
            raise BadData(f"{local}: no problems (the file is empty)")
        return problems
    if isinstance(path, str) and looks_like_dataset_id(text):
        return _load_hub(env, text, required=required, to_problem=to_problem, hf_config=hf_config, limit=limit)
    raise BadData(f"{text}: no such file")


def _checked(to_problem: RowToProblem, row: Row, problem_id: str, where: str) -> Problem:
    try:
        return to_problem(row, problem_id)
    except BadData as e:
        raise BadData(f"{where}: {e}") from None


def _load_hub(
    env: str,
    spec: str,
    *,
    required: tuple[str, ...],
    to_problem: RowToProblem,
    hf_config: Callable[[str], str | None],
    limit: int | None,
) -> list[Problem]:
    name, _, rest = spec.partition(":")
    config, _, split = rest.partition(":")
    config_name = config or hf_config(name)
    split = split or "test"
    hint = "pass a local JSONL file instead"
    try:
        import datasets  # imported here: heavy, and only this path needs it

        dataset = datasets.load_dataset(name, config_name, split=split)
    except Exception as e:  # offline, unknown id, bad config: all one message
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BadData(
            f"cannot load Hugging Face dataset {spec!r} ({type(e).__name__}: {reason[:200]}); {hint}"
        ) from None
    problems: list[Problem] = []
    for i, row in enumerate(dataset, start=1):
        if limit is not None and len(problems) >= limit:
            break
        where = f"dataset {spec!r} row {i}"
        checked = parse_line(json.dumps(dict(row)), required, where=where)
        problems.append(_checked(to_problem, checked, f"{env}-{i}", where))
    if not problems and limit != 0:
        raise BadData(f"dataset {spec!r}: no rows in split {split!r}")
    return problems


@dataclass(frozen=True)
class Regraded:
    line: int
    grade: Grade
    gold_answer: str

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "reward": self.grade.reward,
            "answer": self.grade.answer,
            "gold_answer": self.gold_answer,
            "reason": self.grade.reason,
        }


def regrade(env: Env, lines: Iterable[str], *, source: str = "input") -> Iterator[Regraded]:
    """Grade each `{"completion": ..., "gold": ...}` line again; blank lines are skipped.

    BadData names `source` and the 1-based line of a bad line (not JSON, a missing
    field, a gold field with no final answer in it)."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source} line {n}"
        row = parse_line(line, ("completion", "gold"), where=where)
        try:
            gold_answer = env.gold_answer(row["gold"])
            grade = env.grade(row["completion"], row["gold"])
        except BadData as e:
            raise BadData(f"{where}: {e}") from None
        yield Regraded(n, grade, gold_answer)


@dataclass
class Tally:
    right: int = 0
    wrong: int = 0
    unreadable: int = 0

    def add(self, reward: int) -> None:
        if reward == RIGHT:
            self.right += 1
        elif reward == UNREADABLE:
            self.unreadable += 1
        else:
            self.wrong += 1

    @property
    def total(self) -> int:
        return self.right + self.wrong + self.unreadable

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0

    def summary(self) -> str:
        """`accuracy 0.625 (5/8 right, 1 unreadable)`."""
        return f"accuracy {self.accuracy:.3f} ({self.right}/{self.total} right, {self.unreadable} unreadable)"
