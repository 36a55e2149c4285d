"""Sign-in throttling: repeated wrong passwords lock a username for a while, per address.

Every sign-in goes through Django's `authenticate()` (the login page, the admin's
login page), so the lock lives in the authentication backend:

- `ThrottledModelBackend` counts failed sign-ins per (username, client address) in
  Django's cache. After `LOGIN_FAILURE_LIMIT` failures within `LOGIN_LOCKOUT_SECONDS`
  that pair is locked for `LOGIN_LOCKOUT_SECONDS`: while locked, no password is even
  checked (the right one included), so guessing stops paying. A successful sign-in
  clears the count.
- `ThrottledLoginView` is the login page: while locked it answers the POST with HTTP
  429 and says how long the lock lasts.

The key is the username *and* the address, so a stranger cannot lock a user out from
everywhere by typing wrong passwords for them. The cache is per process without
REDIS_URL (fine for the one-process default) and Redis with it, so several web
processes share the counts.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

_PREFIX = "login-throttle"


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the proxy's last X-Forwarded-For hop behind one.

    Behind a TLS-terminating proxy (BEHIND_TLS_PROXY) REMOTE_ADDR is the proxy; the
    right-most X-Forwarded-For entry is the one that proxy added (the ones left of it
    come from the client and can be forged).
    """
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return str(request.META.get("REMOTE_ADDR") or "unknown")


class LoginThrottle:
    """Failed sign-ins of one username from one address, kept in Django's cache."""

    def __init__(self, username: str, address: str) -> None:
        digest = hashlib.sha256(f"{username.strip().casefold()}\0{address}".encode()).hexdigest()[:32]
        self.failures_key = f"{_PREFIX}:failures:{digest}"
        self.lock_key = f"{_PREFIX}:locked-until:{digest}"
        self.limit: int = settings.LOGIN_FAILURE_LIMIT
        self.lockout: int = settings.LOGIN_LOCKOUT_SECONDS

    @classmethod
    def for_request(cls, request: HttpRequest, username: str | None) -> LoginThrottle:
        return cls(username or "", client_address(request))

    @property
    def enabled(self) -> bool:
        return self.limit > 0 and self.lockout > 0

    def seconds_left(self) -> int:
        """Seconds until the lock ends; 0 when not locked."""
        if not self.enabled:
            return 0
        until = cache.get(self.lock_key)
        return max(0, math.ceil(until - time.time())) if until else 0

    def failed(self) -> None:
        """Count one failure; the `limit`-th within the window locks the pair."""
        if not self.enabled:
            return
        cache.add(self.failures_key, 0, timeout=self.lockout)  # the window starts at the first failure
        try:
            count = cache.incr(self.failures_key)
        except ValueError:  # expired between add and incr
            cache.set(self.failures_key, 1, timeout=self.lockout)
            count = 1
        if count >= self.limit:
            cache.set(self.lock_key, time.time() + self.lockout, timeout=self.lockout)
            cache.delete(self.failures_key)

    def succeeded(self) -> None:
        cache.delete_many([self.failures_key, self.lock_key])


class ThrottledModelBackend(ModelBackend):
    """Django's username/password backend, refusing locked (username, address) pairs unchecked."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> AbstractBaseUser | None:
        if request is None:  # not a web sign-in (a test client's login(), a script): nothing to key on
            return super().authenticate(request, username=username, password=password, **kwargs)
        throttle = LoginThrottle.for_request(request, username)
        if throttle.seconds_left():
            # Stops authenticate() here: no other backend is asked, the password is not checked.
            raise PermissionDenied("too many failed sign-ins")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            throttle.failed()
        else:
            throttle.succeeded()
        return user


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed sign-ins for this account from your address. Try again in %(minutes)d minute.",
        "Too many failed sign-ins for this account from your address. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class ThrottledLoginView(LoginView):
    """The login page: a locked (username, address) pair gets HTTP 429 and how long to wait."""

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        seconds = LoginThrottle.for_request(self.request, form.data.get("username")).seconds_left()
        if not seconds:
            return super().form_invalid(form)
        return self.render_to_response(self.get_context_data(form=form, lockout=lockout_message(seconds)), status=429)
