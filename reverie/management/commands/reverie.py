"""`python manage.py reverie`: run a Smallville simulation from the command line.

Interactive, as in the original:

    python manage.py reverie
    Enter the name of the forked simulation: base_the_ville_isabella_maria_klaus
    Enter the name of the new simulation: july1
    Enter option: run 100

Unattended (no prompts, no stdin needed; exit status 1 after an error):

    python manage.py reverie --fork base_the_ville_isabella_maria_klaus --name july1 \\
        --command "run 10" --command "print persona schedule Klaus Mueller" --command fin

`--preset paper|compact` picks the fork's agent settings (stored in its meta; default:
the source's, and for a base `compact` with the bundled model, `paper` with any other).
`--language en|zh` is the language the fork's agents think and speak in (default: the
source's; a base says its own in meta.yaml).
`--resume NAME` reopens an existing simulation (e.g. after a killed run) instead of forking.
A model server that misbehaves costs time, not the run: failed steps are run again, and
an outage prints one line when the run starts waiting and one when it resumes;
`--stop-on-outage` stops with a one-line error instead (for unattended scripts).
The commands themselves are in reverie/cli.py (type `help` at the prompt).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reverie.cli import ReverieCli
from reverie.engine.config import PRESETS
from reverie.engine.prompting import LANGUAGES


class Command(BaseCommand):
    help = (
        "Fork a simulation and run it: prompts like the original reverie.py, or unattended with "
        "--fork NAME --name NAME --command CMD (repeatable). Type help at the prompt for the commands."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        from reverie.services import default_preset

        default = f"{default_preset()} (follows LLM_MODEL)"
        parser.add_argument("--fork", metavar="NAME", help="the simulation to fork (a base or any simulation)")
        parser.add_argument("--name", metavar="NAME", help="the name of the new simulation")
        parser.add_argument(
            "--preset",
            choices=PRESETS,
            help="the agent settings of the fork: paper (the paper's values, for a capable model) or compact "
            f"(tight prompts for the small bundled model); default: the source's, or for a base {default}",
        )
        parser.add_argument(
            "--language",
            choices=LANGUAGES,
            help="the language the fork's agents think and speak in (en or zh); default: the source's",
        )
        parser.add_argument(
            "--resume", metavar="NAME", help="reopen an existing (non-base) simulation instead of forking"
        )
        parser.add_argument(
            "--command",
            dest="commands",
            action="append",
            metavar="CMD",
            help='run this command without prompting (repeatable, in order), e.g. --command "run 10" --command fin',
        )

        parser.add_argument(
            "--stop-on-outage",
            action="store_true",
            help="when the model server is down, stop with an error instead of waiting for it to come back "
            "(for unattended scripts)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fork, name, resume, commands = options["fork"], options["name"], options["resume"], options["commands"]
        if resume and (fork or name):
            raise CommandError("use either --resume NAME or --fork NAME --name NAME, not both")
        if commands is not None and not resume and not (fork and name):
            raise CommandError("--command needs --fork NAME --name NAME (or --resume NAME)")
        if name and not fork:
            raise CommandError("--name needs --fork NAME (the simulation to copy)")
        if options.get("preset") and resume:
            raise CommandError("--preset applies to a fork: a resumed run keeps the settings it was made with")
        if options.get("language") and resume:
            raise CommandError("--language applies to a fork: a resumed run keeps the language it was made with")
        cli = ReverieCli(
            options.get("stdin") or sys.stdin,
            options.get("stdout") or sys.stdout,
            options.get("stderr") or sys.stderr,
        )
        cli.stop_on_outage = bool(options.get("stop_on_outage"))
        try:
            code = cli.main(fork=fork, name=name, resume=resume, commands=commands, preset=options.get("preset"),
                           language=options.get("language"))  # fmt: skip
        finally:
            cli.release_model()  # flushes traces and frees the model before the interpreter exits
        if code:
            sys.exit(code)
