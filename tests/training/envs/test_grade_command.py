"""manage.py run_rise_grade: one JSON line per input line on stdout, the summary on stderr."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from training.envs import Tally, get_env, regrade


def run(*args: str) -> tuple[list[dict[str, object]], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("run_rise_grade", *args, stdout=out, stderr=err)
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue().strip()


def write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_gsm8k_lines_and_summary(tmp_path: Path) -> None:
    gold = "3 + 15 = 18\n#### 18"
    path = write(
        tmp_path / "answers.jsonl",
        [
            {"completion": "So 18 in all.\n#### 18", "gold": gold},
            {"completion": "The answer is $18.00.", "gold": gold},
            "",
            {"completion": "#### 17", "gold": gold},
            {"completion": "I am not sure.", "gold": gold},
        ],
    )
    lines, summary = run("--env", "gsm8k", "--input", str(path))
    assert [(r["line"], r["reward"], r["answer"]) for r in lines] == [
        (1, 1, "18"),
        (2, 1, "18"),
        (4, 0, "17"),
        (5, -1, None),
    ]
    assert all(r["gold_answer"] == "18" for r in lines)
    assert str(lines[3]["reason"]).startswith("no final answer")
    assert summary == "accuracy 0.500 (2/4 right, 1 unreadable)"


def test_math_env_name_in_capitals(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.jsonl",
        [
            {"completion": "so \\boxed{0.5}", "gold": "Hence $\\boxed{\\frac{1}{2}}$."},
            {"completion": "so \\boxed{(1,2)}", "gold": "Hence $\\boxed{(2, 1)}$."},
        ],
    )
    lines, summary = run("--env", "MATH", "--input", str(path))
    assert [r["reward"] for r in lines] == [1, 0]
    assert lines[0]["gold_answer"] == "\\frac{1}{2}"
    assert summary == "accuracy 0.500 (1/2 right, 0 unreadable)"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"completion": "#### 1", "gold": "#### 1"}, "{not json"], r"^m\.jsonl line 2: not JSON"),
        ([{"completion": "#### 1"}], r"^m\.jsonl line 1: no 'gold' field"),
        ([{"gold": "#### 1"}], r"^m\.jsonl line 1: no 'completion' field"),
        ([{"completion": "#### 1", "gold": "no number"}], r"^m\.jsonl line 1: the gold answer has no '#### N'"),
        (["", "  "], r"no lines to grade"),
    ],
)
def test_bad_input_is_a_one_line_command_error(tmp_path: Path, rows: list[object], message: str) -> None:
    path = write(tmp_path / "m.jsonl", rows)
    with pytest.raises(CommandError, match=message) as info:
        run("--env", "gsm8k", "--input", str(path))
    assert "\n" not in str(info.value)


def test_missing_input_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file"):
        run("--env", "gsm8k", "--input", str(tmp_path / "nope.jsonl"))


def test_unknown_env_is_refused() -> None:
    with pytest.raises(CommandError, match="invalid choice"):
        run("--env", "hotpotqa", "--input", "x.jsonl")


def test_regrade_function_directly() -> None:
    env = get_env("gsm8k")
    tally = Tally()
    lines = [json.dumps({"completion": f"#### {n}", "gold": "#### 2"}) for n in (1, 2, 2)]
    results = list(regrade(env, lines, source="mem"))
    for r in results:
        tally.add(r.grade.reward)
    assert [r.line for r in results] == [1, 2, 3]
    assert tally.summary() == "accuracy 0.667 (2/3 right, 0 unreadable)"
