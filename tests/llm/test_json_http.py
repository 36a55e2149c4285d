"""The standard-library HTTP path of the openai backend: keep-alive connections, what a
server does to them (closing idle ones, dropping, stalling), and the proxy rule."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
from pydantic import BaseModel

from llm.backends.json_http import JsonHttp, TransportError
from llm.factory import build_gateway
from llm.servers import free_port
from tests.llm.http_fake import FakeOpenAIServer, chat_body

ANSWER = b'{"ok": true}'


class KeepAliveThenClose:
    """Answers each request on a keep-alive connection, then closes the connection after
    `idle` seconds without a request, as servers do with idle keep-alive connections."""

    def __init__(self, idle: float) -> None:
        self.idle = idle
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.requests = 0
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(self.idle)
        buffer = b""
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    return  # idle for too long: close it
                if not chunk:
                    return
                buffer += chunk
                head, sep, rest = buffer.partition(b"\r\n\r\n")
                if not sep:
                    continue
                lines = head.lower().split(b"\r\n")
                length = next((int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length")), 0)
                if len(rest) < length:
                    continue
                buffer = rest[length:]
                self.requests += 1
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                    + str(len(ANSWER)).encode()
                    + b"\r\n\r\n"
                    + ANSWER
                )

    def close(self) -> None:
        self.listener.close()


class Scripted:
    """Reads each request whole, then writes the next scripted answer as raw bytes and,
    where the script says so, closes the connection. Counts connections and requests."""

    def __init__(self, answers: list[tuple[bytes, bool]], tls: ssl.SSLContext | None = None) -> None:
        self.answers = list(answers)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"
        if tls is not None:  # the handshake happens as each connection is accepted
            self.listener = tls.wrap_socket(self.listener, server_side=True)
            self.url = f"https://localhost:{self.listener.getsockname()[1]}/v1"
        self.requests: list[bytes] = []
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except ssl.SSLError:  # a client that did not trust the certificate
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while self.answers:
                head, sep, rest = buffer.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                               if line.startswith(b"content-length")), 0)  # fmt: skip
                if not sep or len(rest) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                    continue
                self.requests.append(head + sep + rest[:length])
                buffer = rest[length:]
                answer, close = self.answers.pop(0)
                conn.sendall(answer)
                if close:
                    return

    def close(self) -> None:
        self.listener.close()


def exchange(answers: list[tuple[bytes, bool]], calls: int) -> tuple[list[object], Scripted]:
    """`calls` POSTs against a Scripted server: each one's Answer or TransportError."""
    server = Scripted(answers)
    client = JsonHttp(server.url, {"Authorization": "Bearer k"})
    results: list[object] = []
    try:
        for i in range(calls):
            try:
                results.append(client.post("/chat/completions", {"i": i}, timeout=2))
            except TransportError as exc:
                results.append(exc)
    finally:
        client.close()
        server.close()
    return results, server


OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n" + ANSWER


def test_the_request_is_one_well_formed_http_1_1_post():
    _, server = exchange([(OK, False)], 1)
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:])
    assert lines[0] == "POST /v1/chat/completions HTTP/1.1"
    assert fields["Host"] == server.url.split("/")[2] and fields["Authorization"] == "Bearer k"
    assert fields["Content-Type"] == "application/json" and fields["Content-Length"] == str(len(body))
    assert body == b'{"i":0}'


def test_a_chunked_answer_is_put_back_together_and_the_connection_reused():
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
               b"5\r\n{\"ok\"\r\n7;ext=1\r\n: true}\r\n0\r\nX-Trailer: t\r\n\r\n")  # fmt: skip
    results, server = exchange([(chunked, False), (OK, False)], 2)
    assert [r.content for r in results] == [ANSWER, ANSWER]  # type: ignore[attr-defined]
    assert server.connections == 1


def test_an_answer_without_a_length_runs_to_the_close_and_the_next_call_reconnects():
    unframed = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nengine crashed"
    results, server = exchange([(unframed, True), (OK, False)], 2)
    assert results[0].status_code == 500 and results[0].content == b"engine crashed"  # type: ignore[attr-defined]
    assert results[1].content == ANSWER  # type: ignore[attr-defined]
    assert server.connections == 2


@pytest.mark.parametrize("close_header", [b"Connection: close\r\n", b"connection: Close\r\n"], ids=["Close", "close"])
def test_connection_close_is_honoured(close_header: bytes):
    closing = b"HTTP/1.1 200 OK\r\n" + close_header + b"Content-Length: 12\r\n\r\n" + ANSWER
    results, server = exchange([(closing, True), (OK, False)], 2)
    assert [r.content for r in results] == [ANSWER, ANSWER]  # type: ignore[attr-defined]
    assert server.connections == 2  # no failed attempt on the closed connection


def test_interim_answers_are_skipped_and_no_content_has_no_body():
    interim = b"HTTP/1.1 100 Continue\r\n\r\n" + OK
    empty = b"HTTP/1.1 204 No Content\r\nX-Note: nothing\r\n\r\n"
    results, server = exchange([(interim, False), (empty, False), (OK, False)], 3)
    assert results[0].content == ANSWER  # type: ignore[attr-defined]
    assert results[1].status_code == 204 and results[1].content == b""  # type: ignore[attr-defined]
    assert results[1].headers.get("x-NOTE") == "nothing"  # type: ignore[attr-defined]
    assert results[2].content == ANSWER and server.connections == 1  # type: ignore[attr-defined]


def test_repeated_headers_are_joined_and_charset_is_read_from_content_type():
    answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json; Charset=\"ISO-8859-1\"\r\nX-A: 1\r\nX-A: 2\r\n"
              b"Content-Length: 16\r\n\r\n" + '{"text": "caf\u00e9"}'.encode("latin-1"))  # fmt: skip
    results, _ = exchange([(answer, False)], 1)
    got = results[0]
    assert got.headers.get("x-a") == "1, 2" and got.headers.get_content_charset() == "iso-8859-1"  # type: ignore[attr-defined]
    assert got.text == '{"text": "caf\u00e9"}'  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "broken",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n",  # not HTTP at all
        b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n",  # closed in the middle of the headers
        b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n" + ANSWER,  # closed before the body's end
        b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n" + ANSWER,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n",
        b"",  # closed without a word
    ],
    ids=["not-http", "cut-headers", "cut-body", "bad-length", "bad-chunk", "no-colon", "too-many-headers", "silent"],
)
def test_a_broken_answer_is_dropped_and_the_next_call_works(broken: bytes):
    results, server = exchange([(broken, True), (OK, False)], 2)
    assert isinstance(results[0], TransportError) and results[0].kind == "dropped", results[0]
    assert results[1].content == ANSWER  # type: ignore[attr-defined]
    assert server.connections == 2


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 and its key, made with openssl."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_https_goes_over_tls_with_the_certificates_httpx_would_trust(tmp_path, monkeypatch):
    """The server's certificate is checked against what httpx trusts (here SSL_CERT_FILE):
    trusted, two calls share one TLS connection; not trusted, the call is refused."""
    cert, key = self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    server = Scripted([(OK, False), (OK, False)], tls=tls)
    client = JsonHttp(server.url, {})
    try:
        answers = [client.post("/chat/completions", {"i": i}, timeout=5) for i in range(2)]
    finally:
        client.close()
    assert [a.content for a in answers] == [ANSWER, ANSWER] and server.connections == 1
    monkeypatch.delenv("SSL_CERT_FILE")  # the default trust: certifi's authorities
    untrusting = JsonHttp(server.url, {})
    with pytest.raises(TransportError) as refused:
        untrusting.post("/chat/completions", {}, timeout=5)
    untrusting.close()
    server.close()
    assert refused.value.kind == "refused" and "certificate" in str(refused.value).lower()


def test_a_connection_the_server_closed_while_idle_is_replaced_before_it_is_used():
    server = KeepAliveThenClose(idle=0.1)
    client = JsonHttp(server.url, {})
    try:
        first = client.post("/chat/completions", {"q": 1}, timeout=5)
        time.sleep(0.4)  # the server has closed the idle connection by now
        second = client.post("/chat/completions", {"q": 2}, timeout=5)
    finally:
        client.close()
        server.close()
    assert first.status_code == second.status_code == 200 and second.text == ANSWER.decode()
    # Two requests, no failed attempt on the dead connection; a new connection for the second.
    assert server.requests == 2 and server.connections == 2


def test_calls_one_after_another_share_one_connection():
    server = KeepAliveThenClose(idle=5)
    client = JsonHttp(server.url, {})
    try:
        for i in range(5):
            assert client.post("/embeddings", {"input": [str(i)]}, timeout=5).status_code == 200
    finally:
        client.close()
        server.close()
    assert server.requests == 5 and server.connections == 1


def test_a_slow_answer_times_out_and_the_next_call_gets_a_fresh_connection():
    with FakeOpenAIServer() as srv:
        srv.add(200, chat_body("late"), x_fake_delay="1.0")
        srv.add(200, chat_body("on time"))
        client = JsonHttp(srv.base_url, {})
        with pytest.raises(TransportError) as slow:
            client.post("/chat/completions", {"q": 1}, timeout=0.3)
        time.sleep(0.8)  # the server finishes the late answer on the old connection
        answer = client.post("/chat/completions", {"q": 2}, timeout=5)
        client.close()
    assert slow.value.kind == "timeout"
    assert "on time" in answer.text
    assert srv.ports[0] != srv.ports[1]  # the timed-out connection was not reused


def test_an_answer_cut_off_midway_is_dropped_and_the_next_call_works():
    with FakeOpenAIServer() as srv:
        srv.add(200, chat_body("x" * 200), x_fake_drop="1")
        srv.add(200, chat_body("whole"))
        client = JsonHttp(srv.base_url, {})
        with pytest.raises(TransportError) as cut:
            client.post("/chat/completions", {}, timeout=5)
        answer = client.post("/chat/completions", {}, timeout=5)
        client.close()
    assert cut.value.kind == "dropped"
    assert "whole" in answer.text


def test_nothing_listening_is_refused():
    client = JsonHttp(f"http://127.0.0.1:{free_port()}/v1", {})
    with pytest.raises(TransportError) as refused:
        client.post("/chat/completions", {}, timeout=2)
    assert refused.value.kind == "refused"


def test_error_answers_come_back_whole_with_their_headers_and_charset():
    with FakeOpenAIServer() as srv:
        srv.add(429, {"error": {"message": "slow down"}}, retry_after="3")
        srv.add(200, '{"text": "café"}'.encode("latin-1"), content_type="application/json; charset=latin-1")
        client = JsonHttp(srv.base_url, {"Authorization": "Bearer k"})
        limited = client.post("/chat/completions", {"q": "é"}, timeout=5)
        latin = client.post("/chat/completions", {}, timeout=5)
        client.close()
        path, body = srv.requests[0]
        headers = srv.headers[0]
    assert limited.status_code == 429 and limited.headers.get("Retry-After") == "3"
    assert latin.text == '{"text": "café"}'
    assert path == "/v1/chat/completions" and body == {"q": "é"}
    assert headers["authorization"] == "Bearer k" and headers["content-type"] == "application/json"


def test_a_proxy_in_the_environment_sends_requests_through_httpx_and_the_proxy(monkeypatch):
    """With HTTP_PROXY naming a proxy for the server, the backend's requests go through
    it (httpx reads the environment); NO_PROXY exempts hosts as it does for httpx."""

    class Answer(BaseModel):
        answer: str

    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("no_proxy", "")
    assert JsonHttp.usable_for("http://model.example:8000/v1")
    with FakeOpenAIServer() as proxy:  # a proxy receives the whole URL as the path
        proxy.add(200, chat_body('{"answer": "via proxy"}'))
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url.removesuffix("/v1"))
        monkeypatch.setenv("http_proxy", proxy.base_url.removesuffix("/v1"))
        assert not JsonHttp.usable_for("http://model.example:8000/v1")
        gw = build_gateway("openai:m", base_url="http://model.example:8000/v1", timeout=5, cache_policy="off")
        result = gw.structured(Answer, prompt="?", fallback=Answer(answer="?"), purpose="t")
        gw.close()
        path, _ = proxy.requests[0]
    assert result.value.answer == "via proxy"
    assert path == "http://model.example:8000/v1/chat/completions"
    monkeypatch.setenv("NO_PROXY", "model.example")
    monkeypatch.setenv("no_proxy", "model.example")
    assert JsonHttp.usable_for("http://model.example:8000/v1")


@pytest.mark.parametrize(
    ("url", "headers", "problem"),
    [
        ("http://127.0.0.1:9/v1", {"Authorization": "Bearer kéy✓"}, "'✓' cannot go in an HTTP request"),
        ("http://127.0.0.1:9/v1", {"Authorization": "Bearer k\r\nX-Injected: 1"}, "Authorization header"),
        ("http://127.0.0.1:9/vé1", {}, "cannot go in an HTTP request"),
        ("ftp://127.0.0.1/v1", {}, "not an http"),
    ],
)
def test_a_header_or_url_http_cannot_carry_is_refused_when_the_client_is_made(url, headers, problem):
    """Not at the first call, as a "dropped" connection retried until the budget runs out."""
    with pytest.raises(ValueError, match=problem):
        JsonHttp(url, headers)
