"""MATH grader: the last \\boxed{}, normalisation, equivalence, and the guarded sympy path.

The symbolic cases start one worker process (about a second) shared by the module."""

from __future__ import annotations

import threading
import time

import pytest

from training.envs import RIGHT, UNREADABLE, WRONG, BadData, get_env
from training.envs.answers import last_boxed
from training.envs.math_env import MathEnv, normalize
from training.envs.symbolic import SymbolicJudge

env = MathEnv()


def sol(answer: str) -> str:
    return f"Some working, so the answer is $\\boxed{{{answer}}}$."


# --- reading the box -------------------------------------------------------------


def test_last_boxed_counts_nested_braces() -> None:
    box = last_boxed("first \\boxed{1} then \\boxed{\\frac{\\sqrt{3}}{2}} end")
    assert box is not None and box.content == "\\frac{\\sqrt{3}}{2}"
    box = last_boxed("\\boxed{\\{1, 2\\}}")  # escaped braces do not open or close
    assert box is not None and box.content == "\\{1, 2\\}"
    box = last_boxed("\\fbox{7}")
    assert box is not None and box.content == "7"
    box = last_boxed("so \\boxed 5$.")  # MATH's occasional brace-less form
    assert box is not None and box.content == "5"
    assert last_boxed("no box here") is None


def test_the_last_box_wins() -> None:
    grade = env.grade("Maybe \\boxed{3}. No: \\boxed{\\frac{1}{2}}", sol("\\frac{1}{2}"))
    assert (grade.reward, grade.answer) == (RIGHT, "\\frac{1}{2}")
    assert env.grade("\\boxed{\\frac{1}{2}} no wait \\boxed{3}", sol("\\frac{1}{2}")).reward == WRONG


@pytest.mark.parametrize(
    ("completion", "reason_part"),
    [
        ("The answer is 5.", "no \\boxed{} answer"),
        ("so \\boxed{\\frac{1}{2}", "never closed"),  # a completion cut off mid-answer
        ("so \\boxed{}", "empty"),
        ("so \\boxed{ $ }", "empty"),
        ("\\boxed{" + "1+" * 600 + "1}", "too long"),
    ],
)
def test_no_readable_answer_is_minus_one_with_a_reason(completion: str, reason_part: str) -> None:
    grade = env.grade(completion, sol("5"))
    assert grade.reward == UNREADABLE
    assert grade.answer is None
    assert reason_part in grade.reason


# --- normalisation and the fast path (no sympy) ----------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("\\dfrac{1}{2}", "\\frac{1}{2}"),
        ("\\tfrac12", "\\frac{1}{2}"),
        ("\\frac1{2}", "\\frac{1}{2}"),
        ("1/2", "\\frac{1}{2}"),
        ("\\sqrt2", "\\sqrt{2}"),
        ("120^\\circ", "120"),
        ("120^{\\circ}", "120"),
        ("120°", "120"),
        ("96\\%", "96"),
        ("5\\text{ cm}^2", "5"),
        ("54 \\text{ square units}", "54"),
        ("12 inches", "12"),
        ("\\text{Devon}", "Devon"),
        ("\\text{no solution}", "no solution"),
        ("\\left( 2, \\frac{\\pi}{3} \\right)", "(2,\\frac{\\pi}{3})"),
        ("\\$ 1,\\!000", "1000"),
        ("$x = 5$", "5"),
        ("\\theta = 30", "30"),
        ("\\text{(C)}", "C"),
        (".5", "0.5"),
        ("7.", "7"),
        ("[2, 5) \\cup (5, \\infty)", "[2,5)\\cup(5,\\infty)"),
        ("\\displaystyle -\\frac{3}{4}", "-\\frac{3}{4}"),
    ],
)
def test_normalize(raw: str, normal: str) -> None:
    assert normalize(raw) == normal
    assert normalize(normal) == normal  # idempotent: equivalent() normalises again


@pytest.mark.parametrize(
    ("pred", "gold"),
    [
        ("0.5", "\\frac{1}{2}"),
        ("\\dfrac{1}{2}", "1/2"),
        ("-0.75", "-\\frac{3}{4}"),
        ("10.0", "10"),
        ("1,000", "1000"),
        ("120", "120^\\circ"),
        ("(1, 0.5)", "(1,\\frac{1}{2})"),  # tuples element by element
        ("[-2,3]", "[-2, 3]"),
        ("2, 1, -1, -2", "-2, -1, 1, 2"),  # "all solutions": any order
        ("\\{3, 1\\}", "\\{1, 3\\}"),  # sets: any order
        ("\\text{Devon}", "devon"),
        ("1440_5", "1440_5"),
    ],
)
def test_fast_path_equivalences(pred: str, gold: str) -> None:
    assert env.grade(sol(pred), sol(gold)).reward == RIGHT


@pytest.mark.parametrize(
    ("pred", "gold"),
    [
        ("0.33", "\\frac{1}{3}"),  # exact: a rounded decimal is not the fraction
        ("(2, 1)", "(1, 2)"),  # an ordered pair is ordered
        ("(2, 3]", "(2, 3)"),  # open and closed ends differ
        ("[2, 3]", "(2, 3)"),
        ("1, 2", "1, 2, 3"),
        ("5", "\\text{Devon}"),
        ("6", "5"),
    ],
)
def test_fast_path_differences(pred: str, gold: str) -> None:
    assert env.grade(sol(pred), sol(gold)).reward == WRONG


# --- symbolic equivalence (math-verify in the worker) ----------------------------


@pytest.mark.parametrize(
    ("pred", "gold"),
    [
        ("\\sqrt{3}/2", "\\frac{\\sqrt{3}}{2}"),
        ("\\frac{\\sqrt{3}}{2}", "\\dfrac{\\sqrt3}{2}"),
        ("\\sqrt{18}", "3\\sqrt{2}"),
        ("\\frac{\\pi}{2}", "\\pi/2"),
        ("(x+1)^2", "x^2+2x+1"),
        ("(3,\\infty)\\cup(-\\infty,2)", "(-\\infty, 2) \\cup (3, \\infty)"),
        ("2^{3}", "8"),
        ("\\left(2, \\frac{\\pi}{3}\\right)", "(2, \\pi/3)"),
    ],
)
def test_symbolic_equivalences(pred: str, gold: str) -> None:
    assert env.grade(sol(pred), sol(gold)).reward == RIGHT


def test_symbolic_differences() -> None:
    assert env.grade(sol("\\sqrt{3}"), sol("\\frac{\\sqrt{3}}{2}")).reward == WRONG
    assert env.grade(sol("x^2+1"), sol("(x+1)^2")).reward == WRONG


def test_equivalent_is_what_voting_uses() -> None:
    math = get_env("MATH")
    assert math.equivalent("\\frac{1}{2}", "0.5")
    assert math.equivalent("\\sqrt{3}/2", "\\frac{\\sqrt{3}}{2}")
    assert not math.equivalent("\\frac{1}{2}", "\\frac{1}{3}")


def test_a_pathological_answer_is_cut_off_by_the_timeout() -> None:
    # sympy spends minutes inside one C big-integer power here; only killing the worker stops it
    judge = SymbolicJudge(timeout=1.0)
    try:
        start = time.perf_counter()
        assert judge.equal("2^{10^{10}}", "1") is None
        assert time.perf_counter() - start < 10.0  # 1 s limit, plus starting the worker on a busy machine
        assert judge.timeouts == 1
        assert judge.equal("\\frac{1}{2}", "0.5") is True  # a fresh worker takes over
        assert judge.starts == 2
    finally:
        judge.close()


def test_a_timed_out_grade_is_wrong_not_a_hang() -> None:
    quick = MathEnv(symbolic_timeout=1.0)
    start = time.perf_counter()
    assert quick.grade(sol("2^{10^{10}}"), sol("1")).reward == WRONG
    assert time.perf_counter() - start < 10.0


def test_grading_works_in_a_thread() -> None:
    # math-verify's own timeout is signal.alarm, which refuses non-main threads
    results: list[int] = []
    worker = threading.Thread(target=lambda: results.append(env.grade(sol("\\sqrt{12}"), sol("2\\sqrt{3}")).reward))
    worker.start()
    worker.join(60)
    assert results == [RIGHT]


def test_long_garbage_returns_quickly() -> None:
    garbage = ("\\frac{\\sqrt{ ^^ \\left( }} $$ \\boxed{ {{ ]] " * 3000)[:100_000]
    start = time.perf_counter()
    for completion in [
        garbage,
        "\\boxed{" + garbage + "}",
        "\\boxed{" + "{" * 50_000 + "}" * 50_000 + "}",
        "x" * 100_000,
        "\\boxed{\\frac{\\frac{\\frac{1}{2}}{3}}{\\sqrt{\\left(\\right.}}}",
    ]:
        grade = env.grade(completion, sol("5"))
        assert grade.reward in (WRONG, UNREADABLE)
    assert time.perf_counter() - start < 8.0


# --- data --------------------------------------------------------------------------


def test_gold_answer_is_the_last_box_of_the_solution() -> None:
    assert env.gold_answer("So $x=\\boxed{6}$.") == "6"
    with pytest.raises(BadData, match="no \\\\boxed"):
        env.gold_answer("no box at all")


def test_sample_set_loads_and_every_gold_solution_grades_right_against_itself() -> None:
    problems = get_env("math").load(None)
    assert 45 <= len(problems) <= 65
    types = {p.meta["type"] for p in problems}
    assert types == {
        "Algebra",
        "Counting & Probability",
        "Geometry",
        "Intermediate Algebra",
        "Number Theory",
        "Prealgebra",
        "Precalculus",
    }
    assert {p.meta["level"] for p in problems} == {f"Level {n}" for n in range(1, 6)}
    for p in problems:
        assert env.grade(p.gold, p.gold).reward == RIGHT, p.id
    answers = [env.gold_answer(p.gold) for p in problems]
    assert any("\\frac" in a for a in answers)
    assert any("\\sqrt" in a for a in answers)
    assert any(a.startswith("(") for a in answers)
    assert any("\\cup" in a or a.startswith("[") for a in answers)


def test_question_prompt_asks_for_a_boxed_answer() -> None:
    problem = env.load(None, limit=1)[0]
    prompt = env.question_prompt(problem)
    assert problem.question in prompt
    assert "\\boxed{}" in prompt
