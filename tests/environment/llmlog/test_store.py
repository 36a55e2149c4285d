"""Traces and the response cache in the database, and the commands that read them."""

import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from pydantic import BaseModel

from environment.llmlog.models import CachedResponse, LLMCall
from environment.llmlog.selectors import stats_by_run_and_purpose, traces
from environment.llmlog.store import DjangoCache, DjangoRecorder, prune_traces
from llm.context import call_context
from llm.gateway import Gateway
from tests.llm.fakes import FakeEmbedder, ScriptedBackend

pytestmark = pytest.mark.django_db


class Mood(BaseModel):
    mood: str


def gateway(script=None, default='{"mood": "calm"}'):
    return Gateway(
        ScriptedBackend(script, default=default), cache=DjangoCache(), recorder=DjangoRecorder(retention_days=30)
    )


def test_traces_are_stored_with_their_context_and_outcome():
    gw = gateway(['{"mood": 5}', '{"mood": "happy"}'])
    with call_context(run="sim:1", step=4, item="Maria Lopez"):
        result = gw.structured(Mood, prompt="How does Maria feel?", fallback=Mood(mood="?"), purpose="perceive.mood")
    gw.flush()
    row = LLMCall.objects.get()
    assert (row.run, row.step, row.item, row.purpose) == ("sim:1", 4, "Maria Lopez", "perceive.mood")
    assert row.outcome == "repaired" == result.outcome
    assert row.raw == ['{"mood": 5}', '{"mood": "happy"}'] and row.parsed == {"mood": "happy"}
    assert row.prompt == "How does Maria feel?" and row.attempts == 2
    assert row.prompt_tokens == 20 and row.completion_tokens == 10
    assert list(traces(run="sim:1", item="Maria Lopez")) == [row]


def test_recorder_writes_in_batches():
    recorder = DjangoRecorder(batch=3, interval=3600)
    gw = Gateway(ScriptedBackend(default="x"), recorder=recorder)
    gw.complete("a", purpose="p", cache=False)
    gw.complete("b", purpose="p", cache=False)
    assert LLMCall.objects.count() == 0
    gw.complete("c", purpose="p", cache=False)
    assert LLMCall.objects.count() == 3


def test_database_cache_serves_a_second_gateway():
    first = gateway(["remembered"])
    first.complete("same prompt", purpose="p")
    second_backend = ScriptedBackend(default="fresh")
    second = Gateway(second_backend, cache=DjangoCache())
    assert second.complete("same prompt", purpose="p").text == "remembered"
    assert second_backend.calls == []
    assert CachedResponse.objects.count() == 1


def test_embeddings_persist_in_the_database_cache():
    gw = Gateway(ScriptedBackend(), cache=DjangoCache(), embedder=FakeEmbedder())
    vectors = gw.embed(["tea", "coffee"])
    embedder = FakeEmbedder()
    again = Gateway(ScriptedBackend(), cache=DjangoCache(), embedder=embedder).embed(["coffee", "tea"])
    assert embedder.encoded == []
    assert (again[0] == vectors[1]).all() and (again[1] == vectors[0]).all()


def test_stats_and_prune_keep_accounting():
    gw = gateway(default="x")
    with call_context(run="r1"):
        gw.complete("a", purpose="plan.daily", cache=False)
        gw.complete("b", purpose="plan.daily", cache=False)
        gw.structured(Mood, prompt="c", fallback=Mood(mood="?"), purpose="perceive.mood", cache=False)
    gw.flush()
    rows = {(r, p): t for r, p, t in stats_by_run_and_purpose(run="r1")}
    assert rows[("r1", "plan.daily")].calls == 2 and rows[("r1", "perceive.mood")].calls == 1
    LLMCall.objects.update(created=timezone.now() - timedelta(days=40))
    assert prune_traces(30) == 3
    assert set(LLMCall.objects.values_list("prompt", flat=True)) == {""}
    rows_after = {(r, p): t for r, p, t in stats_by_run_and_purpose(run="r1")}
    assert rows_after[("r1", "plan.daily")].prompt_tokens == 20


def test_llm_stats_and_llm_traces_commands():
    gw = gateway(default="x")
    with call_context(run="cmd", step=1, item="Klaus"):
        gw.complete("hello", purpose="converse.line", cache=False)
    gw.flush()
    out = StringIO()
    call_command("llm_stats", stdout=out)
    text = out.getvalue()
    assert "converse.line" in text and text.strip().splitlines()[-1].startswith("TOTAL")
    out = StringIO()
    call_command("llm_traces", "--run", "cmd", "--full", stdout=out)
    assert "converse.line [ok]" in out.getvalue() and "prompt: hello" in out.getvalue()
    out = StringIO()
    call_command("llm_stats", "--json", stdout=out)
    assert '"purpose": "converse.line"' in out.getvalue()


def test_retries_and_fault_kinds_are_stored_and_reported_per_purpose():
    from llm.errors import RetryableError
    from llm.retry import RetryPolicy

    script = [RetryableError("500 from the proxy", kind="server_error"), RetryableError("cut", kind="dropped"), "ok"]
    gw = gateway(script, default="x")
    gw.retry = RetryPolicy(base_delay=0.0, max_delay=0.0)
    with call_context(run="faults"):
        gw.complete("hello", purpose="converse.line", cache=False)
        gw.complete("again", purpose="plan.daily", cache=False)
    gw.flush()
    row = LLMCall.objects.get(run="faults", purpose="converse.line")
    assert row.retries == 2 and [f["kind"] for f in row.faults] == ["server_error", "dropped"]
    stats = {p: t for _, p, t in stats_by_run_and_purpose(run="faults")}
    assert stats["converse.line"].retries == 2 and stats["plan.daily"].retries == 0
    out = StringIO()
    call_command("llm_stats", "--run", "faults", stdout=out)
    text = out.getvalue()
    assert "failed attempts by kind" in text
    faults_table = text.split("failed attempts by kind")[1]
    kinds_line = next(line for line in faults_table.splitlines() if line.startswith("faults") and "converse" in line)
    assert kinds_line.split()[2:] == ["1", "1"]  # dropped, server_error
    out = StringIO()
    call_command("llm_stats", "--run", "faults", "--json", stdout=out)
    assert '"faults": {\n      "server_error": 1,\n      "dropped": 1\n    }' in out.getvalue()
    out = StringIO()
    call_command("llm_traces", "--run", "faults", stdout=out)
    assert "2 retries" in out.getvalue() and "fault: dropped: cut (retried after 0.00s)" in out.getvalue()


def _manage(*args, env_extra):
    import os

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "environment.settings", **env_extra}
    return subprocess.run([sys.executable, "manage.py", *args], capture_output=True, text=True, env=env, timeout=300)


def test_llm_check_bad_spec_fails_with_one_line(tmp_path):
    proc = _manage("llm_check", env_extra={"LLM_MODEL": "gpt5:turbo", "DATABASE_URL": f"sqlite:///{tmp_path}/db"})
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "LLM_MODEL" in lines[0] and "Traceback" not in proc.stderr


def test_llm_check_unreachable_server_fails_with_one_line(tmp_path):
    from llm.servers import free_port

    proc = _manage(
        "llm_check",
        "--skip-embeddings",
        env_extra={
            "LLM_MODEL": "openai:some-model",
            "LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
            "DATABASE_URL": f"sqlite:///{tmp_path}/db",
        },
    )
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert "nothing is listening" in last and "LLM_BASE_URL" in last and "Traceback" not in proc.stderr


@pytest.mark.model
def test_llm_check_on_the_bundled_model(tmp_path):
    migrate = _manage("migrate", "-v0", env_extra={"DATABASE_URL": f"sqlite:///{tmp_path}/db"})
    assert migrate.returncode == 0, migrate.stderr
    proc = _manage("llm_check", env_extra={"DATABASE_URL": f"sqlite:///{tmp_path}/db"})
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("llm_check: OK model=llama_cpp:bundled") and "structured=first_try" in last
    assert "384d" in last and "tok/s" in last


def test_llm_check_missing_gguf_fails_with_one_line(tmp_path):
    proc = _manage(
        "llm_check",
        env_extra={"LLM_MODEL": f"llama_cpp:{tmp_path}/missing.gguf", "DATABASE_URL": f"sqlite:///{tmp_path}/db"},
    )
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert "missing.gguf not found" in last and "LLM_MODEL" in last and "Traceback" not in proc.stderr


@pytest.mark.model
def test_llm_check_missing_embeddings_model_fails_with_one_line(tmp_path):
    migrate = _manage("migrate", "-v0", env_extra={"DATABASE_URL": f"sqlite:///{tmp_path}/db"})
    assert migrate.returncode == 0, migrate.stderr
    proc = _manage(
        "llm_check",
        env_extra={
            "EMBEDDING_MODEL": f"sentence_transformers:{tmp_path}/no-model",
            "DATABASE_URL": f"sqlite:///{tmp_path}/db",
        },
    )
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert "EMBEDDING_MODEL" in last and "not found" in last and "Traceback" not in proc.stderr
