"""RISE environments: GSM8K and MATH problems, their prompts and their graders.

    from training.envs import get_env
    env = get_env("MATH")          # names are case-insensitive: "math" and "MATH" both work
    problems = env.load(None)      # the sample set shipped in training/envs/data/

`get_env` returns one shared instance per name (the environments hold no state).
See base.py for the interface and docs/rise_grading.md for how answers are graded.
"""

from __future__ import annotations

from training.envs.base import RIGHT, UNREADABLE, WRONG, BadData, Env, Grade, Problem, UnknownEnv
from training.envs.data import Regraded, Tally, regrade
from training.envs.gsm8k import Gsm8kEnv
from training.envs.math_env import MathEnv

ENV_NAMES = ("gsm8k", "math")

_ENVS: dict[str, Env] = {"gsm8k": Gsm8kEnv(), "math": MathEnv()}


def get_env(name: str) -> Env:
    """The environment called `name` (any case); UnknownEnv names the choices."""
    key = name.strip().lower()
    if key not in _ENVS:
        raise UnknownEnv(f"unknown environment {name!r}: use one of {', '.join(ENV_NAMES)}")
    return _ENVS[key]


__all__ = [
    "ENV_NAMES",
    "RIGHT",
    "UNREADABLE",
    "WRONG",
    "BadData",
    "Env",
    "Grade",
    "Gsm8kEnv",
    "MathEnv",
    "Problem",
    "Regraded",
    "Tally",
    "UnknownEnv",
    "get_env",
    "regrade",
]
