"""Keeping the garbage collector's full passes off a running simulation's steps.

A full collection walks every container object the process holds: Django's, pydantic's
and numpy's modules and classes, the town, the loaded memories. In a simulation process
that is ~180,000 objects and a million references, and one pass takes 100-130 ms on a
2-core machine. CPython runs one whenever enough new objects have outlived two younger
collections, which a 25-agent planning step does: the pass then lands in the middle of
the step and holds up every agent's next model call (a 123 ms stall 0.65 s into the
2 s planning step of bench/orchestration.py; its zero-latency figure for 5 steps went
from 10 to 3 ms per agent-step once the stepper settled the heap).

Almost none of that is ever garbage. `gc.freeze()` moves everything alive into a
generation the collector skips: later full passes walk only what was made since. A
frozen object is still freed when its last reference goes (a session is not cyclic:
tests/reverie/test_heap.py), so a stepper that reloads its session after a failed step
does not keep the old one. What freezing does keep is cyclic garbage that exists at the
moment of freezing; `settle` collects first, so that is only ever the old garbage of a
process's first freeze.

The session grows as the run goes (memories, plans): every `RESETTLE_STEPS` steps the
stepper settles again, between steps, so a full pass stays a few milliseconds long.
"""

from __future__ import annotations

import gc
import threading

RESETTLE_STEPS = 200

_lock = threading.Lock()


def settle() -> None:
    """Collect, then freeze what is alive: it is never walked by a full pass again.

    The first time in a process only the young generations are collected (a full pass
    then is the 100+ ms this module avoids; the old garbage it would have found is the
    process's start-up leftovers). Afterwards a full pass is cheap, and is made, so that
    nothing dropped since (a run's last session, a page's cycles) is frozen for good.
    """
    with _lock:
        if gc.get_freeze_count():
            gc.collect()
        else:
            gc.collect(1)
        gc.freeze()
