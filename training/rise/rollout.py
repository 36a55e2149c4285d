"""Multi-turn RISE episodes, all problems of a turn in one batch.

One algorithm serves data generation (`run_rise_gen`) and evaluation (`run_rise_eval`):

    for turn t = 1 .. max_turns:
        the open episodes' conversations (the problem, the last `window - 1` earlier
        turns with their feedback; training.rise.trajectory) go to model M_t as ONE
        batch, n_t samples each;
        every sample is graded by the environment (reward 1 / 0 / -1);
        the turn keeps one sample:
            generation: the best (highest reward, earliest on ties: it uses the
                        reward, as the original's best-of-n did);
            evaluation: the majority answer of the samples (no oracle), earliest on ties;
        generation ends an episode at its first correct turn (the original's workflow);
        evaluation always runs every turn, so m1@tK (no oracle) and p1@tK (oracle) come
        from the same episode (training.rise.metrics says why that is exact).
        The next turn's user message is the environment's feedback, which says only
        that the answer was wrong and asks for another try: never the answer.

The engine holds no database and no model: it takes a gateway per model spec and
calls `on_turn` after every turn with the episodes that changed, so the caller can
save them (a kill loses at most the turn in flight) and show progress.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from llm.context import call_context
from llm.errors import LLMError
from llm.gateway import Gateway
from llm.types import Completion, Message
from training.envs.base import RIGHT, UNREADABLE, Env, Problem
from training.rise.metrics import vote
from training.rise.trajectory import Episode, conversation


class RolloutSettingsError(ValueError):
    """Settings that cannot describe a run (one line, for the command to print)."""


@dataclass(frozen=True)
class RolloutConfig:
    """One run's settings; stored with the run so it can be repeated and explained."""

    mode: Literal["gen", "eval"]
    max_turns: int
    models: tuple[str, ...]  # one spec per turn, or one for every turn
    num_of_samples: tuple[int, ...]  # one count per turn
    context_window: int | None = None  # None: the whole history
    temperature: float | None = None  # None: 0 for a single sample, SAMPLING_TEMPERATURE for several
    top_p: float = 1.0
    max_tokens: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_turns < 1:
            raise RolloutSettingsError(f"--max_turns must be at least 1 (got {self.max_turns})")
        if len(self.num_of_samples) != self.max_turns:
            raise RolloutSettingsError(
                f"--num_of_samples has {len(self.num_of_samples)} counts for --max_turns {self.max_turns}; "
                "give one count per turn"
            )
        if len(self.models) not in (1, len(self.num_of_samples)):
            raise RolloutSettingsError(
                f"--models has {len(self.models)} specs and --num_of_samples {len(self.num_of_samples)} counts; "
                "give one model per turn (or one model for all turns)"
            )
        if any(n < 1 for n in self.num_of_samples):
            raise RolloutSettingsError("every --num_of_samples count must be at least 1")
        if self.context_window is not None and not 1 <= self.context_window <= self.max_turns:
            raise RolloutSettingsError(
                f"--context_window must be between 1 and --max_turns ({self.max_turns}); got {self.context_window}"
            )
        if self.max_tokens < 1:
            raise RolloutSettingsError("--max_tokens must be at least 1")
        if self.temperature is not None and self.temperature < 0:
            raise RolloutSettingsError("--temperature cannot be negative")

    def model_for(self, turn: int) -> str:
        return self.models[turn if len(self.models) > 1 else 0]

    def temperature_for(self, turn: int) -> float:
        if self.temperature is not None:
            return self.temperature
        return 0.0 if self.num_of_samples[turn] == 1 else SAMPLING_TEMPERATURE

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "max_turns": self.max_turns,
            "models": list(self.models),
            "num_of_samples": list(self.num_of_samples),
            "context_window": self.context_window,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
        }


# Several samples of one turn need sampling; 0.7 is the usual best-of-n setting.
SAMPLING_TEMPERATURE = 0.7


@dataclass
class TurnSample:
    text: str
    answer: str | None
    reward: int
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "answer": self.answer, "reward": self.reward, "reason": self.reason}


@dataclass
class RiseEpisode(Episode):
    """An episode plus every sample of every turn (`samples[t]`), and whether it ended."""

    samples: list[list[dict[str, Any]]] = field(default_factory=list)
    finished: bool = False

    @classmethod
    def start(cls, env: Env, problem: Problem) -> RiseEpisode:
        return cls(
            id=problem.id,
            question=problem.question,
            gold=problem.gold,
            observations=[env.question_prompt(problem)],
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RiseEpisode:
        base = Episode.from_json(data)
        return cls(
            **vars(base),
            samples=[list(turn) for turn in data.get("samples", [])],
            finished=bool(data.get("finished", False)),
        )

    def original_json(self) -> dict[str, Any]:
        """The `<N>_turns.json` entry: the original's fields and ours, without the samples."""
        data = self.as_json()
        data.pop("samples", None)
        data.pop("finished", None)
        return data


def keep_best(samples: Sequence[TurnSample]) -> int:
    """Index of the highest reward, earliest on ties (generation: the reward is known)."""
    return max(range(len(samples)), key=lambda i: (samples[i].reward, -i))


def keep_majority(env: Env, samples: Sequence[TurnSample]) -> int:
    """Index of the first sample holding the majority answer (evaluation: no oracle)."""
    winner = vote(env, [s.answer for s in samples])
    if winner is None:
        return 0
    return next(i for i, s in enumerate(samples) if s.answer is not None and env.equivalent(s.answer, winner))


def run_turn(
    episodes: Sequence[RiseEpisode],
    *,
    env: Env,
    gateway: Gateway,
    config: RolloutConfig,
    turn: int,
    run_label: str = "",
) -> None:
    """Play turn `turn` (0-based) of every open episode that has not played it: one batch."""
    todo = [ep for ep in episodes if not ep.finished and ep.turns == turn]
    if not todo:
        return
    n = config.num_of_samples[turn]
    conversations = [conversation(ep.observations, ep.actions, window=config.context_window) for ep in todo]
    purpose = "rise.gen" if config.mode == "gen" else "rise.eval"
    temperature = config.temperature_for(turn)

    def ask(eps: Sequence[RiseEpisode], convs: list[list[Message]]) -> list[Completion | LLMError]:
        return gateway.chat_batch_settled(
            convs,
            purpose=purpose,
            n=n,
            max_tokens=config.max_tokens,
            temperature=temperature,
            top_p=config.top_p,
            seed=None if temperature == 0 else config.seed + turn,
            items=[ep.id for ep in eps],
        )

    with call_context(run=run_label or None, step=turn + 1):
        completions = _ask_each_on_failure(ask, todo, conversations)
    model = config.model_for(turn)
    for ep, completion in zip(todo, completions, strict=True):
        if isinstance(completion, LLMError):
            # This problem's call failed after the gateway's retries (the others of
            # its batch were answered): the turn counts as unanswered, and says why.
            reason = f"the model call failed: {str(completion).splitlines()[0] if str(completion) else completion}"
            samples = [TurnSample("", None, UNREADABLE, reason)]
        else:
            samples = []
            for text in completion.texts or [""]:
                grade = env.grade(text, ep.gold)
                samples.append(TurnSample(text, grade.answer, grade.reward, grade.reason))
        kept = keep_best(samples) if config.mode == "gen" else keep_majority(env, samples)
        choice = samples[kept]
        ep.samples.append([s.as_json() for s in samples])
        ep.actions.append(choice.text)
        ep.rewards.append(choice.reward)
        ep.answers.append(choice.answer)
        ep.models.append(model)
        last_turn = ep.turns >= config.max_turns
        if last_turn or (config.mode == "gen" and choice.reward == RIGHT):
            ep.finished = True
        else:
            ep.observations.append(env.feedback())


def _ask_each_on_failure(
    ask: Callable[[Sequence[RiseEpisode], list[list[Message]]], list[Completion | LLMError]],
    episodes: list[RiseEpisode],
    conversations: list[list[Message]],
) -> list[Completion | LLMError]:
    """Every problem's answer, or the error its call met after the gateway's retries.

    A batch that failed as a whole (a native batch is one call) is asked again one
    problem at a time, so a prompt that times out costs only its own turn. When every
    problem failed, the model server is the problem, not a prompt: the error is raised
    and the run stops (it resumes later with nothing lost)."""
    answers = ask(episodes, conversations)
    if len(episodes) > 1 and all(isinstance(a, LLMError) for a in answers):
        answers = [ask([ep], [conv])[0] for ep, conv in zip(episodes, conversations, strict=True)]
    if all(isinstance(a, LLMError) for a in answers):
        raise next(a for a in answers if isinstance(a, LLMError))
    return answers


def rollout(
    episodes: Sequence[RiseEpisode],
    *,
    env: Env,
    gateway_for: Callable[[str], Gateway],
    config: RolloutConfig,
    run_label: str = "",
    on_turn: Callable[[int, list[RiseEpisode]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Play every episode to its end, turn by turn; episodes already part-played (a
    resumed run) continue from their own next turn."""
    for turn in range(config.max_turns):
        if should_stop is not None and should_stop():
            return
        todo = [ep for ep in episodes if not ep.finished and ep.turns == turn]
        if not todo:
            continue
        run_turn(
            todo, env=env, gateway=gateway_for(config.model_for(turn)), config=config, turn=turn, run_label=run_label
        )
        if on_turn is not None:
            on_turn(turn, todo)


__all__ = [
    "RIGHT",
    "UNREADABLE",
    "RiseEpisode",
    "RolloutConfig",
    "RolloutSettingsError",
    "TurnSample",
    "keep_best",
    "keep_majority",
    "rollout",
    "run_turn",
]
