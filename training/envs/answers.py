"""Reading final answers out of model text: `\\boxed{}` groups and exact numbers.

Shared by the GSM8K and MATH graders.

- `boxed_groups(text)` finds every `\\boxed{...}` / `\\fbox{...}` and reads its content
  with a brace counter (a regex cannot match nested braces): from the `{` after the
  command, count `{` up and `}` down, skipping backslash escapes (`\\{`, `\\}`), until
  the count is back to zero. `\\boxed 5` (no braces, as some MATH solutions write it)
  reads the one token after the space. A group whose `{` is never closed is reported
  as unclosed rather than silently dropped.
- `read_number(segment)` reads the first number of a short piece of text as an exact
  `fractions.Fraction`: commas as thousands separators (`1,000`), currency signs
  (`$5`, `€5`), units and words around it (`18 dollars`), decimals (`2.50` is
  `5/2`), fractions (`3/4`, `\\frac{3}{4}`), mixed numbers (`2 1/2`), negatives
  (`-5`, `−5`), percent signs and trailing periods. When the segment holds an
  equation (`2 \\times 9 = 18`) the number after the last `=` is the answer.
- `format_number(x)` is the display form used for voting and logs: `18`, `2.5`, `3/4`.

Numbers are compared exactly (Fraction), never with a float tolerance: `0.1 + 0.2`
style rounding cannot make a wrong answer right or a right one wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

# Longest piece of text searched for a number. The answer sits right after its
# marker; a cap keeps a pathological line (100 KB without a newline) cheap to read.
SEGMENT_CHARS = 300


@dataclass(frozen=True)
class Boxed:
    content: str | None  # None when the group's `{` is never closed
    start: int  # index of the backslash of the command


_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")

# Groups read from the end of a text at most: an unclosed `{` is scanned to the end of
# the text, so reading every group of a long garbage text would be quadratic.
MAX_GROUPS = 20


def boxed_groups(text: str, *, last: int = MAX_GROUPS) -> list[Boxed]:
    """The last `last` `\\boxed`/`\\fbox` groups of `text`, in order of appearance."""
    starts = list(_BOX.finditer(text))[-last:]
    return [Boxed(_group_content(text, m.end()), m.start()) for m in starts]


def last_boxed(text: str) -> Boxed | None:
    """The last `\\boxed`/`\\fbox` group of `text`, or None when there is none."""
    groups = boxed_groups(text, last=1)
    return groups[0] if groups else None


def _group_content(text: str, i: int) -> str | None:
    """The argument of a box command whose name ends just before index `i`."""
    n = len(text)
    while i < n and text[i] in " \t":
        i += 1
    if i >= n:
        return None
    if text[i] != "{":
        # `\boxed 5`: the argument is the next token (up to a space, `$` or newline).
        m = re.match(r"[^\s$]+", text[i : i + SEGMENT_CHARS])
        return m.group(0) if m else None
    depth = 0
    j = i
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2  # an escaped character (`\{`, `\}`, `\\`) never opens or closes a group
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
        j += 1
    return None


_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*(-?[\d.,]+)\s*\}\s*\{\s*(-?[\d.,]+)\s*\}")
_FRAC_SHORT = re.compile(r"\\[dt]?frac\s*(\d)\s*(\d)")  # \frac34
_NUMBER = re.compile(
    r"""
    (?<![\w.])                                  # not the tail of a word or of a longer number
    (?P<neg>-\s*)?
    (?:[$€£¥₹]\s*)?                             # currency before the number
    (?P<neg2>-\s*)?
    (?:
        (?P<whole>\d+)\s+(?P<mnum>\d+)\s*/\s*(?P<mden>\d+)(?![\d.])  # mixed number: 2 1/2
      | (?P<num>\d{1,3}(?:,\d{3})+(?![\d])(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
        (?:\s*/\s*(?P<den>\d+(?:\.\d+)?))?
    )
    """,
    re.VERBOSE,
)


def read_number(segment: str) -> Fraction | None:
    """The answer number of a short piece of text, exactly, or None when it has none."""
    s = segment[:SEGMENT_CHARS]
    s = s.replace("−", "-").replace("–", "-").replace("\\!", "").replace("\\,", "").replace("{,}", ",")
    s = s.replace("\\$", "$").replace("\\%", "%")
    # LaTeX fractions become a/b; after a digit they are the fraction of a mixed number.
    s = _FRAC.sub(lambda m: f" {m.group(1)}/{m.group(2)}", s)
    s = _FRAC_SHORT.sub(lambda m: f" {m.group(1)}/{m.group(2)}", s)
    if "=" in s:
        tail = s[s.rindex("=") + 1 :]
        if _NUMBER.search(tail):
            s = tail
    m = _NUMBER.search(s)
    if m is None:
        return None
    negative = bool(m.group("neg") or m.group("neg2"))
    try:
        if m.group("whole") is not None:
            den = int(m.group("mden"))
            if den == 0:
                return None
            value = int(m.group("whole")) + Fraction(int(m.group("mnum")), den)
        else:
            value = Fraction(m.group("num").replace(",", ""))
            if m.group("den") is not None:
                den_value = Fraction(m.group("den"))
                if den_value == 0:
                    return None
                value /= den_value
    except (ValueError, ZeroDivisionError):
        return None
    return -value if negative else value


def format_number(x: Fraction) -> str:
    """`18`, `2.5`, `-0.125` for terminating decimals, else `3/7`."""
    if x.denominator == 1:
        return str(x.numerator)
    den = x.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return f"{x.numerator}/{x.denominator}"
    # A terminating decimal: scale to an integer and place the point.
    digits = 0
    scaled = x
    while scaled.denominator != 1:
        scaled *= 10
        digits += 1
    sign = "-" if scaled < 0 else ""
    text = str(abs(scaled.numerator)).rjust(digits + 1, "0")
    return f"{sign}{text[:-digits]}.{text[-digits:]}"
