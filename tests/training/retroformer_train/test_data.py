"""The reflection-rewards file: validation with file and line, the SFT selection, pair
forming for the reward model, and the policy's prompts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.training.retroformer_train.rows import ROWS, row, write_rows
from training.envs.base import BadData
from training.retroformer_train.data import (
    form_pairs,
    helpful,
    parse_row,
    policy_prompts,
    read_reflections,
    write_reflections,
)


def test_rows_read_back_as_written(tmp_path: Path) -> None:
    rows = read_reflections(write_rows(tmp_path / "r.jsonl"))
    assert len(rows) == len(ROWS)
    assert [r.line for r in rows] == list(range(1, len(ROWS) + 1))
    assert rows[1].reward == 1.0 and rows[1].trial == 1 and rows[1].prompt[0]["role"] == "system"
    again = tmp_path / "again.jsonl"
    write_reflections(rows, again)
    assert read_reflections(again) == rows


def bad(**changes: Any) -> str:
    return json.dumps({**row("t", 0, 0, 1, "x"), **changes})


NO_REFLECTION = json.dumps({k: v for k, v in row("t", 0, 0, 1, "x").items() if k != "reflection"})
ENDS_WITH_ANSWER = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"env": "hotpotqa", "task_id": ', "line 3: not JSON"),
        ("[1, 2]", "line 3: expected a JSON object, got list"),
        (NO_REFLECTION, "line 3: missing 'reflection'"),
        (bad(trial=-1), "line 3: 'trial' must be a whole number >= 0"),
        (bad(reward=0.5), "line 3: 'reward' 0.5 is not return_after - return_before"),
        (bad(return_after="1"), "line 3: 'return_after' must be a number"),
        (bad(prompt=[]), "line 3: 'prompt' must be a non-empty list"),
        (bad(prompt=[{"role": "robot", "content": "x"}]), "has role 'robot'"),
        (bad(prompt=ENDS_WITH_ANSWER), "must end with a system or user message"),
    ],
)
def test_a_bad_line_is_bad_data_naming_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    good = [json.dumps(r) for r in ROWS[:2]]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([*good, line, json.dumps(ROWS[2])]) + "\n", encoding="utf-8")
    with pytest.raises(BadData) as info:
        read_reflections(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_missing_empty_and_folder_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(BadData, match="no such file"):
        read_reflections(tmp_path / "none.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(BadData, match="no reflections"):
        read_reflections(tmp_path / "empty.jsonl")
    with pytest.raises(BadData, match="is a folder"):
        read_reflections(tmp_path)


def test_helpful_keeps_rewards_above_the_threshold() -> None:
    rows = [parse_row(r) for r in ROWS]
    assert [(r.task_id, r.trial) for r in helpful(rows)] == [("hotpotqa-1", 1), ("hotpotqa-2", 0)]
    assert len(helpful(rows, min_reward=-1.5)) == 6
    assert helpful([parse_row(row("t", 0, 0, 1, "   "))]) == []  # a blank reflection teaches nothing


def rated(task: str, trial: int, reward: float, text: str) -> Any:
    return parse_row(row(task, trial, 0.0, reward, text))


def test_pairs_are_within_a_task_chosen_is_the_higher_reward() -> None:
    pairs = form_pairs([parse_row(r) for r in ROWS])
    # hotpotqa-3's rewards are all 0: nothing to compare; tasks are never mixed.
    assert [(p.chosen.task_id, p.chosen.trial, p.rejected.trial) for p in pairs] == [
        ("hotpotqa-1", 1, 0),
        ("hotpotqa-2", 0, 1),
    ]
    assert all(p.chosen.task_id == p.rejected.task_id and p.margin > 0 for p in pairs)
    assert not any(p.same_trial for p in pairs)


def test_pairs_prefer_the_same_trial_when_a_task_has_them() -> None:
    rows = [
        rated("a", 0, 1.0, "good plan for trial 0"),
        rated("a", 0, 0.0, "bad plan for trial 0"),
        rated("a", 1, 0.5, "plan for trial 1"),
        rated("b", 0, 1.0, "b good"),
        rated("b", 1, 0.0, "b bad"),
        rated("b", 1, 0.0, "b bad"),  # a repeated row gives no second pair
    ]
    pairs = form_pairs(rows)
    summary = [(p.chosen.reflection, p.rejected.reflection, p.same_trial) for p in pairs]
    assert summary == [
        ("good plan for trial 0", "bad plan for trial 0", True),  # task a: same-trial pairs only
        ("b good", "b bad", False),  # task b has none: across its trials, once
    ]


def test_policy_prompts_carry_the_earlier_reflections_of_their_task() -> None:
    rows = [
        rated("a", 0, 0.0, "first"),
        rated("a", 1, 0.0, "second"),
        rated("a", 2, 1.0, "third"),
        rated("b", 0, 1.0, "other task"),
    ]
    items = policy_prompts([*rows, rows[1]])  # a repeated prompt is one item
    assert [(i.row.task_id, i.row.trial, i.earlier) for i in items] == [
        ("a", 0, ()),
        ("a", 1, ("first",)),
        ("a", 2, ("first", "second")),
        ("b", 0, ()),
    ]
