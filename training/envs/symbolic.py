"""Symbolic answer equivalence (math-verify on sympy) under a hard time limit.

Why a separate process: sympy can take unbounded time on a hostile answer, and much
of that time is spent inside C code. `2^{10^{10}}` against `1` ran for 79 s in a
measurement here, inside one big-integer power: neither math-verify's own timeout
(`signal.alarm`, which also only works in the main thread and cancels any other
SIGALRM timer, pytest-timeout's included) nor an exception injected into a thread
can interrupt a C call. A process can always be killed.

So `SymbolicJudge` keeps one worker process (`serve()` in a fresh interpreter, started
on first use, reused afterwards) and talks to it over pipes, one JSON line
per comparison:

    parent -> worker   {"a": "\\frac{\\sqrt{3}}{2}", "b": "\\sqrt{3}/2"}
    worker -> parent   {"eq": true}

The parent waits `timeout` seconds (select on the pipe) for the reply; when none
comes it kills the worker, answers None ("could not decide"), and the next call
starts a fresh worker. The worker caps its own address space (`resource.RLIMIT_AS`),
so a memory bomb ends in a MemoryError there instead of swapping the machine. Calls
from several threads are serialised by a lock: this works from any thread, unlike
math-verify's signal-based timeout, which is switched off in the worker (the kill is
the guard).

Inside the worker both answers are parsed with `math_verify.parse("$" + s + "$")`
(parses are cached: the gold side repeats) and compared with `math_verify.verify(a, b)`
(a in the role of the gold answer).
"""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]  # the repository: `training` is importable from here
DEFAULT_TIMEOUT = 3.0  # seconds for one comparison
STARTUP_TIMEOUT = 60.0  # seconds for a worker to import sympy and math-verify (slow on a busy machine)
WORKER_MEMORY = 2 * 1024**3  # bytes of address space a worker may use


class SymbolicJudge:
    """One guarded worker process; `equal(a, b)` is True, False, or None if undecided."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._buffer = b""
        self._owner = os.getpid()  # the process that started the worker
        self.calls = 0  # comparisons sent to a worker so far (for tests and the benchmark)
        self.timeouts = 0  # comparisons cut off so far
        self.starts = 0  # workers started so far

    def equal(self, a: str, b: str, *, timeout: float | None = None) -> bool | None:
        limit = self.timeout if timeout is None else timeout
        with self._lock:
            self.calls += 1
            try:
                proc = self._ensure_worker()
            except OSError as e:
                logger.warning("symbolic comparison unavailable: %s", e)
                return None
            request = json.dumps({"a": a, "b": b}).encode() + b"\n"
            try:
                assert proc.stdin is not None
                proc.stdin.write(request)
                proc.stdin.flush()
                reply = self._read_line(proc, limit)
            except (OSError, TimeoutError) as e:
                if isinstance(e, TimeoutError):
                    self.timeouts += 1
                    logger.info("symbolic comparison cut off after %.1f s", limit)
                else:
                    logger.warning("symbolic worker failed: %s", e)
                self._stop()
                return None
        try:
            data: dict[str, Any] = json.loads(reply)
        except json.JSONDecodeError:
            return None
        eq = data.get("eq")
        return eq if isinstance(eq, bool) else None

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _ensure_worker(self) -> subprocess.Popen[bytes]:
        if self._owner != os.getpid():
            # This process was forked from the one that started the worker: those pipes
            # belong to the parent, and sharing them would cross the replies. Start our own.
            self._proc, self._buffer = None, b""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._stop()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        proc = subprocess.Popen(
            [sys.executable, "-c", "from training.envs.symbolic import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env=env,
            bufsize=0,
        )
        self._proc = proc
        self._owner = os.getpid()
        self._buffer = b""
        self.starts += 1
        try:
            ready = self._read_line(proc, STARTUP_TIMEOUT)
        except (OSError, TimeoutError) as e:
            self._stop()
            raise OSError(f"the worker did not start ({e})") from None
        if ready.strip() != b'{"ready": true}':
            self._stop()
            raise OSError(f"the worker did not start (it said {ready[:200]!r})")
        return proc

    def _read_line(self, proc: subprocess.Popen[bytes], limit: float) -> bytes:
        """One reply line, or TimeoutError after `limit` seconds, OSError if the worker died."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + limit
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer within {limit:.1f} s")
            readable, _, _ = select.select([fd], [], [], left)
            if not readable:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise OSError("the worker exited")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


_JUDGE: SymbolicJudge | None = None
_JUDGE_LOCK = threading.Lock()


def judge() -> SymbolicJudge:
    """The process-wide judge (one worker for all graders of this process)."""
    global _JUDGE
    with _JUDGE_LOCK:
        if _JUDGE is None:
            _JUDGE = SymbolicJudge()
            atexit.register(_JUDGE.close)  # the worker would exit on EOF anyway; this also reaps it
        return _JUDGE


def serve() -> None:
    """The worker's loop: read a request line, write a reply line, until stdin closes."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ImportError, ValueError, OSError):
        pass  # no limit where the platform refuses one; the parent's kill still guards time
    logging.disable(logging.WARNING)  # math-verify warns that its own timeout is off: we know
    from math_verify import parse, verify

    @functools.lru_cache(maxsize=2048)
    def parsed(answer: str) -> tuple[Any, ...]:
        # The gold side repeats from one comparison to the next (every sample of a
        # problem is compared with the same gold), and parsing is most of the cost.
        return tuple(parse(f"${answer}$", parsing_timeout=None))

    out = sys.stdout.buffer
    out.write(b'{"ready": true}\n')
    out.flush()
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            a, b = parsed(str(request["a"])), parsed(str(request["b"]))
            reply: dict[str, Any] = {"eq": bool(a and b and verify(list(a), list(b), timeout_seconds=None))}
        except (Exception, MemoryError, RecursionError) as e:
            reply = {"eq": False, "error": type(e).__name__}
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()
