"""Start llama-cpp-python's OpenAI-compatible server as a subprocess.

Used by the benchmarks and the integration tests of the `openai` backend, and handy
for users who want several processes to share one in-process model:

    with llama_cpp_server() as server:          # the bundled model on a free port
        gw = build_gateway("openai:bundled", base_url=server.base_url)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from llm.errors import LLMUnavailable


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    host: str
    port: int
    model_alias: str
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def llama_cpp_server(
    model_path: str | Path | None = None,
    *,
    alias: str = "bundled",
    n_ctx: int = 4096,
    threads: int | None = None,
    log_path: str | Path | None = None,
    startup_timeout: float = 120.0,
) -> Iterator[ServerProcess]:
    if model_path is None:
        from llm.backends.llama_cpp_backend import bundled_gguf_path

        model_path = bundled_gguf_path()
    port = free_port()
    log_file = Path(log_path or f"/tmp/llama_cpp_server_{port}.log")
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path), "--model_alias", alias,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(n_ctx), "--n_threads", str(threads or os.cpu_count() or 2),
    ]  # fmt: skip
    with log_file.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(proc, "127.0.0.1", port, alias, log_file)
    try:
        _wait_ready(server, startup_timeout)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(server: ServerProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log_path.read_text(errors="replace")[-500:]
            raise LLMUnavailable(f"llama_cpp.server exited with {server.process.returncode}: {tail}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/models", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise LLMUnavailable(f"llama_cpp.server did not answer within {timeout:.0f}s (log: {server.log_path})")
