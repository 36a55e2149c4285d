"""Loading bases, forking, running and resuming simulations, on the real database."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from environment.llmlog.models import LLMCall
from environment.llmlog.store import DjangoRecorder
from environment.vectors.models import VectorItem
from reverie import selectors, services
from reverie.engine.config import AgentConfig, default_preset_for_model
from reverie.engine.retrieve import retrieve_one
from reverie.models import MemoryNode, Movement, Persona, Simulation
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_world import GOOD

BASE = "base_the_ville_isabella_maria_klaus"
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_a_base_loads_from_storage_with_homes_and_known_places():
    base = services.ensure_base(BASE)
    assert base.is_base and base.step == 0
    personas = {p.name: p for p in base.personas.all()}
    assert list(personas) == ["Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"]
    klaus = personas["Klaus Mueller"]
    assert klaus.identity["living_area"].startswith("the Ville:Oak Hill College Dorm:")
    known = klaus.spatial["the Ville"]
    assert "Hobbs Cafe" in known and "Oak Hill College Dorm" in known
    assert "Moore family's house" not in known  # nobody knows the inside of a stranger's home
    assert services.get_simulation(BASE).pk == base.pk == services.ensure_base(BASE).pk  # loaded once
    for p in personas.values():  # the original base's perception settings, from personas.yaml
        scratch = p.scratch
        assert (scratch["vision_radius"], scratch["attention_bandwidth"], scratch["retention"]) == (8, 8, 8)


def test_fork_and_its_errors():
    gw = routed_gateway({})
    sim = services.fork(BASE, "valentines-1", gateway=gw)
    assert sim.forked_from.name == BASE and sim.personas.count() == 3
    with pytest.raises(services.SimulationExists):
        services.fork(BASE, "valentines-1", gateway=gw)
    with pytest.raises(services.SimulationNotFound, match="bases: "):
        services.fork("no-such-sim", "x")
    with pytest.raises(services.SimulationError, match="slashes"):
        services.fork(BASE, "../escape")


def test_running_commits_every_step_and_a_reload_continues():
    gw = routed_gateway(GOOD)
    sim = services.fork(BASE, "run-1", gateway=gw)
    services.load_history(sim, "the_ville/agent_history_init_n3.csv", gateway=gw)
    sim = services.run_steps(sim, 25, gateway=gw)
    assert sim.step == 25 and Movement.objects.filter(simulation=sim).count() == 75
    assert sorted(set(Movement.objects.filter(simulation=sim).values_list("step", flat=True))) == list(range(25))
    before = services.load_session(sim)
    sim = services.run_steps(Simulation.objects.get(pk=sim.pk), 5, gateway=gw)
    assert sim.step == 30 and Movement.objects.filter(simulation=sim, step=29).count() == 3
    after = services.load_session(sim)
    for name, agent in after.world.agents.items():
        assert len(agent.stream) >= len(before.world.agents[name].stream)
        assert MemoryNode.objects.filter(persona__simulation=sim, persona__name=name).count() == len(agent.stream)
    # Whispers survived and are retrievable: Isabella still knows about her party.
    assert "Valentine" in selectors.persona_memory(sim, "Isabella Rodriguez", limit=200)
    assert "schedule" in selectors.persona_schedule(sim, "Klaus Mueller")


def test_bases_cannot_be_run_directly():
    with pytest.raises(services.SimulationError, match="fork it first"):
        services.run_steps(services.ensure_base(BASE), 1, gateway=routed_gateway(GOOD))


def test_a_malformed_history_line_names_the_line_and_adds_nothing(tmp_path):
    sim = services.fork(BASE, "hist", gateway=routed_gateway(GOOD))
    relationships = MemoryNode.objects.filter(persona__simulation=sim).count()  # the starting relationships
    bad = tmp_path / "bad.csv"
    bad.write_text('Name,Whisper\nMaria Lopez,"likes physics; has a midterm"\nKlaus Mueller\n')
    with pytest.raises(services.HistoryFileError, match=r"bad.csv:3"):
        services.load_history(sim, str(bad), gateway=routed_gateway(GOOD))
    assert MemoryNode.objects.filter(persona__simulation=sim).count() == relationships
    stranger = tmp_path / "stranger.csv"
    stranger.write_text("Name,Whisper\nNobody Here,hello\n")
    with pytest.raises(services.HistoryFileError, match="Nobody Here"):
        services.load_history(sim, str(stranger), gateway=routed_gateway(GOOD))


def test_interview_leaves_memory_untouched():
    gw = routed_gateway({**GOOD, "An interviewer asks": '{"answer": "A party at my cafe on the 14th!"}'})
    sim = services.fork(BASE, "interview", gateway=gw)
    services.load_history(sim, "the_ville/agent_history_init_n3.csv", gateway=gw)
    rows_before = list(MemoryNode.objects.filter(persona__simulation=sim).values_list("node_id", "last_accessed"))
    reply = services.interview(sim, "Isabella Rodriguez", "Any plans for Valentine's Day?", gateway=gw)
    assert reply == "A party at my cafe on the 14th!"
    assert (
        list(MemoryNode.objects.filter(persona__simulation=sim).values_list("node_id", "last_accessed")) == rows_before
    )
    with pytest.raises(services.PersonaNotFound):
        services.interview(sim, "Nobody", "hi?", gateway=gw)


def test_sigkill_mid_run_loses_only_the_step_in_flight(tmp_path):
    """A real process, killed with SIGKILL while running; a second one resumes."""
    db = tmp_path / "run.sqlite3"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "environment.settings", "DATABASE_URL": f"sqlite:///{db}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    runner = [sys.executable, "-m", "tests.reverie.fake_runner", "killme"]
    proc = subprocess.Popen([*runner, "500"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    committed = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("committed"):
            committed = int(line.split()[1])
            if committed >= 4:
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    def state() -> tuple[int, list[tuple[int, int]]]:
        with sqlite3.connect(db) as conn:
            step = conn.execute("SELECT step FROM reverie_simulation WHERE name='killme'").fetchone()[0]
            rows = conn.execute(
                "SELECT m.step, COUNT(*) FROM reverie_movement m JOIN reverie_simulation s ON s.id = m.simulation_id "
                "WHERE s.name='killme' GROUP BY m.step ORDER BY m.step"
            ).fetchall()
        return step, rows

    step, rows = state()
    assert step >= committed  # nothing committed was lost (a step may have finished before the kill landed)
    assert rows == [(i, 3) for i in range(step)]  # every committed step whole, nothing half-written
    resumed = subprocess.run([*runner, "3"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"committed {step + 3}" in resumed.stdout
    step2, rows2 = state()
    assert step2 == step + 3 and rows2 == [(i, 3) for i in range(step2)]


@pytest.mark.model
def test_three_agents_on_the_bundled_model_are_durable():
    """The real thing: the bundled model and embeddings, a few steps, then a reload."""
    from llm.factory import build_gateway

    gw = build_gateway("llama_cpp:bundled", cache_policy="off", timeout=120)
    sim = services.fork(BASE, "real-model", gateway=gw)
    added = services.load_history(sim, "the_ville/agent_history_init_n3.csv", gateway=gw)
    assert added >= 6
    sim = services.run_steps(sim, 3, gateway=gw)
    assert sim.step == 3 and Movement.objects.filter(simulation=sim).count() == 9
    session = services.load_session(sim)
    for name, agent in session.world.agents.items():
        scratch = agent.scratch
        assert scratch.action is not None and scratch.action.address.startswith("the Ville:"), name
        assert sum(item.minutes for item in scratch.hourly_schedule) == 24 * 60, name
        assert len(agent.stream) == MemoryNode.objects.filter(persona__simulation=sim, persona__name=name).count()
        assert len(agent.stream.index) == len(agent.stream)  # every memory came back with its embedding
    tiles = {m.persona: (m.x, m.y) for m in Movement.objects.filter(simulation=sim, step=2)}
    assert len(tiles) == 3
    purposes = set(gw.accounting.rows(run=sim.run_label))
    assert {(sim.run_label, p) for p in ("plan.daily", "plan.hourly", "plan.location")} <= purposes
    gw.close()


# --- reads never write; base data; relationships; presets; identity ---------------------


def test_reading_a_base_never_loads_it():
    with pytest.raises(services.BaseNotLoaded, match=r"not loaded yet: run python manage\.py prepare"):
        services.get_simulation(BASE)
    assert not Simulation.objects.exists()  # the read wrote nothing
    with pytest.raises(services.SimulationNotFound, match="bases: "):
        services.get_simulation("nowhere")
    assert services.ensure_base(BASE).is_base and services.get_simulation(BASE).name == BASE


def test_a_bad_perception_setting_names_the_file_and_the_persona(tmp_path, monkeypatch):
    folder = tmp_path / BASE
    folder.mkdir()
    source = services.BASES / BASE
    (folder / "meta.yaml").write_text((source / "meta.yaml").read_text())
    people = yaml.safe_load((source / "personas.yaml").read_text())
    people[1]["attention_bandwidth"] = 0
    (folder / "personas.yaml").write_text(yaml.safe_dump(people))
    monkeypatch.setattr(services, "BASES", tmp_path)
    with pytest.raises(services.SimulationError) as caught:
        services.ensure_base(BASE)
    message = str(caught.value)
    assert "\n" not in message and f"storage/base/{BASE}/personas.yaml" in message
    assert "Maria Lopez's attention_bandwidth must be a positive whole number, got 0" in message
    assert not Simulation.objects.exists()  # all or nothing


def _prompts_gateway(routes):
    """A scripted gateway that also records every prompt it was shown."""
    seen: list[str] = []

    def record(reply):
        def answer(text):
            seen.append(text)
            return reply

        return answer

    gw = routed_gateway({key: record(reply) for key, reply in routes.items()})
    return gw, seen


def test_a_fork_of_a_base_remembers_its_starting_relationships_once():
    people = {p["name"]: p for p in yaml.safe_load((services.BASES / BASE / "personas.yaml").read_text())}
    gw = routed_gateway({})
    sim = services.fork(BASE, "rel-1", gateway=gw)
    for persona in sim.personas.all():
        expected = people[persona.name]["relationships"]
        rows = list(persona.memories.order_by("node_id"))
        assert [r.description for r in rows] == [
            services.relationship_text(persona.name, o, t) for o, t in expected.items()
        ]
        for row, other in zip(rows, expected, strict=True):
            assert row.kind == "thought" and row.data["poignancy"] == services.RELATIONSHIP_POIGNANCY
            assert (row.data["subject"], row.data["predicate"], row.data["object"]) == (persona.name, "knows", other)
            assert set(row.data["keywords"]) == {persona.name.lower(), other.lower()}
        vectors = VectorItem.objects.filter(owner=persona.vector_owner)
        assert sorted(vectors.values_list("ref", flat=True)) == sorted(str(r.node_id) for r in rows)
        assert persona.extra["relationships_loaded"] is True
    # Retrieval for the other's name finds the memory about them.
    world = services.load_session(sim).world
    isabella = world.agents["Isabella Rodriguez"]
    best = retrieve_one(isabella.stream, None, "Maria Lopez", gw.embed(["Maria Lopez"])[0], world.now, k=1)
    assert "knows Maria Lopez: Maria Lopez is a physics student" in best[0].node.description
    # A fork of the fork copies them, once, without asking the model.
    copy = services.fork("rel-1", "rel-2", gateway=routed_gateway({}))
    for persona in copy.personas.all():
        assert persona.memories.count() == len(people[persona.name]["relationships"])
        assert VectorItem.objects.filter(owner=persona.vector_owner).count() == persona.memories.count()
    assert not services.ensure_base(BASE).personas.filter(memories__isnull=False).exists()  # the base is untouched


def test_the_relationship_embedding_is_traced_under_the_forks_run():
    """The fork has no pk when its relationships are embedded: the trace is relabelled
    to the fork's run once it exists, so `llm_stats --run sim:N` counts it."""
    gw = routed_gateway({})
    gw.recorder = DjangoRecorder(batch=1000, interval=3600)  # buffered, as a server's is
    sim = services.fork(BASE, "rel-traced", gateway=gw)
    traces = LLMCall.objects.filter(purpose="fork.relationships")
    assert list(traces.values_list("run", "item")) == [(sim.run_label, "relationships")]
    services.fork("rel-traced", "rel-traced-2", gateway=gw)  # nothing to embed: no call, no new trace
    gw.flush()
    assert traces.count() == 1


def test_an_interview_sees_the_starting_relationships():
    """The relationship text reaches the prompt of the next stage (the interview answer)."""
    gw, seen = _prompts_gateway({"": '{"answer": "She studies at my corner table."}'})
    sim = services.fork(BASE, "rel-interview", gateway=gw)
    services.interview(sim, "Isabella Rodriguez", "What do you know about Maria Lopez?", gateway=gw)
    assert any("always orders a chai latte" in prompt for prompt in seen)


def test_a_fork_stores_its_preset_and_its_forks_keep_it(settings):
    gw = routed_gateway({})
    default = default_preset_for_model(settings.LLM_MODEL)
    assert services.fork(BASE, "p-default", gateway=gw).meta["agent_config"]["preset"] == default
    paper = services.fork(BASE, "p-paper", preset="paper", gateway=gw)
    assert paper.meta["agent_config"] == json.loads(json.dumps(AgentConfig.paper().to_dict()))
    assert Simulation.objects.get(name="p-paper").meta["agent_config"] == paper.meta["agent_config"]
    assert paper.meta["scenarios"] == services.ensure_base(BASE).meta["scenarios"]  # the rest of the meta is kept
    kept = services.fork("p-paper", "p-kept", gateway=gw)
    assert kept.meta["agent_config"] == paper.meta["agent_config"]
    assert services.load_session(kept).world.config.preset == "paper"  # the run thinks with it
    assert (
        services.fork("p-paper", "p-compact", preset="compact", gateway=gw).meta["agent_config"]["preset"] == "compact"
    )
    settings.LLM_MODEL = "openai:gpt-4o-mini"
    assert services.fork(BASE, "p-server", gateway=gw).meta["agent_config"]["preset"] == "paper"
    with pytest.raises(services.SimulationError) as caught:
        services.fork(BASE, "p-bad", preset="huge", gateway=gw)
    assert str(caught.value) == "unknown preset 'huge'; choose from paper, compact"
    assert not Simulation.objects.filter(name="p-bad").exists()


def test_a_step_saves_a_revised_identity():
    gw = routed_gateway(GOOD)
    sim = services.fork(BASE, "identity", gateway=gw)
    session = services.load_session(sim)
    agent = session.world.agents["Klaus Mueller"]
    agent.identity.currently = "Klaus is revising his paper on gentrification after a talk with Isabella."
    agent.identity.daily_requirement = "Klaus writes for two hours and visits Hobbs Cafe."
    session.world.step += 1
    services.save_step(session, {})
    stored = Persona.objects.get(simulation=sim, name="Klaus Mueller").identity
    assert stored["currently"] == agent.identity.currently
    assert stored["daily_requirement"] == agent.identity.daily_requirement
    again = services.load_session(Simulation.objects.get(pk=sim.pk)).world.agents["Klaus Mueller"].identity
    assert again.currently == agent.identity.currently


def save_failing_midway(session, monkeypatch):
    """A step's save that fails after writing part of its rows (the disk fills up at the
    snapshots): the transaction is rolled back whole."""
    from reverie.models import PersonaSnapshot

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(PersonaSnapshot.objects, "bulk_create", broken)
        session.world.step += 1
        with pytest.raises(RuntimeError, match="disk full"):
            services.save_step(session, {})


def test_a_save_writes_the_access_times_of_older_memories_retrieval_touched(monkeypatch):
    """The stream keeps which saved memories retrieval touched; a save writes just those
    and forgets them only once committed (a failed save leaves them for the next)."""
    from datetime import timedelta

    sim = services.fork(BASE, "touched", gateway=routed_gateway(GOOD))
    session = services.load_session(sim)
    agent = session.world.agents["Isabella Rodriguez"]
    old = next(iter(agent.stream))
    later = old.last_accessed + timedelta(hours=3)
    agent.stream.touch([old.id], later)
    assert agent.stream.touched() == {old.id}
    save_failing_midway(session, monkeypatch)
    assert agent.stream.touched() == {old.id}  # not written: still to save
    row = MemoryNode.objects.get(persona__simulation=sim, persona__name=agent.name, node_id=old.id)
    assert services._game_time(row.last_accessed) != later
    services.save_step(session, {})
    row.refresh_from_db()
    assert services._game_time(row.last_accessed) == later and row.data["last_accessed"] == later.isoformat()
    assert agent.stream.touched() == set()
    reloaded = services.load_session(Simulation.objects.get(pk=sim.pk)).world.agents[agent.name]
    assert reloaded.stream.get(old.id).last_accessed == later


def test_a_save_writes_a_spatial_memory_only_when_it_learnt_a_place(monkeypatch):
    """The persona rows' spatial trees are written when the tree grew since the last
    committed save (a failed save leaves the change for the next), not every step."""
    sim = services.fork(BASE, "spatial-writes", gateway=routed_gateway(GOOD))
    session = services.load_session(sim)
    written: list[tuple[str, ...]] = []
    real = services.update_rows

    def recording(objs, fields):
        if "spatial" in fields:
            written.append(tuple(o.name for o in objs))
        return real(objs, fields)

    monkeypatch.setattr(services, "update_rows", recording)
    session.world.step += 1
    services.save_step(session, {})
    assert written == [()]  # nothing learnt since loading
    klaus = session.world.agents["Klaus Mueller"]
    assert klaus.spatial.learn("the Ville:Harbor:pier:bollard")
    assert not klaus.spatial.learn("the Ville:Harbor:pier:bollard")  # known now: no change
    save_failing_midway(session, monkeypatch)
    row = Persona.objects.get(simulation=sim, name="Klaus Mueller")
    assert "Harbor" not in row.spatial["the Ville"]  # rolled back with the rest of the save
    written.clear()
    services.save_step(session, {})
    services.save_step(session, {})
    assert written == [("Klaus Mueller",), ()]  # written once committed, then left alone
    reloaded = services.load_session(Simulation.objects.get(pk=sim.pk)).world.agents["Klaus Mueller"]
    assert reloaded.spatial.knows("the Ville:Harbor:pier:bollard")
