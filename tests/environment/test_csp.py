"""Content-Security-Policy: on every response, and no page needs inline script or styles."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client, override_settings

from environment.csp import build_policy
from reverie import services
from reverie.models import Movement, Simulation

BASE = "base_the_ville_isabella_maria_klaus"
pytestmark = pytest.mark.django_db


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


def test_build_policy_adds_the_websocket_origin_to_connect_src() -> None:
    policy = build_policy(
        {"default-src": ["'self'"], "connect-src": ["'self'"], "upgrade-insecure-requests": []}, "h:8"
    )
    assert policy == "default-src 'self'; connect-src 'self' ws://h:8 wss://h:8; upgrade-insecure-requests"


def test_every_kind_of_response_carries_the_policy(client: Client) -> None:
    responses = {
        "page": client.get("/"),
        "json": client.get("/healthz"),
        "404": client.get("/replay/nowhere/0/"),
        "post": client.post("/sims/fork/", {"source": BASE, "name": "x"}),
    }
    for kind, response in responses.items():
        directives = _directives(response["Content-Security-Policy"])
        assert directives["default-src"] == ["'self'"], kind
        assert directives["script-src"] == ["'self'"], kind
        assert directives["style-src"] == ["'self'"], kind
        assert directives["connect-src"] == ["'self'", "ws://testserver", "wss://testserver"], kind
        assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"], kind
        assert {"data:", "blob:"} <= set(directives["img-src"]), kind  # Phaser's textures


def test_a_foreign_host_still_gets_a_policy_without_websocket_sources() -> None:
    response = Client(HTTP_HOST="evil.example").get("/")
    assert response.status_code == 400
    assert "ws://" not in response["Content-Security-Policy"]


def test_the_policy_can_be_switched_off() -> None:
    with override_settings(SECURE_CSP={}):
        assert "Content-Security-Policy" not in Client().get("/healthz")


class _InlineFinder(HTMLParser):
    """Collects what a strict policy would block: inline scripts, on* handlers, style attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script":
            # Data blocks (json_script) never run; anything else must come from a file.
            self._in_script = "src" not in names and names.get("type") != "application/json"
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"<{tag} {name}={value!r}>")
            if value and re.match(r"\s*javascript:", value, re.IGNORECASE):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"inline script: {data.strip()[:60]!r}")


def test_no_page_has_inline_script_handlers_or_style_attributes(client: Client) -> None:
    sim = services.fork(BASE, "csp-town")
    names = list(sim.personas.values_list("name", flat=True))
    Movement.objects.bulk_create(
        [Movement(simulation=sim, step=s, persona=n, x=5, y=9, emoji="☕", description="idle @ x")
         for s in range(3) for n in names]
    )  # fmt: skip
    Simulation.objects.filter(pk=sim.pk).update(step=3)
    user = User.objects.create_user("mayor", password="pw")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="reverie"))
    client.force_login(user)  # signed in: the fork and delete forms and the controls are on the pages
    urls = [
        "/",
        "/simulator_home/csp-town/",
        "/replay/csp-town/0/",
        f"/replay_persona_state/csp-town/1/{names[0]}/",
        "/sim/csp-town/log/",
        "/sim/csp-town/plots/",
        "/accounts/login/",
        "/replay/nowhere/0/",
    ]
    for url in urls:
        finder = _InlineFinder()
        finder.feed(client.get(url).content.decode())
        assert finder.found == [], url
