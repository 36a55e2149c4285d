"""Browser tests: the real ASGI server (daphne) in a subprocess, Debian chromium driven by Playwright.

Every test in this folder is marked `e2e` and runs with a *transactional* test database
(`django_db(transaction=True)`): the rows a test creates are committed, so the server
process, which opens the same SQLite file, sees them; they are flushed after each test.

Fixtures (all for tests in this folder only):

- `server`: a `Server` (`.url`, `.db_path`, `.log_path`, `.log_text()`); package scope.
- `browser`: a chromium `Browser`; package scope.
- `page`: a fresh context + page per test, `base_url` = the server, so `page.goto("/x/")`.
  `page.console_errors` (console messages of type error, except the browser's own
  /favicon.ico request) and `page.page_errors` (uncaught exceptions) are lists of
  strings; `page.console_log` keeps every console message.
- `new_page(**context_options)`: more pages (another user, another `locale`...), same lists.
- `make_user(username=..., permissions=...)`: a committed User with `reverie` permissions
  (helpers.create_user); `signed_in_page`: `page`, signed in through /accounts/login/ as
  such a user (the user is `signed_in_page.user`).

A failed test's report gets the server's output during that test and each page's console.
Helpers (login, pixels, waiting) are in tests/e2e/helpers.py. Knobs: E2E_LLM_MODEL (the
server's LLM_MODEL, default llama_cpp:bundled), E2E_CHROMIUM (default /usr/bin/chromium),
E2E_SERVER_LOG_LEVEL, E2E_MODEL_STEP_TIMEOUT (test_smallville.py).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import create_user, login

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 90.0  # s: Django import + daphne; the model loads later, on first use
DEFAULT_TIMEOUT_MS = 20_000

# Variables of the test process the server must not inherit: it gets its own database,
# the embedded (in-process) runner and channel layer, and real async-safety checks.
_NOT_INHERITED = {
    "DATABASE_URL",
    "TEST_DATABASE_NAME",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "CELERY_TASK_ALWAYS_EAGER",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",
}

_server_log_offset = pytest.StashKey[int]()
_pages_key = pytest.StashKey[list]()


# --- marking ---------------------------------------------------------------------------


def _in_this_folder(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark this folder's tests `e2e` + transactional before pytest-django sorts by database use.

    (This conftest's hook is registered after pytest-django's and so runs before it; all
    e2e tests being transactional keeps them together in pytest-django's ordering, so the
    package-scoped browser and server below start once.)
    """
    slots = [i for i, item in enumerate(items) if _in_this_folder(item)]
    for i in slots:
        item = items[i]
        item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db(transaction=True))
    # The smoke tests first (in the same slots): when the server or browser is broken, -x
    # stops on the simplest failure.
    ordered = sorted((items[i] for i in slots), key=lambda item: Path(str(item.path)).name != "test_smoke.py")
    for i, item in zip(slots, ordered, strict=True):
        items[i] = item


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On failure, attach the server's output during the test and the pages' console errors."""
    outcome = yield
    if not _in_this_folder(item):
        return
    report = outcome.get_result()
    srv = getattr(item, "funcargs", {}).get("server")
    if report.when == "setup" and srv is not None:
        item.stash[_server_log_offset] = srv.log_size()
    if not report.failed:
        return
    if srv is not None:
        text = srv.log_text(since=item.stash.get(_server_log_offset, 0))
        if srv.process.poll() is not None:
            text += f"\n[daphne exited with status {srv.process.returncode}]"
        report.sections.append(("server output (daphne)", text[-30_000:] or "(nothing)"))
    for i, page in enumerate(item.stash.get(_pages_key, [])):
        lines = [f"url: {_safe_url(page)}"]
        lines += [f"console error: {e}" for e in page.console_errors]
        lines += [f"page error: {e}" for e in page.page_errors]
        lines += [f"console: {e}" for e in page.console_log[-40:]]
        report.sections.append((f"browser page {i}", "\n".join(lines)))


def _safe_url(page: Any) -> str:
    try:
        return str(page.url)
    except Exception:  # a closed page
        return "(closed)"


# --- the event loop Playwright leaves running ------------------------------------------


@pytest.fixture(scope="package", autouse=True)
def _allow_sync_orm_beside_playwright() -> Iterator[None]:
    """Let the ORM run in the test thread while Playwright's sync API is started.

    Playwright's sync API runs an asyncio event loop in the calling (test) thread and
    leaves it registered as the running loop between calls, from `start()` until
    `stop()`. Django's ORM sees a running loop in its thread and raises
    SynchronousOnlyOperation, although the call really is synchronous and no coroutine
    is interleaved with it. DJANGO_ALLOW_ASYNC_UNSAFE turns that check off. It is set only
    while this folder's tests run (package scope, restored afterwards) so the async-safety
    check stays on for the rest of the suite; the server subprocess never inherits it.
    """
    old = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if old is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = old


# --- the server ------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    db_path: Path
    log_path: Path
    static_root: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(repr=False, default_factory=dict)

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_text(self, since: int = 0) -> str:
        try:
            with self.log_path.open("rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"the server exited with status {self.process.returncode}:\n{self.log_text()[-20_000:]}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_env(db_path: Path, static_root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(
        DJANGO_SETTINGS_MODULE="environment.settings",
        DATABASE_URL=f"sqlite:///{db_path}",
        # collectstatic writes here and WhiteNoise (DEBUG=false) serves from here: a folder
        # of this run's own, not the checkout's staticfiles/ other runs may be rewriting.
        STATIC_ROOT=str(static_root),
        # Runs started from the pages run in a thread of this server (no Celery worker here).
        SIM_RUNNER="thread",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # DEBUG=false: real 404 pages and WhiteNoise serving STATIC_ROOT, as in production...
        DEBUG="false",
        SECRET_KEY="e2e-" + secrets.token_urlsafe(48),
        # ...but over plain http on 127.0.0.1: no https redirect, no Secure-only cookies, no HSTS.
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        LLM_MODEL=os.environ.get("E2E_LLM_MODEL", "llama_cpp:bundled"),
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL=os.environ.get("E2E_SERVER_LOG_LEVEL", "WARNING"),
    )
    return env


def _daphne() -> str:
    candidate = Path(sys.executable).parent / "daphne"
    found = str(candidate) if candidate.exists() else shutil.which("daphne")
    if not found:
        pytest.fail("daphne is not installed in this environment")
    return found


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # daphne shuts down cleanly on SIGTERM
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


@pytest.fixture(scope="package")
def server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """daphne serving environment.asgi:application on a free port, on the pytest test database.

    Package scope (once for this folder) rather than per module: starting it means a Django
    import, `collectstatic` and daphne (~5-10 s), and the bundled language model and the
    embedding model load inside it on first use (several seconds more), so one server for
    the folder keeps the e2e run short. What it keeps between tests is only in-memory
    caches; the database is flushed after every test, and tests that start a run pause it
    before they end. Not session scope: see `_allow_sync_orm_beside_playwright`; nothing
    outside this folder needs it.
    """
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if connection.vendor != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        pytest.fail(f"the e2e tests need a file-backed SQLite test database, got {connection.vendor} {name!r}")
    db_path = Path(name).resolve()

    tmp = tmp_path_factory.mktemp("e2e-server")
    static_root = tmp / "static"
    env = _server_env(db_path, static_root)
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if collect.returncode != 0:
        pytest.fail(f"collectstatic failed ({collect.returncode}):\n{collect.stdout}\n{collect.stderr}")
    if not (static_root / "js").is_dir():
        warnings.warn(
            f"collectstatic did not write to STATIC_ROOT={static_root}: the settings ignore the variable, "
            "so the server serves the checkout's staticfiles/ folder instead",
            stacklevel=1,
        )

    srv = start_server(env, db_path=db_path, static_root=static_root, log_path=tmp / "server.log")
    try:
        yield srv
    finally:
        _stop(srv.process)
        if srv.process.returncode not in (0, -15):
            # Shown with the last test's teardown output, if anything failed there.
            print(
                f"daphne exited with status {srv.process.returncode}; output:\n{srv.log_text()[-20_000:]}",
                file=sys.stderr,
            )


def start_server(env: dict[str, str], *, db_path: Path, static_root: Path, log_path: Path) -> Server:
    """Start daphne with `env` on a free port and wait for /healthz (the caller stops it
    with `stop_server`). The `server` fixture's, and a test's own when it needs other settings."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [_daphne(), "-b", "127.0.0.1", "-p", str(port), "environment.asgi:application"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    srv = Server(url=url, db_path=db_path, log_path=log_path, static_root=static_root, process=proc, env=env)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if proc.poll() is not None:
            pytest.fail(f"daphne exited with status {proc.returncode} while starting:\n{srv.log_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as resp:
                if resp.status == 200:
                    return srv
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            _stop(proc)
            pytest.fail(f"/healthz did not answer within {SERVER_START_TIMEOUT:.0f} s; output:\n{srv.log_text()}")
        time.sleep(0.25)


def stop_server(srv: Server) -> None:
    _stop(srv.process)


# --- the browser -----------------------------------------------------------------------


@pytest.fixture(scope="package")
def playwright_driver(_allow_sync_orm_beside_playwright: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()


@pytest.fixture(scope="package")
def browser(playwright_driver: Any) -> Iterator[Any]:
    """Debian's chromium (Playwright's own browser download does not work here).

    Package scope, not session: Playwright's running event loop must be gone before the
    rest of the suite runs (see `_allow_sync_orm_beside_playwright`).
    """
    if not Path(CHROMIUM).exists():
        # Like the Redis tests without redis-server: skipped, with the reason in the summary.
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does as root)")
    b = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def new_page(request: pytest.FixtureRequest, browser: Any, server: Server) -> Iterator[Callable[..., Any]]:
    """Factory: a page in a fresh browser context (own cookies) with `base_url` = the server."""
    contexts: list[Any] = []
    pages: list[Any] = []
    request.node.stash[_pages_key] = pages

    def make(**context_options: Any) -> Any:
        options = {"base_url": server.url, "viewport": {"width": 1280, "height": 800}, **context_options}
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.page_errors = []
        page.console_log = []

        def on_console(msg: Any) -> None:
            loc = msg.location or {}
            text = f"{msg.text} ({loc.get('url', '')}:{loc.get('lineNumber', '')})"
            page.console_log.append(f"{msg.type}: {text}")
            # Chrome asks for /favicon.ico on its own when a page names no icon; its 404
            # is the browser's doing, not the page's.
            if msg.type == "error" and "/favicon.ico" not in loc.get("url", ""):
                page.console_errors.append(text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: page.page_errors.append(str(exc)))
        pages.append(page)
        return page

    yield make
    for context in contexts:
        with contextlib.suppress(Exception):  # a browser that already went away
            context.close()
    server.check_alive()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


@pytest.fixture
def demo_files() -> Iterator[list[Path]]:
    """Paths of demo files a test writes: removed afterwards (and anything there before restored)."""
    written: list[Path] = []
    yield written
    for path in written:
        path.unlink(missing_ok=True)
        backup = path.with_name(path.name + ".e2e-backup")
        if backup.exists():
            shutil.move(backup, path)


@pytest.fixture
def make_user() -> Callable[..., Any]:
    """Factory: `make_user(username="e2e-user", permissions=SIM_PERMISSIONS)` -> committed User."""
    return create_user


@pytest.fixture
def signed_in_page(page: Any, make_user: Callable[..., Any]) -> Any:
    """`page`, signed in through the /accounts/login/ form as a user with the Smallville permissions."""
    user = make_user()
    login(page, user)
    page.user = user
    return page
