"""`manage.py reverie_eval` on the 3-agent base with a scripted model.

The scripted interviewee answers only from what its prompt shows (it says yes about
the party when a remembered line mentions it, and knows a person when a remembered
line names them), except Klaus, who claims to know of the party whatever he remembers:
his yes must be reported as a hallucination, not as awareness. The scripted judge says
"aware" when the answer it is shown starts with "Yes".
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command

from reverie import eval_services, services
from reverie.models import EvalResult, MemoryNode, Movement, Simulation
from tests.reverie.engine.fakes import routed_gateway

BASE = "base_the_ville_isabella_maria_klaus"
pytestmark = pytest.mark.django_db


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0] if start in text else ""


def _interviewee(prompt: str) -> str:
    memories = _between(prompt, "remembers that matters here:", "The interview so far")
    question = _between(prompt, "An interviewer asks", "\n")
    if "party" in question:
        if "Name: Klaus Mueller" in prompt or "Valentine" in memories:
            return json.dumps({"answer": "Yes, there is a Valentine's Day party at Hobbs Cafe on the 14th."})
        return json.dumps({"answer": "No, I haven't heard of any party."})
    if "Do you know " in question:
        other = _between(question, "Do you know ", "?")
        if other in memories:
            return json.dumps({"answer": f"Yes, {other} is someone I know."})
        return json.dumps({"answer": f"No, I don't know {other}."})
    return json.dumps({"answer": "I remember: " + " ".join(memories.split())[:150]})


def _judge(prompt: str) -> str:
    answer = _between(prompt, 'answered: "', '"\n')
    aware = answer.startswith("Yes")
    return json.dumps({"aware": "yes" if aware else "no", "evidence": answer[:30] if aware else ""})


def _compare(prompt: str) -> str:
    a, b = _between(prompt, 'Answer A: "', '"\n'), _between(prompt, 'Answer B: "', '"\n')
    return json.dumps(
        {"reason": "more specific", "better": "A" if len(a) > len(b) else "B" if len(b) > len(a) else "tie"}
    )


def gateway():
    return routed_gateway({
        "You are checking an interview": _judge,
        "You are rating interviews": _compare,
        "An interviewer asks": _interviewee,
    })  # fmt: skip


@pytest.fixture
def run(tmp_path, monkeypatch):
    """A fork whose history is planted at step 0; at step 10 Maria hears of the party."""
    gw = gateway()
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gw)
    sim = services.fork(BASE, "eval-1", gateway=gw)
    services.load_history(sim, "the_ville/agent_history_init_n3.csv", gateway=gw)
    Simulation.objects.filter(pk=sim.pk).update(step=10, current_time=sim.current_time + timedelta(seconds=100))
    sim.refresh_from_db()
    later = tmp_path / "later.csv"
    later.write_text("Name,Whisper\nMaria Lopez,Isabella Rodriguez invited Maria to the Valentine's Day party\n")
    services.load_history(sim, str(later), gateway=gw)
    return sim, gw


def _call(*args: str) -> str:
    out = io.StringIO()
    call_command("reverie_eval", *args, stdout=out)
    return out.getvalue()


def test_diffusion_at_step_0_and_now_with_the_hallucination_apart(run, tmp_path):
    sim, gw = run
    path = tmp_path / "out.json"
    out = _call("eval-1", "diffusion", "--json", str(path))
    assert out.startswith("estimate: ")
    party = next(line for line in out.splitlines() if line.strip().startswith("party"))
    assert "33.3%" in party and "66.7%" in party and "4% -> 52%" in party  # Isabella; then Maria too; paper
    assert "hallucinated (start): Klaus Mueller" in out and "hallucinated (now): Klaus Mueller" in out
    result = EvalResult.objects.get(simulation=sim, measure="diffusion")
    row = result.summary["scenarios"]["party"]
    assert row["start"]["aware"] == ["Isabella Rodriguez"]
    assert row["now"]["aware"] == ["Isabella Rodriguez", "Maria Lopez"]
    assert result.status == "done" and result.step == 10
    # Maria's step-10 memory reached her "now" interview and not her step-0 one, and her
    # answer reached the judge's prompt.
    traces = gw.recorder.traces
    maria_now = next(i for i in result.interviews if i["persona"] == "Maria Lopez" and i["state"] == "now"
                     and i["scenario"] == "party")  # fmt: skip
    maria_start = next(i for i in result.interviews if i["persona"] == "Maria Lopez" and i["state"] == "start"
                       and i["scenario"] == "party")  # fmt: skip
    answer_prompts = {t.item: t.prompt for t in traces if t.purpose == "interview.answer"}
    assert "invited Maria to the Valentine" in str(answer_prompts[maria_now["item"]])
    assert "invited Maria to the Valentine" not in str(answer_prompts[maria_start["item"]])
    judge_prompt = next(str(t.prompt) for t in traces if t.purpose == "eval.judge" and t.item == maria_now["item"])
    assert maria_now["answer"] in judge_prompt and "Valentine's Day party at Hobbs Cafe" in judge_prompt
    assert all(t.run == sim.run_label for t in traces if t.purpose.startswith(("eval.", "interview.")))
    data = json.loads(path.read_text())
    assert data["results"][0]["summary"]["scenarios"]["party"]["now"]["pct"] == 66.7


def test_relationships_density_and_attendance(run):
    sim, _ = run
    out = _call("eval-1", "relationships")
    result = EvalResult.objects.get(simulation=sim, measure="relationships")
    edges = [tuple(e) for e in result.summary["now"]["edges"]]
    assert ("Isabella Rodriguez", "Maria Lopez") in edges and ("Klaus Mueller", "Maria Lopez") in edges
    assert result.summary["now"]["density"] == round(len(edges) / 6, 3)
    assert f"now {len(edges) / 6:.3f}" in out and "paper 0.167 -> 0.74" in out
    # Attendance: Maria (heard at step 10) and Klaus (never heard) at the cafe during the party.
    party = 34 * 3600 // 10  # 2023-02-14 17:00 is 34 hours after the start
    maze = services.maze_for(sim.maze)
    cafe = next(iter(maze.tiles_of(f"{maze.world}:Hobbs Cafe:cafe")))
    away = next(iter(maze.tiles_of(f"{maze.world}:Johnson Park:garden")))
    Movement.objects.bulk_create(
        [Movement(simulation=sim, step=party + i, persona=name, x=cafe[0], y=cafe[1], emoji="",
                  description="celebrating @ the Ville:Hobbs Cafe:cafe:counter")
         for i in range(6) for name in ("Maria Lopez", "Klaus Mueller", "Isabella Rodriguez")]
        + [Movement(simulation=sim, step=party - 1, persona="Klaus Mueller", x=cafe[0], y=cafe[1], emoji="",
                    description="early @ the Ville:Hobbs Cafe:cafe:counter")]
        # on the way to the cafe in the window: headed there, not there yet
        + [Movement(simulation=sim, step=party + i, persona="Klaus Mueller", x=away[0], y=away[1], emoji="",
                    description="walking to the party @ the Ville:Hobbs Cafe:cafe:counter") for i in range(6, 12)]
    )  # fmt: skip
    out = _call("eval-1", "attendance")
    summary = EvalResult.objects.get(simulation=sim, measure="attendance").summary
    assert summary["invited"] == ["Maria Lopez"] and summary["invited_attended"] == ["Maria Lopez"]
    assert summary["uninvited_attended"] == ["Klaus Mueller"] and summary["attended"]["Klaus Mueller"] == 1
    assert summary["host"] == "Isabella Rodriguez" and summary["host_minutes"] == 1
    assert "of them came: 1" in out and "paper: 12 invited, 5 came" in out and "has not reached" in out


def test_believability_ablations_are_real_and_judged_with_trueskill(run):
    sim, gw = run
    klaus = sim.personas.get(name="Klaus Mueller")
    last = klaus.memories.order_by("-node_id").first()
    data = {**last.data, "id": last.node_id + 1, "predicate": "reflects",
            "description": "Klaus realises he admires how focused Maria is"}  # fmt: skip
    MemoryNode.objects.create(persona=klaus, node_id=last.node_id + 1, data=data, kind="thought",
                              description=data["description"], created=last.created,
                              last_accessed=last.last_accessed, step=10)  # fmt: skip
    out = _call("eval-1", "believability", "--persona", "Klaus Mueller", "--judge")
    result = EvalResult.objects.get(simulation=sim, measure="believability")
    answers = [i for i in result.interviews if i.get("kind") != "compare"]
    assert len(answers) == 100 and {i["condition"] for i in answers} == {
        "full", "no_reflection", "no_reflection_no_planning", "no_memory"}  # fmt: skip
    prompts = {t.item: str(t.prompt) for t in gw.recorder.traces if t.purpose == "interview.answer"}
    by_condition = {i["condition"]: prompts[i["item"]] for i in answers if i["key"] == "memory.1"}
    assert "admires how focused Maria is" in by_condition["full"]
    assert "admires how focused Maria is" not in by_condition["no_reflection"]
    compares = [i for i in result.interviews if i.get("kind") == "compare"]
    assert len(compares) == 25 * 6
    compare_prompt = next(str(t.prompt) for t in gw.recorder.traces if t.item == compares[0]["item"])
    assert compares[0]["answer_a"] in compare_prompt and compares[0]["answer_b"] in compare_prompt
    standings = result.summary["standings"]
    assert {row["condition"] for row in standings} == {"full", "no_reflection", "no_reflection_no_planning",
                                                        "no_memory"}  # fmt: skip
    assert "paper mu 29.89" in out


def test_dry_run_prints_the_estimate_only_and_runs_fork_measure_and_average(run):
    sim, gw = run
    out = _call("eval-1", "relationships", "--dry-run")
    assert "estimate: " in out and "interviews: 12 x" in out and "4 characters a token" in out
    assert not EvalResult.objects.exists()
    aggregate, results = eval_services.repeated(sim, "diffusion", runs=2, steps=0, preset="compact", gateway=gw)
    assert [r.simulation.forked_from_id for r in results] == [sim.pk, sim.pk]
    assert aggregate.simulation == sim and aggregate.settings["forks"] == [r.simulation.name for r in results]
    party = aggregate.summary["repeated"]["party % aware"]
    assert party["values"] == [66.7, 66.7] and party["mean"] == 66.7 and party["low"] == party["high"] == 66.7
    with pytest.raises(Exception, match="--steps needs --runs"):
        _call("eval-1", "diffusion", "--steps", "3")


def test_an_unanswered_question_is_neither_judged_nor_counted(run, monkeypatch):
    """Klaus's model reply cannot be understood: his "no answer" note must not reach the
    judge (a judge that says yes to it made him a hallucination before), and the
    results say he gave no answer."""
    sim, gw = run

    def interviewee(prompt: str) -> str:
        return "<html>garbage" if "Name: Klaus Mueller" in prompt else _interviewee(prompt)

    gw = routed_gateway({
        "You are checking an interview": lambda _p: json.dumps({"aware": "yes", "evidence": "no answer"}),
        "An interviewer asks": interviewee,
    })  # fmt: skip
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gw)
    out = _call("eval-1", "diffusion")
    result = EvalResult.objects.get(simulation=sim, measure="diffusion")
    klaus = [i for i in result.interviews if i["persona"] == "Klaus Mueller"]
    assert len(klaus) == 4 and all(i["verdict"]["answered"] is False for i in klaus)
    assert not any(i["verdict"]["aware"] or i["verdict"]["hallucinated"] for i in klaus)
    judged = {t.item for t in gw.recorder.traces if t.purpose == "eval.judge"}
    assert judged and not judged & {i["item"] for i in klaus}  # the others were judged, Klaus never
    party = result.summary["scenarios"]["party"]
    assert party["now"]["unanswered"] == ["Klaus Mueller"] and "Klaus Mueller" not in party["now"]["hallucinated"]
    assert "no answer, not counted (now): Klaus Mueller" in out and "hallucinated (now): Klaus" not in out


def test_a_separate_judge_model_judges_and_a_bundled_judge_is_flagged(run, settings, monkeypatch):
    """`--judge-model` (here: measure's judge_gateway) takes every judge call off the
    agents' model; the bundled 270M model as judge gets a warning, and a bad spec a
    clear error."""
    sim, gw = run
    judge = routed_gateway({"You are checking an interview": _judge})
    result = eval_services.measure(sim, "relationships", gateway=gw, judge_gateway=judge)
    assert {t.purpose for t in judge.recorder.traces} == {"eval.judge"}
    assert not [t for t in gw.recorder.traces if t.purpose == "eval.judge"]
    assert len(judge.recorder.traces) == len(result.interviews) == 12
    assert result.settings["judge_model"] == judge.model != ""
    settings.LLM_MODEL = "llama_cpp:bundled"
    out = _call("eval-1", "diffusion", "--dry-run")
    assert "note: the judge is llama_cpp:bundled" in out and "--judge-model" in out
    out = _call("eval-1", "diffusion", "--dry-run", "--judge-model", "openai:qwen-72b")
    assert "note: the judge" not in out
    with pytest.raises(Exception, match=r"--judge-model: .*unknown model backend 'nonsense'"):
        _call("eval-1", "diffusion", "--judge-model", "nonsense")
    # Through the command: the judge it builds gets the judge calls and is closed after.
    built = []

    def judge_from_settings(*, model=None, base_url=None):
        built.append((model, base_url))
        other = routed_gateway({"You are checking an interview": _judge})
        other.closed = False
        other.close = lambda: setattr(other, "closed", True)
        built.append(other)
        return other

    monkeypatch.setattr("environment.gateway.gateway_from_settings", judge_from_settings)
    calls_before = len([t for t in gw.recorder.traces if t.purpose == "eval.judge"])
    _call("eval-1", "diffusion", "--judge-model", "openai:qwen-72b", "--judge-base-url", "http://gpu:8000/v1")
    assert built[0] == ("openai:qwen-72b", "http://gpu:8000/v1") and built[1].closed
    assert {t.purpose for t in built[1].recorder.traces} == {"eval.judge"}
    assert len([t for t in gw.recorder.traces if t.purpose == "eval.judge"]) == calls_before


@pytest.mark.model
def test_diffusion_on_the_bundled_model_gets_every_agents_own_answer(tmp_path, monkeypatch):
    """The real thing: `reverie_eval diffusion` on the 3-agent base with the bundled model.
    With the fixed example the 270M model copied it into every answer, the copy was
    refused, and every interview came back unanswered; under compact each answer is the
    model's own, from what that agent recalls."""
    from llm.factory import build_gateway
    from llm.tracing import MemoryRecorder

    gw = build_gateway("llama_cpp:bundled", cache_policy="off", timeout=120, recorder=MemoryRecorder())
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gw)
    try:
        sim = services.fork(BASE, "eval-real", gateway=gw)
        services.load_history(sim, "the_ville/agent_history_init_n3.csv", gateway=gw)
        out = _call("eval-real", "diffusion")
    finally:
        gw.close()
    result = EvalResult.objects.get(simulation=sim, measure="diffusion")
    assert result.status == "done" and len(result.interviews) == 6  # 3 agents x 2 facts, at step 0
    assert all(i["verdict"]["answered"] is not False for i in result.interviews), [
        i["answer"] for i in result.interviews
    ]
    answers = {t.item: t for t in gw.recorder.traces if t.purpose == "interview.answer"}
    assert {i["item"] for i in result.interviews} == set(answers)
    assert not [t for t in answers.values() if t.outcome == "fallback"]
    for interview in result.interviews:  # each answer is the one its agent's prompt produced
        assert answers[interview["item"]].outcome != "fallback"
        assert f"Name: {interview['persona']}" in str(answers[interview["item"]].prompt)
    judged = [t for t in gw.recorder.traces if t.purpose == "eval.judge"]
    assert len(judged) == 6 and "party" in out and "4% -> 52%" in out
