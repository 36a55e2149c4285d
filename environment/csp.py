"""Content-Security-Policy on every response, from `settings.SECURE_CSP`.

Our own small middleware: Django 5.2 has none built in (Django 6's reads the same
setting name and shape, a dict of directive -> sources, so moving to it later is a
settings change). No page runs inline script or inline event handlers and no template
writes `style` attributes, so script-src and style-src are just 'self'; page scripts
set styles through the DOM (`element.style`), which CSP allows.

`connect-src` also gets ws:// and wss:// of the host the page was asked from, for the
live town's websocket (CSP 3 lets 'self' cover those, older browsers do not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

HEADER = "Content-Security-Policy"


def build_policy(directives: Mapping[str, Sequence[str]], host: str | None = None) -> str:
    """`{"default-src": ["'self'"], ...}` -> "default-src 'self'; ..."; `host` adds its websockets."""
    parts = []
    for name, sources in directives.items():
        values = list(sources)
        if name == "connect-src" and host:
            values += [f"ws://{host}", f"wss://{host}"]
        parts.append(" ".join([name, *values]) if values else name)
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        directives: Mapping[str, Sequence[str]] = getattr(settings, "SECURE_CSP", {})
        if not directives or HEADER in response:  # a view that set its own policy keeps it
            return response
        try:
            host: str | None = request.get_host()
        except DisallowedHost:  # the 400 answer to a foreign Host header
            host = None
        response[HEADER] = build_policy(directives, host)
        return response
