"""JSON POSTs to a model server over keep-alive HTTP/1.1, on the standard library.

The hot path of every OpenAI-compatible call (a chat, a completion, a batch of
embeddings) is one POST of a JSON body and one JSON answer. httpx, which the openai
client is built on, spends per request: parsing the URL, merging headers and cookies,
running its auth, redirect and event hooks, and driving h11's state machine event by
event: 1.1-1.4 ms of CPU per call against a server that answers after 200 ms.
http.client did the exchange in 0.4-0.7 ms, most of it building the request header by
header and parsing the answer's headers with the email package. Here the request's head
is written once per client and sent with the body in one write, and the answer is read
straight off a buffered socket: 0.2 ms (bench/http_client.py). In a 25-agent step the
answers arrive together and are handled one after another, so each call's CPU delays
every call behind it in the burst (bench/orchestration.py).

What this keeps from httpx: one keep-alive connection per call in flight (a connection
the server closed while idle is noticed before reuse and replaced, as httpcore does),
TLS with httpx's certificate settings (certifi, SSL_CERT_FILE, SSL_CERT_DIR), the same
JSON encoding of the body, separate connect and read timeouts told apart, and HTTP/1.x
framing as servers send it: Content-Length, chunked, or a body that runs to the close;
interim 1xx answers; "Connection: close". What it leaves to httpx: proxies
(`JsonHttp.usable_for` says no when the environment names a proxy for the URL, and the
backend then posts through httpx), HTTP/2, compression and redirects, none of which a
model server on the hot path needs.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import IO, Any

# Limits on what an answer may look like before it is called broken (http.client's).
MAX_LINE = 65536
MAX_HEADERS = 100
NO_BODY = (204, 304)


class TransportError(Exception):
    """No answer came back. `kind`: "refused" (nothing listening, unknown host, TLS
    refused), "connect_timeout", "timeout" (no answer in time) or "dropped" (the
    connection broke before the answer was complete, or what came back was not HTTP)."""

    def __init__(self, kind: str, cause: BaseException) -> None:
        detail = " ".join(str(cause).split()) or type(cause).__name__
        super().__init__(detail)
        self.kind, self.cause = kind, cause


class Headers(dict[str, str]):
    """An answer's headers by lower-cased name (a repeated header's values joined by
    ", ", as HTTP reads them); `get` takes a name in any case."""

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)

    def get_content_charset(self) -> str | None:
        _, *params = self.get("content-type", "").split(";")
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip('"').lower() or None
        return None


@dataclass(frozen=True)
class Answer:
    """A whole HTTP answer: status, headers (case-insensitive `get`) and body."""

    status_code: int
    headers: Headers
    content: bytes

    @property
    def text(self) -> str:
        """The body as text, in the charset the answer names (JSON's UTF-8 if none);
        UnicodeDecodeError if it is not valid in that charset."""
        charset = self.headers.get_content_charset() or "utf-8"
        try:
            return self.content.decode(charset)
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8")


class _Malformed(Exception):
    """What came back is not an HTTP/1.x answer (or breaks its own framing)."""


class _Connection:
    """One keep-alive connection: its socket and a buffered reader over it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader: IO[bytes] = sock.makefile("rb")

    def close(self) -> None:
        for part in (self.reader, self.sock):
            with contextlib.suppress(OSError):
                part.close()


class JsonHttp:
    """POSTs JSON to paths under `base_url`; thread-safe, one connection per call in flight."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        # Every request's head but its path and length, written once.
        host = f"[{self._host}]" if ":" in self._host else self._host
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        fields = {"Host": host, "Accept-Encoding": "identity", **headers, "Content-Type": "application/json"}
        for name, value in fields.items():
            if any(c in f"{name}{value}" for c in "\r\n\0"):
                raise ValueError(f"the {name} header for the model server has a line break in it")
        head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
        try:  # HTTP/1.1 headers are Latin-1: an API key with other characters is a typo
            self._head = head.encode("latin-1")
            self._prefix.encode("ascii")
        except UnicodeEncodeError as exc:
            bad = exc.object[exc.start : exc.end]
            raise ValueError(f"{bad!r} cannot go in an HTTP request to {base_url}: check the URL and API key") from None
        self._ssl: Any = None
        if self._https:
            try:  # the certificates httpx (and so the openai client) would trust
                from httpx2 import create_ssl_context
            except ImportError:  # pragma: no cover - older openai releases
                from httpx import create_ssl_context  # type: ignore[no-redef]
            self._ssl = create_ssl_context()
        self._lock = threading.Lock()
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self._closed = False

    @staticmethod
    def usable_for(base_url: str) -> bool:
        """Whether a request to `base_url` goes straight to the server: an http(s) URL
        with no proxy for it in the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY
        and NO_PROXY, read as httpx reads them)."""
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        proxies = urllib.request.getproxies_environment()
        if not any(key in proxies for key in (parts.scheme, "all")):
            return True
        bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # public, not in typeshed
        return bool(bypass(parts.hostname, proxies))

    def post(self, path: str, body: Any, *, timeout: float) -> Answer:
        """POST `body` as JSON to `path` and read the whole answer, whatever its status.
        Raises TransportError when no complete answer came back."""
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        request = f"POST {self._prefix}{path} HTTP/1.1\r\n".encode("ascii")
        request += self._head + b"Content-Length: %d\r\n\r\n" % len(data)
        conn = self._take(timeout)
        reusable = False
        try:
            try:
                conn.sock.settimeout(timeout)
                conn.sock.sendall(request + data)
                answer, reusable = _read_answer(conn.reader)
            except TimeoutError as exc:
                raise TransportError("timeout", exc) from None
            except (_Malformed, OSError, ValueError) as exc:
                raise TransportError("dropped", exc) from None
            return answer
        finally:
            self._give_back(conn, reusable)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._open, self._idle = self._open, set(), []
        for conn in conns:
            conn.close()

    # -- connections -----------------------------------------------------------------
    def _take(self, timeout: float) -> _Connection:
        while True:
            with self._lock:
                idle = self._idle.pop() if self._idle else None
            if idle is None:
                break
            if not _closed_by_peer(idle.sock):
                return idle
            self._forget(idle)  # closed by the server while idle: a fresh one instead
        conn = _Connection(self._connect(timeout))
        with self._lock:
            self._open.add(conn)
        return conn

    def _give_back(self, conn: _Connection, reusable: bool) -> None:
        # A half-read answer, a timed-out socket or "Connection: close" cannot carry another request.
        with self._lock:
            keep = reusable and not self._closed
            if keep:
                self._idle.append(conn)
        if not keep:
            self._forget(conn)

    def _forget(self, conn: _Connection) -> None:
        conn.close()
        with self._lock:
            self._open.discard(conn)

    def _connect(self, timeout: float) -> socket.socket:
        try:
            sock = socket.create_connection((self._host, self._port), timeout=timeout)
        except TimeoutError as exc:
            raise TransportError("connect_timeout", exc) from None
        except OSError as exc:  # refused, unknown host, unreachable
            raise TransportError("refused", exc) from None
        try:
            # The request goes out in one write; without this a second one (TLS records)
            # could wait for the server's delayed ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl is not None:
                sock = self._ssl.wrap_socket(sock, server_hostname=self._host)
        except TimeoutError as exc:
            sock.close()
            raise TransportError("connect_timeout", exc) from None
        except OSError as exc:  # TLS handshake refused (ssl.SSLError is an OSError)
            sock.close()
            raise TransportError("refused", exc) from None
        return sock


def _read_answer(reader: IO[bytes]) -> tuple[Answer, bool]:
    """One HTTP/1.x answer from `reader` (interim 1xx answers skipped), and whether the
    connection can carry another request."""
    while True:
        version, status = _status_line(reader)
        headers = _headers(reader)
        if not 100 <= status < 200:
            break
    keep_alive = version == "HTTP/1.1"
    connection = headers.get("connection", "").lower()
    if "close" in connection:
        keep_alive = False
    elif "keep-alive" in connection:
        keep_alive = True
    if status in NO_BODY:
        return Answer(status, headers, b""), keep_alive
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return Answer(status, headers, _chunked(reader)), keep_alive
    length = headers.get("content-length")
    if length is None:  # the body runs to the end of the connection
        return Answer(status, headers, reader.read()), False
    if not length.strip().isdigit():
        raise _Malformed(f"Content-Length {length!r}")
    content = reader.read(int(length))
    if len(content) < int(length):
        raise _Malformed(f"the connection closed {len(content)} bytes into a {length}-byte answer")
    return Answer(status, headers, content), keep_alive


def _line(reader: IO[bytes]) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise _Malformed("a line longer than 64 KiB")
    return line


def _status_line(reader: IO[bytes]) -> tuple[str, int]:
    line = _line(reader)
    if not line:
        raise _Malformed("the server closed the connection without answering")
    version, _, rest = line.decode("latin-1").partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise _Malformed(f"not an HTTP answer: {line[:80]!r}")
    return version, int(code)


def _headers(reader: IO[bytes]) -> Headers:
    headers = Headers()
    for _ in range(MAX_HEADERS + 1):
        line = _line(reader)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise _Malformed("the connection closed in the middle of the headers")
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise _Malformed(f"a header without a colon: {line[:80]!r}")
        key, value = name.strip().lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise _Malformed(f"more than {MAX_HEADERS} headers")


def _chunked(reader: IO[bytes]) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = _line(reader).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise _Malformed(f"a chunk size that is not a number: {size_line[:20]!r}") from None
        if size == 0:
            while _line(reader) not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(parts)
        chunk = reader.read(size)
        if len(chunk) < size or _line(reader) not in (b"\r\n", b"\n"):
            raise _Malformed("the connection closed in the middle of a chunk")
        parts.append(chunk)


def _closed_by_peer(sock: socket.socket) -> bool:
    """An idle keep-alive connection with something to read has been closed by the
    server (or has bytes no request asked for): either way it cannot be reused."""
    try:
        if hasattr(select, "poll"):  # select() cannot watch descriptors past 1024
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)
    except (OSError, ValueError):
        return True
