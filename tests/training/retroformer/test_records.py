"""Records, settings and the paper's figures: JSON round trips and one-line errors."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from training.retroformer.paper import paper_figures, paper_line
from training.retroformer.records import RecordError, Step, TaskEpisode, Trial
from training.retroformer.settings import RetroSettings, RetroSettingsError


def episode() -> TaskEpisode:
    steps = [
        Step("look first", "Search[Paris]", "Paris is the capital of France.", "Thought: look first", False),
        Step("", "", "Invalid format: ...", "blah", True),
    ]
    ep = TaskEpisode(
        task_id="hotpotqa-3",
        env="hotpotqa",
        goal="Which city?",
        trials=[Trial(0, steps, 0.0, False, "step cap"), Trial(1, steps[:1], 1.0, True, "finished")],
        observation="Question: Which city?",
    )
    ep.add_reflection("Plan: search the city.", prompt=[{"role": "user", "content": "reflect"}])
    return ep


def test_an_episode_survives_json() -> None:
    ep = episode()
    data = json.loads(json.dumps(ep.as_json()))
    assert set(data) >= {"task_id", "env", "goal", "trials", "reflections"}
    assert set(data["trials"][0]) == {"trial", "steps", "reward", "won", "reason"}
    assert set(data["trials"][0]["steps"][0]) == {"thought", "action", "observation", "raw", "invalid"}
    assert TaskEpisode.from_json(data) == ep
    assert ep.won and ep.done(4)


def test_the_minimal_shape_reads_back() -> None:
    data = {"task_id": "t", "env": "toy", "goal": "g", "trials": [], "reflections": ["a"]}
    ep = TaskEpisode.from_json(data)
    assert ep.reflection_errors == [""] and ep.reflection_prompts == [[]] and ep.observation == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("env"), "episode hotpotqa-3 has no 'env'"),
        (lambda d: d.update(trials={}), "'trials' and 'reflections' must be lists"),
        (lambda d: d["trials"][0].update(trial=5), "trials[0] says it is trial 5"),
        (lambda d: d["trials"][0].update(reason=""), "trials[0] has no reason but a later trial exists"),
        (lambda d: d["trials"][1]["steps"][0].pop("action"), "trials[1].steps[0] has no 'action'"),
        (lambda d: d["trials"][0].update(reward="lots"), "'reward' a number"),
        (lambda d: d.update(reflection_errors=["", ""]), "one entry per reflection"),
        (lambda d: d.update(reflection_prompts=["text"]), "reflection_prompts[0] must be a list of chat messages"),
    ],
)
def test_a_broken_saved_episode_is_one_line(change: Any, message: str) -> None:
    data = json.loads(json.dumps(episode().as_json()))
    change(data)
    with pytest.raises(RecordError, match=re.escape(message)) as err:
        TaskEpisode.from_json(data)
    assert "\n" not in str(err.value)
    with pytest.raises(RecordError, match="episode is list"):
        TaskEpisode.from_json([])


def test_episode_state() -> None:
    ep = TaskEpisode("t", "toy", "g")
    assert not ep.done(2) and not ep.needs_reflection(2)
    ep.trials.append(Trial(0))
    assert not ep.done(2) and not ep.needs_reflection(2)  # being played
    ep.trials[0].reason = "step cap"
    assert ep.needs_reflection(2) and not ep.done(2)
    assert ep.done(1) and not ep.needs_reflection(1)  # no trial follows the last one
    ep.add_reflection("r")
    assert not ep.needs_reflection(2)
    ep.trials.append(Trial(1, reason="env error: broken"))
    assert ep.done(5)  # a broken environment ends the task
    assert TaskEpisode("x", "toy", "g", reflections=["a", "", "b", "c", "d"]).memory(3) == ["b", "c", "d"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trials": 0}, "--trials must be at least 1 (got 0)"),
        ({"trials": 2.5}, "--trials must be a whole number"),
        ({"max_reflections": -1}, "--max_reflections must be at least 0"),
        ({"actor_max_tokens": 0}, "--actor_max_tokens must be at least 1"),
        ({"actor_temperature": -0.1}, "--actor_temperature must be between 0 and 2"),
        ({"reflector_temperature": float("nan")}, "--reflector_temperature must be between 0 and 2"),
        ({"step_timeout": 0}, "--step_timeout must be a positive number of seconds"),
        ({"trial_timeout": -5}, "--trial_timeout must be a positive number of seconds"),
        ({"env_workers": 0}, "--env_workers must be at least 1"),
    ],
)
def test_settings_that_cannot_describe_a_run_are_one_line(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(RetroSettingsError, match=re.escape(message)):
        RetroSettings(**kwargs)


def test_settings_survive_json_and_refuse_unknown_keys() -> None:
    settings = RetroSettings(trials=2, max_reflections=1, actor_temperature=0.7)
    assert RetroSettings.from_json(json.loads(json.dumps(settings.as_json()))) == settings
    assert RetroSettings().trials == 4 and RetroSettings().max_reflections == 3
    with pytest.raises(RetroSettingsError, match="unknown Retroformer settings: colour"):
        RetroSettings.from_json({"colour": "red"})


def test_the_paper_figures_are_the_reference_notes_and_marked_approximate() -> None:
    assert paper_line("HotPotQA") == "ReAct ~34%, Reflexion ~50%, Retroformer ~53-54% after 4 retries"
    assert paper_line("alfworld") == "Reflexion ~84%, Retroformer ~100%"
    assert paper_line("webshop") == "all methods ~33-36%"
    assert paper_figures("toy") == () and paper_line("toy") == ""
