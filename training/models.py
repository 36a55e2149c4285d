"""Runs and their items, stored as they finish so a killed run resumes where it stopped.

A `RiseRun` is one `run_rise_gen` or `run_rise_eval` over a data file, keyed by its
output directory: running the same command again continues it (finished items are
skipped, part-played episodes continue from their next turn); the same directory
with other settings is refused unless --overwrite. A `RiseItem` is one problem's
episode (training.rise.rollout.RiseEpisode as JSON: every turn's samples, the kept
answer, its reward), saved after every turn.

A Retroformer evaluation (`run_retroformer_eval`, kind "retro") is stored in the same
two models (training.retroformer_runs): its config holds the env, the data, the limit,
RetroSettings.as_json and the actor's and reflector's specs; an item's `episode` is the
task's training.retroformer.records.TaskEpisode JSON, `turns` the trials finished,
`solved` won in any trial and `first_right` the 1-based trial of the first win.

Runs started from the results page are played by a Celery task (or a thread of the
web server) under the run's lease (environment.runs), like every other background run.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from environment.runs import LeasedRun


class RiseRun(LeasedRun):
    KINDS = [("gen", "data generation"), ("eval", "evaluation"), ("retro", "Retroformer evaluation")]

    kind = models.CharField(max_length=8, choices=KINDS)
    name = models.CharField(max_length=200)  # shown on the pages: the log dir's name by default
    env = models.CharField(max_length=16)
    data_path = models.TextField(blank=True, default="")  # as given; "" is the env's sample set
    log_dir = models.TextField(unique=True)  # absolute; where the JSON and plots go
    # Everything that decides the results (env, data, limit, RolloutConfig): a rerun with
    # other settings is refused, and the page shows them.
    config = models.JSONField(default=dict)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="rise_runs"
    )
    total = models.PositiveIntegerField(default=0)  # problems in the run
    finished_items = models.PositiveIntegerField(default=0)
    turns_played = models.PositiveIntegerField(default=0)  # model calls' worth of turns, for progress
    metrics = models.JSONField(default=dict, blank=True)  # training.rise.metrics.RiseMetrics.as_json
    finished = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def status(self) -> str:
        if self.finished is not None:
            return "finished"
        if self.run_error:
            return "failed"
        if self.run_state == "playing":
            return "running"
        return "stopped" if self.finished_items else "queued"

    @property
    def progress(self) -> float:
        return self.finished_items / self.total if self.total else 0.0


class RiseItem(models.Model):
    run = models.ForeignKey(RiseRun, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()  # order in the data file
    problem_id = models.CharField(max_length=255)  # ALFWorld's game ids run past 100 characters
    episode = models.JSONField()  # training.rise.rollout.RiseEpisode.as_json
    turns = models.PositiveSmallIntegerField(default=0)
    finished = models.BooleanField(default=False)
    solved = models.BooleanField(default=False)  # the last kept answer is right
    first_right = models.PositiveSmallIntegerField(null=True, blank=True)  # 1-based turn, for the filters

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "problem_id"], name="training_item_once")]
        indexes = [models.Index(fields=["run", "finished"])]

    def __str__(self) -> str:
        return self.problem_id

    def summary(self) -> dict[str, Any]:
        ep = self.episode
        return {"id": self.problem_id, "turns": self.turns, "rewards": ep.get("rewards", []), "solved": self.solved}
