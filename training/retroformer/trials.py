"""The Retroformer loop: trials of every task, with reflections between them.

    episodes = play_tasks(env, tasks, actor, reflector, settings=RetroSettings(trials=4))

For each task, trials 0 .. settings.trials - 1:

    a trial is a fresh session of the task; each step the actor (actor.py) sees the
    environment's instructions and examples, its memory (the last `max_reflections`
    reflections of this task) and the trajectory so far, and writes one Thought and one
    Action; the environment plays the action and its observation joins the trajectory;
    the trial ends when the environment says it is done (reason "finished"), after
    env.max_steps steps ("step cap", or "no valid action" when the actor never wrote a
    parsable one), past settings.trial_timeout seconds or an environment call past
    settings.step_timeout ("timeout"), when the actor's call failed ("model error: ..."),
    or when the environment raised ("env error: ...", which also ends the task: a broken
    task does not heal by retrying);
    a task stops at its first won trial (success-by-trial counts its later trials as won,
    as Reflexion reports); after a failed trial that another will follow, the reflector
    (reflector.py) writes a reflection for the next trial's memory. A reflector failure
    is recorded (`reflection_errors[k]`) and the next trial runs without a new one.

Concurrency: each round, the next step of every open trial is ONE actor batch
(`chat_batch_settled`, purpose "retro.act") and the reflections due are ONE reflector
batch ("retro.reflect") running beside it; the environment calls that follow run on
threads (envcalls.py). A call that fails after the gateway's retries fails only its own
trial, unless the model server is down (the gateway's circuit breaker is open, or a
connection was refused before the server ever answered): then the error is raised,
because spending every trial of every task on an outage would spoil the run; the
round in flight is not saved (only its actor moves, when only the reflector's server
is down) and the caller resumes the run later. Each call's trace names its task
(`item` = the task id) and the caller's `run_label`.

Durability: `on_progress(changed)` is called after every round with the episodes that
changed, so a caller can save them; a killed process loses at most the round in flight.
`resume_from` takes saved episodes (TaskEpisode JSON): finished trials are kept, and a
part-played trial is restored by replaying its actions into a fresh session, then
continued (the actor is not asked again for the steps already played); a failed trial
saved before its reflection gets the reflection first. TaskEpisode objects passed in
are continued in place.

No database and no model live here: the caller brings the environment, the two
gateways and the saving.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from llm.context import call_context
from llm.errors import LLMError, LLMUnavailable
from llm.gateway import Gateway
from llm.types import Completion, Message
from training.envs.interactive import Session, StepResult, Task, TextEnv
from training.retroformer.actor import ACTOR_STOP, INVALID_FORMAT, actor_messages, bound_raw, parse_turn
from training.retroformer.envcalls import TIMED_OUT, Call, EnvCalls
from training.retroformer.records import (
    ENV_ERROR,
    FINISHED,
    MODEL_ERROR,
    NO_VALID_ACTION,
    STEP_CAP,
    TIMEOUT,
    RecordError,
    Step,
    TaskEpisode,
    Trial,
)
from training.retroformer.reflector import REFLECT_PURPOSE, accept, reflect, reflection_messages
from training.retroformer.settings import RetroSettings

log = logging.getLogger(__name__)

ACT_PURPOSE = "retro.act"

Answer = Completion | LLMError


@dataclass(eq=False)  # compared by identity: a live is one task being played
class _Live:
    """A task being played: its record and, while a trial runs, its session."""

    task: Task
    episode: TaskEpisode
    session: Session | None = None
    started: float = 0.0  # time.monotonic() when the current trial began (or was resumed)

    @property
    def trial(self) -> Trial:
        return self.episode.trials[-1]


class _Loop:
    """The moves of a round, shared by play_trial and play_tasks."""

    def __init__(self, env: TextEnv, actor: Gateway, settings: RetroSettings, run_label: str) -> None:
        self.env = env
        self.actor = actor
        self.settings = settings
        self.run_label = run_label
        self.calls = EnvCalls(settings.env_workers)
        self.rounds = 0
        # Read once: the prompt files do not change during a run.
        self.instructions = env.instructions()
        self.examples = env.examples()

    # --------------------------------------------------------------- sessions
    def start(self, lives: Sequence[_Live], changed: dict[str, TaskEpisode]) -> None:
        """A fresh session for each live's current trial, replaying the actions it has
        already played (a resumed trial); a fresh trial replays nothing."""
        calls = []
        for live in lives:
            actions = [s.action for s in live.trial.steps if s.action]
            calls.append(
                Call(
                    fn=_replayer(self.env, live.task, actions),
                    timeout=self.settings.step_timeout * (1 + len(actions)),
                    late=_close_late,
                )
            )
        for live, result in zip(lives, self.calls.run(calls), strict=True):
            changed[live.task.id] = live.episode
            if result is TIMED_OUT:
                self.end(live, TIMEOUT)
                continue
            if isinstance(result, Exception):
                self.end(live, f"{ENV_ERROR}: {_one_line(result)}")
                continue
            session, last = result
            live.session = session
            live.started = time.monotonic()
            if not live.episode.observation:
                live.episode.observation = session.observation
            if last is not None:
                recorded = next(s.observation for s in reversed(live.trial.steps) if s.action)
                if last.observation != recorded:
                    log.warning("task %s: replaying its actions gave another observation than recorded", live.task.id)
                if last.done or last.won:
                    self.end(live, _reason_of(last), result=last)

    def end(self, live: _Live, reason: str, *, result: StepResult | None = None) -> None:
        trial = live.trial
        trial.reason = reason
        if result is not None:
            trial.reward = float(result.reward)
            trial.won = bool(result.won)
        if live.session is not None:
            session, live.session = live.session, None
            _close(session)

    # ----------------------------------------------------------------- acting
    def act(self, lives: Sequence[_Live], changed: dict[str, TaskEpisode]) -> None:
        """One step of every live trial: one actor batch, then the environment calls."""
        now = time.monotonic()
        playing = []
        for live in lives:
            if now - live.started > self.settings.trial_timeout:
                self.end(live, TIMEOUT)
                changed[live.task.id] = live.episode
            else:
                playing.append(live)
        if not playing:
            return
        self.rounds += 1
        conversations = [
            actor_messages(
                self.instructions,
                self.examples,
                live.episode.observation,
                live.trial.steps,
                live.episode.memory(self.settings.max_reflections),
                settings=self.settings,
            )
            for live in playing
        ]
        answers = self.ask(playing, conversations)
        to_step: list[tuple[_Live, str, str, str]] = []  # live, thought, action, raw
        for live, answer in zip(playing, answers, strict=True):
            changed[live.task.id] = live.episode
            if isinstance(answer, LLMError):
                self.end(live, f"{MODEL_ERROR}: {_one_line(answer)}")
                continue
            raw = bound_raw(answer.text)
            parsed = parse_turn(raw)
            if parsed.action is None:
                live.trial.steps.append(Step(parsed.thought, "", INVALID_FORMAT, raw, True))
                self.check_cap(live)
            else:
                to_step.append((live, parsed.thought, parsed.action, raw))
        if not to_step:
            return
        calls = [
            Call(fn=_stepper(live.session, action), timeout=self.settings.step_timeout, late=_closer(live.session))
            for live, _, action, _ in to_step
        ]
        for (live, thought, action, raw), result in zip(to_step, self.calls.run(calls), strict=True):
            trial = live.trial
            if result is TIMED_OUT:
                note = f"(the environment gave no answer within {self.settings.step_timeout:g}s)"
                trial.steps.append(Step(thought, action, note, raw, True))
                live.session = None  # still in use by the abandoned call, which closes it
                self.end(live, TIMEOUT)
            elif isinstance(result, Exception):
                note = f"(the environment failed: {_one_line(result)})"
                trial.steps.append(Step(thought, action, note, raw, True))
                self.end(live, f"{ENV_ERROR}: {_one_line(result)}")
            else:
                trial.steps.append(Step(thought, action, result.observation, raw, bool(result.info.get("invalid"))))
                trial.reward = float(result.reward)
                if result.done or result.won:
                    self.end(live, _reason_of(result), result=result)
                else:
                    self.check_cap(live)
            if not trial.finished and time.monotonic() - live.started > self.settings.trial_timeout:
                self.end(live, TIMEOUT)

    def check_cap(self, live: _Live) -> None:
        steps = live.trial.steps
        if len(steps) >= self.env.max_steps:
            self.end(live, STEP_CAP if any(s.action for s in steps) else NO_VALID_ACTION)

    def ask(self, lives: Sequence[_Live], conversations: list[list[Message]]) -> list[Answer]:
        settings = self.settings

        def batch(convs: list[list[Message]], items: list[str]) -> list[Answer]:
            with call_context(run=self.run_label or None):
                return self.actor.chat_batch_settled(
                    convs,
                    purpose=ACT_PURPOSE,
                    max_tokens=settings.actor_max_tokens,
                    temperature=settings.actor_temperature,
                    stop=ACTOR_STOP,
                    seed=None if settings.actor_temperature == 0 else settings.seed + self.rounds,
                    items=items,
                )

        items = [live.task.id for live in lives]
        answers = batch(conversations, items)
        if len(answers) > 1 and all(isinstance(a, LLMError) for a in answers):
            # A native batch fails as one call: ask each task alone, so one prompt that
            # cannot be answered costs only its own trial.
            answers = [batch([c], [i])[0] for c, i in zip(conversations, items, strict=True)]
        _raise_on_outage(self.actor, answers)
        return answers


# ------------------------------------------------------------------ one trial
def play_trial(
    env: TextEnv,
    task: Task,
    actor: Gateway,
    reflections: Sequence[str],
    *,
    settings: RetroSettings,
    trial: int | None = None,
    run_label: str = "",
) -> Trial:
    """One trial of one task with `reflections` as the actor's memory (the last
    `max_reflections` of them). `trial` numbers it (default: len(reflections))."""
    episode = TaskEpisode(task_id=task.id, env=task.env, goal=task.goal, reflections=list(reflections))
    episode.trials.append(Trial(trial=len(reflections) if trial is None else trial))
    live = _Live(task, episode)
    loop = _Loop(env, actor, settings, run_label)
    changed: dict[str, TaskEpisode] = {}
    try:
        while not live.trial.finished:
            if live.session is None:
                loop.start([live], changed)
            else:
                loop.act([live], changed)
    finally:
        if live.session is not None:  # an exception (a config error) left it open
            _close(live.session)
            live.session = None
    return live.trial


# ------------------------------------------------------------------ all tasks
def play_tasks(
    env: TextEnv,
    tasks: Sequence[Task],
    actor: Gateway,
    reflector: Gateway,
    *,
    settings: RetroSettings,
    on_progress: Callable[[list[TaskEpisode]], None] | None = None,
    resume_from: Sequence[dict[str, Any] | TaskEpisode] | None = None,
    should_stop: Callable[[], bool] | None = None,
    run_label: str = "",
) -> list[TaskEpisode]:
    """Every task's episode (in the order of `tasks`), played to its end; see the
    module docstring. `should_stop` is asked before each round (Ctrl-C, a paused run):
    the episodes are returned as they stand, each saved by its last `on_progress`."""
    lives = [_Live(task, episode) for task, episode in zip(tasks, _episodes(tasks, resume_from), strict=True)]
    loop = _Loop(env, actor, settings, run_label)
    trials = settings.trials
    try:
        while True:
            open_lives = [live for live in lives if not live.episode.done(trials)]
            if not open_lives or (should_stop is not None and should_stop()):
                break
            changed: dict[str, TaskEpisode] = {}
            to_reflect = [live for live in open_lives if live.episode.needs_reflection(trials)]
            reflecting = _Reflections(reflector, to_reflect, settings, run_label)
            reflecting.start()
            try:
                to_start = []
                for live in open_lives:
                    if live.session is not None or live in to_reflect:
                        continue
                    if not live.episode.trials or live.trial.finished:
                        live.episode.trials.append(Trial(trial=len(live.episode.trials)))
                    to_start.append(live)
                loop.start(to_start, changed)
                loop.act([live for live in open_lives if live.session is not None], changed)
            finally:
                reflected = reflecting.join()
            outage = reflected.apply(changed)
            if on_progress is not None and changed:
                on_progress(list(changed.values()))
            if outage is not None:
                raise outage
    finally:
        for live in lives:
            if live.session is not None:
                _close(live.session)
                live.session = None
    return [live.episode for live in lives]


def _episodes(tasks: Sequence[Task], resume_from: Sequence[dict[str, Any] | TaskEpisode] | None) -> list[TaskEpisode]:
    saved: dict[str, TaskEpisode] = {}
    for item in resume_from or ():
        loaded = item if isinstance(item, TaskEpisode) else TaskEpisode.from_json(item)
        saved[loaded.task_id] = loaded
    episodes = []
    for task in tasks:
        found = saved.get(task.id)
        if found is not None and found.env != task.env:
            raise RecordError(f"saved episode {task.id} is from env {found.env!r}, not {task.env!r}")
        episodes.append(found or TaskEpisode(task_id=task.id, env=task.env, goal=task.goal))
    return episodes


class _Reflections:
    """The reflections due this round: one reflector batch on a thread of its own, so
    it runs beside the actor's batch for the other tasks."""

    def __init__(self, reflector: Gateway, lives: list[_Live], settings: RetroSettings, run_label: str) -> None:
        self.reflector = reflector
        self.lives = lives
        self.settings = settings
        self.run_label = run_label
        self.prompts = [
            reflection_messages(
                live.task, live.episode.observation, live.trial, live.episode.reflections, settings=settings
            )
            for live in lives
        ]
        self.answers: list[Answer] = []
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        asked = [i for i, live in enumerate(self.lives) if live.trial.steps]
        if not asked:
            return
        ctx = contextvars.copy_context()
        self._thread = threading.Thread(target=ctx.run, args=(self._ask, asked), daemon=True, name="retro-reflect")
        self._thread.start()

    def _ask(self, asked: list[int]) -> None:
        settings = self.settings

        def batch(indices: list[int]) -> list[Answer]:
            with call_context(run=self.run_label or None):
                return self.reflector.chat_batch_settled(
                    [self.prompts[i] for i in indices],
                    purpose=REFLECT_PURPOSE,
                    max_tokens=settings.reflector_max_tokens,
                    temperature=settings.reflector_temperature,
                    seed=None if settings.reflector_temperature == 0 else settings.seed,
                    items=[self.lives[i].task.id for i in indices],
                )

        try:
            answers = batch(asked)
            if len(answers) > 1 and all(isinstance(a, LLMError) for a in answers):
                answers = [batch([i])[0] for i in asked]  # a native batch fails as one call
            by_index = dict(zip(asked, answers, strict=True))
            self.answers = [by_index.get(i, _NOTHING) for i in range(len(self.lives))]
        except BaseException as exc:  # LLMConfigError: raised by join on the loop's thread
            self.error = exc

    def join(self) -> _Reflections:
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise self.error
        return self

    def apply(self, changed: dict[str, TaskEpisode]) -> LLMError | None:
        """Write each reflection (or why there is none) into its episode; returns the
        error to raise when the reflector's server is down (nothing is written then)."""
        answers = self.answers or [_NOTHING] * len(self.lives)
        outage = _outage(self.reflector, answers)
        if outage is not None:
            return outage
        for live, prompt, answer in zip(self.lives, self.prompts, answers, strict=True):
            episode = live.episode
            changed[live.task.id] = episode
            if answer is _NOTHING:
                episode.add_reflection("", error=NOTHING_TO_REFLECT_ON, prompt=prompt)
                continue
            try:
                if isinstance(answer, LLMError):
                    raise answer
                text = accept(answer.text)
            except LLMError as exc:
                episode.add_reflection("", error=f"reflector error: {_one_line(exc)}", prompt=prompt)
                continue
            episode.add_reflection(text, prompt=prompt)
        return None


NOTHING_TO_REFLECT_ON = "nothing to reflect on: the trial ended before its first step"
_NOTHING: Any = LLMError("not asked")  # a trial with no steps: nothing to reflect on


# ------------------------------------------------------------------ figures
@dataclass(frozen=True)
class ByTrial:
    """Success and reward per trial over a set of tasks.

    `success[k]`: the share of tasks won at trial k or before (Reflexion's cumulative
    success rate: a task that stopped after winning counts as won in later trials).
    `mean_reward[k]`: the mean of each task's trial-k reward, a task that stopped early
    keeping its last trial's reward (a won task keeps its winning reward)."""

    tasks: int
    success: list[float]
    mean_reward: list[float]

    def as_json(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "success": list(self.success), "mean_reward": list(self.mean_reward)}


def success_by_trial(episodes: Sequence[TaskEpisode], trials: int) -> ByTrial:
    if not episodes:
        return ByTrial(0, [0.0] * trials, [0.0] * trials)
    won = [0] * trials
    reward = [0.0] * trials
    for episode in episodes:
        played = [t for t in episode.trials if t.finished]
        first_win = next((t.trial for t in played if t.won), None)
        last = 0.0
        for k in range(trials):
            if k < len(played):
                last = played[k].reward
            reward[k] += last
            if first_win is not None and k >= first_win:
                won[k] += 1
    n = len(episodes)
    return ByTrial(n, [w / n for w in won], [r / n for r in reward])


# ------------------------------------------------------------------ helpers
def _replayer(env: TextEnv, task: Task, actions: list[str]) -> Callable[[], tuple[Session, StepResult | None]]:
    def replay() -> tuple[Session, StepResult | None]:
        session = env.start(task)
        last = None
        try:
            for action in actions:
                last = session.step(action)
        except BaseException:
            _close(session)
            raise
        return session, last

    return replay


def _stepper(session: Session | None, action: str) -> Callable[[], StepResult]:
    assert session is not None  # only live trials with a session step
    return lambda: session.step(action)


def _closer(session: Session | None) -> Callable[[Any], None]:
    return lambda _value: _close(session) if session is not None else None


def _close_late(value: Any) -> None:
    if isinstance(value, tuple) and value:
        _close(value[0])


def _close(session: Session) -> None:
    try:
        session.close()
    except Exception:
        log.warning("closing a %s session failed", getattr(session.task, "env", "?"), exc_info=True)


def _reason_of(result: StepResult) -> str:
    if not result.won and result.info.get("reason") == STEP_CAP:
        return STEP_CAP
    return FINISHED


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _outage(gateway: Gateway, answers: Sequence[Answer]) -> LLMError | None:
    """The error to stop the run with when the model server is down rather than flaky:
    the gateway's circuit breaker is open, or nothing ever answered a refused connection."""
    for answer in answers:
        if isinstance(answer, LLMUnavailable):
            breaker = gateway.breaker
            if breaker.is_open or (answer.kind == "refused" and not breaker.reached):
                return answer
    return None


def _raise_on_outage(gateway: Gateway, answers: Sequence[Answer]) -> None:
    outage = _outage(gateway, answers)
    if outage is not None:
        raise outage


__all__ = ["ACT_PURPOSE", "ByTrial", "play_tasks", "play_trial", "reflect", "success_by_trial"]
