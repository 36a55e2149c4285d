"""Prompt files of the writer, one per purpose (writer/engine/prompts/)."""

from __future__ import annotations

from pathlib import Path

from llm.prompts import render_prompt

PROMPTS = Path(__file__).resolve().parent / "prompts"


def prompt(name: str, /, **fields: object) -> str:
    """Render `prompts/<name>.txt` (a missing field is an error, never a blank)."""
    return render_prompt(PROMPTS / f"{name}.txt", **fields)
