"""A native int8 dot-product kernel for retrieval's cosine estimates, built on first use.

torch's weight-only int8 kernel converts every code to float before multiplying, so at
100k x 384 codes it computes for ~3 ms where reading them takes ~1.5. The CPU's own
int8 instructions (AVX-512 VNNI: 64 byte products per instruction; AVX2: 32) keep up
with memory. `int8_kernel.c` uses them; it is compiled here, for this machine
(`cc -O3 -march=native`), the first time a process needs it, into a cache directory
keyed by the source, the compiler command and the CPU's feature flags, and loaded
with ctypes (which releases the GIL while it runs, so retrievals in threads overlap).

Everything is optional: no C compiler, no x86 vector path, a failed self-test, or
`REVERIE_NATIVE=0` and `load()` returns None; the caller then uses torch's kernel.
`REVERIE_NATIVE_CACHE` moves the cache (default `$XDG_CACHE_HOME/reverie/native`, or
`~/.cache/...`; a temporary directory when neither can be written).
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shlex
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("int8_kernel.c")
PATHS = {2: "avx512-vnni", 1: "avx2"}

_lock = threading.Lock()
_state: dict[str, Any] = {}  # "kernel": the kernel or None, "why": why None


class Int8Kernel:
    """The loaded library: `cosines` and the vector path it was built with."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self._function = library.int8_cosines
        pointer = ctypes.c_void_p
        self._function.argtypes = [pointer, pointer, ctypes.c_int64, pointer, pointer, pointer, ctypes.c_int64,
                                   ctypes.c_int64, pointer]  # fmt: skip
        self._function.restype = None
        self.path = PATHS[int(library.int8_cosines_path())]
        self.max_dim = int(library.int8_cosines_max_dim())

    def cosines(
        self,
        queries: np.ndarray,
        query_scales: np.ndarray,
        codes: np.ndarray,
        rowsum: np.ndarray,
        scales: np.ndarray,
        out: np.ndarray,
    ) -> None:
        """out[j, i] = dot(queries[j], codes[i]) * query_scales[j] * scales[i] for the leading
        out.shape[1] rows: `queries` int8 (nq, d), `query_scales` float32 (nq,), `codes`
        int8 (>= rows, d), `rowsum` int32 and `scales` float32 per row, `out` float32
        (nq, rows); all C-contiguous."""
        nq, dim = queries.shape
        rows = out.shape[1]
        if codes.ndim != 2 or codes.shape[1] != dim or dim > self.max_dim or out.shape[0] != nq:
            raise ValueError("int8_cosines: shapes do not match")
        if codes.shape[0] < rows or rowsum.shape[0] < rows or scales.shape[0] < rows or query_scales.shape != (nq,):
            raise ValueError("int8_cosines: fewer rows or scales than outputs")
        expected = {"queries": (queries, np.int8), "query_scales": (query_scales, np.float32),
                    "codes": (codes, np.int8), "rowsum": (rowsum, np.int32), "scales": (scales, np.float32),
                    "out": (out, np.float32)}  # fmt: skip
        for name, (array, dtype) in expected.items():
            if array.dtype != dtype or not array.flags.c_contiguous:
                raise ValueError(f"int8_cosines: {name} must be C-contiguous {np.dtype(dtype).name}")
        self._function(queries.ctypes.data, query_scales.ctypes.data, nq, codes.ctypes.data, rowsum.ctypes.data,
                       scales.ctypes.data, rows, dim, out.ctypes.data)  # fmt: skip


def load() -> Int8Kernel | None:
    """The kernel for this machine, built and self-tested once per process; None when
    it cannot be had (`why_not()` says why; see the module docstring)."""
    with _lock:
        if "kernel" not in _state:
            _state["kernel"], _state["why"] = None, ""
            try:
                if os.environ.get("REVERIE_NATIVE", "1") == "0":
                    raise _NotBuilt("REVERIE_NATIVE=0")
                _state["kernel"] = _build()
            except _NotBuilt as exc:
                _state["why"] = str(exc)
                log.info("int8 kernel not used (%s); retrieval uses torch's", exc)
        return _state["kernel"]


def why_not() -> str:
    """Why `load()` gave None ("" when it gave a kernel or was not called yet)."""
    return str(_state.get("why", ""))


class _NotBuilt(Exception):
    pass


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("flags"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _cache_dir() -> Path:
    configured = os.environ.get("REVERIE_NATIVE_CACHE")
    base = Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    directory = base if configured else base / "reverie" / "native"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if os.access(directory, os.W_OK):
            return directory
    except OSError:
        pass
    fallback = Path(tempfile.gettempdir()) / f"reverie-native-{os.getuid() if hasattr(os, 'getuid') else 0}"
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _build() -> Int8Kernel:
    if platform.machine().lower() not in ("x86_64", "amd64"):
        raise _NotBuilt(f"the vector paths are x86 ones, this is {platform.machine()}")
    command = [*shlex.split(os.environ.get("CC", "cc")), "-O3", "-march=native", "-shared", "-fPIC"]
    source = SOURCE.read_bytes()
    key = hashlib.sha256(b"\0".join([source, " ".join(command).encode(), _cpu_flags().encode()])).hexdigest()[:20]
    target = _cache_dir() / f"int8_kernel-{key}.so"
    try:
        if not target.exists():
            # Built beside the target and renamed, so processes building at once never
            # load a half-written file.
            partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            build = [*command, "-o", str(partial), str(SOURCE)]
            done = subprocess.run(build, capture_output=True, text=True, timeout=120, check=False)
            if done.returncode != 0:
                partial.unlink(missing_ok=True)
                raise _NotBuilt(f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")
            os.replace(partial, target)
        library = ctypes.CDLL(str(target))
        if int(library.int8_cosines_path()) not in PATHS:
            raise _NotBuilt("this CPU has neither AVX-512 VNNI nor AVX2")
        kernel = Int8Kernel(library)
    except (OSError, subprocess.SubprocessError, AttributeError) as exc:
        raise _NotBuilt(str(exc)) from None
    if not _self_test(kernel):
        raise _NotBuilt(f"the {kernel.path} build failed its self-test")
    return kernel


def _self_test(kernel: Int8Kernel) -> bool:
    """Exact integer dot products on shapes with tails (rows not a multiple of 4,
    dimensions not a multiple of 64 or 32), extreme codes included."""
    rng = np.random.default_rng(0)
    for rows, dim, nq in ((37, 100, 1), (8, 384, 3), (5, 31, 2), (1100, 64, 2)):
        codes = rng.integers(-127, 128, size=(rows, dim), dtype=np.int8)
        codes[0] = 127
        codes[1] = -127
        queries = rng.integers(-127, 128, size=(nq, dim), dtype=np.int8)
        queries[0, :3] = (-127, 127, 0)
        out = np.empty((nq, rows), dtype=np.float32)
        rowsum = codes.sum(axis=1, dtype=np.int32)
        kernel.cosines(queries, np.ones(nq, np.float32), codes, rowsum, np.ones(rows, np.float32), out)
        want = queries.astype(np.int64) @ codes.astype(np.int64).T
        if not np.array_equal(out.astype(np.int64), want):
            return False
    return True
