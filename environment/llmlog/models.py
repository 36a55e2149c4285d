"""Where the gateway's traces and response cache live when Django is running."""

from django.db import models


class LLMCall(models.Model):
    """One gateway call. Accounting fields are kept forever; the text fields
    (prompt, raw, parsed) are cleared after LLM_TRACE_RETENTION_DAYS."""

    created = models.DateTimeField(db_index=True)
    run = models.CharField(max_length=200, blank=True, db_index=True)
    step = models.IntegerField(null=True, blank=True)
    item = models.CharField(max_length=200, blank=True)
    purpose = models.CharField(max_length=100, db_index=True)
    kind = models.CharField(max_length=16)
    model = models.CharField(max_length=300)
    outcome = models.CharField(max_length=16)
    attempts = models.PositiveSmallIntegerField(default=1)
    cached = models.BooleanField(default=False)
    prompt_tokens = models.IntegerField(default=0)
    completion_tokens = models.IntegerField(default=0)
    seconds = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    # Failed attempts: how many were retried, and each one's {"kind", "error", "wait"}.
    retries = models.PositiveSmallIntegerField(default=0)
    faults = models.JSONField(default=list, blank=True)
    prompt = models.TextField(blank=True)
    raw = models.JSONField(default=list, blank=True)
    parsed = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["run", "step", "item"], name="llmcall_run_step_item")]
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.purpose} [{self.outcome}] {self.run}:{self.step}:{self.item}"


class CachedResponse(models.Model):
    key = models.CharField(max_length=300, primary_key=True)
    value = models.TextField()
    created = models.DateTimeField(auto_now_add=True)
