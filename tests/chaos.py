"""bench/chaos_server.py for the tests that run against a misbehaving model server."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def load_chaos_server() -> Any:
    """The chaos server module (bench/ is scripts, not a package)."""
    if "chaos_server" in sys.modules:
        return sys.modules["chaos_server"]
    spec = importlib.util.spec_from_file_location("chaos_server", ROOT / "bench" / "chaos_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chaos_server"] = module
    spec.loader.exec_module(module)
    return module
