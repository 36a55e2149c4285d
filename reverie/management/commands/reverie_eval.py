"""`python manage.py reverie_eval <sim> <measure>`: measure the paper's results on a run.

    python manage.py reverie_eval july1 diffusion              # % aware at step 0 and now
    python manage.py reverie_eval july1 relationships          # network density and graph
    python manage.py reverie_eval july1 attendance             # who came to the party
    python manage.py reverie_eval july1 believability --judge  # ablations, TrueSkill
    python manage.py reverie_eval base_the_ville_n25 diffusion --runs 3 --steps 8640 --json out.json

It first prints an estimate of the model calls and tokens it will use (`--dry-run`
stops there), then interviews with a progress bar, prints the results beside the
paper's figures and stores them (the page /sim/<sim>/eval/ shows them). Ctrl-C stops
cleanly: what finished is kept. docs/evaluation.md describes each measure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from llm.errors import LLMError
from reverie import eval_services, services
from reverie.engine.config import PRESETS
from reverie.models import EvalResult, Simulation


class Command(BaseCommand):
    help = (
        "Measure a simulation as the paper did: diffusion, relationships, attendance or believability "
        "(--runs N --steps S repeats it on N forks and reports the mean and a 95% interval)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sim", help="the simulation to measure (with --runs: the one to fork)")
        parser.add_argument("measure", choices=eval_services.MEASURES)
        parser.add_argument("--runs", type=int, default=0, help="fork the simulation N times and measure each")
        parser.add_argument("--steps", type=int, default=0, help="with --runs: steps to run each fork first")
        parser.add_argument(
            "--preset", choices=PRESETS, default="paper",
            help="with --runs: the forks' agent config (default paper: sampling above temperature 0)",
        )  # fmt: skip
        parser.add_argument("--judge", action="store_true", help="believability: rank the ablations with TrueSkill")
        parser.add_argument(
            "--persona", dest="personas", action="append", metavar="NAME",
            help="believability: interview only this persona (repeatable)",
        )  # fmt: skip
        parser.add_argument(
            "--judge-model", metavar="SPEC",
            help="the model that judges the answers (default: LLM_MODEL, the agents' own); e.g. "
                 "openai:<model> with --judge-base-url for a stronger model on a server",
        )  # fmt: skip
        parser.add_argument("--judge-base-url", metavar="URL", help="the judge model's server (default: LLM_BASE_URL)")
        parser.add_argument("--json", metavar="FILE", help="also write the results to this JSON file")
        parser.add_argument("--dry-run", action="store_true", help="print the estimate and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        name, measure, runs, steps = options["sim"], options["measure"], options["runs"], options["steps"]
        if runs < 0 or steps < 0:
            raise CommandError("--runs and --steps must be positive whole numbers")
        if steps and not runs:
            raise CommandError("--steps needs --runs N (the steps are run on forks, never on the simulation itself)")
        try:
            sim = getattr(services, "ensure_base", services.get_simulation)(name)
            estimate = eval_services.estimate(
                sim, measure, runs=runs, steps=steps, preset=options["preset"] if runs else None,
                judge=options["judge"], personas=options["personas"],
            )  # fmt: skip
        except services.SimulationError as exc:
            raise CommandError(str(exc)) from None
        for line in estimate.lines():
            self.stdout.write(line)
        judge_spec = options["judge_model"] or settings.LLM_MODEL
        if measure != "attendance" and eval_services.weak_judge(judge_spec):
            self.stdout.write(
                f"note: the judge is {judge_spec}, a 270M model that copies its prompt's example verdict: its "
                "yes/no is not a measurement. Judge with a stronger model: --judge-model openai:<model> "
                "--judge-base-url http://host:port/v1 (docs/evaluation.md)"
            )
        if options["dry_run"]:
            return
        judge_gateway = None
        if options["judge_model"] or options["judge_base_url"]:
            from environment.gateway import gateway_from_settings

            try:
                judge_gateway = gateway_from_settings(model=options["judge_model"], base_url=options["judge_base_url"])
            except LLMError as exc:
                raise CommandError(f"--judge-model: {exc}") from None
        bar = _Bar(estimate.interviews + estimate.judge_calls if measure == "believability" else estimate.interviews)
        try:
            if runs:
                aggregate, results = eval_services.repeated(
                    sim, measure, runs=runs, steps=steps, preset=options["preset"], progress=bar.update,
                    judge=options["judge"], personas=options["personas"], judge_gateway=judge_gateway,
                    on_fork=lambda i, fork: self.stdout.write(f"run {i}/{runs}: {fork.name}"),
                )  # fmt: skip
            else:
                aggregate, results = (
                    None,
                    [
                        eval_services.measure(
                            sim,
                            measure,
                            progress=bar.update,
                            judge=options["judge"],
                            personas=options["personas"],
                            judge_gateway=judge_gateway,
                        )
                    ],
                )
        except KeyboardInterrupt:
            bar.close()
            latest = EvalResult.objects.filter(measure=measure).order_by("-id").first()
            raise CommandError(
                "stopped: what finished is stored"
                + (f" (result {latest.pk}, status {latest.status})" if latest else "")
                + "; run the command again for a complete measurement",
                returncode=130,
            ) from None
        except services.SimulationError as exc:
            bar.close()
            raise CommandError(str(exc)) from None
        finally:
            if judge_gateway is not None:
                judge_gateway.close()  # its traces were flushed by the measure
        bar.close()
        for result in results:
            self._report(result)
        if aggregate is not None:
            self._report_repeated(aggregate)
        if options["json"]:
            self._write_json(Path(options["json"]), sim, results, aggregate)
        page = f"/sim/{results[-1].simulation.name}/eval/" if not runs else f"/sim/{sim.name}/eval/"
        self.stdout.write(f"stored; see {page}")

    # --- printing ---------------------------------------------------------------------

    def _report(self, result: EvalResult) -> None:
        s, sim = result.summary, result.simulation
        status = "" if result.status == "done" else f" [{result.status}]"
        self.stdout.write(f"\n{result.measure} of {sim.name} at step {result.step}{status}")
        if result.measure == "diffusion":
            self.stdout.write(f"  {'scenario':<10} {'step 0':>8} {'now':>8}   paper (start -> two days)")
            for sid, row in s.get("scenarios", {}).items():
                start = row.get("start", {}).get("pct")
                now = row.get("now", {}).get("pct")
                paper = row.get("paper")
                self.stdout.write(
                    f"  {sid:<10} {_pct(start):>8} {_pct(now):>8}   "
                    + (f"{paper[0]:g}% -> {paper[1]:g}%" if paper else "-")
                )
                for state in ("start", "now"):
                    wrong = (row.get(state) or {}).get("hallucinated") or []
                    if wrong:
                        self.stdout.write(f"    hallucinated ({state}): {', '.join(wrong)}")
                    silent = (row.get(state) or {}).get("unanswered") or []
                    if silent:
                        self.stdout.write(f"    no answer, not counted ({state}): {', '.join(silent)}")
        elif result.measure == "relationships":
            paper = s.get("paper") or [None, None]
            start, now = s.get("start", {}), s.get("now", {})
            self.stdout.write(
                f"  density: step 0 {start.get('density', 0):.3f}"
                + (f", now {now.get('density', 0):.3f}" if now else "")
                + f"   paper {paper[0]} -> {paper[1]}"
            )
            for state in ("start", "now"):
                wrong = (s.get(state) or {}).get("hallucinated") or []
                if wrong:
                    pairs = ", ".join(f"{a} -> {b}" for a, b in wrong)
                    self.stdout.write(f"    hallucinated ({state}): {pairs}")
                silent = (s.get(state) or {}).get("unanswered") or []
                if silent:
                    pairs = ", ".join(f"{a} -> {b}" for a, b in silent)
                    self.stdout.write(f"    no answer, not counted ({state}): {pairs}")
        elif result.measure == "attendance":
            if not s.get("reached"):
                self.stdout.write(f"  note: the run has not reached the end of the party ({s.get('ends')})")
            self.stdout.write(f"  {s.get('place')} from {s.get('starts')} to {s.get('ends')}; host {s.get('host')}")
            invited, came = s.get("invited", []), s.get("invited_attended", [])
            self.stdout.write(f"  invited (heard before it began): {len(invited)}; of them came: {len(came)}")
            self.stdout.write(f"  came without an invitation: {len(s.get('uninvited_attended', []))}")
            paper = s.get("paper", {})
            self.stdout.write(f"  paper: {paper.get('invited')} invited, {paper.get('attended')} came")
            for who, minutes in s.get("attended", {}).items():
                tag = "invited" if who in invited else "not invited"
                self.stdout.write(f"    {who}: {minutes} min ({tag})")
        else:
            self.stdout.write(f"  {s.get('answered', 0)} of {s.get('asked', 0)} answers saved for ranking")
            for row in s.get("standings", []) or []:
                self.stdout.write(
                    f"    {row['condition']:<27} mu {row['mu']:6.2f}  sigma {row['sigma']:5.2f}  "
                    f"paper mu {row['paper_mu']}"
                )

    def _report_repeated(self, aggregate: EvalResult) -> None:
        settings = aggregate.settings
        self.stdout.write(
            f"\n{aggregate.measure} over {settings['runs']} runs of {settings['steps']} steps ({settings['preset']}):"
        )
        for key, row in aggregate.summary.get("repeated", {}).items():
            interval = f"95% interval {row['low']:g} .. {row['high']:g}" if row["low"] is not None else "one run"
            self.stdout.write(f"  {key:<24} mean {row['mean']:g}  ({interval})")

    def _write_json(self, path: Path, sim: Simulation, results: list[EvalResult], aggregate: EvalResult | None) -> None:
        def dump(r: EvalResult) -> dict[str, Any]:
            return {
                "id": r.pk, "simulation": r.simulation.name, "measure": r.measure, "step": r.step,
                "status": r.status, "settings": r.settings, "summary": r.summary, "interviews": r.interviews,
            }  # fmt: skip

        data: dict[str, Any] = {"simulation": sim.name, "results": [dump(r) for r in results]}
        if aggregate is not None:
            data["repeated"] = dump(aggregate)
        try:
            path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
        self.stdout.write(f"wrote {path}")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


class _Bar:
    """tqdm over the interviews (on stderr; silent when stderr is not a terminal)."""

    def __init__(self, total: int) -> None:
        self._bar: Any = None
        if total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="interview", file=sys.stderr, disable=None, dynamic_ncols=True)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
