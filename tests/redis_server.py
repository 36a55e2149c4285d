"""A real `redis-server` for the test session, on a free loopback port in a temp dir.

Tests that need it import the fixture explicitly and carry the `redis` marker:

    from tests.redis_server import redis_server  # noqa: F401

    @pytest.mark.redis
    def test_something(redis_server): ...

The fixture yields a `RedisServer`; `redis_server.url(db)` gives a `redis://` URL. It
skips the test only when no `redis-server` binary is installed; a binary that is
there but does not start is a failure, not a skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
# Loopback only, nothing written to disk, in the foreground so we own the process.
SERVER_ARGS = [
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
    "--protected-mode",
    "yes",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(port: int) -> bool:
    """One RESP PING; True when the server answers +PONG."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    binary: str
    directory: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.directory / "redis.log"

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no redis log)"

    def start(self, attempts: int = 3) -> None:
        """Start on a free port; a port taken between probing and binding gets another try."""
        for _ in range(attempts):
            self.port = free_port()
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--dir",
                    str(self.directory),
                    "--logfile",
                    str(self.log_path),
                    *SERVER_ARGS,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                if _ping(self.port):
                    return
                if self.process.poll() is not None:
                    break  # exited: most likely the port was taken; try another
                time.sleep(0.05)
            self.stop()
        raise RuntimeError(f"redis-server did not start in {attempts} attempts; log:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="test-redis-") as directory:
        server = RedisServer(binary=binary, directory=Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()
