"""From a pydantic model to a validated value: schema, extraction, validation, repair.

The gateway asks the backend to constrain decoding with the JSON schema where it can,
then parses and validates here. When validation fails, `repair_prompt` / `repair_messages`
build a follow-up that quotes the exact errors; the number of repairs is bounded by
the caller, and after the last one the caller's typed fallback is used.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from llm.prompts import LLM_PROMPTS, render_prompt
from llm.types import Message

M = TypeVar("M", bound=BaseModel)


@lru_cache(maxsize=512)
def json_schema_for(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def compact_schema(model: type[BaseModel]) -> str:
    return json.dumps(json_schema_for(model), separators=(",", ":"))


def extract_json(text: str) -> Any:
    """The first JSON object or array in `text` (code fences and chatter around it allowed)."""
    decoder = json.JSONDecoder()
    for start, char in enumerate(text):
        if char in "{[":
            try:
                value, _ = decoder.raw_decode(text, start)
                return value
            except json.JSONDecodeError:
                continue
    raise ValueError("no JSON object found in the answer")


def validate(model: type[M], text: str) -> tuple[M | None, list[str]]:
    """Parse and validate; on failure return the errors as short human-readable lines."""
    try:
        data = extract_json(text)
    except ValueError as exc:
        return None, [str(exc)]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            where = ".".join(str(p) for p in err["loc"]) or "(root)"
            lines.append(f"{where}: {err['msg']}")
        return None, lines


def repair_prompt(model: type[BaseModel], prompt: str, answer: str, errors: list[str]) -> str:
    """A completion-style follow-up: the original prompt, the bad answer, the errors."""
    return render_prompt(
        LLM_PROMPTS / "structured_repair.txt",
        prompt=prompt,
        answer=answer.strip(),
        errors="\n".join(f"- {e}" for e in errors),
        schema=compact_schema(model),
    )


def repair_messages(model: type[BaseModel], messages: list[Message], answer: str, errors: list[str]) -> list[Message]:
    """A chat follow-up: the bad answer as the assistant turn, then the errors as the user's."""
    feedback = render_prompt(
        LLM_PROMPTS / "structured_repair_chat.txt",
        errors="\n".join(f"- {e}" for e in errors),
        schema=compact_schema(model),
    )
    return [*messages, {"role": "assistant", "content": answer}, {"role": "user", "content": feedback}]
