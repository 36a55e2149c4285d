"""The reverie CLI (`manage.py reverie`, reverie/cli.py), driven through its input stream.

Most tests run `ReverieCli` over StringIO with a stub services layer (defined here) to
check parsing, prompts and error handling; the last ones call the real command against
the real services and a shipped base. No test here makes a model call.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from llm.errors import LLMOutage, LLMUnavailable
from llm.resilience import GuardEvent
from reverie import services
from reverie.cli import OPTION_PROMPT, CliError, ReverieCli, parse, parse_steps

BASE = "base_the_ville_isabella_maria_klaus"
NAMES = ["Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"]
START = datetime(2023, 2, 13, 7, 0, tzinfo=UTC)


# --- a stub services layer ----------------------------------------------------------------


class _Personas:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def all(self) -> list[SimpleNamespace]:
        return [SimpleNamespace(name=n) for n in self.names]


@dataclass
class FakeSim:
    name: str
    step: int = 0
    current_time: datetime = START
    sec_per_step: int = 10
    maze: str = "the_ville"
    is_base: bool = False
    forked_from: Any = None
    names: list[str] = field(default_factory=lambda: list(NAMES))

    @property
    def personas(self) -> _Personas:
        return _Personas(self.names)

    @property
    def run_label(self) -> str:
        return f"sim:{self.name}"


class StubServices:
    """The services API with the real exception classes; records what was asked of it."""

    SimulationError = services.SimulationError
    SimulationNotFound = services.SimulationNotFound
    SimulationExists = services.SimulationExists
    PersonaNotFound = services.PersonaNotFound
    HistoryFileError = services.HistoryFileError

    def __init__(self) -> None:
        self.sims: dict[str, FakeSim] = {BASE: FakeSim(BASE, is_base=True), "old_run": FakeSim("old_run", step=7)}
        self.calls: list[tuple[Any, ...]] = []
        self.presets: list[str | None] = []  # the preset of each fork asked for
        self.histories: list[tuple[Any, ...]] = []
        self.run_plan: list[Any] = []  # per step: None (commit) or an exception to raise instead
        self.answers: dict[str, str] = {}
        self.step_seconds = 0.0  # how long agents "think" in each step

    def base_names(self) -> list[str]:
        return [BASE, "base_the_ville_n25"]

    def get_simulation(self, name: str) -> FakeSim:
        if name not in self.sims:
            raise services.SimulationNotFound(f"no simulation named {name!r}")
        return self.sims[name]

    def ensure_base(self, name: str) -> FakeSim:
        return self.get_simulation(name)

    def fork(self, source: str, new_name: str, *, preset: str | None = None, gateway: Any = None) -> FakeSim:
        self.calls.append(("fork", source, new_name))
        self.presets.append(preset)
        src = self.get_simulation(source)
        if not new_name or "/" in new_name:
            raise services.SimulationError(f"{new_name!r} is not a usable simulation name")
        if new_name in self.sims:
            raise services.SimulationExists(f"a simulation named {new_name!r} already exists; pick another name")
        sim = FakeSim(new_name, step=src.step, current_time=src.current_time, forked_from=src, names=list(src.names))
        self.sims[new_name] = sim
        return sim

    def run_steps(
        self, sim: FakeSim, steps: int, *, gateway: Any = None, progress: Any = None, guard: Any = None
    ) -> FakeSim:
        self.calls.append(("run_steps", sim.name, steps))
        self.guard = guard
        for done in range(1, steps + 1):
            outcome = self.run_plan.pop(0) if self.run_plan else None
            if isinstance(outcome, GuardEvent):
                guard.on_event(outcome)  # what the real guard reports during an outage
                outcome = None
            if outcome is not None:
                raise outcome
            if gateway is not None and hasattr(gateway, "accounting"):
                gateway.accounting.calls += 4
            time.sleep(self.step_seconds)
            sim.step += 1
            sim.current_time += timedelta(seconds=sim.sec_per_step)
            if progress is not None:
                progress(done, steps)
        return sim

    def load_history(self, sim: FakeSim, path: str, *, gateway: Any = None) -> int:
        self.calls.append(("load_history", sim.name, path))
        if "bad" in path:
            raise services.HistoryFileError(f"{path}:3: expected 'name,memory; memory; ...', got ['x']")
        return 10

    def interview(self, sim: FakeSim, persona: str, question: str, *, gateway: Any = None, history: Any = ()) -> str:
        self.calls.append(("interview", persona, question))
        self.histories.append(tuple(history))
        if question == "boom":
            raise LLMUnavailable("the model server could not be reached")
        return self.answers.get(question, f"I am {persona}.")


class StubSelectors:
    def persona_schedule(self, sim: FakeSim, persona: str) -> str:
        if persona == "Maria Lopez":
            raise KeyboardInterrupt  # as if Ctrl-C came while reading
        return f"SCHEDULE of {persona}"

    def persona_memory(self, sim: FakeSim, persona: str, limit: int = 50) -> str:
        return f"MEMORY of {persona} (limit {limit})"


class _Accounting:
    def __init__(self) -> None:
        self.calls = 0

    def total(self, run: str | None = None) -> SimpleNamespace:
        return SimpleNamespace(calls=self.calls, prompt_tokens=self.calls * 100, completion_tokens=self.calls * 10)


class NoStdin(io.StringIO):
    def readline(self, *args: Any) -> str:  # type: ignore[override]
        raise AssertionError("unattended mode read stdin")


@dataclass
class Run:
    code: int
    out: str
    err: str
    stub: StubServices
    cli: ReverieCli

    @property
    def errors(self) -> list[str]:
        return self.err.splitlines()


class Terminal(io.StringIO):
    """Output that says it is a terminal (of unknown size)."""

    def isatty(self) -> bool:
        return True


def drive(
    text: str | None, stub: StubServices | None = None, *, out: io.StringIO | None = None, tick: float = 0, **main: Any
) -> Run:
    """Run the CLI over `text` as stdin (None: a stdin that must not be read)."""
    stub = stub or StubServices()
    out, err = out or io.StringIO(), io.StringIO()
    stdin = NoStdin() if text is None else io.StringIO(text)
    gateway = SimpleNamespace(accounting=_Accounting())
    cli = ReverieCli(stdin, out, err, services=stub, selectors=StubSelectors(), gateway=gateway)
    cli.progress_tick = tick
    code = cli.main(**main)
    return Run(code, out.getvalue(), err.getvalue(), stub, cli)


def lines(*items: str) -> str:
    return "".join(f"{item}\n" for item in items)


# --- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "handler", "arg"),
    [
        ("run 10", "_run", "10"),
        ("  RUN   25 ", "_run", "25"),
        ("save", "_save", None),
        ("fin", "_fin", None),
        ("save and finish", "_fin", None),
        ("exit", "_exit", None),
        ("help", "_help", None),
        ("print simulation", "_print_simulation", None),
        ("print current time", "_print_time", None),
        ("print persona schedule Klaus Mueller", "_print_schedule", "Klaus Mueller"),
        ("print persona memory Maria Lopez 5", "_print_memory", "Maria Lopez 5"),
        ("call -- analysis Isabella Rodriguez", "_analysis", "Isabella Rodriguez"),
        ("call --analysis Klaus", "_analysis", "Klaus"),
        ("call -- load history the_ville/a.csv", "_load_history", "the_ville/a.csv"),
    ],
)
def test_parse_commands(line: str, handler: str, arg: str | None) -> None:
    assert parse(line) == (handler, arg)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("dance", "unknown command 'dance'"),
        ("run", "missing argument: run <steps>"),
        ("print persona schedule", "missing argument: print persona schedule <name>"),
        ("call -- analysis", "missing argument: call -- analysis <name>"),
        ("call -- load history", "missing argument: call -- load history <file.csv>"),
        ("fin now", "unknown command"),
    ],
)
def test_parse_rejects(line: str, message: str) -> None:
    with pytest.raises(CliError, match=message):
        parse(line)


@pytest.mark.parametrize("arg", ["x", "-3", "0", "1.5", "ten", "3 4"])
def test_bad_step_counts(arg: str) -> None:
    with pytest.raises(CliError, match="positive whole number"):
        parse_steps(arg)


def test_step_counts() -> None:
    assert parse_steps("360") == 360
    assert parse_steps("1,000") == 1000


# --- the fork prompts -----------------------------------------------------------------------


def test_fork_prompts_ask_again_until_a_simulation_is_made() -> None:
    run = drive(lines("", "nope", BASE, "old_run", "a/b", "new1", "exit"))
    assert run.code == 0
    assert run.out.count("Enter the name of the forked simulation: ") == 3
    assert run.out.count("Enter the name of the new simulation: ") == 3
    assert "forked base_the_ville_isabella_maria_klaus into new1" in run.out
    assert run.stub.calls == [("fork", BASE, "old_run"), ("fork", BASE, "a/b"), ("fork", BASE, "new1")]
    assert run.errors[0].startswith("error: type the name of a simulation to fork: bases: ")
    assert run.errors[1] == f"error: no simulation named 'nope' (bases: {BASE}, base_the_ville_n25)"
    assert run.errors[2] == "error: a simulation named 'old_run' already exists; pick another name"
    assert run.errors[3].startswith("error: 'a/b' is not a usable")
    assert "new1" in run.stub.sims


def test_end_of_input_at_the_fork_prompt_exits_cleanly() -> None:
    run = drive("")
    assert run.code == 0
    assert run.err == ""
    assert run.stub.calls == []


def test_preset_fork_with_a_taken_name_asks_only_for_the_name() -> None:
    run = drive(lines("fresh", "exit"), fork=BASE, name="old_run")
    assert run.code == 0
    assert "Enter the name of the forked simulation" not in run.out
    assert run.out.count("Enter the name of the new simulation: ") == 1
    assert run.errors == ["error: a simulation named 'old_run' already exists; pick another name"]
    assert ("fork", BASE, "fresh") in run.stub.calls


def test_preset_fork_of_a_missing_simulation_asks_for_both() -> None:
    run = drive(lines(BASE, "fresh", "exit"), fork="nope", name="fresh")
    assert run.code == 0
    assert "Enter the name of the forked simulation: " in run.out
    assert run.errors[0].startswith("error: no simulation named 'nope'")
    assert "fresh" in run.stub.sims


# --- the option loop --------------------------------------------------------------------------


def test_errors_are_one_line_and_the_prompt_comes_back() -> None:
    commands = [
        "dance",
        "run x",
        "run -3",
        "print persona schedule Nobody",
        "print persona memory Nobody",
        "call -- analysis Nobody",
        "call -- load history the_ville/bad.csv",
        "print current time",
    ]
    run = drive(lines(*commands, "fin"), fork=BASE, name="s1")
    assert run.code == 0
    assert run.errors == [
        "error: unknown command 'dance'; type help for the list",
        "error: run takes a positive whole number of steps, e.g. 'run 10' (got 'x')",
        "error: run takes a positive whole number of steps, e.g. 'run 10' (got '-3')",
        "error: no persona 'Nobody' in 's1'; personas: Isabella Rodriguez, Maria Lopez, Klaus Mueller",
        "error: no persona 'Nobody' in 's1'; personas: Isabella Rodriguez, Maria Lopez, Klaus Mueller",
        "error: no persona 'Nobody' in 's1'; personas: Isabella Rodriguez, Maria Lopez, Klaus Mueller",
        "error: the_ville/bad.csv:3: expected 'name,memory; memory; ...', got ['x']",
    ]
    assert run.out.count(OPTION_PROMPT) == len(commands) + 1
    assert "February 13, 2023, 07:00:00 (step 0)" in run.out
    assert "Interviewer:" not in run.out
    assert "Traceback" not in run.out + run.err
    assert not [c for c in run.stub.calls if c[0] == "run_steps"]


def test_blank_lines_are_ignored_and_end_of_input_exits() -> None:
    run = drive(lines("", "   ", "save"), fork=BASE, name="s1")
    assert run.code == 0
    assert run.err == ""
    assert "nothing to save: every finished step is committed as it finishes" in run.out
    assert run.out.rstrip().endswith("exit: s1 is saved at step 0 (February 13, 2023, 07:00:00)")


def test_fin_leaves_and_nothing_after_it_runs() -> None:
    run = drive(lines("fin", "run 5"), fork=BASE, name="s1")
    assert run.code == 0
    assert "saved: s1 is saved at step 0" in run.out
    assert run.out.count(OPTION_PROMPT) == 1
    assert not [c for c in run.stub.calls if c[0] == "run_steps"]


def test_help_and_print_simulation() -> None:
    run = drive(lines("help", "print simulation", "exit"), fork=BASE, name="s1")
    assert "print persona schedule <name>" in run.out
    assert "call -- load history <file.csv>" in run.out
    assert f"simulation: s1 (forked from {BASE})" in run.out
    assert "step:       0" in run.out
    assert "game time:  February 13, 2023, 07:00:00 (10 s per step)" in run.out
    assert "personas:   3: Isabella Rodriguez, Maria Lopez, Klaus Mueller" in run.out


def test_personas_by_first_name_and_any_case() -> None:
    text = lines("print persona schedule klaus", "print persona memory MARIA LOPEZ", "print persona memory Maria 5")
    run = drive(text, fork=BASE, name="s1")
    assert run.err == ""
    assert "SCHEDULE of Klaus Mueller" in run.out
    assert "MEMORY of Maria Lopez (limit 50)" in run.out
    assert "MEMORY of Maria Lopez (limit 5)" in run.out


def test_an_ambiguous_first_name_asks_for_the_full_name() -> None:
    stub = StubServices()
    stub.sims[BASE].names = ["Tom Moreno", "Tom Moore"]
    run = drive(lines("print persona schedule Tom", "fin"), stub, fork=BASE, name="s1")
    assert run.errors == ["error: 'Tom' could be Tom Moreno, Tom Moore: give the full name"]


def test_load_history() -> None:
    run = drive(lines("call -- load history the_ville/agent_history_init_n3.csv", "fin"), fork=BASE, name="s1")
    assert run.err == ""
    assert "loaded 10 memories from the_ville/agent_history_init_n3.csv into s1" in run.out
    assert ("load_history", "s1", "the_ville/agent_history_init_n3.csv") in run.stub.calls


# --- run -----------------------------------------------------------------------------------------


def test_run_shows_progress_and_where_it_ended() -> None:
    run = drive(lines("run 3", "print current time", "fin"), fork=BASE, name="s1")
    assert run.code == 0
    assert run.err == ""
    assert ("run_steps", "s1", 3) in run.stub.calls
    assert "3/3 steps" in run.out
    assert "game time 2023-02-13 07:00:30" in run.out
    assert "12 model calls" in run.out  # the stub gateway's accounting, 4 calls a step
    assert "ran 3 step(s): s1 is at step 3, February 13, 2023, 07:00:30 (12 model calls, 1320 tokens" in run.out
    assert "February 13, 2023, 07:00:30 (step 3)" in run.out
    assert "saved: s1 is saved at step 3" in run.out


def test_run_prints_its_estimated_calls_and_tokens_before_it_starts() -> None:
    from reverie.engine.cost import estimate_run, human

    run = drive(lines("run 17280", "fin"), fork=BASE, name="s1")
    expected = estimate_run("compact", agents=3, start=START, steps=17280, sec_per_step=10, planned=False)
    [line] = [line for line in run.out.splitlines() if line.startswith("estimate:")]
    assert line.startswith("estimate: 48.0 game hours x 3 agents (compact preset): about ")
    assert f"about {human(expected.calls)} model calls and {human(expected.tokens)} tokens" in line
    assert line.endswith("from the preset's measured rates (bench/cost.py)")
    # Printed before the run started: ahead of the progress bar and the "ran" line.
    assert run.out.index("estimate:") < run.out.index("17280/17280 steps") < run.out.index("ran 17280 step(s)")


def test_ctrl_c_during_run_stops_after_the_committed_step_and_prompts_again() -> None:
    stub = StubServices()
    stub.run_plan = [None, KeyboardInterrupt()]
    run = drive(lines("run 5", "print current time", "fin"), stub, fork=BASE, name="s1")
    assert run.code == 0
    assert (
        "interrupted: stopped at step 1 (February 13, 2023, 07:00:10) after 1 of 5 steps; every finished step is"
        " saved, the step in flight was dropped" in run.out
    )
    assert "February 13, 2023, 07:00:10 (step 1)" in run.out  # the prompt came back
    assert "saved: s1 is saved at step 1" in run.out


def test_an_outage_during_run_prints_one_line_when_waiting_and_one_when_resuming() -> None:
    stub = StubServices()
    began = datetime(2026, 12, 1, 9, 30, 5).timestamp()
    stub.run_plan = [
        None,
        GuardEvent("waiting", "waiting for the model server: the server stopped accepting connections", began),
        GuardEvent("resumed", "the model server answers again after 12.5s", began, 12.5),
        None,
    ]
    run = drive(lines("run 3", "fin"), stub, fork=BASE, name="s1")
    assert run.code == 0 and run.errors == []
    waiting = [line for line in run.out.splitlines() if "waiting for the model server" in line]
    resumed = [line for line in run.out.splitlines() if line.startswith("resumed:")]
    assert len(waiting) == 1 and "waiting since 09:30:05" in waiting[0] and "finished steps are saved" in waiting[0]
    assert resumed == ["resumed: the model server answers again after 12.5s"]
    assert "ran 3 step(s): s1 is at step 3" in run.out
    assert stub.guard.stop_on_outage is False


def test_stop_on_outage_reaches_the_guard_and_ends_unattended_runs_with_one_line() -> None:
    stub = StubServices()
    stub.run_plan = [None, LLMOutage("the model server is down: x; stopping (--stop-on-outage)", kind="refused")]
    out, err = io.StringIO(), io.StringIO()
    gateway = SimpleNamespace(accounting=_Accounting())
    cli = ReverieCli(NoStdin(), out, err, services=stub, selectors=StubSelectors(), gateway=gateway)
    cli.stop_on_outage = True
    code = cli.main(fork=BASE, name="s1", commands=["run 5", "fin"])
    assert code == 1 and stub.guard.stop_on_outage is True
    assert err.getvalue().startswith("error: the model server is down: x; stopping (--stop-on-outage)")
    assert "stopped: 1 remaining command(s) not run" in out.getvalue()


def test_a_model_error_during_run_is_one_line_and_says_where_it_stopped() -> None:
    stub = StubServices()
    stub.run_plan = [None, None, LLMUnavailable("cannot reach the model server at http://x; is it running?")]
    run = drive(lines("run 5", "print current time", "fin"), stub, fork=BASE, name="s1")
    assert run.code == 0
    assert run.errors == [
        "error: cannot reach the model server at http://x; is it running? (stopped at step 2, February 13, 2023,"
        " 07:00:20, after 2 of 5 steps; finished steps are saved)"
    ]
    assert "February 13, 2023, 07:00:20 (step 2)" in run.out


def test_at_a_terminal_the_bar_shows_model_calls_while_agents_think() -> None:
    stub = StubServices()
    stub.step_seconds = 0.3
    run = drive(lines("run 2", "fin"), stub, out=Terminal(), tick=0.02, fork=BASE, name="s1")
    assert run.code == 0
    # Mid-step: no step committed yet, the calls already counted.
    assert "0/2 steps [00:00<?, game time 2023-02-13 07:00:00, 4 model calls, 440 tokens]" in run.out
    assert "2/2 steps" in run.out
    assert run.cli.model_used


def test_ctrl_c_during_another_command_prompts_again() -> None:
    run = drive(lines("print persona schedule Maria", "print persona schedule Klaus", "fin"), fork=BASE, name="s1")
    assert run.code == 0
    assert "\ninterrupted\n" in run.out
    assert "SCHEDULE of Klaus Mueller" in run.out
    assert run.cli.interrupted


def test_ctrl_c_at_the_fork_prompt_leaves_with_status_130() -> None:
    stub = StubServices()

    def interrupted(name: str) -> FakeSim:
        raise KeyboardInterrupt

    stub.get_simulation = interrupted  # type: ignore[method-assign]
    run = drive(lines(BASE), stub)
    assert run.code == 130
    assert "Traceback" not in run.out + run.err


# --- interviews ----------------------------------------------------------------------------------


def test_interview_asks_until_an_empty_line_or_end_convo() -> None:
    stub = StubServices()
    stub.answers = {"Any plans for Valentine's Day?": "A party at Hobbs Cafe!"}
    text = lines(
        "call -- analysis Isabella",
        "Any plans for Valentine's Day?",
        "Who are you?",
        "",
        "call -- analysis Klaus Mueller",
        "boom",
        "Still there?",
        "end_convo",
        "fin",
    )
    run = drive(text, stub, fork=BASE, name="s1")
    assert run.code == 0
    assert run.out.count("Interviewer: ") == 6
    assert "Isabella Rodriguez: A party at Hobbs Cafe!" in run.out
    assert "Isabella Rodriguez: I am Isabella Rodriguez." in run.out
    assert "Klaus Mueller: I am Klaus Mueller." in run.out
    assert run.errors == ["error: the model server could not be reached"]  # and the interview went on
    assert [c for c in stub.calls if c[0] == "interview"] == [
        ("interview", "Isabella Rodriguez", "Any plans for Valentine's Day?"),
        ("interview", "Isabella Rodriguez", "Who are you?"),
        ("interview", "Klaus Mueller", "boom"),
        ("interview", "Klaus Mueller", "Still there?"),
    ]
    # Each answer sees the earlier turns of its own interview (a failed turn is not one).
    first = ("Any plans for Valentine's Day?", "A party at Hobbs Cafe!")
    assert stub.histories == [(), (first,), (), ()]
    assert "saved: s1" in run.out


def test_end_of_input_ends_the_interview_and_then_the_session() -> None:
    run = drive(lines("call -- analysis Maria", "Hello?"), fork=BASE, name="s1")
    assert run.code == 0
    assert "Maria Lopez: I am Maria Lopez." in run.out
    assert "interview with Maria Lopez ended" in run.out
    assert "exit: s1 is saved at step 0" in run.out


def test_one_question_inline() -> None:
    run = drive(None, fork=BASE, name="s1", commands=["call -- analysis Klaus -- Do you know Maria?"])
    assert run.code == 0
    assert "Interviewer:" not in run.out
    assert "Klaus Mueller: I am Klaus Mueller." in run.out
    assert ("interview", "Klaus Mueller", "Do you know Maria?") in run.stub.calls


# --- unattended ---------------------------------------------------------------------------------


def test_unattended_runs_the_commands_in_order_without_reading_stdin() -> None:
    run = drive(None, fork=BASE, name="s1", commands=["run 2", "print persona schedule Klaus Mueller", "fin"])
    assert run.code == 0
    assert run.err == ""
    assert "Enter option: run 2\n" in run.out
    assert "Enter option: print persona schedule Klaus Mueller\n" in run.out
    assert "SCHEDULE of Klaus Mueller" in run.out
    assert "saved: s1 is saved at step 2" in run.out
    assert "Enter the name" not in run.out


def test_unattended_exits_after_the_last_command_even_without_fin() -> None:
    run = drive(None, fork=BASE, name="s1", commands=["run 1"])
    assert run.code == 0
    assert run.out.rstrip().endswith("done: s1 is saved at step 1 (February 13, 2023, 07:00:10)")


def test_unattended_stops_at_the_first_error() -> None:
    run = drive(None, fork=BASE, name="s1", commands=["print simulation", "run x", "run 1", "fin"])
    assert run.code == 1
    assert run.errors == ["error: run takes a positive whole number of steps, e.g. 'run 10' (got 'x')"]
    assert "stopped: 2 remaining command(s) not run" in run.out
    assert not [c for c in run.stub.calls if c[0] == "run_steps"]


def test_unattended_with_an_existing_name_fails_without_prompting() -> None:
    run = drive(None, fork=BASE, name="old_run", commands=["run 1"])
    assert run.code == 1
    assert run.errors == ["error: a simulation named 'old_run' already exists; pick another name"]
    assert "Enter" not in run.out


def test_unattended_ctrl_c_stops_with_status_130() -> None:
    stub = StubServices()
    stub.run_plan = [KeyboardInterrupt()]
    run = drive(None, stub, fork=BASE, name="s1", commands=["run 3", "fin"])
    assert run.code == 130
    assert "interrupted: stopped at step 0" in run.out


def test_resume_reopens_a_simulation_but_not_a_base() -> None:
    run = drive(None, resume="old_run", commands=["print current time"])
    assert run.code == 0
    assert "resuming old_run at step 7" in run.out
    base = drive(None, resume=BASE, commands=["run 1"])
    assert base.code == 1
    assert base.errors == [f"error: {BASE!r} is a base simulation: fork it (--fork {BASE} --name NEW) and run the fork"]


def test_the_preset_reaches_the_fork_and_a_bad_one_is_one_line() -> None:
    stub = StubServices()
    run = drive(None, stub, fork=BASE, name="p1", preset="paper", commands=["fin"])
    assert run.code == 0 and stub.presets == ["paper"]
    asked = drive(lines(BASE, "p2", "fin"), preset="compact")
    assert asked.code == 0 and asked.stub.presets == ["compact"]  # the prompts fork with it too
    plain = drive(None, fork=BASE, name="p3", commands=["fin"])
    assert plain.stub.presets == [None]  # the service picks: the source's, or the model's default
    bad = drive(None, fork=BASE, name="p4", preset="huge", commands=["fin"])
    assert bad.code == 1 and bad.errors == ["error: unknown preset 'huge'; choose from paper, compact"]
    assert ("fork", BASE, "p4") not in bad.stub.calls


# --- the real command, real services, a shipped base ---------------------------------------------


@pytest.fixture(autouse=True)
def scripted_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork of a base embeds its starting relationships: the real command gets the
    scripted gateway's embedder instead of loading the bundled one."""
    from tests.reverie.engine.fakes import routed_gateway

    gateway = routed_gateway({})
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gateway)


@pytest.mark.django_db
def test_command_forks_with_a_preset_and_its_fork_keeps_it() -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("reverie", "--fork", BASE, "--name", "tp", "--preset", "paper", "--command", "print simulation",
                 "--command", "fin", stdout=out, stderr=err)  # fmt: skip
    assert err.getvalue() == ""
    assert f"forked {BASE} into tp: step 0, February 13, 2023, 07:00:00, paper settings" in out.getvalue()
    assert "settings:   paper preset" in out.getvalue()
    assert services.get_simulation("tp").meta["agent_config"]["preset"] == "paper"
    out = io.StringIO()
    call_command("reverie", "--fork", "tp", "--name", "tp2", "--command", "fin", stdout=out, stderr=io.StringIO())
    assert "tp2: step 0, February 13, 2023, 07:00:00, paper settings" in out.getvalue()


@pytest.mark.django_db
def test_command_unattended_on_the_real_base() -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "reverie",
        "--fork", BASE,
        "--name", "t1",
        "--command", "print simulation",
        "--command", "print persona schedule Klaus Mueller",
        "--command", "fin",
        stdout=out, stderr=err,
    )  # fmt: skip
    text = out.getvalue()
    assert err.getvalue() == ""
    assert f"forked {BASE} into t1: step 0, February 13, 2023, 07:00:00" in text
    assert f"simulation: t1 (forked from {BASE})" in text
    assert "personas:   3: Isabella Rodriguez, Maria Lopez, Klaus Mueller" in text
    assert "Klaus Mueller has not planned a day yet" in text
    assert "saved: t1 is saved at step 0" in text
    assert services.get_simulation("t1").forked_from.name == BASE

    # The name is taken now: one error line, exit status 1, nothing run.
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("reverie", "--fork", BASE, "--name", "t1", "--command", "fin", stdout=out, stderr=err)
    assert exit_info.value.code == 1
    assert err.getvalue() == "error: a simulation named 't1' already exists; pick another name\n"


@pytest.mark.django_db
def test_command_reads_stdin() -> None:
    stdin = io.StringIO(
        lines(
            "nope",
            BASE,
            "t2",
            "print persona memory klaus",
            "print persona schedule Nobody",
            "run x",
            "dance",
            "call -- load history the_ville/no_such_file.csv",
            "save",
            "exit",
        )
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("reverie", stdin=stdin, stdout=out, stderr=err)
    text = out.getvalue()
    assert text.startswith("Enter the name of the forked simulation: nope\n")
    assert f"forked {BASE} into t2" in text
    # The fork remembers the base's starting relationships (embedded through the scripted gateway).
    assert "Klaus Mueller's 2 most recent memories" in text and "Klaus Mueller knows Isabella Rodriguez: " in text
    assert "nothing to save" in text
    assert text.rstrip().endswith("exit: t2 is saved at step 0 (February 13, 2023, 07:00:00)")
    errors = err.getvalue().splitlines()
    assert errors == [
        f"error: no simulation named 'nope'; bases: {BASE}, base_the_ville_n25, base_the_ville_zh_3",
        "error: no persona 'Nobody' in 't2'; personas: Isabella Rodriguez, Maria Lopez, Klaus Mueller",
        "error: run takes a positive whole number of steps, e.g. 'run 10' (got 'x')",
        "error: unknown command 'dance'; type help for the list",
        "error: cannot read history file 'the_ville/no_such_file.csv': No such file or directory",
    ]


@pytest.mark.django_db
def test_command_options_are_checked() -> None:
    with pytest.raises(CommandError, match="--command needs --fork NAME --name NAME"):
        call_command("reverie", "--command", "fin")
    with pytest.raises(CommandError, match="either --resume"):
        call_command("reverie", "--resume", "x", "--fork", BASE)
    with pytest.raises(CommandError, match="--name needs --fork"):
        call_command("reverie", "--name", "x")
    with pytest.raises(CommandError, match="invalid choice: 'huge'"):
        call_command("reverie", "--fork", BASE, "--name", "x", "--preset", "huge")
    with pytest.raises(CommandError, match="--preset applies to a fork"):
        call_command("reverie", "--resume", "x", "--preset", "paper")


@pytest.mark.django_db
def test_command_with_empty_stdin_exits_cleanly() -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("reverie", stdin=io.StringIO(""), stdout=out, stderr=err)
    assert out.getvalue() == "Enter the name of the forked simulation: \n"
    assert err.getvalue() == ""


@pytest.mark.django_db
def test_the_estimate_before_a_run_is_scaled_by_the_runs_own_traces() -> None:
    """Once a run has a game hour of traces, what it spent against the preset's rates
    scales the estimate (here: twice the tokens the rates predict)."""
    from environment.llmlog.models import LLMCall
    from reverie.cli import run_estimate
    from reverie.engine.cost import estimate_run, human

    sim = services.fork(BASE, "traced", preset="paper")
    past = estimate_run("paper", agents=3, start=START, steps=360, sec_per_step=10, planned=False)
    assert run_estimate(sim, 360, 3).endswith("from the preset's measured rates (bench/cost.py)")  # no traces yet
    now = datetime.now(UTC)
    calls = round(past.calls)
    rows = [LLMCall(created=now, run=sim.run_label, step=i * 359 // (calls - 1), purpose="plan.location",
                    kind="complete", model="m", outcome="first_try") for i in range(calls)]  # fmt: skip
    rows[0].prompt_tokens = round(2 * past.tokens)
    # Embeddings and calls outside a step (history load) are not part of the rate.
    rows += [LLMCall(created=now, run=sim.run_label, step=5, purpose="perceive.embed", kind="embed", model="e",
                     outcome="first_try", prompt_tokens=10**6),
             LLMCall(created=now, run=sim.run_label, step=None, purpose="whisper.poignancy", kind="complete",
                     model="m", outcome="first_try", prompt_tokens=10**6)]  # fmt: skip
    LLMCall.objects.bulk_create(rows)
    sim.step, sim.current_time = 360, START + timedelta(hours=1)
    ahead = estimate_run("paper", agents=3, start=sim.current_time, steps=360, sec_per_step=10, planned=True)
    line = run_estimate(sim, 360, 3)
    assert line.startswith("estimate: 1.0 game hours x 3 agents (paper preset): about ")
    assert "scaled by this run's own traces (x2.00)" in line
    assert f"{human(ahead.tokens * 2)} tokens" in line
