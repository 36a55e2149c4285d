"""The Retroformer loop with scripted models on the toy game: trials, reflections,
bounds, failures, batching and resume."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from llm.errors import LLMConfigError, LLMError, LLMTimeout, RetryableError
from llm.tracing import MemoryRecorder
from tests.training.retroformer.helpers import (
    MEMORY,
    calls_for,
    gateway,
    learner,
    moves_so_far,
    scripted,
    solver,
    task_of,
    text_of,
    wrong_move,
)
from tests.training.retroformer.toy_env import INVALID, SOLUTIONS, ToyEnv, task
from training.retroformer import RetroSettings, TaskEpisode, play_tasks, play_trial, success_by_trial
from training.retroformer.actor import INVALID_FORMAT, MAX_RAW_CHARS
from training.retroformer.records import Trial
from training.retroformer.trials import NOTHING_TO_REFLECT_ON

FAST = RetroSettings(step_timeout=5, trial_timeout=60)


def reflector_writing(text: str = "Diagnosis: wrong first button.\nPlan: start with another one.") -> Any:
    return scripted(lambda payload: text)


def play(env: ToyEnv, actor: Any, reflector: Any = None, *, tasks: list[Any] | None = None, **settings: Any) -> Any:
    return play_tasks(
        env,
        tasks if tasks is not None else env.load(None),
        gateway(actor),
        gateway(reflector or reflector_writing()),
        settings=RetroSettings(**{**FAST.as_json(), **settings}),
    )


# ------------------------------------------------------------------ one trial
def test_a_solving_actor_wins_the_first_trial_and_nobody_reflects() -> None:
    env = ToyEnv()
    actor, reflector = scripted(solver), reflector_writing()
    episodes = play(env, actor, reflector)
    for episode in episodes:
        [trial] = episode.trials
        assert trial.won and trial.reward == 1.0 and trial.reason == "finished"
        assert [s.action for s in trial.steps] == SOLUTIONS[episode.task_id]
        assert all(not s.invalid and s.thought == "the next lamp." for s in trial.steps)
        assert trial.steps[-1].observation == "All lamps are lit. You win!"
        assert episode.reflections == [] and episode.observation.startswith(f"Task {episode.task_id}:")
    assert reflector.calls == []
    assert all(s.closed for s in env.sessions)


def test_an_action_the_env_rejects_gets_its_error_text_and_the_trial_goes_on() -> None:
    answers = iter(["Action: dance", "Action: press red", "Action: press blue"])
    actor = scripted(lambda payload: next(answers))
    trial = play_trial(ToyEnv(), task("toy-1"), gateway(actor), [], settings=FAST)
    assert trial.steps[0].observation == INVALID
    assert [s.invalid for s in trial.steps] == [True, False, False]
    assert trial.won and len(trial.steps) == 3


def test_an_answer_without_an_action_never_reaches_the_env() -> None:
    env = ToyEnv(max_steps=4)
    actor = scripted(lambda payload: "I would rather chat about buttons.")
    trial = play_trial(env, task("toy-1"), gateway(actor), [], settings=FAST)
    assert trial.reason == "no valid action" and not trial.won and trial.reward == 0.0
    assert len(trial.steps) == 4 == len(actor.calls)  # every step counted toward the cap
    assert all(s.observation == INVALID_FORMAT and s.invalid and s.action == "" for s in trial.steps)
    assert env.sessions[0].steps == 0  # the environment was never called
    # The actor is shown what went wrong.
    assert INVALID_FORMAT in text_of(actor.calls[-1]["payload"])


def test_the_step_cap_ends_a_trial_of_valid_but_wrong_actions() -> None:
    env = ToyEnv(max_steps=5)
    actor = scripted(lambda payload: f"Action: {wrong_move(payload)}")
    trial = play_trial(env, task("toy-1"), gateway(actor), [], settings=FAST)
    assert trial.reason == "step cap" and len(trial.steps) == 5 and not trial.won
    assert env.sessions[0].steps == 5


def test_a_100_kb_answer_is_stored_bounded_and_still_parsed() -> None:
    actor = scripted(lambda payload: f"Thought: x\nAction: {solver(payload).split('Action: ')[1]}\n" + "y" * 100_000)
    trial = play_trial(ToyEnv(), task("toy-3"), gateway(actor), [], settings=FAST)
    assert trial.won
    assert all(len(s.raw) <= MAX_RAW_CHARS for s in trial.steps)


def test_a_trial_past_its_wall_clock_ends_with_timeout() -> None:
    actor = scripted(lambda payload: f"Action: {wrong_move(payload)}", delay=0.15)
    settings = RetroSettings(trial_timeout=0.3, step_timeout=5)
    started = time.monotonic()
    trial = play_trial(ToyEnv(max_steps=50), task("toy-1"), gateway(actor), [], settings=settings)
    assert trial.reason == "timeout" and 1 <= len(trial.steps) <= 4
    assert time.monotonic() - started < 2


def test_a_hanging_env_step_times_out_without_holding_up_the_others() -> None:
    env = ToyEnv()
    tasks = [task("toy-1", sleep=30), task("toy-3")]
    started = time.monotonic()
    episodes = play(env, scripted(solver), tasks=tasks, step_timeout=0.3, trials=2)
    assert time.monotonic() - started < 5
    slow, quick = episodes
    assert quick.trials[0].won
    assert [t.reason for t in slow.trials] == ["timeout", "timeout"]
    assert slow.trials[0].steps[0].observation.startswith("(the environment gave no answer within 0.3s)")


def test_a_task_that_breaks_the_env_ends_with_its_reason_and_the_others_play_on() -> None:
    env = ToyEnv()
    episodes = play(env, scripted(solver), tasks=[task("toy-1", broken=True), task("toy-2")])
    broken, fine = episodes
    [trial] = broken.trials  # a broken task does not heal: no more trials
    assert trial.reason == "env error: task toy-1: the game file does not parse"
    assert broken.done(4) and fine.trials[0].won


# ------------------------------------------------------------------ reflections
def test_each_failed_trial_gets_a_reflection_and_the_actor_sees_the_last_three() -> None:
    env = ToyEnv(max_steps=1)  # one move: the actor always fails
    actor = scripted(lambda payload: f"Action: {wrong_move(payload)}")
    written = iter(range(1, 100))
    reflector = scripted(lambda payload: f"lesson {next(written)}")
    [episode] = play(env, actor, reflector, tasks=[task("toy-1")], trials=5)
    assert [t.reason for t in episode.trials] == ["step cap"] * 5
    assert episode.reflections == ["lesson 1", "lesson 2", "lesson 3", "lesson 4"]  # none after the last trial
    assert episode.reflection_errors == [""] * 4
    prompts = [text_of(c["payload"]) for c in actor.calls]
    assert MEMORY not in prompts[0]
    assert "lesson 1" in prompts[1] and "lesson 2" not in prompts[1]
    last = prompts[4]
    assert "lesson 1" not in last and all(f"lesson {k}" in last for k in (2, 3, 4))
    # The reflector read the failed trial and its prompt is kept with the reflection.
    first = text_of(reflector.calls[0]["payload"])
    assert "The task: light the lamps of toy-1" in first and "Action: press" in first and "step cap" in first
    assert episode.reflection_prompts[0] == reflector.calls[0]["payload"]


def test_a_reflection_turns_a_loss_into_a_win_and_success_is_counted_by_trial() -> None:
    env = ToyEnv(max_steps=3)
    episodes = play(env, scripted(learner), trials=3)
    assert all([t.won for t in ep.trials] == [False, True] for ep in episodes)
    figures = success_by_trial(episodes, 3)
    assert figures.success == [0.0, 1.0, 1.0]  # a task that won keeps counting as won
    assert figures.mean_reward[1:] == [1.0, 1.0]


def test_a_reflector_failure_is_recorded_and_the_next_trial_runs_without_it() -> None:
    env = ToyEnv(max_steps=1)
    actor = scripted(lambda payload: f"Action: {wrong_move(payload)}")

    def reflect(payload: Any) -> str:
        if "toy-2" in text_of(payload):
            raise LLMTimeout("the reflector's call passed its 5s timeout")
        return "Plan: try another button."

    episodes = play(env, actor, scripted(reflect), tasks=[task("toy-1"), task("toy-2")], trials=2)
    fine, failed = episodes
    assert fine.reflections == ["Plan: try another button."] and fine.reflection_errors == [""]
    assert failed.reflections == [""]
    assert failed.reflection_errors == ["reflector error: the reflector's call passed its 5s timeout"]
    assert len(failed.trials) == 2  # the next trial ran anyway
    assert MEMORY not in calls_for(actor, "toy-2")[1] and MEMORY in calls_for(actor, "toy-1")[1]


def test_an_empty_reflection_is_a_failure_and_a_trial_without_steps_is_not_reflected_on() -> None:
    env = ToyEnv(max_steps=1)
    actor = scripted(lambda payload: f"Action: {wrong_move(payload)}")
    [episode] = play(env, actor, scripted(lambda payload: "  \n "), tasks=[task("toy-1")], trials=2)
    assert episode.reflections == [""]
    assert episode.reflection_errors == ["reflector error: the reflector answered with no text"]

    def fail_first(payload: Any) -> str:
        raise LLMTimeout("timed out")

    reflector = reflector_writing()
    [episode] = play(env, scripted(fail_first), reflector, tasks=[task("toy-1")], trials=2)
    assert [t.reason for t in episode.trials] == ["model error: timed out"] * 2
    assert episode.reflection_errors == [NOTHING_TO_REFLECT_ON] and reflector.calls == []


# ------------------------------------------------------------------ failures
def test_a_model_error_for_one_task_fails_its_trial_and_the_others_go_on() -> None:
    def answer(payload: Any) -> str:
        if task_of(payload) == "toy-2" and moves_so_far(payload) == 1:
            raise LLMTimeout("llama.cpp call passed its 5s timeout (LLM_TIMEOUT)")
        return solver(payload)

    episodes = play(ToyEnv(), scripted(answer), trials=2)
    by_id = {ep.task_id: ep for ep in episodes}
    failed = by_id.pop("toy-2")
    reason = "model error: llama.cpp call passed its 5s timeout (LLM_TIMEOUT)"
    assert [t.reason for t in failed.trials] == [reason, reason]
    assert len(failed.trials[0].steps) == 1  # the step before the failed call is kept
    assert all(ep.trials[0].won for ep in by_id.values())


def test_a_native_batch_that_fails_as_one_call_is_asked_again_task_by_task() -> None:
    def answer(payload: Any) -> str:
        if task_of(payload) == "toy-2":
            raise LLMTimeout("this prompt always times out")
        return solver(payload)

    actor = scripted(answer, native_batch=True)
    episodes = play(ToyEnv(), actor, trials=1)
    assert [ep.trials[0].won for ep in episodes] == [True, False, True, True, True]
    assert episodes[1].trials[0].reason == "model error: this prompt always times out"
    assert [len(b) for b in actor.batches][:6] == [5, 1, 1, 1, 1, 1]  # the batch, then each task alone


def test_a_model_server_that_never_answered_stops_the_run_before_it_spends_a_trial() -> None:
    refused = RetryableError("connection refused at http://127.0.0.1:9/v1", kind="refused")
    actor = scripted(lambda payload: (_ for _ in ()).throw(refused))
    saved: list[str] = []
    with pytest.raises(LLMError, match="refused"):
        play_tasks(
            ToyEnv(),
            ToyEnv().load(None, limit=2),
            gateway(actor),
            gateway(reflector_writing()),
            settings=FAST,
            on_progress=lambda changed: saved.extend(e.task_id for e in changed),
        )
    assert saved == []  # no trial was spent on the outage


def test_a_configuration_error_is_raised_at_once() -> None:
    actor = scripted(lambda payload: (_ for _ in ()).throw(LLMConfigError("LLM_API_KEY rejected")))
    env = ToyEnv()
    with pytest.raises(LLMConfigError):
        play(env, actor)
    assert all(s.closed for s in env.sessions)


# ------------------------------------------------------------------ batching
def test_every_round_is_one_actor_batch_and_one_reflector_batch() -> None:
    env = ToyEnv(max_steps=3)
    actor = scripted(learner, native_batch=True)
    reflector = scripted(lambda payload: "Plan: another button.", native_batch=True)
    recorder = MemoryRecorder()
    episodes = play_tasks(
        env,
        env.load(None),
        gateway(actor, recorder=recorder),
        gateway(reflector, recorder=recorder),
        settings=RetroSettings(trials=3),
        run_label="retro:7",
    )
    assert all(ep.trials[1].won for ep in episodes)
    # Trial 0: three rounds of 5 wrong presses; then one reflector batch of 5; trial 1:
    # every task's solution, one batch per round with the tasks still playing (toy-3
    # needs 1 move, toy-1, toy-4 and toy-5 two, toy-2 three).
    assert [len(b) for b in actor.batches] == [5, 5, 5, 5, 4, 1]
    assert [len(b) for b in reflector.batches] == [5]
    purposes = {t.purpose for t in recorder.traces}
    assert purposes == {"retro.act", "retro.reflect"}
    assert {t.item for t in recorder.traces} == set(SOLUTIONS) and {t.run for t in recorder.traces} == {"retro:7"}


def test_concurrent_rounds_call_the_model_at_the_same_time() -> None:
    actor = scripted(solver, delay=0.05, concurrency=8)
    play(ToyEnv(), actor)
    assert actor.peak == 5


# ------------------------------------------------------------------ resume
def run_saving(env: ToyEnv, actor: Any, reflector: Any, *, stop_after: int | None, resume: Any = None) -> Any:
    saved: dict[str, dict[str, Any]] = {e["task_id"]: e for e in resume or []}
    rounds = 0

    def on_progress(changed: list[TaskEpisode]) -> None:
        nonlocal rounds
        rounds += 1
        for episode in changed:
            saved[episode.task_id] = json.loads(json.dumps(episode.as_json()))

    episodes = play_tasks(
        env,
        env.load(None),
        gateway(actor),
        gateway(reflector),
        settings=RetroSettings(trials=3, step_timeout=5),
        on_progress=on_progress,
        resume_from=resume,
        should_stop=(lambda: rounds >= stop_after) if stop_after is not None else None,
    )
    return episodes, list(saved.values())


def test_a_half_played_run_resumes_where_it_stopped() -> None:
    # The whole run, uninterrupted.
    whole_actor, whole_reflector = scripted(learner), reflector_writing()
    whole, _ = run_saving(ToyEnv(max_steps=3), whole_actor, whole_reflector, stop_after=None)

    # The same run stopped after 5 rounds (3 for trial 0, 1 of reflections, the first
    # move of trial 1: toy-2's trial 1 is part-played), then resumed
    # in a new process: a fresh env, fresh models, the saved JSON.
    first_actor, first_reflector = scripted(learner), reflector_writing()
    _, saved = run_saving(ToyEnv(max_steps=3), first_actor, first_reflector, stop_after=5)
    toy2 = next(e for e in saved if e["task_id"] == "toy-2")
    assert len(toy2["trials"]) == 2 and toy2["trials"][1]["reason"] == "" and len(toy2["trials"][1]["steps"]) == 1

    env = ToyEnv(max_steps=3)
    actor, reflector = scripted(learner), reflector_writing()
    resumed, _ = run_saving(env, actor, reflector, stop_after=None, resume=saved)

    assert [e.as_json() for e in resumed] == [e.as_json() for e in whole]
    # No actor call was repeated: the two halves asked exactly what the whole run asked.
    assert len(first_actor.calls) + len(actor.calls) == len(whole_actor.calls)
    assert len(first_reflector.calls) + len(reflector.calls) == len(whole_reflector.calls)
    # toy-2's part-played trial was rebuilt by replaying its first move, which lit lamp 1.
    replayed = next(s for s in env.sessions if s.task.id == "toy-2")
    assert replayed.actions == SOLUTIONS["toy-2"] and replayed.lit == 3
    assert moves_so_far(calls_for(actor, "toy-2")[0]) == 1  # the resumed run asked for move 2 first


def test_a_failed_trial_saved_before_its_reflection_gets_one_on_resume() -> None:
    env = ToyEnv(max_steps=1)
    _, saved = run_saving(env, scripted(learner), reflector_writing(), stop_after=1)
    assert all(len(e["trials"]) == 1 and e["trials"][0]["reason"] and not e["reflections"] for e in saved)
    actor, reflector = scripted(learner), reflector_writing()
    resumed, _ = run_saving(ToyEnv(max_steps=1), actor, reflector, stop_after=None, resume=saved)
    # The first thing the resumed run did was reflect: every actor prompt has a memory.
    assert all(MEMORY in text_of(c["payload"]) for c in actor.calls)
    # Reflections after trial 0 (5) and trial 1 (4: toy-3's one move won it).
    assert len(reflector.calls) == 5 + 4
    assert [len(e.trials) for e in resumed] == [3, 3, 2, 3, 3]


def test_saved_episodes_of_another_env_are_refused() -> None:
    from training.retroformer.records import RecordError

    other = TaskEpisode(task_id="toy-1", env="hotpotqa", goal="?").as_json()
    with pytest.raises(RecordError, match="toy-1 is from env 'hotpotqa'"):
        play_tasks(
            ToyEnv(), [task("toy-1")], gateway(scripted(solver)), gateway(scripted(solver)), settings=FAST,
            resume_from=[other],
        )  # fmt: skip


# ------------------------------------------------------------------ figures
def trial(k: int, reward: float, won: bool = False) -> Trial:
    return Trial(trial=k, reward=reward, won=won, reason="finished" if won else "step cap")


def test_success_by_trial_by_hand() -> None:
    a = TaskEpisode("a", "toy", "", trials=[trial(0, 1.0, True)])
    b = TaskEpisode("b", "toy", "", trials=[trial(0, 0.0), trial(1, 0.5), trial(2, 1.0, True)])
    c = TaskEpisode("c", "toy", "", trials=[trial(0, 0.5), trial(1, 0.0), trial(2, 0.25), trial(3, 0.0)])
    d = TaskEpisode("d", "toy", "", trials=[trial(0, 0.0), trial(1, 1.0, True)])
    figures = success_by_trial([a, b, c, d], 4)
    assert figures.tasks == 4
    assert figures.success == [0.25, 0.5, 0.75, 0.75]
    # trial 0: 1 + 0 + .5 + 0; trial 1: 1 + .5 + 0 + 1; trial 2: 1 + 1 + .25 + 1; trial 3: 1 + 1 + 0 + 1
    assert figures.mean_reward == [1.5 / 4, 2.5 / 4, 3.25 / 4, 3 / 4]
    assert success_by_trial([], 2).success == [0.0, 0.0]
    unfinished = TaskEpisode("e", "toy", "", trials=[Trial(trial=0, reward=0.5)])  # being played
    assert success_by_trial([unfinished], 1).mean_reward == [0.0]
