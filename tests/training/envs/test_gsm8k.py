"""GSM8K grader: how the final number is read, compared exactly, and when it is unreadable."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest

from training.envs import RIGHT, UNREADABLE, WRONG, BadData, get_env
from training.envs.answers import format_number, read_number
from training.envs.gsm8k import Gsm8kEnv

env = Gsm8kEnv()


def gold(n: str) -> str:
    return f"Some working.\n#### {n}"


@pytest.mark.parametrize(
    ("completion", "answer"),
    [
        ("So she has 33 left.\n#### 33", "33"),
        ("#### 1,000", "1000"),
        ("Total: #### $1,234.50", "1234.5"),
        ("#### €5", "5"),
        ("#### 18 dollars", "18"),
        ("#### 5 cm", "5"),
        ("#### 2.50", "2.5"),
        ("#### 3/4", "0.75"),
        ("#### -7", "-7"),
        ("#### −7", "-7"),  # a Unicode minus sign
        ("#### 12.", "12"),
        ("#### 75%", "75"),
        ("#### 2 1/2", "2.5"),
        ("####\n42", "42"),  # the number on the next line
        ("#### .5", "0.5"),
        ("The answer is \\boxed{18}.", "18"),
        ("so $\\boxed{\\frac{3}{4}}$", "0.75"),
        ("\\boxed{\\text{\\$}\\,2{,}500}", "2500"),
        ("The answer is 18.", "18"),
        ("The answer is: $2.50.", "2.5"),
        ("Final answer: 1,415 books", "1415"),
        ("**Final Answer:** 26", "26"),
        ("The final answer is 2 × 9 = 18.", "18"),
        ("answer = 7", "7"),
    ],
)
def test_reads_many_answer_formats(completion: str, answer: str) -> None:
    grade = env.grade(completion, gold(answer))
    assert grade.answer == answer
    assert grade.reward == RIGHT
    assert grade.reason == ""


@pytest.mark.parametrize(
    ("completion", "gold_number"),
    [
        ("#### 2.50", "2.5"),  # the original cast to int, so every decimal answer failed
        ("#### 2.5", "2.50"),
        ("#### 0.75", "3/4"),
        ("#### 3/4", "0.75"),
        ("#### 1000", "1,000"),
        ("#### 18.00", "18"),
    ],
)
def test_equal_numbers_in_different_forms_are_right(completion: str, gold_number: str) -> None:
    assert env.grade(completion, gold(gold_number)).reward == RIGHT


def test_comparison_is_exact_not_within_a_tolerance() -> None:
    assert env.grade("#### 0.333", gold("1/3")).reward == WRONG
    assert env.grade("#### 18.000001", gold("18")).reward == WRONG
    assert env.grade("#### -18", gold("18")).reward == WRONG


def test_wrong_answer_is_zero_with_the_answer_read() -> None:
    grade = env.grade("She has 34 muffins.\n#### 34", gold("33"))
    assert (grade.reward, grade.answer, grade.reason) == (WRONG, "34", "")


def test_the_last_answer_wins() -> None:
    assert env.grade("#### 5\nWait, I made a mistake.\n#### 7", gold("7")).answer == "7"
    assert env.grade("\\boxed{5} no, \\boxed{7}", gold("7")).answer == "7"
    assert env.grade("The answer is 5. Actually the answer is 7.", gold("7")).answer == "7"


def test_hashes_come_before_boxed_and_boxed_before_statements() -> None:
    assert env.grade("The answer is 3. \\boxed{4}", gold("4")).answer == "4"
    assert env.grade("\\boxed{4}\n#### 5", gold("5")).answer == "5"


def test_a_marker_without_a_number_falls_back_to_the_next_rule() -> None:
    # a model that echoes the instruction "#### N" literally, then states its answer
    assert env.grade("End with #### N.\nThe answer is 12.", gold("12")).answer == "12"


@pytest.mark.parametrize(
    ("completion", "reason_part"),
    [
        ("I think it is about 40 or so, 12 plus 28.", "no final answer"),
        ("", "no final answer"),
        ("#### twelve", "no number in the final answer"),
        ("The answer is unclear.", "no number in the final answer"),
        ("\\boxed{x}", "no number in the final answer"),
    ],
)
def test_no_readable_answer_is_minus_one_with_a_reason(completion: str, reason_part: str) -> None:
    grade = env.grade(completion, gold("40"))
    assert grade.reward == UNREADABLE
    assert grade.answer is None
    assert reason_part in grade.reason


def test_no_fallback_to_the_last_number_in_the_working() -> None:
    # stating no answer is a format failure (-1), even when the working ends on the right number
    assert env.grade("12 + 28 = 40", gold("40")).reward == UNREADABLE


def test_long_garbage_returns_quickly() -> None:
    garbage = ("x9 #### ## \\boxed{ answer is { } $ 1,2,3, " * 3000)[:100_000]
    start = time.perf_counter()
    env.grade(garbage, gold("7"))
    env.grade("a" * 100_000, gold("7"))
    env.grade("\\boxed{" * 15_000, gold("7"))
    env.grade("1" * 100_000, gold("7"))
    assert time.perf_counter() - start < 2.0


def test_gold_answer_reads_after_the_last_hashes() -> None:
    assert env.gold_answer("5 + 5 = 10\n#### 10") == "10"
    assert env.gold_answer("#### 1,415") == "1415"
    assert env.gold_answer("#### 16.50") == "16.5"
    assert env.gold_answer("18") == "18"  # a bare number is accepted as gold
    with pytest.raises(BadData, match="#### N"):
        env.gold_answer("The answer is 18 apples and more words than a bare number.")


def test_equivalent_compares_numbers_exactly() -> None:
    assert env.equivalent("2.50", "2.5")
    assert env.equivalent("0.75", "3/4")
    assert env.equivalent("1,000", "1000")
    assert not env.equivalent("2.5", "2.51")
    assert env.equivalent("abc", " abc ")


def test_read_number_and_format_number() -> None:
    assert read_number("$-5") == -5
    assert read_number("1/0") is None
    assert read_number("\\dfrac34") == Fraction(3, 4)
    assert format_number(Fraction(-1, 8)) == "-0.125"
    assert format_number(Fraction(1, 3)) == "1/3"
    assert format_number(Fraction(20)) == "20"


def test_sample_set_loads_and_every_gold_solution_grades_right_against_itself() -> None:
    problems = get_env("gsm8k").load(None)
    assert 45 <= len(problems) <= 60
    assert len({p.id for p in problems}) == len(problems)
    assert problems[0].id == "gsm8k-1"
    for p in problems:
        assert env.grade(p.gold, p.gold).reward == RIGHT, p.id
    decimals = [p for p in problems if "." in env.gold_answer(p.gold)]
    assert len(decimals) >= 3


def test_question_prompt_holds_the_question_and_the_answer_format() -> None:
    problem = env.load(None, limit=1)[0]
    prompt = env.question_prompt(problem)
    assert problem.question in prompt
    assert "####" in prompt
    assert "step" in prompt.lower()
