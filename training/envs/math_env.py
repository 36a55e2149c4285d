"""MATH: competition problems whose answer is a LaTeX expression in `\\boxed{}`.

(Named math_env, not math: a module called `math` next to a script run from this
folder would shadow the standard library's.)

Data: JSONL with `problem` and `solution` (a worked solution ending in `\\boxed{}`);
`level` ("Level 3", or a number) and `type` (or `subject`, as MATH-500 names it) go
into `Problem.meta` when present.

Reading the final answer: the content of the LAST `\\boxed{...}` or `\\fbox{...}`,
nested braces matched by a brace counter (`answers.last_boxed`). No box, an empty box,
a box never closed (a cut-off completion) or one over `MAX_ANSWER_CHARS` -> -1 with
the reason. The gold answer is read the same way from the solution.

Normalisation (`normalize`), applied to both sides: `$`, `\\left`/`\\right`, `\\!` and
other LaTeX spacing, `\\displaystyle`; `\\dfrac`/`\\tfrac` -> `\\frac`, `\\frac12` ->
`\\frac{1}{2}`, `\\sqrt2` -> `\\sqrt{2}`, `a/b` -> `\\frac{a}{b}`; degrees (`^\\circ`, `°`),
percent signs, a trailing unit (`\\text{ cm}^2`, `5 inches`), `\\text{}`/`\\mbox{}`
wrappers, a leading `x =`, `(A)` -> `A`, thousands commas, `.5` -> `0.5`, a trailing
period, and spaces (kept only between two words).

Equivalence (`MathEnv.equivalent`), cheapest first:

1. equal normalised strings;
2. two plain numbers (integers, decimals, `\\frac{a}{b}`): exact Fraction comparison,
   decided here (0.5 == \\frac{1}{2}; 0.33 != \\frac{1}{3});
3. tuples / intervals with the same brackets and length: element by element;
   unbracketed comma lists ("all solutions"): the same elements in any order;
4. plain words: case-insensitive comparison;
5. otherwise math-verify (sympy) in a guarded worker process (`symbolic.py`), given
   `symbolic_timeout` seconds and answers of at most `SYMBOLIC_MAX_CHARS` characters;
   a timeout or a failure counts as "not equivalent". Results are cached per pair.

Rewards: 1 equivalent, 0 not, -1 unreadable (see above).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from training.envs.answers import last_boxed
from training.envs.base import RIGHT, UNREADABLE, WRONG, BadData, Grade, Problem
from training.envs.data import SAMPLES, load_problems, prompt_text
from training.envs.symbolic import DEFAULT_TIMEOUT, judge

MAX_ANSWER_CHARS = 1000  # a longer "answer" is not an answer (and is never parsed)
SYMBOLIC_MAX_CHARS = 200  # only answers this short go to sympy

# Words dropped after a number ("5 inches", "12 square units"); a variable, not a set
# literal, so the list stays readable.
_UNIT_TEXT = (
    "cm mm m km in inch inches ft foot feet yd yard yards mile miles meter meters metre metres "
    "centimeter centimeters kilometer kilometers unit units sq square cubic degree degrees "
    "dollar dollars cent cents second seconds minute minutes hour hours day days week weeks "
    "year years mph gram grams kg pound pounds ounce ounces liter liters cup cups people"
)
_UNIT_WORDS = frozenset(_UNIT_TEXT.split())
_TEXT_CMD = r"\\(?:text|textrm|textup|textnormal|textbf|textit|mbox|mathrm|mathbf|mathit|operatorname)"
_TRAILING_TEXT_UNIT = re.compile(r"(.+?)\s*" + _TEXT_CMD + r"\{\s*[A-Za-z][A-Za-z .]*\}\s*(?:\^\s*\{?\s*\d\s*\}?)?")
# Words separated by required spaces: `(?:[A-Za-z]+\s*)+` would backtrack exponentially.
_TRAILING_WORD_UNIT = re.compile(r"(.*?[\d}])\s+([A-Za-z]+(?:\s+[A-Za-z]+)*)\s*(?:\^\s*\{?\s*\d\s*\}?)?")
_TEXT_WRAPPER = re.compile(_TEXT_CMD + r"\s*\{([^{}]*)\}")
_SIZING = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![A-Za-z])")
# LaTeX spacing commands; `\\ ` right after another backslash is a row break (`1 \\ 2`), kept.
_SPACING = re.compile(r"(?<!\\)\\[!,;:> ]|\\q?quad(?![A-Za-z])|~")
_SYNONYMS = (
    (re.compile(r"\\leq(?![A-Za-z])|≤"), r"\\le"),
    (re.compile(r"\\geq(?![A-Za-z])|≥"), r"\\ge"),
    (re.compile(r"\\neq(?![A-Za-z])|≠"), r"\\ne"),
    (re.compile(r"∞"), r"\\infty"),
    (re.compile(r"[−–]"), "-"),
    (re.compile(r"π"), r"\\pi"),
)
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree(?![A-Za-z])")
_LHS = re.compile(r"([A-Za-z]|\\[A-Za-z]+)\s*=\s*(.+)")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_FRACTION = re.compile(r"(-?)\\frac\{(-?\d+)\}\{(-?\d+)\}")
_SIMPLE_SLASH = re.compile(r"(-?)(\d+)/(\d+)")
_THOUSANDS = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_WORDS = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")
_OPEN_CLOSE = {"(": ")", "[": "]", "\\{": "\\}"}


def normalize(answer: str) -> str:
    """The comparable form of an answer (see the module docstring)."""
    s = answer.replace("\n", " ").strip()
    s = s.replace("\\$", "").replace("$", "")
    s = s.replace("\\left.", "").replace("\\right.", "")
    s = _SIZING.sub("", s)
    s = _SPACING.sub(" ", s)
    s = s.replace("\\displaystyle", "").replace("{,}", ",")
    for pattern, replacement in _SYNONYMS:
        s = pattern.sub(replacement, s)
    s = re.sub(r"\\[dt]frac(?![A-Za-z])", r"\\frac", s)
    s = _DEGREES.sub("", s)
    s = s.replace("\\%", "").replace("%", "")
    s = s.strip()
    m = _TRAILING_TEXT_UNIT.fullmatch(s)
    if m:
        s = m.group(1)
    m = _TRAILING_WORD_UNIT.fullmatch(s)
    if m and all(w.lower() in _UNIT_WORDS for w in m.group(2).split()):
        s = m.group(1)
    s = _TEXT_WRAPPER.sub(r"\1", s)
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"(?<![A-Za-z]) | (?![A-Za-z])", "", s)  # spaces matter only between two words
    s = s.rstrip(".") if not s.endswith("..") else s
    m = _LHS.fullmatch(s)
    if m and "=" not in m.group(2):
        s = m.group(2)
    s = re.sub(r"\\sqrt(\d|[A-Za-z](?![A-Za-z]))", r"\\sqrt{\1}", s)
    s = re.sub(r"\\frac(\d)", r"\\frac{\1}", s)
    s = re.sub(r"(\\frac\{[^{}]*\})(\d)", r"\1{\2}", s)
    s = re.sub(r"(?<![\d])\.(\d)", r"0.\1", s)
    if _THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    m = _SIMPLE_SLASH.fullmatch(s)
    if m:
        s = f"{m.group(1)}\\frac{{{m.group(2)}}}{{{m.group(3)}}}"
    m = re.fullmatch(r"\(([A-Za-z])\)", s)
    if m:
        s = m.group(1)
    return s


def as_number(s: str) -> Fraction | None:
    """A normalised answer that is a plain number, exactly; None for anything else."""
    if _NUMBER.fullmatch(s):
        return Fraction(s)
    m = _FRACTION.fullmatch(s)
    if m and int(m.group(3)) != 0:
        value = Fraction(int(m.group(2)), int(m.group(3)))
        return -value if m.group(1) else value
    return None


def split_top(s: str) -> list[str]:
    """`s` cut at its top-level commas (commas inside (), [] or {} do not cut)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] in "{}":
            depth += 1 if s[i + 1] == "{" else -1
            i += 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(s[start:i])
            start = i + 1
        i += 1
    parts.append(s[start:])
    return parts


def bracketed(s: str) -> tuple[str, list[str], str] | None:
    """(open, items, close) when `s` is one bracketed sequence like `(1,2]` or `\\{a,b\\}`."""
    for opener in ("\\{", "(", "["):
        if not s.startswith(opener):
            continue
        closers = ("\\}",) if opener == "\\{" else (")", "]")
        for closer in closers:
            if s.endswith(closer) and len(s) >= len(opener) + len(closer):
                inner = s[len(opener) : len(s) - len(closer)]
                if _balanced(inner):
                    return opener, split_top(inner), closer
        return None
    return None


def _balanced(s: str) -> bool:
    depth = 0
    for c in s:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


class MathEnv:
    name = "math"

    def __init__(self, symbolic_timeout: float = DEFAULT_TIMEOUT) -> None:
        self.symbolic_timeout = symbolic_timeout

    def sample_path(self) -> Path:
        return SAMPLES / "math_sample.jsonl"

    def load(self, path: str | Path | None, *, limit: int | None = None) -> list[Problem]:
        return load_problems(
            self.name,
            path,
            sample=self.sample_path(),
            required=("problem", "solution"),
            to_problem=self._problem,
            limit=limit,
        )

    def _problem(self, row: dict[str, Any], problem_id: str) -> Problem:
        self.gold_answer(row["solution"])  # fails here, with the line, if there is no \boxed{}
        meta: dict[str, Any] = {}
        level = row.get("level")
        if isinstance(level, int) and not isinstance(level, bool):
            level = f"Level {level}"
        if isinstance(level, str) and level:
            meta["level"] = level
        kind = row.get("type", row.get("subject"))
        if isinstance(kind, str) and kind:
            meta["type"] = kind
        return Problem(id=problem_id, question=row["problem"], gold=row["solution"], meta=meta)

    def question_prompt(self, problem: Problem) -> str:
        return prompt_text("math_question").replace("{question}", problem.question.strip())

    def feedback(self) -> str:
        return prompt_text("retry_feedback")

    def gold_answer(self, gold: str) -> str:
        answer, reason = read_boxed_answer(gold)
        if answer is None:
            raise BadData(f"the gold solution has no final answer: {reason}")
        return answer

    def grade(self, completion: str, gold: str) -> Grade:
        expected = self.gold_answer(gold)
        answer, reason = read_boxed_answer(completion)
        if answer is None:
            return Grade(UNREADABLE, None, reason)
        return Grade(RIGHT if self._same(expected, answer) else WRONG, answer)

    def equivalent(self, a: str, b: str) -> bool:
        return self._same(normalize(a), normalize(b))

    def _same(self, a: str, b: str) -> bool:
        """Whether two normalised answers are equivalent (a in the role of the gold one)."""
        if a == b:
            return True
        x, y = as_number(a), as_number(b)
        if x is not None and y is not None:
            return x == y
        seq_a, seq_b = bracketed(a), bracketed(b)
        if seq_a is not None and seq_b is not None:
            if (seq_a[0], seq_a[2]) != (seq_b[0], seq_b[2]) or len(seq_a[1]) != len(seq_b[1]):
                return False
            if seq_a[0] == "\\{":  # a set: the same elements in any order
                return _same_multiset(seq_a[1], seq_b[1], self._same)
            if len(seq_a[1]) > 1:  # a tuple or an interval: element by element
                return all(self._same(p, q) for p, q in zip(seq_a[1], seq_b[1], strict=True))
        elif seq_a is None and seq_b is None:
            items_a, items_b = split_top(a), split_top(b)
            if len(items_a) > 1 or len(items_b) > 1:
                return _same_multiset(items_a, items_b, self._same)
        if _WORDS.fullmatch(a) and _WORDS.fullmatch(b):
            return a.casefold() == b.casefold()
        if (x is not None and _WORDS.fullmatch(b)) or (y is not None and _WORDS.fullmatch(a)):
            return False  # a number against plain words
        if len(a) > SYMBOLIC_MAX_CHARS or len(b) > SYMBOLIC_MAX_CHARS:
            return False
        return _symbolic_equal(a, b, self.symbolic_timeout)


def _same_multiset(items_a: list[str], items_b: list[str], same: Callable[[str, str], bool]) -> bool:
    if len(items_a) != len(items_b) or len(items_a) > 20:
        return False
    unused = list(items_b)
    for p in items_a:
        for j, q in enumerate(unused):
            if same(p, q):
                del unused[j]
                break
        else:
            return False
    return True


@functools.lru_cache(maxsize=8192)
def _symbolic_equal(a: str, b: str, timeout: float) -> bool:
    # Cached: majority voting compares the same answers again and again, and a pair
    # that timed out once would time out again.
    return judge().equal(a, b, timeout=timeout) is True


def read_boxed_answer(text: str) -> tuple[str | None, str]:
    """The normalised content of the last box and "", or None and why there is none."""
    box = last_boxed(text)
    if box is None:
        return None, "no \\boxed{} answer"
    if box.content is None:
        return None, "the last \\boxed{ is never closed"
    if len(box.content) > MAX_ANSWER_CHARS:
        return None, f"the \\boxed{{}} answer is too long ({len(box.content)} characters)"
    answer = normalize(box.content)
    if not answer:
        return None, "the last \\boxed{} is empty"
    return answer, ""
