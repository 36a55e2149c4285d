"""The human simulator chooses one of the plans, can refine it and expand the paragraph."""

import json

import pytest

from tests.writer.engine.fakes import StoryScript, encoded, prompts_of, scripted_gateway
from tests.writer.engine.test_step import opened
from writer.engine import WriterConfig, choose_plan, simulate_step


@pytest.mark.parametrize(
    ("answer", "index", "fallback"),
    [
        (json.dumps({"choice": 2, "reason": "It raises the stakes."}), 1, False),
        (json.dumps({"choice": 3, "reason": "A twist."}), 2, False),
        (json.dumps({"choice": 7, "reason": "Out of range."}), 0, True),
        ("garbage", 0, True),
    ],
)
def test_the_choice_is_one_of_the_plans(answer, index, fallback):
    script = StoryScript()
    script.routes["writer.choose"] = answer
    gw = scripted_gateway(script)
    config = WriterConfig.compact()
    state = opened(gw, config)
    choice = choose_plan(gw, state, config=config)
    assert choice.plan in state.plans and choice.plan == state.plans[index]
    assert choice.index == index and choice.fallback is fallback and choice.reason
    assert all(p in prompts_of(gw, "writer.choose")[-1] for p in state.plans)


def test_simulated_step_refines_the_plan_and_expands_the_paragraph():
    gw = scripted_gateway()
    config = WriterConfig.compact()
    state = opened(gw, config)
    result, choice = simulate_step(gw, state, config=config, refine=True)
    assert choice.plan in state.plans and result.plan == "Mara opens the bronze gate at midnight."
    before = len(encoded(gw))
    result, _ = simulate_step(gw, result.state, config=config, expand=True)
    assert result.paragraph.startswith("Mara swims toward the lights below, slowly")
    assert result.state.paragraphs[-1] == result.paragraph and result.state.long_term[-1].text == result.paragraph
    # query + new entry + the expanded entry: nothing older is embedded again
    assert len(encoded(gw)) - before == 3
