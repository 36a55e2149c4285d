"""Retroformer runs written straight into the database for the pages' tests: each task's
trials with chosen rewards, a Thought/Action/Observation per step, a reflection after
each failed trial that another followed, and the metrics the command would store."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from django.utils import timezone

from training.models import RiseItem, RiseRun
from training.retroformer.records import Step, TaskEpisode, Trial
from training.retroformer.settings import RetroSettings
from training.retroformer.trials import success_by_trial
from training.retroformer_runs import metrics_of

XSS = "<script>window.__xss=1</script>"

# Rewards of each task's trials (a task stops at its first win; 1.0 is a win).
PLAYS_RETRO: list[list[float]] = [
    [1.0],  # won at trial 1
    [0.0, 1.0],  # won after one reflection: improved
    [0.0, 0.0, 0.0],  # never won: no better, twice
    [0.5, 0.25, 1.0],  # worse, then improved (WebShop-like partial rewards)
    [],  # not played yet
]


def episode(k: int, rewards: Sequence[float]) -> TaskEpisode:
    ep = TaskEpisode(task_id=f"hotpotqa-t{k}", env="hotpotqa", goal=f"Question {k}: who sang {XSS}?")
    ep.observation = f"Question: Question {k}: who sang {XSS}?"
    for n, reward in enumerate(rewards):
        won = reward == 1.0
        steps = [
            Step(
                f"I should look up band {k} {XSS}",
                f"Search[Band {k}]",
                f"Band {k} is fronted by Singer {k}.",
                "",
                False,
            ),
            Step("I know it.", f"Finish[Answer {k}.{n}]", "Episode finished.", "", False),
        ]
        ep.trials.append(Trial(trial=n, steps=steps, reward=reward, won=won, reason="finished"))
        if not won and n < len(rewards) - 1:
            ep.add_reflection(f"Reflection {k}.{n}: I trusted the first paragraph. Plan: read both.", prompt=[])
    return ep


def make_retro_run(tmp: Path, plays: Sequence[Sequence[float]] = PLAYS_RETRO, *, name: str = "retro run") -> RiseRun:
    trials = 3
    settings = RetroSettings(trials=trials)
    episodes = [episode(k, rewards) for k, rewards in enumerate(plays)]
    finished = all(plays)
    metrics = metrics_of(success_by_trial(episodes, trials), "hotpotqa") if finished else {}
    run = RiseRun.objects.create(
        kind="retro",
        name=name,
        env="hotpotqa",
        log_dir=str(tmp / f"retro-{RiseRun.objects.count()}"),
        config={
            "kind": "retro",
            "env": "hotpotqa",
            "data_path": "",
            "limit": len(plays),
            "retro": settings.as_json(),
            "actor": "openai:actor",
            "reflector": "openai:reflector",
        },
        total=len(plays),
        finished_items=sum(1 for p in plays if p),
        turns_played=sum(len(p) for p in plays),
        metrics=metrics,
        finished=timezone.now() if finished else None,
    )
    RiseItem.objects.bulk_create(
        RiseItem(
            run=run,
            position=k,
            problem_id=ep.task_id,
            episode=ep.as_json(),
            turns=len(ep.trials),
            finished=bool(ep.trials),
            solved=ep.won,
            first_right=next((t.trial + 1 for t in ep.trials if t.won), None),
        )
        for k, ep in enumerate(episodes)
    )
    return run
