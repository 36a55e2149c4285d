"""The engine on the real HotPotQA environment (offline sample set), with scripted models."""

from __future__ import annotations

from typing import Any

import pytest

from tests.training.retroformer.helpers import gateway, scripted, text_of
from training.retroformer import RetroSettings, play_tasks, success_by_trial

hotpotqa = pytest.importorskip("training.envs.hotpotqa")


def test_hotpotqa_episodes_with_a_chatty_actor_that_learns_from_its_reflection() -> None:
    env = hotpotqa.HotpotQAEnv()
    tasks = env.load(None, limit=3)
    by_question = {t.data["question"]: t for t in tasks}

    def actor(payload: Any) -> str:
        prompt = text_of(payload)
        mine = prompt.split("Your task so far:", 1)[1].split("Write your next step", 1)[0]
        task = next(t for q, t in by_question.items() if q in mine)
        title = task.data["supporting_facts"][0][0]
        if "Your memory from earlier attempts" not in prompt:
            return "Thought: I am sure.\nAction: Finish[no idea]"
        if "\nAction: Search[" not in mine:
            # A chat model writing a whole made-up episode: only the first action counts.
            return (
                f"Thought: search first.\nAction 1: Search[{title}]\nObservation 1: (made up)\n"
                "Thought 2: done.\nAction 2: Finish[wrong]"
            )
        return f"Thought: I have it.\nAction: Finish[{task.data['answer']}]"

    reflector = scripted(lambda payload: "Diagnosis: I answered without searching.\nPlan: search, then answer.")
    episodes = play_tasks(
        env, tasks, gateway(scripted(actor)), gateway(reflector), settings=RetroSettings(trials=3, step_timeout=10)
    )
    for episode in episodes:
        first, second = episode.trials
        assert first.reason == "finished" and not first.won and first.reward == 0.0
        assert second.steps[0].action.startswith("Search[") and len(second.steps) == 2
        assert second.won and second.reward == 1.0
        assert episode.observation.startswith("Question:")
        assert episode.reflections == ["Diagnosis: I answered without searching.\nPlan: search, then answer."]
    assert success_by_trial(episodes, 3).success == [0.0, 1.0, 1.0]
