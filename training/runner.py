"""Play page-started RISE runs in the background, one batch of problems at a time.

The training app's adapter to the shared runner (environment.runs states what the
lease guarantees). A run plays while its row says "playing": the unit of work is one
batch of problems (`services.play` with `batch_size` problems, every turn of the batch
saved as it ends), played under an `llm.resilience.RunGuard` that waits out a
model-server outage (the page shows "waiting for the model server"). After every turn
the run's progress goes to the group `training-run-<pk>`; once every problem is
finished, `services.finish` computes the metrics and writes the outputs, the final
state (with the metrics) is published and the run pauses itself. A pause from the row
takes effect between turns. A failure is recorded on the row by `runs.run_loop`.

Gateways (services.Gateways): one per model spec of the run, built on the runner's first unit (a spec that
cannot load fails the run with its one-line reason) and closed when the loop ends.
With SIM_RUNNER=celery the `training.run` task runs the loop in a worker.

Messages published (the consumer forwards them, docs/frontend_api.md):
    {"type": "training.progress", "run": selectors.run_state, "turn": t, "played": n}
    {"type": "training.state", "run": selectors.run_state}
"""

from __future__ import annotations

from collections.abc import Callable

from environment import publish, runs
from llm.gateway import Gateway
from llm.resilience import RunGuard
from training import selectors, services
from training.models import RiseItem, RiseRun

BATCH_SIZE = services.DEFAULT_BATCH


def group_name(pk: int) -> str:
    return f"training-run-{pk}"


def publish_state(run: RiseRun) -> None:
    """Tell every page of the run its current state."""
    publish.send(group_name(run.pk), {"type": "training.state", "run": selectors.run_state(run)})


def publish_progress(run: RiseRun, turn: int, played: int) -> None:
    """After a turn of a batch: `turn` is 1-based, `played` the episodes that played it."""
    fresh = RiseRun.objects.get(pk=run.pk)  # play() refreshes only the counters
    message = {"type": "training.progress", "run": selectors.run_state(fresh), "turn": turn, "played": played}
    publish.send(group_name(run.pk), message)


def _position(run: RiseRun) -> int:
    return run.finished_items


def _queue(pk: int) -> None:
    from training.tasks import run

    run.delay(pk)


def ensure_runner(run: RiseRun) -> None:
    """Start a runner unless a live one already holds the lease (it re-reads the row)."""
    runs.ensure_runner(run, run_loop, task=_queue, thread_name=f"rise-{run.pk}")


def wait_idle(run: RiseRun, timeout: float = 30.0) -> bool:
    """Join this process's runner thread for `run` (tests and shutdown)."""
    return runs.wait_idle(run, timeout)


def resume(run: RiseRun) -> None:
    """A page-started run that should be playing but has no live runner (a restarted
    server) goes on where it stopped. A command's run is left to its command."""
    from training.actions import started_from_page

    if run.finished is None and run.run_state == "playing" and started_from_page(run):
        ensure_runner(run)


def run_loop(
    pk: int,
    *,
    build: Callable[[str], Gateway] | None = None,
    batch_size: int | None = None,
    guard: RunGuard | None = None,
) -> int:
    """Play run `pk` batch by batch while it says "playing"; returns the batches played.

    `build(spec)` makes a gateway (default: environment.gateway.gateway_from_settings);
    tests pass their own. `batch_size`: problems per unit (default BATCH_SIZE).
    """
    size = max(1, batch_size or BATCH_SIZE)
    gateways = services.Gateways(build)
    batches = 0

    def start(run: RiseRun, owner: str) -> Callable[[], object]:
        config = services.rollout_config(run.config["rollout"])
        gateways.load(config.models)  # every spec loads before any work: a bad one fails at once
        page_guard = runs.row_guard(guard or RunGuard(gateways(config.models[0])), RiseRun, pk, owner, publish_state)

        def paused() -> bool:
            row = RiseRun.objects.filter(pk=pk).values("run_state", "runner").first()
            return row is None or row["run_state"] != "playing" or row["runner"] != owner

        def progress(fresh: RiseRun, turn: int, played: int) -> None:
            publish_progress(fresh, turn + 1, played)

        def advance() -> None:
            nonlocal batches
            row = RiseRun.objects.get(pk=pk)
            if RiseItem.objects.filter(run=row, finished=False).exists():
                page_guard.run(
                    lambda: services.play(
                        row,
                        gateway_for=gateways,
                        batch_size=size,
                        max_batches=1,
                        on_progress=progress,
                        should_stop=paused,
                    ),
                    what=f"a batch of up to {size} problems",
                )
                batches += 1
            if not RiseItem.objects.filter(run=row, finished=False).exists():
                services.finish(RiseRun.objects.get(pk=pk))
                # Pausing ends run_loop, which then publishes the final state (metrics included).
                RiseRun.objects.filter(pk=pk).update(run_state="paused", run_until=None)

        return advance

    try:
        runs.run_loop(RiseRun, pk, start=start, position=_position, publish=publish_state)
    finally:
        gateways.close()
    return batches


__all__ = ["ensure_runner", "group_name", "publish_progress", "publish_state", "resume", "run_loop", "wait_idle"]
