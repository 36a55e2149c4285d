"""JSON POSTs to a model server over keep-alive HTTP/1.1, on the standard library.

The hot path of every OpenAI-compatible call (a chat, a completion, a batch of
embeddings) is one POST of a JSON body and one JSON answer. httpx, which the openai
client is built on, spends per request: parsing the URL, merging headers and cookies,
running its auth, redirect and event hooks, and driving h11's state machine event by
event. Against a server that answers after 200 ms that is 1.1-1.4 ms of CPU per call;
http.client does the same exchange in 0.45 ms (bench/http_client.py). In a 25-agent
step the answers arrive together and are handled one after another, so each call's CPU
delays every call behind it in the burst (bench/orchestration.py).

What this keeps from httpx: one keep-alive connection per call in flight (a connection
the server closed while idle is noticed before reuse and replaced, as httpcore does),
TLS with httpx's certificate settings (certifi, SSL_CERT_FILE, SSL_CERT_DIR), the same
JSON encoding of the body, and separate connect and read timeouts told apart. What it
leaves to httpx: proxies (`JsonHttp.usable_for` says no when the environment names a
proxy for the URL, and the backend then posts through httpx), HTTP/2, compression and
redirects, none of which a model server on the hot path needs.
"""

from __future__ import annotations

import http.client
import json
import select
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any


class TransportError(Exception):
    """No answer came back. `kind`: "refused" (nothing listening, unknown host, TLS
    refused), "connect_timeout", "timeout" (no answer in time) or "dropped" (the
    connection broke before the answer was complete)."""

    def __init__(self, kind: str, cause: BaseException) -> None:
        detail = " ".join(str(cause).split()) or type(cause).__name__
        super().__init__(detail)
        self.kind, self.cause = kind, cause


@dataclass(frozen=True)
class Answer:
    """A whole HTTP answer: status, headers (case-insensitive `get`) and body."""

    status_code: int
    headers: Message
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
        self._headers = {**headers, "Content-Type": "application/json"}
        self._ssl: Any = None
        if self._https:
            try:  # the certificates httpx (and so the openai client) would trust
                from httpx2 import create_ssl_context
            except ImportError:  # pragma: no cover - older openai releases
                from httpx import create_ssl_context  # type: ignore[no-redef]
            self._ssl = create_ssl_context()
        self._lock = threading.Lock()
        self._idle: list[http.client.HTTPConnection] = []
        self._open: set[http.client.HTTPConnection] = set()
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
        conn = self._take()
        healthy = False
        try:
            if conn.sock is None:
                self._connect(conn, timeout)
            else:
                conn.sock.settimeout(timeout)
            try:
                conn.request("POST", self._prefix + path, body=data, headers=self._headers)
                response = conn.getresponse()
                content = response.read()
            except TimeoutError as exc:
                raise TransportError("timeout", exc) from None
            except (http.client.HTTPException, OSError) as exc:
                raise TransportError("dropped", exc) from None
            healthy = True
            return Answer(response.status, response.headers, content)
        finally:
            self._give_back(conn, healthy)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._open, self._idle = self._open, set(), []
        for conn in conns:
            conn.close()

    # -- connections -----------------------------------------------------------------
    def _take(self) -> http.client.HTTPConnection:
        with self._lock:
            idle = self._idle.pop() if self._idle else None
        if idle is not None:
            if _closed_by_peer(idle):
                idle.close()  # `post` connects it again
            return idle
        if self._https:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(self._host, self._port, context=self._ssl)
        else:
            conn = http.client.HTTPConnection(self._host, self._port)
        with self._lock:
            self._open.add(conn)
        return conn

    def _give_back(self, conn: http.client.HTTPConnection, healthy: bool) -> None:
        if not healthy:  # a half-read answer or a timed-out socket cannot carry another request
            conn.close()
        with self._lock:
            if self._closed:
                conn.close()
                self._open.discard(conn)
            else:
                self._idle.append(conn)

    def _connect(self, conn: http.client.HTTPConnection, timeout: float) -> None:
        conn.timeout = timeout
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise TransportError("connect_timeout", exc) from None
        except OSError as exc:  # refused, unknown host, unreachable, TLS handshake refused
            conn.close()
            raise TransportError("refused", exc) from None
        # (http.client sets TCP_NODELAY itself: the body is not held back for an ACK.)


def _closed_by_peer(conn: http.client.HTTPConnection) -> bool:
    """An idle keep-alive connection with something to read has been closed by the
    server (or has bytes no request asked for): either way it cannot be reused."""
    sock = conn.sock
    if sock is None:
        return False
    try:
        if hasattr(select, "poll"):  # select() cannot watch descriptors past 1024
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)
    except (OSError, ValueError):
        return True
