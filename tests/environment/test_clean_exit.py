"""Processes that load the bundled model end cleanly: the model is freed before the
interpreter tears itself down, so stderr has no `Exception ignored in: Llama.__del__`
traceback (llama.cpp's cleanup fails once its module globals are gone)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = "base_the_ville_isabella_maria_klaus"
pytestmark = pytest.mark.model


def _manage(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "environment.settings", "DATABASE_URL": f"sqlite:///{db}"}
    env.pop("TRACEBACK", None)
    env.pop("LLM_MODEL", None)  # the bundled model, in process
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def _assert_clean(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr
    assert "Exception ignored" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "warning: closing the model gateway" not in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exit") / "db.sqlite3"
    migrate = _manage(path, "migrate", "-v0")
    assert migrate.returncode == 0, migrate.stderr
    return path


def test_the_shared_gateway_is_closed_at_exit(db: Path) -> None:
    # The shape of bench/cost.py before the fix: the process-wide gateway used and never
    # closed. It stays in environment.gateway's globals until shutdown; the exit hook
    # registered by get_gateway() frees it first.
    proc = _manage(
        db,
        "shell",
        "-c",
        "from environment.gateway import get_gateway; "
        "print(get_gateway().complete('The capital of France is', purpose='t.exit', max_tokens=4).text)",
    )
    _assert_clean(proc)


def test_llm_check_ends_cleanly(db: Path) -> None:
    proc = _manage(db, "llm_check")
    _assert_clean(proc)
    assert proc.stdout.strip().splitlines()[-1].startswith("llm_check: OK")


def test_the_reverie_command_ends_cleanly_after_a_model_call(db: Path) -> None:
    proc = _manage(
        db, "reverie", "--fork", BASE, "--name", "exit-1",
        "--command", "call -- analysis Klaus -- What are you working on?", "--command", "fin",
    )  # fmt: skip
    _assert_clean(proc)
    assert "Klaus Mueller: " in proc.stdout


def test_closing_the_bundled_backend_twice_is_harmless() -> None:
    from llm.backends.llama_cpp_backend import LlamaCppBackend
    from llm.spec import parse_model_spec

    backend = LlamaCppBackend(parse_model_spec("llama_cpp:bundled"))
    backend.close()
    backend.close()  # reset_gateway() at exit after an explicit close, or two owners closing
