"""RISE conversion: generated episodes become reward-weighted training samples.

The second step of RISE (Qu et al. 2024; the original's `workflow_convert`): every
episode of a `<N>_turns.json` (see training.rise.trajectory) offers one candidate
sample per turn t, the conversation that turn was answered in followed by the answer:

    conversation(ep.observations, ep.actions[:t]) + [{"role": "assistant", "content": ep.actions[t]}]

Only the LAST assistant message of a sample is trained; the earlier answers are context
(masked out of the loss, see training.rise.finetune). A criterion chooses which turns
become samples:

    all      every action
    better   actions whose reward is higher than the previous turn's reward; turn 1 has
             no previous turn and is never "better" (a first answer is what the model
             already produces; this criterion keeps only the improvements)
    best     one action per episode: the highest reward, the earliest turn on ties
    success  actions with reward 1

Each sample is weighted for reward-weighted regression, weight = exp(reward / T) with
T = `temperature` (0.4 in the original), so with rewards 1 / 0 / -1 a right answer
counts e^2.5 ~ 12.2 times, an unreadable one e^-2.5 ~ 0.08 times, a wrong one once.

Then, in this order: `remove_duplication` drops a sample whose whole conversation and
answer repeat an earlier sample's (the first is kept); with a tokenizer, each sample is
tokenised exactly as finetuning will (`tokenize_sample`) and dropped when longer than
`max_length` tokens or when the chat template cannot separate the prompt from the
answer; `shuffle` shuffles with `seed` (deterministic). The original dropped its
"tokenisation mismatches" silently; here every drop is counted by reason in
`ConvertResult.dropped`, and the command prints them.

Tokenisation (shared with finetuning, so what conversion counts is what trains): the
prompt is rendered the way the gateway's transformers backend renders a chat for
generation, i.e. the tokenizer's chat template with the generation prompt, or, for a
model without one (the bundled base Gemma), `llm.backends.base.messages_as_prompt`
("User: ...\\nAssistant: "). The training sequence is the prompt's tokens followed by
the answer's own tokens (plus EOS without a template), i.e. the sequence the model is
in when it generates the answer after that prompt. The original tokenised the joined
text and located the answer by lengths, which disagreed whenever a token straddled the
boundary (with "Assistant: " and a SentencePiece vocabulary that is nearly every
answer); concatenating the two parts cannot disagree, so no sample is lost to it. What
can still fail is a chat template whose rendering of the whole conversation does not
begin with its rendering of the prompt (some templates rewrite earlier turns): the
answer has no well-defined start, and the sample is dropped as "template_mismatch"; a
template that raises on the conversation (roles out of order, say) is "template_error".

The output is JSONL, one sample per line, in the OpenAI chat shape; the LAST message
(always the assistant's) is the one trained:

    {"messages": [{"role": "user", "content": "..."}, ..., {"role": "assistant", "content": "..."}],
     "weight": 12.182..., "reward": 1, "episode": "gsm8k-12", "turn": 2}

`turn` is 1-based. `read_samples` reads such a file back and validates every line.
This module imports no torch; a tokenizer is any object with the Hugging Face
tokenizer call / `apply_chat_template` interface.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm.backends.base import messages_as_prompt
from llm.types import Message
from training.envs.base import BadData
from training.rise.trajectory import Episode, conversation

CRITERIA = ("all", "better", "best", "success")
DEFAULT_TEMPERATURE = 0.4  # the original's
IGNORE_INDEX = -100  # label of a token that is not trained (PyTorch's cross-entropy default)
ROLES = ("system", "user", "assistant")

# Drop reasons, as counted in ConvertResult.dropped and FinetuneResult.dropped.
DUPLICATE = "duplicate"
TOO_LONG = "too_long"
TEMPLATE_MISMATCH = "template_mismatch"
TEMPLATE_ERROR = "template_error"
EMPTY_ANSWER = "empty_answer"


class BadSamples(BadData):
    """A samples file that cannot be read; the message names the file and the line."""


@dataclass(frozen=True)
class Sample:
    """One training sample: `messages` ends with the trained assistant message."""

    messages: list[Message]
    weight: float
    reward: int
    episode: str
    turn: int  # 1-based turn of the episode the last message answered

    @property
    def answer(self) -> str:
        return self.messages[-1]["content"]

    def as_json(self) -> dict[str, Any]:
        return {
            "messages": [dict(m) for m in self.messages],
            "weight": self.weight,
            "reward": self.reward,
            "episode": self.episode,
            "turn": self.turn,
        }


@dataclass
class ConvertResult:
    samples: list[Sample]
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> samples dropped for it
    episodes: int = 0  # episodes read
    actions: int = 0  # actions (turns) in them
    selected: int = 0  # actions the criterion chose, before any drop
    token_counts: list[int] = field(default_factory=list)  # per written sample, when a tokenizer counted


@dataclass(frozen=True)
class Tokenized:
    """A sample as token ids; labels are IGNORE_INDEX except on the trained answer."""

    input_ids: list[int]
    labels: list[int]

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


class SampleDropped(ValueError):
    """tokenize_sample's refusal; `reason` is the key it is counted under."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def weight_for(reward: float, temperature: float = DEFAULT_TEMPERATURE) -> float:
    """Reward-weighted regression: exp(reward / temperature)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be above 0, got {temperature}")
    return math.exp(reward / temperature)


def select_turns(episode: Episode, criteria: str) -> list[int]:
    """0-based turns of `episode` that `criteria` keeps (module doc)."""
    rewards = episode.rewards
    if criteria == "all":
        return list(range(len(rewards)))
    if criteria == "better":
        return [t for t in range(1, len(rewards)) if rewards[t] > rewards[t - 1]]
    if criteria == "best":
        # max() returns the first maximal element: the earliest turn on ties.
        return [max(range(len(rewards)), key=lambda t: rewards[t])] if rewards else []
    if criteria == "success":
        return [t for t, r in enumerate(rewards) if r == 1]
    raise ValueError(f"unknown criteria {criteria!r}: use one of {', '.join(CRITERIA)}")


def check_episode(episode: Episode) -> str | None:
    """Why `episode` cannot be converted, or None."""
    if len(episode.rewards) != len(episode.actions):
        return f"{len(episode.actions)} actions but {len(episode.rewards)} rewards"
    if len(episode.observations) < len(episode.actions):
        return f"{len(episode.actions)} actions but {len(episode.observations)} observations"
    return None


def sample_messages(episode: Episode, turn: int) -> list[Message]:
    """The conversation turn `turn` (0-based) was answered in, then its answer."""
    messages = conversation(episode.observations, episode.actions[:turn])
    messages.append({"role": "assistant", "content": episode.actions[turn]})
    return messages


def convert(
    episodes: Iterable[Episode],
    *,
    criteria: str,
    temperature: float = DEFAULT_TEMPERATURE,
    remove_duplication: bool = False,
    shuffle: bool = False,
    seed: int = 0,
    tokenizer: Any = None,
    max_length: int | None = None,
) -> ConvertResult:
    """Samples from `episodes` (module doc). An inconsistent episode raises ValueError;
    `max_length` needs a tokenizer."""
    if criteria not in CRITERIA:
        raise ValueError(f"unknown criteria {criteria!r}: use one of {', '.join(CRITERIA)}")
    if temperature <= 0:
        raise ValueError(f"temperature must be above 0, got {temperature}")
    if max_length is not None and tokenizer is None:
        raise ValueError("max_length needs a tokenizer to count tokens")
    if max_length is not None and max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    result = ConvertResult(samples=[])
    candidates: list[Sample] = []
    for position, episode in enumerate(episodes, 1):
        problem = check_episode(episode)
        if problem:
            raise ValueError(f"episode {position} (id {episode.id}): {problem}")
        result.episodes += 1
        result.actions += episode.turns
        for t in select_turns(episode, criteria):
            reward = episode.rewards[t]
            candidates.append(
                Sample(
                    messages=sample_messages(episode, t),
                    weight=weight_for(reward, temperature),
                    reward=reward,
                    episode=episode.id,
                    turn=t + 1,
                )
            )
    result.selected = len(candidates)
    if remove_duplication:
        seen: set[str] = set()
        unique: list[Sample] = []
        for sample in candidates:
            # The messages hold both the conversation and the answer (the last one).
            key = json.dumps(sample.messages, ensure_ascii=False, sort_keys=True)
            if key in seen:
                result.dropped[DUPLICATE] += 1
                continue
            seen.add(key)
            unique.append(sample)
        candidates = unique
    if tokenizer is not None:
        kept: list[Sample] = []
        for sample in candidates:
            try:
                tokens = tokenize_sample(tokenizer, sample.messages, max_length=max_length)
            except SampleDropped as exc:
                result.dropped[exc.reason] += 1
                continue
            kept.append(sample)
            result.token_counts.append(len(tokens.input_ids))
        candidates = kept
    if shuffle:
        order = list(range(len(candidates)))
        random.Random(seed).shuffle(order)
        candidates = [candidates[i] for i in order]
        if result.token_counts:
            result.token_counts = [result.token_counts[i] for i in order]
    result.samples = candidates
    return result


# ---- Tokenisation (shared with training.rise.finetune) -----------------------------


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def render(tokenizer: Any, messages: Sequence[Message]) -> tuple[str, str]:
    """(prompt, answer) text of a sample: the prompt as the gateway renders the chat
    for generation, and what follows it (module doc). Raises SampleDropped."""
    if not messages or messages[-1]["role"] != "assistant":
        raise ValueError("a sample's last message must be the assistant's")
    context = [dict(m) for m in messages[:-1]]
    if has_chat_template(tokenizer):
        try:
            prompt = str(tokenizer.apply_chat_template(context, tokenize=False, add_generation_prompt=True))
            full = str(tokenizer.apply_chat_template([dict(m) for m in messages], tokenize=False))
        except Exception as exc:  # a template's own raise_exception (jinja2), e.g. roles out of order
            raise SampleDropped(TEMPLATE_ERROR, f"the chat template refused the conversation: {exc}") from None
        if not full.startswith(prompt):
            raise SampleDropped(TEMPLATE_MISMATCH, "the chat template renders the prompt differently inside the whole")
        # The answer as the template writes it, end-of-turn marker included.
        return prompt, full[len(prompt) :]
    # No template: the gateway strips each message and ends the prompt with
    # "Assistant: "; the model's continuation is the stripped answer.
    return messages_as_prompt(context), messages[-1]["content"].strip()


def _ids(tokenizer: Any, text: str, *, special: bool) -> list[int]:
    return [int(i) for i in tokenizer(text, add_special_tokens=special)["input_ids"]]


def tokenize_sample(tokenizer: Any, messages: Sequence[Message], *, max_length: int | None = None) -> Tokenized:
    """Token ids and labels of one sample; only the answer is labelled (module doc).

    The prompt is tokenised with the tokenizer's special tokens (BOS for Gemma and
    Llama), as the gateway does, unless the rendered text already starts with the BOS
    string (chat templates that write it). Without a template the answer ends with EOS
    so that the model learns to stop. Raises SampleDropped (too_long, template_mismatch).
    """
    prompt, answer = render(tokenizer, messages)
    bos = getattr(tokenizer, "bos_token", None)
    prompt_ids = _ids(tokenizer, prompt, special=not (bos and prompt.startswith(bos)))
    answer_ids = _ids(tokenizer, answer, special=False)
    if not has_chat_template(tokenizer) and tokenizer.eos_token_id is not None:
        answer_ids.append(int(tokenizer.eos_token_id))
    if not answer_ids:  # only an empty answer with a tokenizer that has no EOS
        raise SampleDropped(EMPTY_ANSWER, "the answer has no tokens")
    input_ids = prompt_ids + answer_ids
    if max_length is not None and len(input_ids) > max_length:
        raise SampleDropped(TOO_LONG, f"{len(input_ids)} tokens > max_length {max_length}")
    return Tokenized(input_ids=input_ids, labels=[IGNORE_INDEX] * len(prompt_ids) + answer_ids)


# ---- Files --------------------------------------------------------------------------


def read_episodes(path: str | Path) -> list[Episode]:
    """The episodes of a `<N>_turns.json`; BadData names the file and the position."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadData(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadData(f"{path}: cannot be read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadData(f"{path}: line {exc.lineno} column {exc.colno}: not JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise BadData(f"{path}: expected a JSON list of episodes, got {type(data).__name__}")
    episodes: list[Episode] = []
    for position, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise BadData(f"{path}: episode {position}: expected an object, got {type(item).__name__}")
        try:
            episode = Episode.from_json(item)
        except KeyError as exc:
            raise BadData(f"{path}: episode {position}: missing {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise BadData(f"{path}: episode {position}: {exc}") from None
        problem = check_episode(episode)
        if problem:
            raise BadData(f"{path}: episode {position} (id {episode.id}): {problem}")
        episodes.append(episode)
    return episodes


def write_samples(samples: Iterable[Sample], path: str | Path) -> int:
    """Write JSONL (module doc), replacing `path` atomically; returns the count."""
    path = Path(path)
    if path.parent != Path():
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as out:
        for sample in samples:
            out.write(json.dumps(sample.as_json(), ensure_ascii=False) + "\n")
            count += 1
    os.replace(tmp, path)
    return count


def _parse_sample(data: Any) -> Sample:
    if not isinstance(data, dict):
        raise ValueError(f"expected an object, got {type(data).__name__}")
    missing = [k for k in ("messages", "weight") if k not in data]
    if missing:
        raise ValueError(f"missing {', '.join(repr(k) for k in missing)}")
    messages = data["messages"]
    if not isinstance(messages, list) or not messages:
        raise ValueError("'messages' must be a non-empty list")
    clean: list[Message] = []
    for i, m in enumerate(messages, 1):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise ValueError(f"message {i} must be {{'role': one of {'/'.join(ROLES)}, 'content': a string}}")
        clean.append({"role": m["role"], "content": m["content"]})
    if clean[-1]["role"] != "assistant":
        raise ValueError("the last message (the trained one) must be the assistant's")
    weight = data["weight"]
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) or weight <= 0:
        raise ValueError(f"'weight' must be a positive number, got {weight!r}")
    reward = data.get("reward", 0)
    turn = data.get("turn", 1)
    if isinstance(reward, bool) or not isinstance(reward, int | float):
        raise ValueError(f"'reward' must be a number, got {reward!r}")
    if isinstance(turn, bool) or not isinstance(turn, int) or turn < 1:
        raise ValueError(f"'turn' must be an integer >= 1, got {turn!r}")
    return Sample(
        messages=clean,
        weight=float(weight),
        reward=int(reward),
        episode=str(data.get("episode", "")),
        turn=turn,
    )


def read_samples(path: str | Path) -> list[Sample]:
    """The samples of a JSONL file (module doc); BadSamples names the file and line.
    Blank lines are skipped; `reward`, `episode` and `turn` are optional."""
    path = Path(path)
    samples: list[Sample] = []
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BadSamples(f"{path}: line {number}: not JSON ({exc.msg} at column {exc.colno})") from None
                try:
                    samples.append(_parse_sample(data))
                except ValueError as exc:
                    raise BadSamples(f"{path}: line {number}: {exc}") from None
    except FileNotFoundError:
        raise BadSamples(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise BadSamples(f"{path}: not UTF-8 text ({exc.reason})") from None
    except IsADirectoryError:
        raise BadSamples(f"{path}: is a folder, not a JSONL file") from None
    return samples
