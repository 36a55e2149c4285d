"""Interviews with a scripted model: retrieval, summary, earlier turns, ablation switches."""

import json
from dataclasses import replace
from datetime import datetime

import pytest

from reverie.engine.config import AgentConfig
from reverie.engine.interview import NO_ANSWER, Reply, reply
from reverie.engine.memory import MemoryStream
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_persona import ISABELLA

NOW = datetime(2023, 2, 13, 18, 0)
NAME = "Isabella Rodriguez"
MEMORIES = {
    "event": "Klaus Mueller is reading about the party at Hobbs Cafe",
    "reflects": "Isabella thinks the party at Hobbs Cafe will bring the town together",
    "plans": "Isabella should buy decorations for the party at Hobbs Cafe",
    "plan": "This is Isabella's plan for the party day: open Hobbs Cafe, decorate",
    "chat": "conversing about the party at Hobbs Cafe on the 14th",
    "knows": "Isabella is planning a Valentine's Day party at Hobbs Cafe",
}


def stream_with_everything(gw) -> MemoryStream:
    stream = MemoryStream()
    vectors = dict(zip(MEMORIES, gw.embed(list(MEMORIES.values())), strict=True))
    stream.add_event("Klaus Mueller", "is", "reading", MEMORIES["event"], created=NOW, poignancy=3,
                     embedding=vectors["event"])  # fmt: skip
    stream.add_chat(NAME, "chat with", "Klaus Mueller", MEMORIES["chat"], created=NOW, poignancy=5,
                    filling=[("Klaus Mueller", "I'll be at your party!")], embedding=vectors["chat"])  # fmt: skip
    for predicate in ("reflects", "plans", "plan", "knows"):
        stream.add_thought(NAME, predicate, "party", MEMORIES[predicate], created=NOW, poignancy=5,
                           embedding=vectors[predicate])  # fmt: skip
    return stream


def answer_prompt(gw) -> str:
    return [t.prompt for t in gw.recorder.traces if t.purpose == "interview.answer"][-1]


async def test_the_answer_sees_the_memories_and_the_earlier_turns():
    gw = routed_gateway({"An interviewer asks": '{"answer": "A party at my cafe!"}'})
    stream = stream_with_everything(gw)
    before = {n.id: n.last_accessed for n in stream}
    history = [("Who is Klaus?", "A student who comes to my cafe.")]
    got = await reply(gw, ISABELLA, stream, "Any plans for the 14th?", NOW, history=history)
    assert got == Reply("A party at my cafe!", answered=True)
    text = answer_prompt(gw)
    assert 'Interviewer: "Who is Klaus?"' in text and 'Isabella: "A student who comes to my cafe."' in text
    assert MEMORIES["knows"] in text
    assert f"{NAME} and Klaus Mueller were {MEMORIES['chat']}" in text  # a chat says who talked
    assert "haven't heard" not in text and "don't know" not in text  # the example answers from memory
    assert {n.id: n.last_accessed for n in stream} == before  # an interview changes nothing


async def test_paper_retrieves_fifty_and_summarises_before_answering():
    summary = "Isabella is hosting a Valentine's Day party at Hobbs Cafe on the 14th."
    gw = routed_gateway({
        "summarise what": json.dumps({"summary": summary}),
        "An interviewer asks": '{"answer": "Yes, my party!"}',
    })  # fmt: skip
    stream = stream_with_everything(gw)
    for i in range(60):
        stream.add_event("Maria Lopez", "is", f"studying {i}", f"Maria Lopez is studying chapter {i}", created=NOW,
                         poignancy=2, embedding=gw.embed([f"chapter {i}"])[0])  # fmt: skip
    await reply(gw, ISABELLA, stream, "Any plans for the 14th?", NOW, config=AgentConfig.paper())
    asked = [t.prompt for t in gw.recorder.traces if t.purpose == "interview.summary"]
    assert len(asked) == 1 and asked[0].count("\n- ") == 50  # 50 memories of the 66
    assert summary in answer_prompt(gw)
    # Compact lists fewer memories and asks no summary.
    gw = routed_gateway({"An interviewer asks": '{"answer": "Yes."}'})
    await reply(gw, ISABELLA, stream_with_everything(gw), "Any plans for the 14th?", NOW)
    assert [t.purpose for t in gw.recorder.traces if t.kind != "embed"] == ["interview.answer"]


def copier(prompt: str) -> str:
    """A tiny model's habit: answer with the prompt's example, word for word."""
    return prompt.split("Example answer: ", 1)[1].split("\n", 1)[0]


async def test_compacts_example_is_what_the_persona_recalls_first_and_copying_it_is_an_answer():
    """The bundled model copies the example: compact builds it from the first memory
    recalled, so the copy is the persona's own memory; paper's fixed example is refused."""
    gw = routed_gateway({"An interviewer asks": copier})
    stream = stream_with_everything(gw)
    got = await reply(gw, ISABELLA, stream, "Is Isabella planning a Valentine's Day party?", NOW)
    first = got.text.removeprefix("From what I remember: ")
    assert got.answered and first != got.text and first in MEMORIES.values()
    assert first in answer_prompt(gw).split("Example answer:")[0]  # one of the memories shown
    got = await reply(gw, ISABELLA, stream, "Any plans for the 14th?", NOW, config=AgentConfig.paper())
    assert not got.answered and got.text == NO_ANSWER  # a copy of the fixed example is no answer
    assert "Klaus told me about his paper" in answer_prompt(gw)
    config = AgentConfig.compact().with_ablation("no_memory")  # recalls nothing
    got = await reply(gw, ISABELLA, stream, "What about the party?", NOW, config=config)
    assert got.answered and got.text == "I don't remember anything about that."


@pytest.mark.parametrize(
    ("ablation", "gone"),
    [
        ("full", set()),
        ("no_reflection", {"reflects"}),
        ("no_reflection_no_planning", {"reflects", "plans", "plan"}),
        # the paper's no-memory condition: identity only, so no chat or planted memory either
        ("no_memory", set(MEMORIES)),
    ],
)
async def test_interviews_honour_the_ablation_switches(ablation, gone):
    gw = routed_gateway({"An interviewer asks": '{"answer": "Hmm."}'})
    config = AgentConfig.compact().with_ablation(ablation)
    config = replace(config, interview=replace(config.interview, memories=20))
    await reply(gw, ISABELLA, stream_with_everything(gw), "What about the party?", NOW, config=config)
    text = answer_prompt(gw)
    shown = {kind for kind, description in MEMORIES.items() if description in text}
    assert shown == set(MEMORIES) - gone  # chats and planted memories stay while anything is recalled


@pytest.mark.django_db
def test_the_service_passes_the_history_and_the_runs_own_config(monkeypatch):
    import reverie.engine.interview as module
    from reverie import services

    seen = {}

    async def fake_reply(gw, identity, stream, question, now, *, config=None, history=()):
        seen.update(name=identity.name, config=config, history=history)
        return Reply("ok", answered=True)

    monkeypatch.setattr(module, "reply", fake_reply)
    gw = routed_gateway({})
    sim = services.fork("base_the_ville_isabella_maria_klaus", "interview-history", preset="paper", gateway=gw)
    turns = (("Who are you?", "Isabella."),)
    assert services.interview(sim, NAME, "And the party?", gateway=gw, history=turns) == "ok"
    assert seen == {"name": NAME, "config": AgentConfig.paper(), "history": turns}
    ablated = AgentConfig.paper().with_ablation("no_memory")
    services.interview(sim, NAME, "And the party?", gateway=gw, config=ablated)
    assert seen["config"] == ablated and seen["history"] == ()
