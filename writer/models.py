"""A co-writing project is a tree of story states.

Every step, regeneration and edit adds a `Node` whose `state` is a *light* state:
`StoryState.to_dict(vectors=False)` except that "paragraphs" and "long_term" hold ids
of `Passage` and `MemoryEntry` rows. Texts and vectors are stored once, when written,
and shared by every node that keeps them, so a node costs a list of ids and a new
step writes one passage and one entry whatever the length of the story; any node can
be turned back into a full `StoryState` (writer.services.state_at) and stepped again
to make a branch.

`Project.head` is the node the co-writing page shows (the same in every tab). Steps
are `Job` rows, queued by the pages, the reader page or the CLI, and run one at a
time per project by the runner (writer.runner) under the project's lease.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from environment.runs import LeasedRun

LANGUAGE_CHOICES = [("en", "English"), ("zh", "中文")]
PRESET_CHOICES = [("compact", "compact (small models)"), ("paper", "paper (the original's sizes)")]


class Project(LeasedRun):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="writer_projects")
    name = models.CharField(max_length=200)
    novel_type = models.CharField(max_length=200)
    topic = models.TextField()
    premise = models.TextField(blank=True, default="")
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, default="en")
    preset = models.CharField(max_length=16, choices=PRESET_CHOICES, default="compact")
    # Published projects open on /read/<pk>/ for anyone; readers' paths are their own.
    published = models.BooleanField(default=False)
    head = models.ForeignKey("Node", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="writer_project_owner_name")]
        ordering = ["-updated"]

    def __str__(self) -> str:
        return self.name


class ReaderPath(models.Model):
    """One reader's way through a published project (a signed-in user or a browser session)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="readers")
    reader = models.CharField(max_length=100)  # "user:<pk>" or "session:<key>"
    node = models.ForeignKey("Node", on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "reader"], name="writer_reader_once")]


class Node(models.Model):
    KINDS = [("init", "init"), ("step", "step"), ("edit", "edit")]

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="nodes")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    # Steps taken by a reader on /read/ belong to that reader's path, not the writer's tree.
    reader = models.ForeignKey(ReaderPath, null=True, blank=True, on_delete=models.CASCADE, related_name="nodes")
    kind = models.CharField(max_length=8, choices=KINDS)
    label = models.CharField(max_length=200, blank=True, default="")  # what happened, for the history
    plan = models.TextField(blank=True, default="")  # the plan this step followed
    state = models.JSONField()  # the light state (see the module docstring)
    # What the page shows about how the node was made: retrieved entries with scores,
    # lorebook entries that fired, memory added/dropped, fallbacks, the simulator's reason.
    details = models.JSONField(default=dict, blank=True)
    paragraphs = models.PositiveIntegerField(default=0)  # story length at this node
    calls = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0.0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "parent"])]

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Passage(models.Model):
    """The text of one paragraph as written or edited (nodes refer to it by id)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="passages")
    text = models.TextField()


class MemoryEntry(models.Model):
    """A long-term memory entry; the primary key is the engine's entry id."""

    id = models.BigIntegerField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="entries")
    paragraph = models.PositiveIntegerField()
    summary = models.TextField(blank=True, default="")
    text = models.TextField()
    vector = models.BinaryField(null=True, blank=True)  # float32, little-endian, computed once


class Job(models.Model):
    """A unit of writing asked for by a page or a command, run by the project's runner."""

    KINDS = [("init", "init"), ("step", "step"), ("auto", "auto")]
    STATES = [(s, s) for s in ("queued", "running", "cancelling", "done", "cancelled", "failed")]
    ACTIVE = ("queued", "running", "cancelling")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=8, choices=KINDS)
    node = models.ForeignKey(Node, null=True, blank=True, on_delete=models.CASCADE, related_name="+")  # step from
    plan = models.TextField(blank=True, default="")
    options = models.JSONField(default=dict, blank=True)  # e.g. {"lore": [...]} for an opening
    reader = models.ForeignKey(ReaderPath, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    state = models.CharField(max_length=12, choices=STATES, default="queued")
    error = models.TextField(blank=True, default="")
    result = models.ForeignKey(Node, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(blank=True, default="")  # what was streamed so far (a late viewer catches up)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "state"])]

    def as_message(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "kind": self.kind,
            "state": self.state,
            "node": self.node_id,
            "plan": self.plan,
            "error": self.error,
            "result": self.result_id,
            "reader": self.reader_id,
        }
