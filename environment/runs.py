"""Runs that advance in the background while pages only ask: the lease and the runner loop.

A model that runs in the background (a simulation, a writing session, an evaluation)
inherits the abstract `LeasedRun`: the pages write what they want into its row
(`run_state`, `run_until`), and a runner (a thread in the web server, or a Celery
worker with SIM_RUNNER=celery) holds a lease on the row and advances one committed
unit (a step, a paragraph, an item) at a time, re-reading the row between units. So a
refresh, a closed tab or two tabs never disturb a run, a pause takes effect after the
unit in flight, and one row never has two runners:

- the lease is taken with one conditional UPDATE (`claim`): the row must still show
  the holder it showed when read, so of two claimants exactly one wins;
- it is renewed by a heartbeat thread every min(15 s, SIM_RUNNER_LEASE_SECONDS / 3);
- it can be taken over only when its holder is dead (same host, pid gone) or silent
  for SIM_RUNNER_LEASE_SECONDS (one setting for every kind of run).

`run_loop` is the loop every app's runner uses: it takes the lease, asks `start` for
the "advance one unit" callable once the row says playing, stops at `run_until`, on a
pause or a lost lease, records an error on the row, and publishes the final state.
`row_guard` makes an `llm.resilience.RunGuard` report a model-server outage on the row
(waiting_since, waiting_reason) and end the wait when the run is paused. Each app keeps
a thin adapter naming its model, its unit and its pages (reverie.runner for Smallville).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections, models, transaction
from django.utils import timezone

from llm.resilience import GuardEvent, RunGuard, RunStopped

log = logging.getLogger(__name__)

ACTIONS = ("play", "pause", "step")


class LeasedRun(models.Model):
    """Run control of a row: what the pages asked for, and who is running it."""

    run_state = models.CharField(max_length=16, default="paused")  # "playing" | "paused"
    run_until = models.PositiveIntegerField(null=True, blank=True)  # stop before this unit ("step" button)
    run_error = models.TextField(blank=True, default="")
    # Set while the runner waits out a model-server outage (llm.resilience): since when, and why.
    waiting_since = models.DateTimeField(null=True, blank=True)
    waiting_reason = models.TextField(blank=True, default="")
    runner = models.CharField(max_length=100, blank=True, default="")  # lease holder: "<host>:<pid>:<thread>"
    runner_seen = models.DateTimeField(null=True, blank=True)  # lease heartbeat

    class Meta:
        abstract = True

    @property
    def run_title(self) -> str:
        """How messages name this run (a busy lease, a failed run); models may override it."""
        return str(getattr(self, "name", self.pk))


R = TypeVar("R", bound=LeasedRun)


class RunBusy(Exception):
    """Another live process holds this run's lease."""


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _rows(model: type[LeasedRun]) -> models.QuerySet[Any]:
    return model._default_manager.all()


def lease_alive(obj: LeasedRun) -> bool:
    """Whether the recorded runner may still be running this row."""
    if not obj.runner or obj.runner_seen is None:
        return False
    host, _, rest = obj.runner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host == socket.gethostname() and pid_text.isdigit() and not _pid_alive(int(pid_text)):
        return False  # killed on this machine: its lease is void at once
    return timezone.now() - obj.runner_seen < timedelta(seconds=settings.SIM_RUNNER_LEASE_SECONDS)


def claim(model: type[LeasedRun], pk: int, owner: str) -> bool:
    """Take the lease of row `pk` for `owner` unless a live holder has it."""
    obj = _rows(model).get(pk=pk)
    if obj.runner == owner:
        return True
    if lease_alive(obj):
        return False
    # Conditional on the row still showing the dead holder: two claimants cannot both win.
    taken = (
        _rows(model)
        .filter(pk=pk, runner=obj.runner, runner_seen=obj.runner_seen)
        .update(runner=owner, runner_seen=timezone.now())
    )
    return taken == 1


def release(model: type[LeasedRun], pk: int, owner: str) -> None:
    _rows(model).filter(pk=pk, runner=owner).update(runner="", runner_seen=None)


@contextmanager
def lease(obj: LeasedRun, owner: str | None = None) -> Iterator[str]:
    """Hold the row's lease (with a heartbeat) for the duration of the block."""
    model = type(obj)
    owner = owner or owner_id()
    if not claim(model, obj.pk, owner):
        obj.refresh_from_db(fields=["runner"])
        raise RunBusy(
            f"{obj.run_title!r} is being run by {obj.runner}; pause it there first (or wait for it to finish)"
        )
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(min(15.0, settings.SIM_RUNNER_LEASE_SECONDS / 3)):
            try:
                _rows(model).filter(pk=obj.pk, runner=owner).update(runner_seen=timezone.now())
            except Exception:
                log.warning("lease heartbeat for %s failed", obj.run_title, exc_info=True)
            # A broken connection is dropped so the next beat opens a fresh one; failing
            # to drop it must not kill the heartbeat (a missed beat only ages the lease).
            with contextlib.suppress(Exception):
                close_old_connections()

    heart = threading.Thread(target=beat, name=f"lease-{obj.pk}", daemon=True)
    heart.start()
    try:
        yield owner
    finally:
        stop.set()
        heart.join(timeout=5)
        release(model, obj.pk, owner)


# --- what the pages ask for ------------------------------------------------------------


def record_action(obj: R, action: str, *, position: Callable[[R], int], error: type[Exception] = ValueError) -> R:
    """Write play / pause / step into the row (locked); returns the row as written.

    "step" asks for one more unit than already asked for, counted from `position`
    (the next unit to run); it is refused while the run plays without a stop.
    """
    if action not in ACTIONS:
        raise error(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    model = type(obj)
    with transaction.atomic():
        obj = _rows(model).select_for_update().get(pk=obj.pk)
        if action == "play":
            obj.run_state, obj.run_until = "playing", None
        elif action == "pause":
            obj.run_state, obj.run_until = "paused", None
        elif obj.run_state == "playing" and obj.run_until is None:
            raise error(f"the {model._meta.verbose_name} is playing; pause it before stepping")
        else:  # step: one more unit than already asked for
            obj.run_until = max(obj.run_until or 0, position(obj)) + 1
            obj.run_state = "playing"
        obj.run_error = ""
        touched = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
        obj.save(update_fields=["run_state", "run_until", "run_error", *touched])
    return obj


# --- the runner: a thread here, or a Celery task ------------------------------------------

_threads: dict[tuple[str, int], threading.Thread] = {}
_threads_lock = threading.Lock()


def ensure_runner(
    obj: LeasedRun,
    loop: Callable[[int], object],
    *,
    task: Callable[[int], object] | None = None,
    thread_name: str | None = None,
) -> None:
    """Start a runner unless a live one already holds the lease (it re-reads the row).

    `loop(pk)` runs in a thread of this process; with SIM_RUNNER=celery, `task(pk)`
    queues it for a worker instead.
    """
    obj.refresh_from_db()
    if obj.run_state != "playing" or lease_alive(obj):
        return
    if settings.SIM_RUNNER == "celery" and task is not None:
        task(obj.pk)
        return
    key = (obj._meta.label, obj.pk)
    with _threads_lock:
        current = _threads.get(key)
        if current is not None and current.is_alive():
            return
        name = thread_name or f"{obj._meta.model_name}-{obj.pk}"
        thread = threading.Thread(target=_thread_main, args=(loop, obj.pk), name=name, daemon=True)
        _threads[key] = thread
        thread.start()


def _thread_main(loop: Callable[[int], object], pk: int) -> None:
    try:
        loop(pk)
    finally:
        close_old_connections()


def wait_idle(obj: LeasedRun, timeout: float = 30.0) -> bool:
    """Join this process's runner thread for `obj` (tests and shutdown)."""
    thread = _threads.get((obj._meta.label, obj.pk))
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


def run_loop(
    model: type[R],
    pk: int,
    *,
    start: Callable[[R, str], Callable[[], object]],
    position: Callable[[R], int],
    publish: Callable[[R], None],
) -> int:
    """Advance row `pk` while it says "playing"; returns the number of units run.

    `start(row, owner)` is called once, before the first unit, and returns the
    callable that advances (and commits) one unit; `position(row)` is the next unit to
    run (compared with run_until); `publish(row)` tells the pages the final state. An
    exception from a unit pauses the run with the error on the row; RunStopped (a
    pause or a lost lease ended a wait for the model server) ends it quietly.
    """
    obj = _rows(model).filter(pk=pk).first()
    if obj is None:
        return 0  # deleted before its runner started
    done = 0
    try:
        with lease(obj) as owner:
            advance = None
            while True:
                obj = _rows(model).filter(pk=pk).first()
                if obj is None or obj.runner != owner or obj.run_state != "playing":
                    break
                if obj.run_until is not None and position(obj) >= obj.run_until:
                    _rows(model).filter(pk=pk).update(run_state="paused", run_until=None)
                    break
                if advance is None:
                    advance = start(obj, owner)
                advance()
                done += 1
    except RunBusy:
        return 0
    except RunStopped:
        pass  # paused (or taken over) while waiting for the model server
    except Exception as exc:
        log.exception("%s %s stopped with an error", model._meta.verbose_name, obj.run_title)
        message = f"{type(exc).__name__}: {exc}"
        _rows(model).filter(pk=pk).update(run_state="paused", run_until=None, run_error=message[:2000])
    finally:
        _rows(model).filter(pk=pk).exclude(waiting_since=None).update(waiting_since=None, waiting_reason="")
    final = _rows(model).filter(pk=pk).first()
    if final is not None:  # None: deleted while it ran
        publish(final)
    return done


def row_guard(guard: RunGuard, model: type[R], pk: int, owner: str, publish: Callable[[R], None]) -> RunGuard:
    """The guard, reporting outages on the row (and to the pages through `publish`), and
    ending a wait when the run is paused or its lease lost."""

    def on_event(event: GuardEvent) -> None:
        if event.kind == "waiting":
            since = datetime.fromtimestamp(event.since, tz=UTC)
            _rows(model).filter(pk=pk).update(waiting_since=since, waiting_reason=event.message[:2000])
        elif event.kind == "resumed":
            _rows(model).filter(pk=pk).update(waiting_since=None, waiting_reason="")
        else:
            return
        publish(_rows(model).get(pk=pk))

    def should_stop() -> bool:
        row = _rows(model).filter(pk=pk).values("run_state", "runner").first()
        return row is None or row["run_state"] != "playing" or row["runner"] != owner

    guard.on_event, guard.should_stop = on_event, should_stop
    return guard
