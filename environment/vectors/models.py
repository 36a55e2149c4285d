from __future__ import annotations

from django.db import models

from environment.vectors.fields import EmbeddingField


class VectorItem(models.Model):
    """One embedded thing an owner remembers: an event, a thought, a chat, a paragraph.

    `owner` scopes every search (e.g. "sim:3:persona:Isabella Rodriguez",
    "writer:12"); `ref` is the caller's id of the thing; `created_at` is the caller's
    time (game time in a simulation). Written and searched through
    `environment.vectors.store`, never directly.
    """

    owner = models.CharField(max_length=200, db_index=True)
    kind = models.CharField(max_length=32)
    ref = models.CharField(max_length=100, blank=True)
    text = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    # On PostgreSQL an HNSW index (vector_cosine_ops) is created by migration 0001:
    # declaring HnswIndex here would break the SQLite schema.
    embedding = EmbeddingField()

    class Meta:
        indexes = [models.Index(fields=["owner", "kind", "created_at"], name="vectors_owner_kind_created")]

    def __str__(self) -> str:
        return f"{self.owner} {self.kind} #{self.pk}"
