"""Loading problems (sample sets, JSONL files, the Hub path offline), get_env, prompts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from training.envs import ENV_NAMES, BadData, Env, Problem, UnknownEnv, get_env
from training.envs.data import looks_like_dataset_id

ROOT = Path(__file__).resolve().parents[3]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GSM = {"question": "What is 2 + 3?", "answer": "2 + 3 = 5\n#### 5"}
MATH = {"problem": "What is $2+3$?", "solution": "$2+3=\\boxed{5}$", "level": "Level 1", "type": "Prealgebra"}


# --- get_env -------------------------------------------------------------------------


def test_get_env_is_case_insensitive() -> None:
    assert ENV_NAMES == ("gsm8k", "math")
    assert get_env("MATH").name == "math"  # the original's --env MATH vs math mismatch
    assert get_env("Math") is get_env("math")
    assert get_env("GSM8K").name == "gsm8k"


def test_unknown_env_lists_the_names() -> None:
    with pytest.raises(UnknownEnv) as info:
        get_env("hotpotqa")
    message = str(info.value)
    assert "\n" not in message
    assert "gsm8k" in message and "math" in message


def test_envs_satisfy_the_protocol() -> None:
    for name in ENV_NAMES:
        env: Env = get_env(name)
        assert env.sample_path().is_file()


# --- JSONL files -------------------------------------------------------------------


def test_jsonl_ids_are_line_numbers_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "g.jsonl", [json.dumps(GSM), "", "   ", json.dumps({**GSM, "question": "Q4"})])
    problems = get_env("gsm8k").load(path)
    assert [p.id for p in problems] == ["gsm8k-1", "gsm8k-4"]
    assert problems[1] == Problem(id="gsm8k-4", question="Q4", gold=GSM["answer"])


def test_math_rows_keep_level_and_type(tmp_path: Path) -> None:
    rows = [MATH, {"problem": "p", "solution": "\\boxed{1}", "level": 3, "subject": "Algebra"}]
    problems = get_env("math").load(write(tmp_path / "m.jsonl", [json.dumps(r) for r in rows]))
    assert problems[0].meta == {"level": "Level 1", "type": "Prealgebra"}
    assert problems[1].meta == {"level": "Level 3", "type": "Algebra"}  # MATH-500's names


def test_limit(tmp_path: Path) -> None:
    path = write(tmp_path / "g.jsonl", [json.dumps(GSM)] * 5)
    assert len(get_env("gsm8k").load(path, limit=2)) == 2
    assert get_env("gsm8k").load(path, limit=0) == []
    assert len(get_env("math").load(None, limit=3)) == 3


def test_malformed_json_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "data.jsonl", [json.dumps(GSM)] * 6 + ['{"question": "x" "answer": "#### 1"}'])
    with pytest.raises(BadData, match=r"data\.jsonl line 7: not JSON \(Expecting ','"):
        get_env("gsm8k").load(path)


def test_a_missing_field_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "data.jsonl", [json.dumps(GSM), "", json.dumps({"question": "q"})])
    with pytest.raises(BadData, match=r"data\.jsonl line 3: no 'answer' field"):
        get_env("gsm8k").load(path)
    path = write(tmp_path / "m.jsonl", [json.dumps({"problem": "p"})])
    with pytest.raises(BadData, match=r"m\.jsonl line 1: no 'solution' field"):
        get_env("math").load(path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1, 2]", "line 1: not a JSON object"),
        (json.dumps({"question": "q", "answer": 5}), "line 1: 'answer' is int, not a string"),
        (json.dumps({"question": "q", "answer": "no final number here at all, only words"}), "line 1: .*#### N"),
    ],
)
def test_bad_rows(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(BadData, match=message):
        get_env("gsm8k").load(write(tmp_path / "d.jsonl", [line]))


def test_a_math_solution_without_a_box_is_bad_data(tmp_path: Path) -> None:
    path = write(tmp_path / "m.jsonl", [json.dumps(MATH), json.dumps({**MATH, "solution": "It is 5."})])
    with pytest.raises(BadData, match=r"m\.jsonl line 2: .*no \\boxed"):
        get_env("math").load(path)


def test_empty_file_is_bad_data(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    with pytest.raises(BadData, match="empty"):
        get_env("gsm8k").load(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(BadData, match="no such file"):
        get_env("gsm8k").load(str(tmp_path / "nope.jsonl"))
    with pytest.raises(BadData, match="no such file"):
        get_env("gsm8k").load("data/nope.jsonl")
    with pytest.raises(BadData, match="directory"):
        get_env("gsm8k").load(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bin.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage\n")
    with pytest.raises(BadData, match="not UTF-8"):
        get_env("gsm8k").load(path)


def test_every_bad_data_message_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", ['{"question": "a\\nb", "answer": "x\\ny\\nz"}'])
    with pytest.raises(BadData) as info:
        get_env("gsm8k").load(path)
    assert "\n" not in str(info.value)


# --- Hugging Face ids (never the network) --------------------------------------------


@pytest.mark.parametrize("spec", ["openai/gsm8k", "gsm8k:main:test", "hendrycks/competition_math", "a/b::train"])
def test_dataset_ids(spec: str) -> None:
    assert looks_like_dataset_id(spec)


@pytest.mark.parametrize("spec", ["data/x.jsonl", "./gsm8k", "/abs/path", "a/b/c", "x.json", "~/g"])
def test_not_dataset_ids(spec: str) -> None:
    assert not looks_like_dataset_id(spec)


def fake_datasets(monkeypatch: pytest.MonkeyPatch, load: object) -> list[tuple[object, ...]]:
    calls: list[tuple[object, ...]] = []

    def load_dataset(*args: object, **kwargs: object) -> object:
        calls.append((*args, kwargs))
        return load(*args, **kwargs) if callable(load) else load

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    return calls


def test_offline_hub_id_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Couldn't reach 'openai/gsm8k' on the Hub (LocalEntryNotFoundError)\nmore detail")

    fake_datasets(monkeypatch, offline)
    with pytest.raises(BadData) as info:
        get_env("gsm8k").load("openai/gsm8k")
    message = str(info.value)
    assert "\n" not in message
    assert "openai/gsm8k" in message and "local JSONL file" in message


def test_the_real_datasets_library_offline_gives_the_same_one_line_error() -> None:
    # In a child process, so that `datasets` reads HF_HUB_OFFLINE=1 when it is imported and
    # can never reach the network, whatever this process's environment says.
    code = (
        "from training.envs import get_env\n"
        "try:\n"
        "    get_env('gsm8k').load('nobody-here/no-such-set-x1')\n"
        "except Exception as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=True
    ).stdout
    assert out.count("\n") == 1
    assert out.startswith("BadData cannot load Hugging Face dataset 'nobody-here/no-such-set-x1'")
    assert "local JSONL file" in out


def test_hub_rows_become_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_datasets(monkeypatch, [GSM, {**GSM, "question": "second"}, GSM])
    problems = get_env("gsm8k").load("openai/gsm8k", limit=2)
    assert [p.id for p in problems] == ["gsm8k-1", "gsm8k-2"]
    assert problems[1].question == "second"
    assert calls == [("openai/gsm8k", "main", {"split": "test"})]  # GSM8K's config is "main"


def test_hub_spec_with_config_and_split(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_datasets(monkeypatch, [MATH])
    problems = get_env("math").load("HuggingFaceH4/MATH-500::train")
    assert problems[0].meta["type"] == "Prealgebra"
    assert calls == [("HuggingFaceH4/MATH-500", None, {"split": "train"})]


def test_a_bad_hub_row_names_the_row(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_datasets(monkeypatch, [MATH, {"problem": "p"}])
    with pytest.raises(BadData, match=r"row 2: no 'solution' field"):
        get_env("math").load("hendrycks/competition_math")


# --- prompts ---------------------------------------------------------------------------


def test_feedback_never_reveals_the_gold_answer() -> None:
    for name in ENV_NAMES:
        env = get_env(name)
        feedback = env.feedback()
        assert "incorrect" in feedback.lower()
        assert not re.search(r"\d", feedback)  # no number at all, so no gold number either
        for problem in env.load(None):
            gold = env.gold_answer(problem.gold)
            assert gold not in feedback, (problem.id, gold)
            assert problem.gold not in feedback


def test_prompts_use_the_question_verbatim_even_with_braces() -> None:
    problem = Problem(id="x", question="Find $\\frac{1}{2}$ of {question} and {0}.", gold="\\boxed{1}")
    for name in ENV_NAMES:
        assert problem.question in get_env(name).question_prompt(problem)
