"""The vector table.

PostgreSQL: `CREATE EXTENSION vector` first (needs a role allowed to create it, or
an extension created beforehand by an administrator), the table with a
`vector(VECTOR_DIM)` column, then an HNSW index with cosine ops.

SQLite: the embedding is a float32 BLOB; a small counter table, kept by a trigger,
counts deletions per owner so the numpy store can tell in O(log n) that rows went
away behind its back (COUNT(*) over 100k index entries costs several ms).
"""

from django.db import migrations, models

import environment.vectors.fields

TABLE = "vectors_vectoritem"
HNSW_INDEX = "vectors_vectoritem_embedding_hnsw"
DELETIONS_TABLE = "vectors_vectoritem_deletions"
DELETIONS_TRIGGER = "vectors_vectoritem_count_deletions"


def create_extension(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS vector")


def create_search_structures(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {HNSW_INDEX} ON {TABLE} "
            "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TABLE IF NOT EXISTS {DELETIONS_TABLE} "
            "(owner varchar(200) NOT NULL PRIMARY KEY, deleted integer NOT NULL)"
        )
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {DELETIONS_TRIGGER} AFTER DELETE ON {TABLE} BEGIN "
            f"INSERT INTO {DELETIONS_TABLE} (owner, deleted) VALUES (OLD.owner, 1) "
            "ON CONFLICT(owner) DO UPDATE SET deleted = deleted + 1; END"
        )


def drop_search_structures(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {HNSW_INDEX}")
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {DELETIONS_TRIGGER}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {DELETIONS_TABLE}")


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.RunPython(create_extension, migrations.RunPython.noop),
        migrations.CreateModel(
            name="VectorItem",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("owner", models.CharField(db_index=True, max_length=200)),
                ("kind", models.CharField(max_length=32)),
                ("ref", models.CharField(blank=True, max_length=100)),
                ("text", models.TextField(blank=True)),
                ("metadata", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField()),
                # vector(settings.VECTOR_DIM) on PostgreSQL, a float32 BLOB elsewhere.
                ("embedding", environment.vectors.fields.EmbeddingField()),
            ],
            options={
                "indexes": [
                    models.Index(fields=["owner", "kind", "created_at"], name="vectors_owner_kind_created"),
                ],
            },
        ),
        migrations.RunPython(create_search_structures, drop_search_structures),
    ]
