"""Interviews ("call -- analysis"): a persona answers questions from its memories.

The question is the focal point for retrieval; nothing is written to memory and no
last-access time changes (`touch=False`), so interviewing never alters the run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reverie.engine.memory import MemoryStream
from reverie.engine.persona import Identity
from reverie.engine.prompting import prompt
from reverie.engine.retrieve import retrieve
from reverie.engine.schemas import Answer

MEMORIES_FOR_ANSWER = 12


async def answer(gw: Any, identity: Identity, stream: MemoryStream, question: str, now: datetime) -> str:
    vector = (await gw.aembed([question], purpose="interview.embed"))[0]
    found = retrieve(stream, None, [(question, vector)], now, k=MEMORIES_FOR_ANSWER,
                     kinds=("event", "thought", "chat"), touch=False)  # fmt: skip
    memories = "\n".join(f"- {s.node.description}" for s in found[question]) or "- (nothing relevant)"
    result = await gw.astructured(
        Answer,
        prompt=prompt("interview_answer", identity=identity.summary(), time=now.strftime("%A %B %d, %I:%M %p"),
                      first_name=identity.first_name, memories=memories, question=question.replace('"', "'")),
        fallback=Answer(answer="(no answer: the model's reply could not be understood)"),
        purpose="interview.answer",
        max_tokens=160,
    )  # fmt: skip
    return str(result.value.answer)
