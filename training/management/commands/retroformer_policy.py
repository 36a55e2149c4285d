"""`python manage.py retroformer_policy`: policy optimisation of the retrospective model
with the return-difference reward (training.retroformer_train.policy; TRL GRPOTrainer
with LoRA r 16 / alpha 32).

    python manage.py retroformer_policy --data storage/retroformer/reflections.jsonl \\
        --base storage/retroformer/models/sft --out storage/retroformer/models/policy \\
        --env hotpotqa --actor llama_cpp:bundled [--env_data PATH] \\
        [--num_generations 4] [--max_completion_length 256] [--temperature 1.0] [--beta 0] \\
        [--workers 8] [--epochs 1] [--max_steps -1] [--lr 1e-5] [--batch_size 4] [--bf16] [--overwrite]

    # cheaper: a reward model from retroformer_reward instead of playing the environment
    python manage.py retroformer_policy --data ... --base ... --out ... --reward_model storage/retroformer/models/reward

Each sampled reflection's reward is the return of the next trial, played by the actor
with that reflection in its memory, minus the return of the trial it diagnosed. The
model in --out loads as `--reflector transformers:<out>`; the command prints the spec.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from training.envs import TEXT_ENV_NAMES
from training.retroformer_train.cli import ONE_LINE_ERRORS, add_train_arguments, loss_text, settings_from
from training.retroformer_train.models import TrainSettings, is_main_process
from training.retroformer_train.policy import DEFAULT_LR, PolicyConfig, train_policy
from training.rise.finetune import leave_process_group

_D = PolicyConfig(data="", base="", out="")


class Command(BaseCommand):
    help = "Optimise the retrospective model with GRPO on the return difference its reflections make."

    def add_arguments(self, parser: CommandParser) -> None:
        add_train_arguments(parser, TrainSettings(lr=DEFAULT_LR))
        parser.add_argument("--env", type=str.lower, default=None, help=f"one of {', '.join(TEXT_ENV_NAMES)}")
        parser.add_argument("--actor", default=None, help="the actor's model spec, e.g. llama_cpp:bundled")
        parser.add_argument("--env_data", default=None, help="the tasks file (default: the env's sample set)")
        parser.add_argument(
            "--reward_model", default=None, help="a retroformer_reward folder, instead of --env/--actor"
        )
        parser.add_argument("--num_generations", type=int, default=_D.num_generations, help="reflections per prompt")
        parser.add_argument("--max_completion_length", type=int, default=_D.max_completion_length)
        parser.add_argument("--temperature", type=float, default=_D.temperature)
        parser.add_argument("--beta", type=float, default=_D.beta, help="KL coefficient to the base (default 0)")
        parser.add_argument("--workers", type=int, default=_D.workers, help="next trials played at once")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["reward_model"] and (options["env"] or options["actor"]):
            raise CommandError("give either --reward_model or --env with --actor, not both")
        config = PolicyConfig(
            data=options["data"],
            base=options["base"],
            out=options["out"],
            env=options["env"],
            actor=options["actor"],
            env_data=options["env_data"],
            reward_model=options["reward_model"],
            num_generations=options["num_generations"],
            max_completion_length=options["max_completion_length"],
            temperature=options["temperature"],
            beta=options["beta"],
            workers=options["workers"],
            settings=settings_from(options),
        )
        try:
            result = train_policy(config, overwrite=options["overwrite"], log=self.stdout.write)
        except ONE_LINE_ERRORS as exc:
            raise CommandError(str(exc)) from None
        leave_process_group()
        if not is_main_process():
            return
        reward = f"{result.final_reward:.3f}" if result.final_reward is not None else "not logged"
        played = f", {result.trials_played} trials played" if result.trials_played else ""
        self.stdout.write(
            f"Trained on {result.prompts} prompts for {result.global_step} steps in {result.seconds:.0f}s"
            f"{played}; final loss {loss_text(result.final_loss)}, last mean reward {reward}."
        )
        self.stdout.write(f"Model saved in {result.out}. Use it as the reflector: --reflector {result.spec}")
