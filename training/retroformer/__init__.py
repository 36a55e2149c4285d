"""Retroformer (Yao et al., ICLR 2024) as a pure engine: no database, no model of its own.

    from training.retroformer import RetroSettings, play_tasks, success_by_trial
    episodes = play_tasks(env, tasks, actor_gw, reflector_gw, settings=RetroSettings(trials=4))
    success_by_trial(episodes, 4).success      # cumulative success per trial

actor.py       ReAct prompts and the one-action-per-turn parser
reflector.py   the retrospective model's prompt and its reflection
trials.py      the loop: trials, reflections, batched rounds, resume, success by trial
records.py     the JSON records (step, trial, task episode)
settings.py    the run's validated settings
envcalls.py    environment calls on threads, each bounded by a timeout
paper.py       the paper's reported success rates (approximate)
"""

from training.retroformer.records import RecordError, Step, TaskEpisode, Trial
from training.retroformer.settings import RetroSettings, RetroSettingsError
from training.retroformer.trials import ByTrial, play_tasks, play_trial, reflect, success_by_trial

__all__ = [
    "ByTrial",
    "RecordError",
    "RetroSettings",
    "RetroSettingsError",
    "Step",
    "TaskEpisode",
    "Trial",
    "play_tasks",
    "play_trial",
    "reflect",
    "success_by_trial",
]
