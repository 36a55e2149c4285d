"""One RISE episode as data: what the environment said, what the model answered, and
the rewards, turn by turn; and the conversation a turn was answered in.

The `<log_dir>/<N>_turns.json` that `run_rise_gen` writes is a JSON list of episodes in
the original's shape, one object per problem:

    {"id": "gsm8k-12", "question": "...", "gold": "... #### 18",
     "observations": ["<problem prompt>", "<feedback>", ...],   # the user message of each turn
     "actions": ["<answer turn 1>", "<answer turn 2>", ...],    # the kept answer of each turn
     "rewards": [0, 1],                                         # 1 right, 0 wrong, -1 unreadable
     "answers": ["17", "18"],                                   # the final answer read from each action
     "models": ["llama_cpp:bundled", "openai:gpt-4o-mini"]}     # who answered each turn

Context window: turn t is answered from the problem plus the last `window - 1` earlier
turns (each as the model's answer and the feedback on it). `window = 1` shows the
problem alone every turn; `window >= t` shows the whole history. The first user
message always holds the problem, so a trimmed history never loses the question.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from llm.types import Message


@dataclass
class Episode:
    id: str
    question: str
    gold: str
    observations: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    rewards: list[int] = field(default_factory=list)
    answers: list[str | None] = field(default_factory=list)
    models: list[str] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return len(self.actions)

    @property
    def solved(self) -> bool:
        return bool(self.rewards) and self.rewards[-1] == 1

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Episode:
        return cls(
            id=str(data["id"]),
            question=str(data.get("question", "")),
            gold=str(data.get("gold", "")),
            observations=[str(o) for o in data["observations"]],
            actions=[str(a) for a in data["actions"]],
            rewards=[int(r) for r in data["rewards"]],
            answers=[None if a is None else str(a) for a in data.get("answers", [None] * len(data["actions"]))],
            models=[str(m) for m in data.get("models", [])],
        )


def conversation(observations: list[str], actions: list[str], *, window: int | None = None) -> list[Message]:
    """The messages of the turn after `actions`: observations[0] is the problem, and
    observations[len(actions)] is the message the next answer replies to.

    With `window`, only the last `window - 1` earlier turns are kept (see the module doc).
    """
    turn = len(actions)  # 0-based index of the turn being answered
    if len(observations) <= turn:
        raise ValueError(f"turn {turn + 1} has no observation")
    keep = turn if window is None else max(0, min(turn, window - 1))
    messages: list[Message] = [{"role": "user", "content": observations[0]}]
    for k in range(turn - keep, turn):
        messages.append({"role": "assistant", "content": actions[k]})
        messages.append({"role": "user", "content": observations[k + 1]})
    return messages
