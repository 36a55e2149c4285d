"""Policy optimisation of the retrospective model with the return-difference reward
(TRL GRPOTrainer, LoRA r 16 / alpha 32 as the paper's PPO).

Retroformer rewards a reflection by what it changed: the return of the trial played
after it minus the return of the trial it diagnosed. Here each prompt of the
reflection-rewards file (the reflector's prompt after trial k of a task) is given to
the policy, which samples `num_generations` reflections; each reflection is rewarded
by a reward function, and GRPO pushes up the reflections that beat their group's mean
(the group baseline replaces PPO's value network; TRL maintains GRPO, its PPO is
experimental). The paper trained with PPO; the reward is the same.

Two reward functions:
- `ReturnDifference` (the paper's): plays trial k+1 of the task with the actor
  (training.retroformer.trials.play_trial), the actor's memory being the task's
  earlier reflections from the file plus the new one, and returns
  return_after - return_before, return_before being the collected trial k's return.
  Each reward is a whole trial of the actor: the B x G reflections of a generation
  batch are played on `workers` threads (the actor's gateway batches or queues them).
  A reflection that is empty after cleaning is played as no reflection.
- `ModelReward`: a reward model from retroformer_reward scores the reflection (no
  environment, much cheaper; as good as the reward model).

Prompts are rendered as the gateway renders the reflector's chat for this model
(its chat template, or "User: ...\\nAssistant: " without one) and given to GRPO as
text; GRPO tokenises them adding the tokenizer's BOS, so a BOS the template already
wrote is taken off first. A completion is cut where the gateway would stop it (the
next "User:" turn of a template-less model) and cleaned like the loop's reflections
(reflector.clean_reflection) before it is rewarded. Prompts longer than `max_length`
tokens are dropped and counted.

Saved like every run here (models.py): the merged model in --out, loadable as
`--reflector transformers:<out>`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llm.backends.base import messages_as_prompt
from llm.types import Message
from training.envs.base import BadData
from training.retroformer_train.data import PolicyPrompt, policy_prompts, read_reflections
from training.retroformer_train.models import (
    TrainError,
    TrainSettings,
    check_base,
    check_output_dir,
    clear_output_dir,
    final_loss,
    is_main_process,
    load_causal_lm,
    log_last_step_callback,
    lora_config,
    save_merged,
    tokenizer_for,
    trainer_arguments,
    write_record,
)

# Where the gateway stops a template-less model's answer (llm.backends.base.render_chat_prompt).
TURN_STOPS = ("\nUser:", "\nSystem:")
DEFAULT_LR = 1e-5

Play = Callable[[PolicyPrompt, str], float]  # (prompt item, reflection) -> return of the next trial


@dataclass
class PolicyConfig:
    data: str
    base: str
    out: str
    env: str | None = None  # the environment to play (ReturnDifference)
    actor: str | None = None  # the actor's gateway spec (ReturnDifference)
    env_data: str | None = None  # the tasks file (default: the environment's sample set)
    reward_model: str | None = None  # a retroformer_reward folder: ModelReward instead
    num_generations: int = 4  # reflections sampled per prompt (GRPO's group)
    max_completion_length: int = 256  # the loop's reflector_max_tokens
    temperature: float = 1.0  # sampling needs variety inside a group
    beta: float = 0.0  # KL to the base (TRL's default: no reference model)
    workers: int = 8  # trials played at once by ReturnDifference
    settings: TrainSettings = field(default_factory=lambda: TrainSettings(lr=DEFAULT_LR))


@dataclass
class PolicyResult:
    out: Path
    rows: int
    prompts: int  # distinct prompts trained on
    dropped: Counter[str] = field(default_factory=Counter)
    global_step: int = 0
    final_loss: float | None = None
    final_reward: float | None = None  # the last logged mean reward
    trials_played: int = 0
    seconds: float = 0.0

    @property
    def spec(self) -> str:
        return f"transformers:{self.out.resolve()}"


def clean_completion(text: str) -> str:
    """A generated reflection as the loop would keep it (module doc)."""
    from training.retroformer.reflector import clean_reflection

    cut = len(text)
    for stop in TURN_STOPS:
        at = text.find(stop)
        if at != -1:
            cut = min(cut, at)
    return clean_reflection(text[:cut])


class ReturnDifference:
    """TRL reward function: return of the replayed next trial minus return_before."""

    __name__ = "return_difference"

    def __init__(self, items: Sequence[PolicyPrompt], play: Play, *, workers: int = 8) -> None:
        self.items = list(items)
        self.play = play
        self.workers = max(1, workers)
        self.played = 0
        self.failed = 0
        self._lock = threading.Lock()

    def __call__(self, prompts: list[Any], completions: list[Any], item: list[int], **_: Any) -> list[float | None]:
        jobs = [(self.items[int(i)], clean_completion(_text(c))) for i, c in zip(item, completions, strict=True)]

        def one(job: tuple[PolicyPrompt, str]) -> float | None:
            entry, reflection = job
            try:
                after = float(self.play(entry, reflection))
            except Exception:
                with self._lock:
                    self.failed += 1
                return None  # TRL skips a None reward (NaN) in the group's statistics
            with self._lock:
                self.played += 1
            return after - entry.row.return_before

        if len(jobs) == 1 or self.workers == 1:
            return [one(job) for job in jobs]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(jobs)), thread_name_prefix="retro-reward") as pool:
            return list(pool.map(one, jobs))


class ModelReward:
    """TRL reward function: a trained reward model's score of the reflection."""

    __name__ = "reward_model"

    def __init__(self, items: Sequence[PolicyPrompt], scorer: Any) -> None:
        self.items = list(items)
        self.scorer = scorer

    def __call__(self, prompts: list[Any], completions: list[Any], item: list[int], **_: Any) -> list[float | None]:
        entries = [self.items[int(i)] for i in item]
        texts = [clean_completion(_text(c)) for c in completions]
        return [float(s) for s in self.scorer.score([e.row.prompt for e in entries], texts)]


def _text(completion: Any) -> str:
    """A completion as TRL hands it: text for text prompts, messages for chat prompts."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    return str(completion)


class EnvPlayer:
    """Plays trial k+1 of a task with the actor: the environment half of ReturnDifference."""

    def __init__(self, env: Any, tasks: dict[str, Any], actor: Any, settings: Any) -> None:
        self.env = env
        self.tasks = tasks
        self.actor = actor
        self.settings = settings

    def __call__(self, entry: PolicyPrompt, reflection: str) -> float:
        from training.retroformer.trials import play_trial

        memory = [*entry.earlier, reflection] if reflection else list(entry.earlier)
        task = self.tasks[entry.row.task_id]
        trial = play_trial(self.env, task, self.actor, memory, settings=self.settings, trial=entry.row.trial + 1)
        return float(trial.reward)


def render_prompt_text(tokenizer: Any, messages: Sequence[Message]) -> str:
    """The reflector's prompt as the gateway renders it for this model (module doc)."""
    if getattr(tokenizer, "chat_template", None):
        text = str(
            tokenizer.apply_chat_template([dict(m) for m in messages], tokenize=False, add_generation_prompt=True)
        )
    else:
        text = messages_as_prompt([dict(m) for m in messages])
    bos = getattr(tokenizer, "bos_token", None)
    if bos and text.startswith(bos) and _adds_bos(tokenizer):
        text = text[len(bos) :]
    return text


def _adds_bos(tokenizer: Any) -> bool:
    ids = tokenizer("x")["input_ids"]
    return bool(ids) and tokenizer.bos_token_id is not None and ids[0] == tokenizer.bos_token_id


def build_dataset(tokenizer: Any, items: Sequence[PolicyPrompt], *, max_length: int) -> tuple[Any, Counter[str]]:
    """(datasets.Dataset with prompt text and the item index, drops by reason)."""
    from datasets import Dataset

    prompts: list[str] = []
    index: list[int] = []
    dropped: Counter[str] = Counter()
    for i, entry in enumerate(items):
        text = render_prompt_text(tokenizer, entry.row.prompt)
        if len(tokenizer(text)["input_ids"]) > max_length:
            dropped["too_long"] += 1
            continue
        prompts.append(text)
        index.append(i)
    return Dataset.from_dict({"prompt": prompts, "item": index}), dropped


def check_config(config: PolicyConfig, *, scripted: bool = False) -> None:
    config.settings.check()
    if config.num_generations < 2:
        raise TrainError(f"--num_generations must be at least 2 (GRPO compares a group), got {config.num_generations}")
    group = config.settings.batch_size * config.settings.grad_accum
    if group % config.num_generations:
        raise TrainError(
            f"--batch_size x --grad_accum ({group}) must be a multiple of --num_generations ({config.num_generations})"
        )
    if config.max_completion_length < 1 or config.workers < 1:
        raise TrainError("--max_completion_length and --workers must be at least 1")
    if not 0 < config.temperature <= 2:
        raise TrainError(f"--temperature must be in (0, 2], got {config.temperature}")
    if config.beta < 0:
        raise TrainError(f"--beta must be at least 0, got {config.beta}")
    if config.reward_model is None and not scripted and not (config.env and config.actor):
        raise TrainError("give --env and --actor (play the next trial), or --reward_model DIR")


def load_tasks(config: PolicyConfig, items: Sequence[PolicyPrompt]) -> tuple[Any, dict[str, Any]]:
    """The environment and the tasks the file's rows name; one line for a missing one."""
    from training.envs import get_text_env

    assert config.env is not None
    env = get_text_env(config.env)  # UnknownEnv names the choices
    tasks = {t.id: t for t in env.load(config.env_data)}
    for entry in items:
        row = entry.row
        if row.env != env.name:
            raise BadData(f"{config.data}: line {row.line}: env {row.env!r}, but --env is {env.name}")
        if row.task_id not in tasks:
            where = config.env_data or f"the {env.name} sample set"
            raise BadData(f"{config.data}: line {row.line}: task {row.task_id} is not in {where} (pass --env_data)")
    return env, tasks


def train_policy(
    config: PolicyConfig,
    *,
    play: Play | None = None,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
) -> PolicyResult:
    """Train (module doc). `play` overrides how the next trial is played (tests; the
    command builds an EnvPlayer from --env and --actor); ignored with a reward model."""
    started = time.monotonic()
    if not is_main_process():
        log = _silent
    check_config(config, scripted=play is not None)
    rows = read_reflections(config.data)
    items = policy_prompts(rows)
    base = check_base(config.base)
    check_output_dir(config.out, overwrite=overwrite)

    reward: ReturnDifference | ModelReward
    closers: list[Callable[[], None]] = []
    if config.reward_model is not None:
        from training.retroformer_train.reward_model import RewardScorer

        reward = ModelReward(items, RewardScorer(config.reward_model))
        log(f"Rewarding reflections with the reward model in {config.reward_model}.")
    else:
        if play is None:
            play, close = env_player(config, items)
            closers.append(close)
        reward = ReturnDifference(items, play, workers=config.workers)
        log(f"Rewarding reflections by playing the next trial ({config.env}, actor {config.actor}).")
    try:
        return _train(config, base, rows, items, reward, overwrite=overwrite, log=log, started=started)
    finally:
        for close in closers:
            close()


def env_player(config: PolicyConfig, items: Sequence[PolicyPrompt]) -> tuple[Play, Callable[[], None]]:
    """An EnvPlayer for --env/--actor, and how to close its gateway."""
    from training.cli import load_gateways
    from training.retroformer.settings import RetroSettings

    env, tasks = load_tasks(config, items)
    assert config.actor is not None
    gateways = load_gateways([config.actor])  # one line if the spec cannot load
    return EnvPlayer(env, tasks, gateways(config.actor), RetroSettings()), gateways.close


def _train(
    config: PolicyConfig,
    base: str,
    rows: Sequence[Any],
    items: Sequence[PolicyPrompt],
    reward: ReturnDifference | ModelReward,
    *,
    overwrite: bool,
    log: Callable[[str], None],
    started: float,
) -> PolicyResult:
    from transformers import set_seed
    from trl import GRPOConfig, GRPOTrainer

    s = config.settings
    out = Path(config.out)
    args = trainer_arguments(
        GRPOConfig,
        s,
        out,
        num_generations=config.num_generations,
        max_completion_length=config.max_completion_length,
        temperature=config.temperature,
        beta=config.beta,
        remove_unused_columns=False,  # the reward function reads "item"
    )
    if overwrite:
        clear_output_dir(out)
    set_seed(s.seed)
    tokenizer = tokenizer_for(base)
    tokenizer.padding_side = "left"  # generation continues on the right
    dataset, dropped = build_dataset(tokenizer, items, max_length=s.max_length)
    for reason, count in sorted(dropped.items()):
        log(f"Dropped {count} prompt(s): {reason}")
    if len(dataset) == 0:
        raise TrainError(f"no prompt of {config.data} fits in --max_length {s.max_length}")
    log(f"{len(dataset)} prompts, {config.num_generations} reflections sampled for each per step.")
    trainer = GRPOTrainer(
        model=load_causal_lm(base),
        reward_funcs=[reward],
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(r=s.lora_r, alpha=s.lora_alpha, dropout=s.lora_dropout, task_type="CAUSAL_LM"),
        callbacks=[log_last_step_callback()],
    )
    trainer.train()
    save_merged(trainer, tokenizer=tokenizer, out=out, reload_base=lambda: load_causal_lm(base), bf16=s.bf16)
    result = PolicyResult(
        out=out,
        rows=len(rows),
        prompts=len(dataset),
        dropped=dropped,
        global_step=trainer.state.global_step,
        final_loss=final_loss(trainer),
        final_reward=final_loss(trainer, "reward"),
        trials_played=reward.played if isinstance(reward, ReturnDifference) else 0,
        seconds=time.monotonic() - started,
    )
    failed = reward.failed if isinstance(reward, ReturnDifference) else 0
    if failed:
        log(f"{failed} replayed trial(s) failed and were left out of their group's reward.")
    write_record(
        out,
        {
            "kind": "policy",
            "base": config.base,
            "data": config.data,
            "reward": "reward_model" if config.reward_model else "return_difference",
            "env": config.env,
            "actor": config.actor,
            "env_data": config.env_data,
            "reward_model": config.reward_model,
            "num_generations": config.num_generations,
            "max_completion_length": config.max_completion_length,
            "temperature": config.temperature,
            "beta": config.beta,
            "settings": asdict(s),
            "rows": result.rows,
            "prompts": result.prompts,
            "dropped": dict(dropped),
            "global_step": result.global_step,
            "final_loss": result.final_loss,
            "final_reward": result.final_reward,
            "trials_played": result.trials_played,
            "failed_trials": failed,
            "seconds": round(result.seconds, 1),
            "model_spec": result.spec,
        },
    )
    return result


def _silent(_: str) -> None:
    pass
