"""The judge's answers, as pydantic schemas the gateway validates (and repairs)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

_YES = {"yes", "y", "true", "1", "aware"}
_NO = {"no", "n", "false", "0", "unaware", "none"}


def _yes_no(value: object) -> object:
    """Accept a JSON boolean or a yes/no word (small models write either)."""
    if isinstance(value, str):
        word = value.strip().strip(".!").lower()
        if word in _YES:
            return True
        if word in _NO:
            return False
    return value


class Judgement(BaseModel):
    """Does the answer show the fact? `evidence` quotes the answer ("" when it does not)."""

    aware: Annotated[bool, BeforeValidator(_yes_no)]
    evidence: Annotated[str, Field(max_length=400)] = ""


class Preference(BaseModel):
    """Which of two answers is more believable for this person; a short reason first."""

    reason: Annotated[str, Field(max_length=400)] = ""
    better: Literal["A", "B", "tie"]
