"""Time to the first streamed words on the co-writing page, against the whole paragraph.

A real daphne server (the project's ASGI app, in-process runner, the bundled Gemma 3
270M through llama.cpp unless LLM_MODEL says otherwise) on a temporary SQLite
database; a websocket client signed in as the project's owner opens
`/ws/writer/<pk>/` exactly as the page does, sends {"type": "write", "plan": ...}
and times, from the moment the command leaves:

- first piece: the first "piece" message (what the writer sees start to appear);
- paragraph: the last piece of the paragraph (the paragraph fully on screen);
- step: the "view" with the new paragraph saved (memory update, new plans included).

The opening (the "init" job) is timed the same way. Run from the repo root:

    python bench/writer_first_token.py [--steps 5] [--port 8765]

Results go to bench/results/writer_first_token.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _common import median, percentile, write_result  # noqa: E402

PLANS = [
    "The keeper finds a letter hidden under the lamp.",
    "A storm forces a ship toward the rocks.",
    "The keeper's sister arrives with news from the town.",
    "The lamp goes dark at midnight.",
    "Someone knocks at the lighthouse door.",
]


def setup(db: Path) -> tuple[int, str]:
    """Migrate, make the owner, the project (its opening queued, not run) and a session."""
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "environment.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from writer import services

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="bench-password")
    project = services.create_project(user, novel_type="mystery", topic="A lighthouse keeper", start=False)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return project.pk, f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "DJANGO_SETTINGS_MODULE": "environment.settings"}
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "environment.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("the server did not start within 90 s")


async def timed(ws: Any, paragraphs_before: int, send: dict[str, Any] | None) -> dict[str, float]:
    """Times of the first piece, the last piece and the saved step, from `send` leaving."""
    start = time.perf_counter()
    if send is not None:
        await ws.send(json.dumps(send))
    first = last = None
    chars = 0
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=900))
        now = time.perf_counter() - start
        if message["type"] == "piece" and message["text"]:
            first = now if first is None else first
            last = now
            chars += len(message["text"])
        elif message["type"] == "error":
            raise SystemExit(f"the server refused the step: {message['error']}")
        elif message["type"] == "view" and len(message["story"]["paragraphs"]) > paragraphs_before:
            return {"first_piece": first or now, "paragraph": last or now, "step": now, "chars": chars,
                    "paragraphs": len(message["story"]["paragraphs"])}  # fmt: skip


async def run(port: int, pk: int, cookie: str, steps: int) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/ws/writer/{pk}/"
    headers = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"}
    async with connect(url, additional_headers=headers, max_size=2**24) as ws:
        view = json.loads(await ws.recv())
        assert view["type"] == "view", view
        # The opening was queued at creation; this connection's arrival starts its runner.
        opening = await timed(ws, 0, None)
        print(f"opening: first words after {opening['first_piece']:.2f} s, saved after {opening['step']:.2f} s")
        results = []
        paragraphs = opening["paragraphs"]
        for i in range(steps):
            result = await timed(ws, paragraphs, {"type": "write", "plan": PLANS[i % len(PLANS)]})
            paragraphs = result["paragraphs"]
            results.append(result)
            print(f"step {i + 1}: first piece {result['first_piece']:.2f} s, paragraph {result['paragraph']:.2f} s, "
                  f"step saved {result['step']:.2f} s ({result['chars']} characters)")  # fmt: skip
    return {"opening": opening, "steps": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        pk, cookie = setup(db)
        port = args.port or free_port()
        server = start_server(db, port)
        try:
            data = asyncio.run(run(port, pk, cookie, args.steps))
        finally:
            server.terminate()
            server.wait(timeout=30)
    steps = data["steps"]
    summary = {
        key: {"median": median([s[key] for s in steps]), "p90": percentile([s[key] for s in steps], 90)}
        for key in ("first_piece", "paragraph", "step")
    }
    model = os.environ.get("LLM_MODEL", "llama_cpp:bundled")
    print(f"\nmodel {model}, {len(steps)} steps (median / p90, seconds from the click):")
    for key, label in (("first_piece", "first streamed words"), ("paragraph", "whole paragraph"),
                       ("step", "step saved (memory + plans)")):  # fmt: skip
        print(f"  {label:30s} {summary[key]['median']:6.2f} / {summary[key]['p90']:6.2f}")
    ratio = summary["paragraph"]["median"] / max(summary["first_piece"]["median"], 1e-9)
    print(f"  the first words appear {ratio:.1f}x sooner than the whole paragraph")
    path = write_result("writer_first_token", {"model": model, **data, "summary": summary})
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
