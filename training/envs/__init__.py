"""RISE environments: GSM8K and MATH problems, their prompts and their graders.

    from training.envs import get_env
    env = get_env("MATH")          # names are case-insensitive: "math" and "MATH" both work
    problems = env.load(None)      # the sample set shipped in training/envs/data/

`get_env` returns one shared instance per name (the environments hold no state).
See base.py for the interface and docs/rise_grading.md for how answers are graded.
"""

from __future__ import annotations

import importlib

from training.envs.base import RIGHT, UNREADABLE, WRONG, BadData, Env, Grade, Problem, UnknownEnv
from training.envs.data import Regraded, Tally, regrade
from training.envs.gsm8k import Gsm8kEnv
from training.envs.interactive import Session, StepResult, Task, TextEnv
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
    "TEXT_ENV_NAMES",
    "UNREADABLE",
    "WRONG",
    "BadData",
    "Env",
    "Grade",
    "Gsm8kEnv",
    "MathEnv",
    "Problem",
    "Regraded",
    "Session",
    "StepResult",
    "Tally",
    "Task",
    "TextEnv",
    "UnknownEnv",
    "get_env",
    "get_text_env",
    "regrade",
]


# Retroformer's multi-step environments (interactive.py). Imported on first use: ALFWorld
# pulls in TextWorld, which the RISE commands never need.
TEXT_ENV_NAMES = ("hotpotqa", "alfworld", "webshop")
_TEXT_ENV_CLASSES = {
    "hotpotqa": ("training.envs.hotpotqa", "HotpotQAEnv"),
    "alfworld": ("training.envs.alfworld_env", "AlfworldEnv"),
    "webshop": ("training.envs.webshop", "WebShopEnv"),
}
_TEXT_ENVS: dict[str, TextEnv] = {}


def get_text_env(name: str) -> TextEnv:
    """The Retroformer environment called `name` (any case); UnknownEnv names the choices."""
    key = name.strip().lower()
    if key not in _TEXT_ENV_CLASSES:
        raise UnknownEnv(f"unknown environment {name!r}: use one of {', '.join(TEXT_ENV_NAMES)}")
    if key not in _TEXT_ENVS:
        module, cls = _TEXT_ENV_CLASSES[key]
        _TEXT_ENVS[key] = getattr(importlib.import_module(module), cls)()
    return _TEXT_ENVS[key]
