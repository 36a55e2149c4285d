"""The reverie command line: the original's prompts and options, over the durable services.

`python manage.py reverie` is a thin wrapper around `ReverieCli`, which reads lines
from an input stream and writes to an output stream, so tests drive it with StringIO.

    Enter the name of the forked simulation: base_the_ville_isabella_maria_klaus
    Enter the name of the new simulation: july1
    Enter option: run 100

Every step is committed as it finishes (reverie.services.run_steps), so `save` has
nothing left to do, `fin` and `exit` both leave with everything saved, and Ctrl-C
during `run` loses only the step in flight. A mistake (unknown command, missing
simulation or persona, bad step count, malformed history line, model error) prints
one `error: ...` line and the prompt comes back; in unattended mode (`--command`) it
stops the remaining commands and the exit status is 1.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import IO, Any

from llm.errors import LLMError
from llm.resilience import GuardEvent, RunGuard
from reverie.engine.clock import format_game_time
from reverie.engine.config import PRESETS
from reverie.engine.cost import estimate_run

FORK_PROMPT = "Enter the name of the forked simulation: "
NAME_PROMPT = "Enter the name of the new simulation: "
OPTION_PROMPT = "Enter option: "
INTERVIEW_PROMPT = "Interviewer: "
END_CONVO = "end_convo"
MEMORY_LIMIT = 50

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

HELP = """\
commands:
  run <steps>                          advance the simulation; each step is saved as it finishes
  save                                 nothing to do: every finished step is already saved
  fin                                  leave (everything is saved)
  exit                                 leave at once (everything but a step in flight is saved)
  print simulation                     name, step, game time and personas
  print current time                   the game time
  print persona schedule <name>        today's plan of a persona
  print persona memory <name> [<n>]    a persona's n most recent memories (default 50)
  call -- analysis <name>              interview a persona in character (memory unchanged);
                                       an empty line or end_convo ends the interview
  call -- analysis <name> -- <question>   ask one question
  call -- load history <file.csv>      plant memories ("whispers"), e.g. the_ville/agent_history_init_n3.csv
  help                                 this list
A persona may be named by its full name or, when unique, its first name."""


class CliError(Exception):
    """A mistake in what was typed; printed as one `error:` line."""


class _Leave(Exception):
    """Leave the command loop with this exit status."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class _Command:
    pattern: re.Pattern[str]
    handler: str  # the ReverieCli method
    usage: str = ""  # shown when the argument is missing


def _cmd(regex: str, handler: str, usage: str = "") -> _Command:
    return _Command(re.compile(regex, re.IGNORECASE), handler, usage)


# Matched, in order, against the line with its whitespace collapsed. `arg` keeps its case.
COMMANDS = (
    _cmd(r"help|\?", "_help"),
    _cmd(r"run(?: (?P<arg>.+))?", "_run", "run <steps>"),
    _cmd(r"save", "_save"),
    _cmd(r"fin|f|finish|save and finish", "_fin"),
    _cmd(r"exit|quit", "_exit"),
    _cmd(r"print (?:simulation|sim)", "_print_simulation"),
    _cmd(r"print current time", "_print_time"),
    _cmd(r"print persona schedule(?: (?P<arg>.+))?", "_print_schedule", "print persona schedule <name>"),
    _cmd(r"print persona memory(?: (?P<arg>.+))?", "_print_memory", "print persona memory <name> [<n>]"),
    _cmd(r"call ?-- ?analysis(?: (?P<arg>.+))?", "_analysis", "call -- analysis <name>"),
    _cmd(r"call ?-- ?load history(?: (?P<arg>.+))?", "_load_history", "call -- load history <file.csv>"),
)


def parse(line: str) -> tuple[str, str | None]:
    """(handler name, argument) for a command line; CliError for an unknown or incomplete one."""
    text = " ".join(line.split())
    for command in COMMANDS:
        match = command.pattern.fullmatch(text)
        if match is None:
            continue
        arg = match.groupdict().get("arg")
        if command.usage and not arg:
            raise CliError(f"missing argument: {command.usage}")
        return command.handler, arg
    raise CliError(f"unknown command {text!r}; type help for the list")


def parse_steps(arg: str) -> int:
    text = arg.strip().replace(",", "").replace("_", "")
    if not text.isdigit() or int(text) < 1:
        raise CliError(f"run takes a positive whole number of steps, e.g. 'run 10' (got {arg!r})")
    return int(text)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def game_time(sim: Any) -> str:
    return format_game_time(sim.current_time)


class ReverieCli:
    """The prompt loop. `main()` returns the exit status.

    `services` and `selectors` default to reverie.services / reverie.selectors;
    `gateway` to environment.gateway.get_gateway() (built only when a command needs
    the model). Errors go to `stderr` (default: `stdout`).
    """

    progress_tick = 1.0  # seconds between progress-bar refreshes inside a step

    def __init__(
        self,
        stdin: IO[str],
        stdout: IO[str],
        stderr: IO[str] | None = None,
        *,
        services: Any = None,
        selectors: Any = None,
        gateway: Any = None,
        gateway_factory: Callable[[], Any] | None = None,
    ) -> None:
        if services is None:
            from reverie import services
        if selectors is None:
            from reverie import selectors
        self.stdin = stdin
        self.out = stdout
        self.err = stderr if stderr is not None else stdout
        self.services = services
        self.selectors = selectors
        self._gateway = gateway
        self._gateway_factory = gateway_factory
        self._injected_gateway = gateway is not None or gateway_factory is not None
        self.errors: tuple[type[BaseException], ...] = (services.SimulationError, LLMError, CliError)
        self.sim: Any = None
        self.model_used = False  # a command needed the model (see release_model)
        self.interrupted = False  # Ctrl-C stopped a command: a model call may still be running in a thread
        self.unattended = False
        self.preset: str | None = None  # the fork's agent-config preset (main's `preset`)
        self.language: str | None = None  # the fork's language, en or zh (main's `language`)
        # Stop with the one-line error when the model server is down, instead of waiting for it.
        self.stop_on_outage = False
        self._use_input = self._stdin_is_terminal()
        self._echo = not self._use_input and not _isatty(stdin)

    # --- entry point -----------------------------------------------------------------

    def main(
        self,
        *,
        fork: str | None = None,
        name: str | None = None,
        resume: str | None = None,
        commands: Iterable[str] | None = None,
        preset: str | None = None,
        language: str | None = None,
    ) -> int:
        """Open (fork or resume) a simulation, then run `commands` or prompt for them.

        `preset` (paper or compact) is the agent config a fork gets; None keeps the
        source's (a base's forks get the default for the model). `language` (en or zh)
        is the language its agents think and speak in; None keeps the source's.
        """
        commands = list(commands) if commands is not None else None
        self.unattended = commands is not None
        self.preset = preset
        self.language = language
        if preset is not None and preset not in PRESETS:
            self._error(CliError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}"))
            return EXIT_ERROR
        try:
            self.sim = self._open(fork, name, resume)
            if self.sim is None:
                return EXIT_OK if not self.unattended else EXIT_ERROR
            if commands is None:
                return self._interactive_loop()
            return self._unattended(commands)
        except _Leave as leave:
            return leave.code
        except KeyboardInterrupt:  # at the fork prompts, or during a fork (a transaction: nothing half-made)
            self.out.write("\n")
            self.interrupted = True
            return EXIT_INTERRUPTED

    def _open(self, fork: str | None, name: str | None, resume: str | None) -> Any:
        if resume:
            return self._resume(resume)
        if fork and name:
            try:
                sim = self._fork(fork, name)
            except self.errors as exc:
                self._error(exc)
                if self.unattended:
                    return None
                source_ok = not isinstance(exc, self.services.SimulationNotFound)
                return self._ask_fork(fork if source_ok else None)
            self._forked(sim, fork)
            return sim
        if self.unattended:
            self._error(CliError("unattended runs need --fork NAME --name NAME, or --resume NAME"))
            return None
        return self._ask_fork(fork)

    def _resume(self, name: str) -> Any:
        try:
            sim = self.services.get_simulation(name)
            if getattr(sim, "is_base", False):
                raise CliError(f"{name!r} is a base simulation: fork it (--fork {name} --name NEW) and run the fork")
        except self.errors as exc:
            self._error(exc)
            return None
        self._say(f"resuming {sim.name} at step {sim.step} ({game_time(sim)})")
        return sim

    def _ask_fork(self, source: str | None = None) -> Any:
        """The original's two questions, asked until they make a simulation; None at end of input."""
        while True:
            if source is None:
                answer = self._read(FORK_PROMPT)
                if answer is None:
                    return None
                answer = answer.strip()
                if not answer:
                    self._error(CliError(f"type the name of a simulation to fork: {self._bases()}"))
                    continue
                try:
                    self.services.ensure_base(answer)  # a listed base loads here, as the fork will need it
                except self.errors as exc:
                    self._not_found(exc)
                    continue
                source = answer
            new_name = self._read(NAME_PROMPT)
            if new_name is None:
                return None
            try:
                sim = self._fork(source, new_name.strip())
            except self.services.SimulationNotFound as exc:
                self._not_found(exc)
                source = None
                continue
            except self.errors as exc:
                self._error(exc)
                continue
            self._forked(sim, source)
            return sim

    def _fork(self, source: str, name: str) -> Any:
        """Fork with the chosen preset. A fork of a base embeds its starting relationships:
        through the injected gateway if there is one, else the shared one, built only then."""
        self.model_used = True  # release_model closes the shared gateway if the fork built it
        gateway = self.gateway() if self._injected_gateway else None
        if self.language is not None:
            return self.services.fork(source, name, preset=self.preset, gateway=gateway, language=self.language)
        return self.services.fork(source, name, preset=self.preset, gateway=gateway)

    def _bases(self) -> str:
        try:
            names = self.services.base_names()
        except Exception:  # the list is a courtesy; never fail over it
            names = []
        return "bases: " + (", ".join(names) or "none")

    def _not_found(self, exc: BaseException) -> None:
        message = one_line(exc)
        bases = self._bases()
        if not all(base in message for base in bases.removeprefix("bases: ").split(", ")):
            message = f"{message} ({bases})"
        self._error(message)

    def _forked(self, sim: Any, source: str) -> None:
        preset = ((getattr(sim, "meta", None) or {}).get("agent_config") or {}).get("preset")
        settings = f", {preset} settings" if preset else ""
        self._say(
            f"forked {source} into {sim.name}: step {sim.step}, {game_time(sim)}{settings}; type help for the commands"
        )

    # --- loops -------------------------------------------------------------------------

    def _interactive_loop(self) -> int:
        while True:
            try:
                line = self._read(OPTION_PROMPT)
            except KeyboardInterrupt:
                line = None
                self.out.write("\n")
            if line is None:
                self._exit(None)
            elif line.strip():
                try:
                    self.execute(line)
                except self.errors as exc:
                    self._error(exc)
                except KeyboardInterrupt:
                    self.interrupted = True
                    self._say("\ninterrupted")

    def _unattended(self, commands: list[str]) -> int:
        for index, line in enumerate(commands):
            if not line.strip():
                continue
            self.out.write(f"{OPTION_PROMPT}{line}\n")
            try:
                self.execute(line)
            except self.errors as exc:
                self._error(exc)
                rest = len(commands) - index - 1
                if rest:
                    self._say(f"stopped: {rest} remaining command(s) not run")
                return EXIT_ERROR
            except KeyboardInterrupt:
                self.interrupted = True
                self._say("\ninterrupted")
                return EXIT_INTERRUPTED
        self._leave_message("done")
        return EXIT_OK

    def execute(self, line: str) -> None:
        """Run one command line; raises CliError / SimulationError / LLMError, or _Leave."""
        handler, arg = parse(line)
        getattr(self, handler)(arg)

    # --- commands ----------------------------------------------------------------------

    def _help(self, _arg: str | None) -> None:
        self._say(HELP)

    def _save(self, _arg: str | None) -> None:
        self._say(
            f"nothing to save: every finished step is committed as it finishes "
            f"({self.sim.name} is at step {self.sim.step}, {game_time(self.sim)})"
        )

    def _fin(self, _arg: str | None) -> None:
        self._leave_message("saved")
        raise _Leave(EXIT_OK)

    def _exit(self, _arg: str | None) -> None:
        self._leave_message("exit")
        raise _Leave(EXIT_OK)

    def _leave_message(self, word: str) -> None:
        self._say(f"{word}: {self.sim.name} is saved at step {self.sim.step} ({game_time(self.sim)})")

    def _print_simulation(self, _arg: str | None) -> None:
        sim = self.sim
        source = getattr(sim, "forked_from", None)
        lines = [
            f"simulation: {sim.name}" + (f" (forked from {source.name})" if source is not None else ""),
            f"step:       {sim.step}",
            f"game time:  {game_time(sim)} ({sim.sec_per_step} s per step)",
            f"town:       {sim.maze}",
        ]
        preset = ((getattr(sim, "meta", None) or {}).get("agent_config") or {}).get("preset")
        if preset:
            lines.append(f"settings:   {preset} preset")
        names = self._persona_names()
        lines.append(f"personas:   {len(names)}: {', '.join(names)}")
        self._say("\n".join(lines))

    def _print_time(self, _arg: str | None) -> None:
        self._say(f"{game_time(self.sim)} (step {self.sim.step})")

    def _print_schedule(self, arg: str | None) -> None:
        assert arg is not None
        self._say(self.selectors.persona_schedule(self.sim, self._persona(arg)))

    def _print_memory(self, arg: str | None) -> None:
        assert arg is not None
        limit = MEMORY_LIMIT
        match = re.fullmatch(r"(?P<name>.+?) (?P<limit>\d+)", arg)
        if match and not self._is_persona(arg):
            arg, limit = match["name"], int(match["limit"])
            if limit < 1:
                raise CliError("the number of memories to print must be at least 1")
        self._say(self.selectors.persona_memory(self.sim, self._persona(arg), limit=limit))

    def _load_history(self, arg: str | None) -> None:
        assert arg is not None
        path = arg.strip()
        self.model_used = True
        # The gateway is left to the service (None unless injected), which reads the file before loading a model.
        added = self.services.load_history(self.sim, path, gateway=self._gateway)
        self._say(f"loaded {added} memories from {path} into {self.sim.name}")

    def _analysis(self, arg: str | None) -> None:
        assert arg is not None
        name, _, inline = arg.partition(" -- ")
        persona = self._persona(name)
        if inline.strip():
            self._answer(persona, inline.strip())
            return
        self._say(f"interviewing {persona} (memory is not changed); an empty line or {END_CONVO} ends it")
        history: list[tuple[str, str]] = []  # the interview so far: each answer sees the earlier turns
        while True:
            question: str | None
            try:
                question = self._read(INTERVIEW_PROMPT)
            except KeyboardInterrupt:
                question = None
                self.out.write("\n")
            if question is None or question.strip() in ("", END_CONVO):
                self._say(f"interview with {persona} ended")
                return
            try:
                reply = self._answer(persona, question.strip(), history)
                history.append((question.strip(), reply))
            except KeyboardInterrupt:
                self.interrupted = True
                self._say(f"\ninterview with {persona} ended")
                return
            except self.errors as exc:
                if self.unattended:
                    raise
                self._error(exc)

    def _answer(self, persona: str, question: str, history: list[tuple[str, str]] | None = None) -> str:
        self.model_used = True
        answer = self.services.interview(
            self.sim, persona, question, gateway=self.gateway(), history=tuple(history or ())
        )
        self._say(f"{persona}: {answer}")
        return str(answer)

    def _run(self, arg: str | None) -> None:
        assert arg is not None
        steps = parse_steps(arg)
        sim = self.sim
        self._say(run_estimate(sim, steps, len(self._persona_names())))
        self.model_used = True
        gateway = self.gateway()
        bar = _ProgressBar(self.out, sim, steps, len(self._persona_names()), gateway, self.progress_tick)
        guard = RunGuard(gateway, stop_on_outage=self.stop_on_outage, on_event=bar.note)
        try:
            with bar:
                new = self.services.run_steps(sim, steps, gateway=gateway, progress=bar.step_done, guard=guard)
        except KeyboardInterrupt:
            self.interrupted = True
            self.sim = self._reload()
            self._say(
                f"interrupted: stopped at step {self.sim.step} ({game_time(self.sim)}) after {bar.done} of "
                f"{steps} steps; every finished step is saved, the step in flight was dropped"
            )
            if self.unattended:
                raise _Leave(EXIT_INTERRUPTED) from None
            return
        except self.errors as exc:
            self.sim = self._reload()
            raise CliError(
                f"{one_line(exc)} (stopped at step {self.sim.step}, {game_time(self.sim)}, "
                f"after {bar.done} of {steps} steps; finished steps are saved)"
            ) from exc
        self.sim = new
        self._say(f"ran {steps} step(s): {new.name} is at step {new.step}, {game_time(new)} ({bar.summary()})")

    def release_model(self) -> None:
        """Close the process-wide gateway if a command used it, so the model is freed before exit.

        After Ctrl-C a model call may still be running in a worker thread; Gateway.close()
        waits for it before freeing the model.
        """
        if not self.model_used or self._injected_gateway:
            return
        from environment.gateway import reset_gateway

        if self.interrupted:
            self._say("waiting for the model call in flight to finish...")
        reset_gateway()

    # --- helpers -----------------------------------------------------------------------

    def gateway(self) -> Any:
        if self._gateway is None:
            if self._gateway_factory is None:
                from environment.gateway import get_gateway

                self._gateway_factory = get_gateway
            self._gateway = self._gateway_factory()
        return self._gateway

    def _reload(self) -> Any:
        try:
            return self.services.get_simulation(self.sim.name)
        except self.errors:
            return self.sim

    def _persona_names(self) -> list[str]:
        return [p.name for p in self.sim.personas.all()]

    def _is_persona(self, name: str) -> bool:
        return name.strip().casefold() in {n.casefold() for n in self._persona_names()}

    def _persona(self, name: str) -> str:
        """The persona's full name from a full name or a unique first name (any case)."""
        wanted = " ".join(name.split())
        names = self._persona_names()
        if wanted in names:
            return wanted
        folded = wanted.casefold()
        matches = [n for n in names if n.casefold() == folded] or [
            n for n in names if n.split()[0].casefold() == folded
        ]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise CliError(f"{wanted!r} could be {', '.join(matches)}: give the full name")
        raise self.services.PersonaNotFound(
            f"no persona {wanted!r} in {self.sim.name!r}; personas: {', '.join(names) or 'none'}"
        )

    def _stdin_is_terminal(self) -> bool:
        return self.stdin is sys.stdin and self.out is sys.stdout and _isatty(sys.stdin) and _isatty(sys.stdout)

    def _read(self, prompt: str) -> str | None:
        """One line without its newline, or None at end of input."""
        if self._use_input:
            _enable_line_editing()
            try:
                return input(prompt)
            except EOFError:
                self.out.write("\n")
                return None
        self.out.write(prompt)
        self.out.flush()
        line = self.stdin.readline() if self.stdin is not None else ""
        if not line:
            self.out.write("\n")
            return None
        line = line.rstrip("\r\n")
        if self._echo:
            self.out.write(line + "\n")
        return line

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _error(self, exc: BaseException | str) -> None:
        message = exc if isinstance(exc, str) else one_line(exc)
        self.out.flush()
        self.err.write(f"error: {message}\n")
        self.err.flush()


def _preset(sim: Any) -> str:
    """The run's agent-config preset (runs stored before configs were kept ran compact)."""
    return str(((getattr(sim, "meta", None) or {}).get("agent_config") or {}).get("preset") or "compact")


# A run's own traces price the next steps once they cover at least this many steps (a game hour).
TRACED_MIN_STEPS = 360


def run_estimate(sim: Any, steps: int, agents: int) -> str:
    """The line printed before `run N`: calls and tokens, from the preset's measured rates
    (reverie.engine.cost), scaled by what this run's own traces spent against the same
    rates over the steps it has run (once it has run a game hour): a model that writes
    longer answers, or a town where agents meet more, shows there."""
    preset = _preset(sim)
    ahead = estimate_run(preset, agents=agents, start=sim.current_time, steps=steps, sec_per_step=sim.sec_per_step,
                         planned=sim.step > 0)  # fmt: skip
    scale = None
    spent = _traced_usage(sim)
    if spent is not None:
        first, last, calls, tokens = spent
        start = sim.current_time - timedelta(seconds=(sim.step - first) * sim.sec_per_step)
        past = estimate_run(preset, agents=agents, start=start, steps=last - first + 1,
                            sec_per_step=sim.sec_per_step, planned=first > 0)  # fmt: skip
        if past.tokens > 0 and past.calls > 0 and tokens > 0:
            scale = tokens / past.tokens
            ahead = replace(ahead, tokens=ahead.tokens * scale, calls=ahead.calls * calls / past.calls)
    return ahead.line(agents=agents, preset=preset, scale=scale)


def _traced_usage(sim: Any) -> tuple[int, int, int, int] | None:
    """(first step, last step, calls, tokens) of the chat-model calls this run's steps
    made (embeddings and setup left out), or None under TRACED_MIN_STEPS steps."""
    if getattr(sim, "pk", None) is None:
        return None  # not a stored simulation (the CLI's tests drive a stub)
    from django.db.models import Count, Max, Min, Sum

    from environment.llmlog.models import LLMCall

    totals = (
        LLMCall.objects.filter(run=sim.run_label, step__isnull=False)
        .exclude(kind="embed")
        .aggregate(first=Min("step"), last=Max("step"), calls=Count("id"), prompt=Sum("prompt_tokens"),
                   completion=Sum("completion_tokens"))
    )  # fmt: skip
    if totals["first"] is None or totals["last"] - totals["first"] + 1 < TRACED_MIN_STEPS:
        return None
    return totals["first"], totals["last"], totals["calls"], (totals["prompt"] or 0) + (totals["completion"] or 0)


class _ProgressBar:
    """tqdm over the steps of one `run`: steps done/total, game time, model calls and tokens.

    At a terminal a background tick refreshes elapsed time and model calls while agents
    think inside a step; the step count moves when a step is committed. Elsewhere (a pipe,
    a CI log) the bar is written at most every `log_interval` seconds, and when it ends.
    """

    log_interval = 10.0

    def __init__(self, out: IO[str], sim: Any, steps: int, agents: int, gateway: Any, tick: float) -> None:
        self.out, self.sim, self.steps, self.agents, self.gateway, self.tick = out, sim, steps, agents, gateway, tick
        self.start_time = sim.current_time
        self.run_label = getattr(sim, "run_label", None)
        self.calls0, self.tokens0 = self._totals()
        self.done = 0
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.bar: Any = None

    def __enter__(self) -> _ProgressBar:
        from tqdm import tqdm

        terminal = _isatty(self.out)
        sized = min(_terminal_size(self.out)) > 0  # a pseudo-terminal may say 0x0: tqdm would print nothing
        self.bar = tqdm(
            total=self.steps,
            file=self.out,
            desc=f"{self.agents} agents",
            unit="step",
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps [{elapsed}<{remaining}{postfix}]",
            postfix=self._postfix(),
            # A log file gets a line now and then, not one per second.
            mininterval=0 if terminal else self.log_interval,
            dynamic_ncols=terminal and sized,
            ncols=None if sized or not terminal else 120,
            nrows=None if sized or not terminal else 20,
        )
        if self.tick > 0 and terminal:
            self._thread = threading.Thread(target=self._ticker, name="reverie-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.bar.set_postfix_str(self._postfix(), refresh=False)
        self.bar.close()

    def note(self, event: GuardEvent) -> None:
        """One line when a run starts waiting for the model server and one when it resumes
        (a retried step is only logged: it costs seconds, and the bar shows them)."""
        if event.kind == "waiting":
            since = time.strftime("%H:%M:%S", time.localtime(event.since))
            self.bar.write(
                f"{event.message}; waiting since {since} and probing (Ctrl-C stops; finished steps are saved)",
                file=self.out,
            )
        elif event.kind == "resumed":
            self.bar.write(f"resumed: {event.message}", file=self.out)

    def step_done(self, done: int, total: int) -> None:
        self.done = done
        self.bar.set_postfix_str(self._postfix(), refresh=False)
        self.bar.update(done - self.bar.n)

    def summary(self) -> str:
        calls, tokens = self._totals()
        seconds = time.monotonic() - self.started
        return f"{calls - self.calls0} model calls, {tokens - self.tokens0} tokens, {seconds:.1f}s"

    def _ticker(self) -> None:
        while not self._stop.wait(self.tick):
            self.bar.set_postfix_str(self._postfix(), refresh=True)

    def _postfix(self) -> str:
        now = self.start_time + timedelta(seconds=self.done * self.sim.sec_per_step)
        calls, tokens = self._totals()
        return f"game time {now:%Y-%m-%d %H:%M:%S}, {calls - self.calls0} model calls, {tokens - self.tokens0} tokens"

    def _totals(self) -> tuple[int, int]:
        accounting = getattr(self.gateway, "accounting", None)
        if accounting is None:
            return 0, 0
        total = accounting.total(self.run_label)
        return total.calls, total.prompt_tokens + total.completion_tokens


def _terminal_size(stream: Any) -> tuple[int, int]:
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return 0, 0
    return size.columns, size.lines


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


_line_editing = False


def _enable_line_editing() -> None:
    """History and editing for input() at a terminal, where the platform has readline."""
    global _line_editing
    if not _line_editing:
        _line_editing = True
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401
