"""The standard-library HTTP path of the openai backend: keep-alive connections, what a
server does to them (closing idle ones, dropping, stalling), and the proxy rule."""

from __future__ import annotations

import socket
import threading
import time

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
