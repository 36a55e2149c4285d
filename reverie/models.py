"""Durable simulation state: everything a run needs to resume after a kill.

A step commits in one transaction: the movements of that step, new memory nodes
(with their embeddings in environment.vectors), touched nodes' last-access times,
each persona's scratch / spatial memory / reflection counter, and the simulation's
step and clock. A process killed mid-step loses only that step.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from environment.runs import LeasedRun


class Simulation(LeasedRun):
    """A run of the town. Run control (run_state, run_until, run_error, waiting_since,
    waiting_reason, runner, runner_seen) comes from LeasedRun; reverie.runner drives it."""

    name = models.CharField(max_length=200, unique=True)
    forked_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks")
    is_base = models.BooleanField(default=False)
    maze = models.CharField(max_length=100, default="the_ville")
    start_time = models.DateTimeField()
    current_time = models.DateTimeField()
    sec_per_step = models.PositiveIntegerField(default=10)
    step = models.PositiveIntegerField(default=0)  # the next step to run
    meta = models.JSONField(default=dict, blank=True)
    # Who started the run (forked it from a page); None for bases and runs made on the
    # command line. Only "your runs" on the pages use it: anyone may watch any run.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="simulations"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("run_simulation", "Can play, pause and step a simulation")]

    def __str__(self) -> str:
        return f"{self.name} (step {self.step})"

    @property
    def run_label(self) -> str:
        """The `run` tag of this simulation's model-call traces."""
        return f"sim:{self.pk}"


class Persona(models.Model):
    simulation = models.ForeignKey(Simulation, on_delete=models.CASCADE, related_name="personas")
    name = models.CharField(max_length=200)
    identity = models.JSONField()
    scratch = models.JSONField(default=dict)
    spatial = models.JSONField(default=dict)
    trigger = models.JSONField(default=dict)
    extra = models.JSONField(default=dict, blank=True)  # relationships, workplace, home spawn

    class Meta:
        unique_together = [("simulation", "name")]
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def vector_owner(self) -> str:
        return f"sim:{self.simulation_id}:persona:{self.name}"


class MemoryNode(models.Model):
    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="memories")
    node_id = models.PositiveIntegerField()
    data = models.JSONField()  # MemoryNode.to_dict()
    kind = models.CharField(max_length=16)
    description = models.TextField()
    created = models.DateTimeField()
    last_accessed = models.DateTimeField()
    step = models.PositiveIntegerField(default=0)  # the step that created it

    class Meta:
        unique_together = [("persona", "node_id")]
        ordering = ["persona", "node_id"]


class PersonaSnapshot(models.Model):
    """A persona's plans as of a step, saved only when they change (persona state page).

    Position, path and the chat cool-down change nearly every step and are left out;
    what stays (daily plan, schedule, decomposition, action, conversation) changes a
    few hundred times a day, so a day of 25 agents stays a few thousand rows.
    """

    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="snapshots")
    step = models.PositiveIntegerField()
    scratch = models.JSONField()

    class Meta:
        unique_together = [("persona", "step")]
        ordering = ["persona", "step"]


class Movement(models.Model):
    simulation = models.ForeignKey(Simulation, on_delete=models.CASCADE, related_name="movements")
    step = models.PositiveIntegerField()
    persona = models.CharField(max_length=200)
    x = models.IntegerField()
    y = models.IntegerField()
    emoji = models.CharField(max_length=16)
    description = models.TextField()
    chat = models.JSONField(null=True, blank=True)

    class Meta:
        unique_together = [("simulation", "step", "persona")]
        ordering = ["simulation", "step", "persona"]


class EvalResult(models.Model):
    """One `reverie_eval` measurement of a simulation (reverie/eval_services.py).

    `summary` holds the headline figures (what the command prints and the page charts),
    `interviews` every question asked with its answer and verdict, each tagged with the
    `item` its model-call traces carry (run = the simulation's run label), so an answer
    links to the prompts behind it. A measurement stopped by Ctrl-C keeps what it
    finished, with status "interrupted". `runs` results (the mean over forks) are stored
    on the source simulation with `forks` naming the forks measured.
    """

    STATUSES = [("running", "running"), ("done", "done"), ("interrupted", "interrupted"), ("failed", "failed")]

    simulation = models.ForeignKey(Simulation, on_delete=models.CASCADE, related_name="eval_results")
    measure = models.CharField(max_length=32)
    step = models.PositiveIntegerField()  # the simulation's step when measured ("now")
    status = models.CharField(max_length=16, choices=STATUSES, default="running")
    settings = models.JSONField(default=dict, blank=True)  # preset, judge, runs, personas...
    summary = models.JSONField(default=dict, blank=True)
    interviews = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["simulation", "measure", "-created", "-id"]
        indexes = [models.Index(fields=["simulation", "measure", "created"], name="evalresult_sim_measure")]

    def __str__(self) -> str:
        return f"{self.measure} of {self.simulation_id} at step {self.step} ({self.status})"

    def item(self, number: int) -> str:
        """The trace `item` of this result's interview `number`."""
        return f"eval:{self.pk}:{number}"


class Whisper(models.Model):
    """A whisper to an agent from the live page: an inner voice that becomes one of its
    memories. It is queued here first, so one asked for while a step runs waits for that
    step to commit (the runner applies queued whispers between steps) and one queued
    before a server restart is still applied after it."""

    STATUSES = [("queued", "queued"), ("applied", "applied"), ("failed", "failed")]

    simulation = models.ForeignKey(Simulation, on_delete=models.CASCADE, related_name="whispers")
    persona = models.CharField(max_length=200)
    text = models.TextField()
    author = models.CharField(max_length=150, blank=True, default="")  # the user's name when asked
    status = models.CharField(max_length=16, choices=STATUSES, default="queued")
    step = models.PositiveIntegerField(null=True, blank=True)  # the step it was applied at
    node_id = models.PositiveIntegerField(null=True, blank=True)  # the memory it became
    error = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    applied = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["simulation", "id"]
        indexes = [models.Index(fields=["simulation", "status"], name="whisper_sim_status")]

    def __str__(self) -> str:
        return f"whisper to {self.persona} in {self.simulation_id} ({self.status})"
