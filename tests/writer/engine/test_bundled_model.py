"""init + 2 steps of the recurrence on the real bundled model (Gemma 3 270M GGUF)
and the bundled sentence-transformers embeddings, with the compact preset."""

import pytest

from llm.factory import build_gateway
from llm.tracing import MemoryRecorder
from writer.engine import WriterConfig, init, step, text_length

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def gw():
    gateway = build_gateway(
        "llama_cpp:bundled", embedding_model="sentence_transformers:bundled", recorder=MemoryRecorder(), timeout=120
    )
    yield gateway
    gateway.close()


def test_init_and_two_steps_grow_the_story(gw):
    config = WriterConfig.compact()
    opened = init(gw, novel_type="science fiction", topic="Aliens land in a small fishing town", config=config)
    state = opened.state
    assert state.title and state.outline and len(state.paragraphs) == config.init_paragraphs
    lengths = [sum(text_length(p) for p in state.paragraphs)]
    for _ in range(2):
        pieces: list[str] = []
        result = step(gw, state, state.plans[0], config=config, on_piece=pieces.append)
        state = result.state
        lengths.append(sum(text_length(p) for p in state.paragraphs))
        assert pieces and result.paragraph
        assert text_length(state.memory, config.language) <= config.memory_bound
        assert len(state.plans) == config.plans and all(p.strip() for p in state.plans)
    assert lengths[0] < lengths[1] < lengths[2] and len(state.paragraphs) == config.init_paragraphs + 2
    assert len(state.long_term) == len(state.paragraphs) and all(e.vector is not None for e in state.long_term)
    print("\nTITLE:", state.title, "\nOUTLINE:", state.outline, "\nMEMORY:", state.memory)
    for p in state.paragraphs:
        print("PARAGRAPH:", p)
    print("PLANS:", state.plans, "\nFALLBACKS:", opened.fallbacks, result.fallbacks)
    outcomes = [(t.purpose, t.outcome.value, round(t.seconds, 1)) for t in gw.recorder.traces if t.kind != "embed"]
    print("CALLS:", outcomes)
