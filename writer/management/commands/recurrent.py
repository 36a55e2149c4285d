"""`python manage.py recurrent`: write a novel unattended, as the original's recurrent.sh did.

    python manage.py recurrent --iteration 10 --topic "Aliens" --type "science-fiction" \\
        --outfile response.txt [--init_prompt init_prompt.json] [--model SPEC] \\
        [--project NAME] [--language zh] [--owner USERNAME] [--preset compact|paper] \\
        [--refine] [--expand] [--stop-on-outage]

The first five flags keep the original's names and meaning (its main.py spelled two of
them --iter and --r_file; both are accepted). The opening (title, outline, first
paragraphs, memory, plans) is written, then `--iteration` steps; in each, the human
simulator picks the most promising plan and says why (printed), may make it concrete
(`--refine`) and rewrite the new paragraph richer (`--expand`). Each step is saved as a
node of a co-writing project, exactly as the page's steps are (writer.unattended), so
the story opens on the page at /writer/<pk>/ (printed at the end) with its history, and
`--project NAME` continues it later from its head. After every step the story (title
and paragraphs, plain text) is written to `--outfile`, replaced atomically, so a killed
run keeps everything it finished.

Owner: `--owner USERNAME`; without it the only superuser; with no users at all, a user
"writer" with an unusable password is created (`manage.py changepassword writer` sets
one); otherwise the command asks for --owner.

Ctrl-C cancels the paragraph being written and stops (everything finished is saved;
a second Ctrl-C quits at once); the exit status is then 130. A model server that
misbehaves costs time, not the run (llm.resilience.RunGuard, as `manage.py reverie`):
a failed step is written again, an outage is waited out with one line when it starts
and one when it ends; `--stop-on-outage` stops with a one-line error instead (status 1).
Bad input (empty or oversized topic, --iteration below 1, unknown language, a bad
--init_prompt file, an unknown --owner) is one line, and nothing is created.

The --init_prompt file. The original's file is {"init_prompt": "<its opening prompt,
with {type} and {topic}>"}; this engine writes its opening with its own structured
prompts, so that template is accepted and not used (a note says so). The file is one
JSON object (UTF-8, at most 1 MiB); every key is optional and unknown keys are errors:

    {
      "topic": "Aliens land in a fishing town",      the --topic (the flag wins)
      "type": "science fiction",                     or "novel_type": the --type
      "premise": "Told by the harbour master ...",   steers the opening (<= 10,000 chars)
      "language": "en",                              "en" or "zh": the --language
      "lorebook": [                                  or "lore": at most 500 entries
        {"name": "Mara", "kind": "character",        kind: character | place | fact
         "text": "A diver who fears deep water.",    what the model is told
         "keywords": ["Mara"], "aliases": ["the diver"]}
      ],
      "init_prompt": "..."                           the original's template: ignored
    }

A lorebook entry enters a step's prompt when one of its keywords or aliases occurs in
the latest paragraph or the plan (writer.engine.lorebook); keywords default to the
name, and may also be one comma-separated string. A flag and the file may not
disagree on the language. The file is read for a new project; when --project
continues one, it is checked but not applied (the opening is written already).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser, DjangoHelpFormatter
from django.db import transaction
from django.urls import reverse

from llm.errors import LLMError
from llm.resilience import GuardEvent, RunGuard, RunStopped
from writer import services, unattended
from writer.engine import LANGUAGES, LoreEntry
from writer.exchange import story_text
from writer.models import Job, Project

INIT_PROMPT_MAX_BYTES = 1 << 20
LORE_MAX_ENTRIES = 500
DEFAULT_TYPE = "science fiction"  # the original's default --type
PRESETS = ("compact", "paper")
INIT_PROMPT_KEYS = ("topic", "type", "novel_type", "premise", "language", "lorebook", "lore", "init_prompt")
LORE_KEYS = ("id", "name", "kind", "text", "keywords", "aliases")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

HELP = """\
Write a novel unattended with RecurrentGPT, as the original's recurrent.sh: the opening,
then --iteration steps where the human simulator picks the most promising plan (and says
why), optionally refines it (--refine) and expands the paragraph (--expand). Every step
is saved to a co-writing project (opened on /writer/<id>/, printed at the end; --project
NAME continues it) and the story is rewritten to --outfile after every step.

--init_prompt FILE.json holds one JSON object; every key is optional:
  {"topic": "...", "type": "...", "premise": "...", "language": "en",
   "lorebook": [{"name": "Mara", "kind": "character", "text": "A diver.",
                 "keywords": ["Mara"], "aliases": ["the diver"]}]}
("novel_type" may stand for "type", "lore" for "lorebook"; the original's
{"init_prompt": "..."} template is accepted and not used.) Flags win over the file.
Ctrl-C stops after cancelling the paragraph in flight; finished steps stay saved.
"""


class _HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's option order, with the description's line breaks kept."""


# --- the gateway (tests replace open_gateway) --------------------------------------------


def open_gateway(model: str | None) -> Any:
    """`--model SPEC`: a gateway of its own; otherwise the process-wide one (LLM_MODEL)."""
    from environment.gateway import gateway_from_settings, get_gateway

    return gateway_from_settings(model=model) if model else get_gateway()


def close_gateway(gw: Any, model: str | None) -> None:
    """Flush traces and free the model before the interpreter exits."""
    if model:
        gw.close()
        return
    from environment.gateway import reset_gateway

    reset_gateway()


# --- the --init_prompt file ----------------------------------------------------------------


class InitPromptError(ValueError):
    """A bad --init_prompt file; the message names the file and the problem in one line."""


@dataclass(frozen=True)
class InitPrompt:
    path: str
    topic: str | None = None
    novel_type: str | None = None
    premise: str = ""
    language: str | None = None
    lore: tuple[LoreEntry, ...] = ()
    template: bool = False  # the original's "init_prompt" template was there (not used)


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size:,} bytes"


def read_init_prompt(path: str) -> InitPrompt:
    """The --init_prompt file, checked whole (see the module docstring for the format)."""

    def bad(problem: str) -> InitPromptError:
        return InitPromptError(f"--init_prompt {path}: {problem}")

    file = Path(path)
    try:
        size = file.stat().st_size
        if file.is_dir():
            raise bad("is a directory, not a JSON file")
        if size > INIT_PROMPT_MAX_BYTES:
            raise bad(f"is {_size(size)}; an init prompt file is at most {_size(INIT_PROMPT_MAX_BYTES)}")
        raw = file.read_bytes()[: INIT_PROMPT_MAX_BYTES + 1]
    except FileNotFoundError:
        raise bad("no such file") from None
    except OSError as exc:
        raise bad(f"cannot be read: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise bad("is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise bad(f"is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a string" if isinstance(data, str) else "a single value"
        raise bad(f'must hold a JSON object such as {{"topic": "...", "type": "..."}}, not {kind}')
    unknown = [k for k in data if k not in INIT_PROMPT_KEYS]
    if unknown:
        raise bad(f"unknown key {unknown[0]!r}; the keys are {', '.join(INIT_PROMPT_KEYS)}")
    for a, b in (("type", "novel_type"), ("lorebook", "lore")):
        if a in data and b in data:
            raise bad(f'has both "{a}" and "{b}"; keep one')

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise bad(f'"{key}" must be a string')
        return value

    language = text("language")
    if language is not None and language not in LANGUAGES:
        raise bad(f'"language" must be en or zh, not {language!r}')
    text("init_prompt")
    lore_key = "lorebook" if "lorebook" in data else "lore"
    raw_lore = data.get(lore_key)
    if raw_lore is None:
        raw_lore = []
    if not isinstance(raw_lore, list):
        raise bad(f'"{lore_key}" must be a list of entries like {{"name": ..., "kind": ..., "text": ...}}')
    if len(raw_lore) > LORE_MAX_ENTRIES:
        raise bad(f'"{lore_key}" has {len(raw_lore):,} entries; at most {LORE_MAX_ENTRIES}')
    lore: list[LoreEntry] = []
    for i, item in enumerate(raw_lore):
        where = f"{lore_key}[{i}]"
        if not isinstance(item, dict):
            raise bad(f'{where} must be an object like {{"name": ..., "kind": ..., "text": ...}}')
        extra = [k for k in item if k not in LORE_KEYS]
        if extra:
            raise bad(f"{where}: unknown key {extra[0]!r}; an entry has {', '.join(LORE_KEYS[1:])}")
        try:
            lore.append(services.lore_entry(item))
        except services.WriterError as exc:
            raise bad(f"{where}: {exc}") from None
    return InitPrompt(
        path=path,
        topic=text("topic"),
        novel_type=text("novel_type") if "novel_type" in data else text("type"),
        premise=text("premise") or "",
        language=language,
        lore=tuple(lore),
        template="init_prompt" in data,
    )


# --- small helpers ---------------------------------------------------------------------------


def one_line(exc: BaseException | str) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _terminal_size(stream: Any) -> tuple[int, int]:
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return 0, 0
    return size.columns, size.lines


def _short(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def write_story(path: Path, title: str, paragraphs: tuple[str, ...] | list[str], language: str) -> None:
    """The story as plain text, replacing `path` at once (a kill never leaves half a file)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(story_text(title, list(paragraphs), language=language), encoding="utf-8")
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()


class _Stop:
    """Ctrl-C: the first asks to stop (the paragraph in flight is cancelled), the second
    quits at once (KeyboardInterrupt). Only the main thread can own a signal handler."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.event = threading.Event()
        self.say = say
        self.previous: Any = None
        self.installed = False

    def __enter__(self) -> _Stop:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
            self.installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        self.say("\nstopping: the paragraph being written is cancelled, finished steps are saved "
                 "(Ctrl-C again quits at once)")  # fmt: skip

    def is_set(self) -> bool:
        return self.event.is_set()


@dataclass
class _Progress:
    """A tqdm bar at a terminal (steps, paragraphs, tokens, s/step, words streamed);
    elsewhere (a pipe, a log, a test) no bar, only the per-step lines."""

    out: IO[str]
    total: int
    gw: Any
    run: str
    paragraphs: int = 0
    done: int = 0
    seconds: list[float] = field(default_factory=list)
    words: int = 0
    bar: Any = None
    last_refresh: float = 0.0
    tokens0: int = 0

    def __post_init__(self) -> None:
        self.tokens0 = self.tokens_used(absolute=True)
        self.started = time.monotonic()

    def __enter__(self) -> _Progress:
        if _isatty(self.out):
            from tqdm import tqdm

            sized = min(_terminal_size(self.out)) > 0

            self.bar = tqdm(
                total=self.total,
                file=self.out,
                desc="writing",
                unit="step",
                bar_format="{desc}: {n_fmt}/{total_fmt} steps |{bar}| [{elapsed}<{remaining}{postfix}]",
                postfix=self.postfix(),
                # A pseudo-terminal may say 0x0 (tqdm would print nothing): then a fixed width.
                dynamic_ncols=sized,
                ncols=None if sized else 120,
                leave=False,
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def tokens_used(self, *, absolute: bool = False) -> int:
        accounting = getattr(self.gw, "accounting", None)
        if accounting is None:
            return 0
        total = accounting.total(self.run)
        value = int(total.prompt_tokens + total.completion_tokens)
        return value if absolute else value - self.tokens0

    def per_step(self) -> float:
        return sum(self.seconds) / len(self.seconds) if self.seconds else 0.0

    def postfix(self) -> str:
        text = f"{self.paragraphs} paragraphs, {self.tokens_used():,} tokens"
        if self.seconds:
            text += f", {self.per_step():.1f} s/step"
        if self.words:
            text += f", writing: {self.words} words"
        return text

    def say(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.out)
        else:
            self.out.write(text + "\n")
        self.out.flush()

    def begin(self, what: str) -> None:
        self.words = 0
        if self.bar is not None:
            self.bar.set_description_str(what, refresh=False)
            self.bar.set_postfix_str(self.postfix())

    def piece(self, piece: str) -> None:
        self.words += len(piece.split())
        now = time.monotonic()
        if self.bar is not None and now - self.last_refresh >= 0.5:
            self.last_refresh = now
            self.bar.set_postfix_str(self.postfix())

    def written(self, paragraphs: int, seconds: float, *, step: bool) -> None:
        self.paragraphs, self.words = paragraphs, 0
        if step:
            self.done += 1
            self.seconds.append(seconds)
        if self.bar is not None:
            self.bar.set_postfix_str(self.postfix(), refresh=False)
            self.bar.update(self.done - self.bar.n)

    def note(self, event: GuardEvent) -> None:
        """Outages and retried steps, one line each (reverie's command says the same)."""
        if event.kind == "waiting":
            since = time.strftime("%H:%M:%S", time.localtime(event.since))
            self.say(f"{event.message}; waiting since {since} and probing (Ctrl-C stops; finished steps are saved)")
        elif event.kind == "resumed":
            self.say(f"resumed: {event.message}")
        else:
            self.say(event.message)


class _Failed(Exception):
    """The run stopped with an error after it began (printed as one `error:` line)."""


# --- the command ---------------------------------------------------------------------------


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--iteration", "--iter", type=int, default=10, metavar="N",
                            help="how many steps (paragraphs) to write after the opening; default 10")  # fmt: skip
        parser.add_argument("--outfile", "--r_file", default="response.txt", metavar="FILE",
                            help="the story as plain text (title, paragraphs), rewritten after every step; "
                                 "default response.txt")  # fmt: skip
        parser.add_argument("--init_prompt", metavar="FILE.json",
                            help="a JSON object with any of topic, type, premise, language, lorebook "
                                 "(see above); read for a new project")  # fmt: skip
        parser.add_argument("--topic", help="what the novel is about (a new project needs one)")
        parser.add_argument("--type", dest="novel_type", metavar="TYPE",
                            help=f'the kind of novel, e.g. "science-fiction" (default "{DEFAULT_TYPE}")')  # fmt: skip
        parser.add_argument("--model", metavar="SPEC",
                            help="the model for this run, e.g. llama_cpp:bundled or openai:gpt-4o-mini "
                                 "(default: the LLM_MODEL setting)")  # fmt: skip
        parser.add_argument("--project", metavar="NAME",
                            help="the new project's name; when the owner has a project of that name (or id), "
                                 "continue it from its head for --iteration more steps")  # fmt: skip
        parser.add_argument("--language", metavar="en|zh", help="the story's language (default en)")
        parser.add_argument("--owner", metavar="USERNAME",
                            help="who owns the project (default: the only superuser; with no users at all, "
                                 'a new user "writer")')  # fmt: skip
        parser.add_argument("--preset", metavar="compact|paper",
                            help="compact (small models, the default) or paper (the original's sizes: 3 opening "
                                 "paragraphs, ~200-word paragraphs)")  # fmt: skip
        parser.add_argument("--refine", action="store_true",
                            help="the simulator makes the chosen plan concrete before each step")  # fmt: skip
        parser.add_argument("--expand", action="store_true",
                            help="the simulator rewrites each new paragraph richer (kept when longer)")  # fmt: skip
        parser.add_argument("--stop-on-outage", action="store_true",
                            help="when the model server is down, stop with an error instead of waiting for it "
                                 "(for unattended scripts)")  # fmt: skip

    # --- checks that create nothing --------------------------------------------------------

    def _check_options(self, options: dict[str, Any]) -> tuple[Path, InitPrompt | None]:
        if options["iteration"] < 1:
            raise CommandError(f"--iteration must be at least 1, got {options['iteration']}")
        language = options["language"]
        if language is not None and language not in LANGUAGES:
            raise CommandError(f"language must be en or zh, not {language!r}")
        preset = options["preset"]
        if preset is not None and preset not in PRESETS:
            raise CommandError(f"preset must be compact or paper, not {preset!r}")
        outfile = Path(options["outfile"]).expanduser()
        if outfile.is_dir():
            raise CommandError(f"--outfile {outfile} is a directory; name a file")
        folder = outfile.parent
        if not folder.is_dir():
            raise CommandError(f"--outfile {outfile}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK) or (outfile.exists() and not os.access(outfile, os.W_OK)):
            raise CommandError(f"--outfile {outfile}: not writable")
        spec = None
        if options["init_prompt"]:
            try:
                spec = read_init_prompt(options["init_prompt"])
            except InitPromptError as exc:
                raise CommandError(str(exc)) from None
            if language is not None and spec.language is not None and spec.language != language:
                raise CommandError(
                    f'--language {language} disagrees with "language": "{spec.language}" in {spec.path}; keep one'
                )
        return outfile, spec

    def _owner(self, username: str | None) -> tuple[Any, bool]:
        """(the owner, False), or (None, True) when a user "writer" is to be created."""
        users = get_user_model()
        if username is not None:
            owner = users._default_manager.filter(**{users.USERNAME_FIELD: username}).first()
            if owner is None:
                raise CommandError(f"there is no user {username!r}: name another with --owner, "
                                   "or create it with manage.py createsuperuser")  # fmt: skip
            return owner, False
        supers = list(users._default_manager.filter(is_superuser=True)[:2])
        if len(supers) == 1:
            return supers[0], False
        if not users._default_manager.exists():
            return None, True
        many = "there are several superusers" if supers else "there is no superuser"
        raise CommandError(f"whose project is it? {many}: name the owner with --owner USERNAME")

    def _existing(self, owner: Any, name: str | None) -> Project | None:
        if owner is None or not name:
            return None
        project = Project.objects.filter(owner=owner, name=name).first()
        if project is None and name.strip().isdigit():
            project = Project.objects.filter(owner=owner, pk=int(name)).first()
        return project

    def _continuing(self, project: Project, options: dict[str, Any], spec: InitPrompt | None) -> list[str]:
        """Refuse flags that contradict the project; notes for those that are ignored."""
        language = options["language"] or (spec.language if spec else None)
        if language is not None and language != project.language:
            raise CommandError(
                f"project {project.name!r} is written in {project.language} ({LANGUAGES[project.language]}), "
                f"not {language}: leave --language out to continue it, or start another --project"
            )
        if options["preset"] is not None and options["preset"] != project.preset:
            raise CommandError(f"project {project.name!r} uses the {project.preset} preset, not {options['preset']}: "
                               "leave --preset out to continue it")  # fmt: skip
        notes = []
        topic = options["topic"] if options["topic"] is not None else (spec.topic if spec else None)
        novel_type = options["novel_type"] if options["novel_type"] is not None else (spec.novel_type if spec else None)
        if (topic is not None and topic.strip() != project.topic) or (
            novel_type is not None and novel_type.strip() != project.novel_type
        ):
            notes.append(f"continuing {project.name!r}: its topic and type stay as they are "
                         f"({project.novel_type}: {_short(project.topic, 60)})")  # fmt: skip
        if spec is not None:
            notes.append(f"continuing {project.name!r}: {spec.path} is only applied to a new project's opening")
        return notes

    def _create(self, owner: Any, make_writer: bool, options: dict[str, Any], spec: InitPrompt | None) -> Project:
        topic = options["topic"] if options["topic"] is not None else (spec.topic if spec else None)
        if topic is None:
            raise CommandError('a new project needs a topic: --topic TEXT (or "topic" in the --init_prompt file)')
        novel_type = options["novel_type"] if options["novel_type"] is not None else (spec.novel_type if spec else None)
        try:
            with transaction.atomic():
                if make_writer:  # no password given: an unusable one
                    owner = get_user_model()._default_manager.create_user("writer", password=None)
                return services.create_project(
                    owner,
                    novel_type=DEFAULT_TYPE if novel_type is None else novel_type,
                    topic=topic,
                    premise=spec.premise if spec else "",
                    name=options["project"] or "",
                    language=options["language"] or (spec.language if spec and spec.language else "en"),
                    preset=options["preset"] or "compact",
                    lore=spec.lore if spec else (),
                    start=False,
                )
        except services.WriterError as exc:
            raise CommandError(one_line(exc)) from None

    # --- the run -------------------------------------------------------------------------------

    def handle(self, *args: Any, **options: Any) -> None:
        out: IO[str] = options.get("stdout") or sys.stdout
        err: IO[str] = options.get("stderr") or sys.stderr
        self.out, self.err = out, err
        outfile, spec = self._check_options(options)
        owner, make_writer = self._owner(options["owner"])
        project = self._existing(owner, options["project"])
        notes = self._continuing(project, options, spec) if project is not None else []
        created = project is None
        if project is None:
            project = self._create(owner, make_writer, options, spec)
        owner = project.owner
        model = options["model"]
        try:
            gw = open_gateway(model)
        except BaseException as exc:  # a bad --model, or Ctrl-C while the model loads
            if created:  # nothing is left behind by a run that could not start
                project.delete()
                if make_writer:
                    owner.delete()
            if not isinstance(exc, Exception):
                raise
            reason = one_line(exc)
            raise CommandError(reason if isinstance(exc, LLMError) else f"{type(exc).__name__}: {reason}") from None
        if make_writer:
            self._say('created the user "writer" to own the project; set its password with: '
                      "manage.py changepassword writer")  # fmt: skip
        if spec is not None and spec.template and created:
            notes.append(f'{spec.path}: the original\'s "init_prompt" template is not used (this engine writes the '
                         'opening with its own prompts; "premise" steers it)')  # fmt: skip
        for note in notes:
            self._say(f"note: {note}")
        self.quit_at_once = False
        try:
            code = self._write(project, gw, outfile, options, created=created)
        finally:
            if self.quit_at_once:  # a model call may still run in a worker thread: closing waits for it
                self._say("waiting for the model call in flight to finish...")
            close_gateway(gw, model)
        if code:
            sys.exit(code)

    def _write(self, project: Project, gw: Any, outfile: Path, options: dict[str, Any], *, created: bool) -> int:
        from environment import runs
        from reverie.engine.ports import InMemoryVectorIndex

        iterations = options["iteration"]
        label = f"writer:{project.pk}"
        progress = self.progress = _Progress(self.out, iterations, gw, label)
        index = InMemoryVectorIndex()  # kept for the whole run: each entry is added once
        state = services.state_at(project.head) if project.head is not None else None
        progress.paragraphs = len(state.paragraphs) if state else 0
        what = "started" if created else "continuing"
        model = getattr(gw, "model", "the model")
        self._say(f"{what} {project.name!r} (id {project.pk}, owner {project.owner}, {project.language}, "
                  f"{project.preset} preset): {iterations} step(s) with {model}")  # fmt: skip
        outcome, error = "done", ""
        try:
            with runs.lease(project) as holder, _Stop(progress.say) as stop, progress:
                guard = self._guard(gw, project, holder, progress, stop, options["stop_on_outage"])
                if state is not None:
                    self._drop_leftovers(project)
                    write_story(outfile, state.title, state.paragraphs, project.language)
                else:
                    written = self._run(unattended.opening_job(project), gw, guard, index, stop, progress, "opening")
                    if written is None:
                        outcome = "stopped"
                    else:
                        self._report_opening(written, progress)
                        write_story(outfile, written.title, written.paragraphs, project.language)
                for number in range(1, iterations + 1):
                    if outcome != "done" or stop.is_set():
                        outcome = "stopped"
                        break
                    try:
                        job = unattended.auto_job(project, refine=options["refine"], expand=options["expand"])
                    except services.WriterError as exc:
                        raise _Failed(one_line(exc)) from None
                    written = self._run(job, gw, guard, index, stop, progress, f"step {number}/{iterations}")
                    if written is None:
                        outcome = "stopped"
                        break
                    self._report_step(written, number, iterations, progress)
                    write_story(outfile, written.title, written.paragraphs, project.language)
        except runs.RunBusy as exc:
            raise CommandError(one_line(exc)) from None
        except KeyboardInterrupt:  # the second Ctrl-C
            outcome, self.quit_at_once = "stopped", True
        except (_Failed, LLMError, services.WriterError, OSError) as exc:
            outcome, error = "failed", one_line(exc)
        project.refresh_from_db()
        self._summary(project, outfile, progress, outcome, error, options)
        return {"done": EXIT_OK, "stopped": EXIT_INTERRUPTED}.get(outcome, EXIT_ERROR)

    def _guard(self, gw: Any, project: Project, holder: str, progress: _Progress, stop: _Stop,
               stop_on_outage: bool) -> RunGuard:  # fmt: skip
        """RunGuard that reports on the project's row (the page shows "waiting for the model
        server") and on this terminal, and ends a wait on Ctrl-C."""
        from environment import runs

        guard = runs.row_guard(RunGuard(gw, stop_on_outage=stop_on_outage), Project, project.pk, holder,
                               services.publish_view)  # fmt: skip
        on_row = guard.on_event

        def on_event(event: GuardEvent) -> None:
            if on_row is not None:
                on_row(event)
            progress.note(event)

        guard.on_event, guard.should_stop = on_event, stop.is_set
        return guard

    def _drop_leftovers(self, project: Project) -> None:
        """Steps left queued or running by a run that was killed (its lease is void now)."""
        for job in Job.objects.filter(project=project, reader=None, state__in=Job.ACTIVE).exclude(kind="init"):
            unattended.abandon(job, "cancelled")
            self._say(f"note: job {job.pk}, left unfinished by an earlier run, was dropped")

    def _run(self, job: Job, gw: Any, guard: RunGuard, index: Any, stop: _Stop, progress: _Progress,
             what: str) -> unattended.Written | None:  # fmt: skip
        progress.begin(what)
        try:
            return guard.run(
                lambda: unattended.run_job(job, gw, index=index, stop=stop.is_set, on_piece=progress.piece),
                what=what,
            )
        except (KeyboardInterrupt, RunStopped) as exc:
            self.quit_at_once = self.quit_at_once or isinstance(exc, KeyboardInterrupt)
            unattended.abandon(job, "cancelled")
            return None
        except BaseException as exc:
            unattended.abandon(job, "failed", f"the model could not write this step: {one_line(exc)}")
            raise

    def _report_opening(self, written: unattended.Written, progress: _Progress) -> None:
        node = written.node
        progress.written(len(written.paragraphs), node.seconds, step=False)
        self._say(f'opening: "{_short(written.title, 80)}", {len(written.paragraphs)} paragraph(s) '
                  f"[{node.seconds:.1f} s, {node.tokens:,} tokens]")  # fmt: skip

    def _report_step(self, written: unattended.Written, number: int, total: int, progress: _Progress) -> None:
        node, choice = written.node, written.choice
        progress.written(len(written.paragraphs), node.seconds, step=True)
        words = len(written.paragraph.split())
        words_text = f"{words} words (expanded)" if written.expanded else f"{words} words"
        cost = f"[{words_text}, {node.seconds:.1f} s, {node.tokens:,} tokens]"
        if choice is None:
            self._say(f"step {number}/{total}: {_short(written.plan)} {cost}")
            return
        offered = len(node.parent.state.get("plans", ())) if node.parent is not None else 0
        picked = f"plan {choice.index + 1} of {offered}" if offered else f"plan {choice.index + 1}"
        lines = [f"step {number}/{total}: {picked}: {_short(choice.plan)}"]
        why = "the simulator's answer was unusable; took the first plan" if choice.fallback else choice.reason
        lines.append(f"  why: {_short(why, 160)}")
        if written.refined:
            lines.append(f"  refined: {_short(written.plan)}")
        lines.append(f"  {cost}")
        self._say("\n".join(lines))

    def _summary(self, project: Project, outfile: Path, progress: _Progress, outcome: str, error: str,
                 options: dict[str, Any]) -> None:  # fmt: skip
        if error:
            self.out.flush()
            self.err.write(f"error: {error}\n")
            self.err.flush()
        seconds = time.monotonic() - progress.started
        rate = f", {progress.per_step():.1f} s/step" if progress.seconds else ""
        state = services.state_at(project.head) if project.head is not None else None
        story = f'"{_short(state.title, 80)}", {len(state.paragraphs)} paragraphs' if state else "no opening yet"
        verb = {"done": "wrote", "stopped": "stopped after", "failed": "stopped after"}[outcome]
        self._say(f"{verb} {progress.done} of {options['iteration']} step(s) in {seconds:.1f} s "
                  f"({progress.tokens_used():,} tokens{rate}): {story}")  # fmt: skip
        if state is not None:
            self._say(f"story: {outfile}")
        self._say(f"open it at {reverse('writer_project', args=[project.pk])} (project {project.name!r}, "
                  f"owner {project.owner})")  # fmt: skip
        if outcome != "done":
            left = options["iteration"] - progress.done
            command = ["manage.py", "recurrent", "--project", project.name, "--iteration", str(max(left, 1)),
                       "--outfile", str(outfile)]  # fmt: skip
            if options["owner"]:
                command += ["--owner", options["owner"]]
            self._say(f"everything finished is saved; continue with: {shlex.join(command)}")

    def _say(self, text: str) -> None:
        progress = getattr(self, "progress", None)
        if progress is not None:
            progress.say(text)  # above the bar, when there is one
            return
        self.out.write(text + "\n")
        self.out.flush()
