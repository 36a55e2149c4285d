"""Prompts live in files, one per purpose, and are rendered with `str.format`-style
fields. Each app keeps its own `prompts/` folder; the gateway's live in llm/prompts/.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

LLM_PROMPTS = Path(__file__).resolve().parent / "prompts"


@lru_cache(maxsize=256)
def load_prompt(path: str | Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def render_prompt(path: str | Path, /, **fields: object) -> str:
    """Fill a prompt file's `{name}` fields; a missing field is an error, not a silent blank."""
    template = load_prompt(str(path))
    needed = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    missing = needed - fields.keys()
    if missing:
        raise KeyError(f"prompt {Path(path).name} needs {sorted(missing)}")
    return template.format(**fields)
