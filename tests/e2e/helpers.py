"""Helpers for the browser tests: users, signing in, pixels, waiting on the pages' JS."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from PIL import Image, ImageChops, ImageStat

# What a signed-in user needs to drive Smallville (docs/frontend_api.md, "Controls").
SIM_PERMISSIONS = ("run_simulation", "add_simulation", "delete_simulation")
PASSWORD = "e2e-correct-horse-battery"  # a throwaway test account

T = TypeVar("T")


# --- users -----------------------------------------------------------------------------


def create_user(username: str = "e2e-user", *, permissions: Iterable[str] = SIM_PERMISSIONS) -> Any:
    """A User with the given `reverie` permissions (the ones that exist yet), password PASSWORD.

    Returns the user with `.raw_password` set. Must run inside a transactional test so
    the row is committed and the server process sees it.
    """
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user(username=username, password=PASSWORD)
    wanted = list(permissions)
    perms = list(Permission.objects.filter(content_type__app_label="reverie", codename__in=wanted))
    user.user_permissions.add(*perms)
    user.raw_password = PASSWORD
    user.granted = sorted(p.codename for p in perms)
    user.missing = sorted(set(wanted) - set(user.granted))
    return user


def login(page: Any, user: Any, *, password: str | None = None) -> None:
    """Sign `page` in through the real /accounts/login/ form and check it worked."""
    resp = page.goto("/accounts/login/?next=/")
    assert resp is not None and resp.status == 200, f"/accounts/login/ answered {resp and resp.status}"
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=username]").fill(user.username)
    form.locator("input[name=password]").fill(password or user.raw_password)
    with page.expect_navigation():
        form.locator("[type=submit]").first.click()
    assert "/accounts/login/" not in page.url, f"still on the login page after signing in: {page.content()[:2000]}"
    cookies = {c["name"] for c in page.context.cookies()}
    assert "sessionid" in cookies, f"no session cookie after signing in (cookies: {sorted(cookies)})"


def csrf_token(page: Any) -> str:
    """The CSRF cookie's value (set once a page with a form has been served)."""
    for cookie in page.context.cookies():
        if cookie["name"] == "csrftoken":
            return str(cookie["value"])
    raise AssertionError("no csrftoken cookie: visit a page with a form first")


def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn` in a fresh thread and return its result (or raise its exception).

    For code that calls asyncio.run() (services.load_history, run_steps): it refuses to
    run under the event loop Playwright keeps running in the test thread. The thread
    gets its own database connection (to the same test database; rows commit as usual)
    and closes it at the end.
    """
    import threading

    from django.db import connections

    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn(*args, **kwargs))
        except BaseException as exc:
            error.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, name=f"e2e-{getattr(fn, '__name__', 'call')}")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


# --- waiting -------------------------------------------------------------------------


def wait_until(check: Callable[[], T], *, timeout: float, interval: float = 0.5, message: str = "") -> T:
    """Poll `check()` until it returns something truthy; fail with `message` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s: {message} (last value {last!r})")
        time.sleep(interval)


def wait_for_town(page: Any, *, timeout_ms: float = 60_000) -> None:
    """Wait until town.js says the map and every sprite are drawn (body[data-ready="1"])."""
    page.wait_for_function("() => document.body.dataset.ready === '1'", timeout=timeout_ms)


@contextlib.contextmanager
def rendering_paused(page: Any) -> Iterator[None]:
    """Stop the town's Phaser render loop for a long wait, and start it again after.

    Headless chromium draws WebGL in software (--disable-gpu): one live town page
    redrawing 60 times a second takes ~1.5-1.9 of the CI machine's 2 cores, starving
    the server's model step. Frames still arrive over the websocket while the loop
    sleeps (dataset.step and positions() follow them); only drawing and tweens wait.
    """
    page.evaluate("() => window.smallville.town.game.loop.sleep()")
    try:
        yield
    finally:
        page.evaluate("() => window.smallville.town.game.loop.wake()")


def page_step(page: Any) -> int | None:
    """The step the page shows (body[data-step]); None before the first frame."""
    raw = page.evaluate("() => document.body.dataset.step")
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def positions(page: Any) -> dict[str, tuple[int, int]]:
    """`window.smallville.positions()` as {name: (x, y)} tiles (accepts {x, y} objects or [x, y])."""
    raw = page.evaluate("() => window.smallville.positions()")
    out: dict[str, tuple[int, int]] = {}
    for name, pos in raw.items():
        if isinstance(pos, dict):
            out[name] = (int(pos["x"]), int(pos["y"]))
        else:
            out[name] = (int(pos[0]), int(pos[1]))
    return out


# --- pixels --------------------------------------------------------------------------

Box = tuple[int, int, int, int]  # left, top, right, bottom (device pixels of the screenshot)


def screenshot(page: Any, **kwargs: Any) -> Image.Image:
    """`page.screenshot()` decoded with Pillow, RGB."""
    return Image.open(io.BytesIO(page.screenshot(**kwargs))).convert("RGB")


def element_box(page: Any, selector: str) -> Box:
    """The on-screen box of an element, in screenshot pixels (scrolls it into view)."""
    loc = page.locator(selector).first
    loc.scroll_into_view_if_needed()
    box = loc.bounding_box()
    assert box is not None, f"{selector} is not visible"
    scale = page.evaluate("() => window.devicePixelRatio") or 1
    return (
        int(box["x"] * scale),
        int(box["y"] * scale),
        int((box["x"] + box["width"]) * scale),
        int((box["y"] + box["height"]) * scale),
    )


def distinct_colours(img: Image.Image, box: Box | None = None) -> int:
    """How many different RGB colours the image (or a box of it) holds: a drawn map has hundreds."""
    part = img.crop(box) if box else img
    colours = part.getcolors(maxcolors=1 << 24)
    return len(colours) if colours else 1 << 24


def box_around(x: float, y: float, radius: int, img: Image.Image | None = None) -> Box:
    """A square box of side 2*radius centred on (x, y), clipped to the image."""
    left, top, right, bottom = int(x - radius), int(y - radius), int(x + radius), int(y + radius)
    if img is not None:
        left, top = max(0, left), max(0, top)
        right, bottom = min(img.width, right), min(img.height, bottom)
    return left, top, right, bottom


def region_difference(a: Image.Image, b: Image.Image, box: Box) -> float:
    """Mean absolute difference (0..255) of two screenshots inside `box`."""
    diff = ImageChops.difference(a.crop(box), b.crop(box))
    return sum(ImageStat.Stat(diff).mean) / 3


def tile_on_screen(page: Any, tile: tuple[int, int]) -> tuple[float, float, float]:
    """Where the town draws a sprite standing on `tile`: (x, y, tile size), in screenshot pixels.

    Uses the page's Phaser camera (window.smallville.town.scene): the centre of the
    sprite's body (sprites stand on the tile's bottom edge, 32 px tall) and how many
    pixels one tile spans at the current zoom.
    """
    x, y, size = page.evaluate(
        """([tx, ty]) => {
            const scene = window.smallville.town.scene;
            const cam = scene.cameras.main;
            const ts = scene.ts || 32;
            const rect = scene.game.canvas.getBoundingClientRect();
            const kx = rect.width / scene.scale.width, ky = rect.height / scene.scale.height;
            const dpr = window.devicePixelRatio || 1;
            const wx = tx * ts + ts / 2, wy = ty * ts + ts / 2;
            return [(rect.left + ((wx - cam.worldView.x) * cam.zoom + cam.x) * kx) * dpr,
                    (rect.top + ((wy - cam.worldView.y) * cam.zoom + cam.y) * ky) * dpr,
                    ts * cam.zoom * kx * dpr];
        }""",
        list(tile),
    )
    return x, y, size


def agent_on_screen(page: Any, name: str) -> tuple[float, float, float]:
    """`tile_on_screen` of the tile `positions()` reports for `name`."""
    return tile_on_screen(page, positions(page)[name])


def set_sprites_visible(page: Any, visible: bool) -> None:
    """Hide (or show again) every agent's sprite and name tag, then let two frames render.

    A screenshot with and one without the sprites differ exactly where agents are drawn.
    """
    page.evaluate(
        """(visible) => {
            for (const a of window.smallville.town.scene.agents.values()) {
                a.sprite.setVisible(visible && a.present);
                a.tag.setVisible(visible && a.present);
            }
        }""",
        visible,
    )
    # The town stops rendering when idle (town.js, Town.nap): wake it to draw the change.
    page.evaluate("() => window.smallville.wake()")
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
