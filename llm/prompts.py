"""Prompts live in files, one per purpose, with `{{name}}` fields.

Double braces leave single braces free for the JSON examples few-shot prompts need.
Each app keeps its own `prompts/` folder; the gateway's are in llm/prompts/.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

LLM_PROMPTS = Path(__file__).resolve().parent / "prompts"
_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@lru_cache(maxsize=256)
def load_prompt(path: str | Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def prompt_fields(template: str) -> set[str]:
    return set(_FIELD.findall(template))


def render_prompt(path: str | Path, /, **fields: object) -> str:
    """Fill a prompt file's fields; a missing field is an error, not a silent blank."""
    template = load_prompt(str(path))
    missing = prompt_fields(template) - fields.keys()
    if missing:
        raise KeyError(f"prompt {Path(path).name} needs {sorted(missing)}")
    # Files end with a newline by convention; a completion prompt must end where the
    # model should continue ("JSON: "), so that one newline is not part of the prompt.
    if template.endswith("\n"):
        template = template[:-1]
    return _FIELD.sub(lambda m: str(fields[m.group(1)]), template)
