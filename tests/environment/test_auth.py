"""Sign-in throttling: wrong passwords lock a (username, address) pair for a while."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user() -> User:
    return User.objects.create_user("mayor", password=PASSWORD, is_staff=True, is_superuser=True)


def _sign_in(client: Client, password: str, *, username: str = "mayor", address: str = "203.0.113.7", url: str = LOGIN):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_25_wrong_passwords_lock_the_account_from_that_address(client: Client, user: User) -> None:
    answers = [_sign_in(client, f"guess-{i}").status_code for i in range(25)]
    # Four ordinary refusals, then the fifth failure locks: 429 from then on.
    assert answers[:4] == [200] * 4
    assert answers[4:] == [429] * 21
    locked = _sign_in(client, PASSWORD)  # while locked even the right password is not checked
    assert locked.status_code == 429 and not _signed_in(client)
    text = locked.content.decode()
    assert 'id="login-locked"' in text and "Try again in 15 minutes" in text


def test_other_addresses_and_other_usernames_are_not_locked(client: Client, user: User) -> None:
    User.objects.create_user("baker", password=PASSWORD)
    for i in range(5):
        _sign_in(client, f"guess-{i}")
    assert _sign_in(client, PASSWORD).status_code == 429
    assert _sign_in(client, PASSWORD, username="baker").status_code == 302  # same address, other account
    client.logout()
    assert _sign_in(client, PASSWORD, address="198.51.100.1").status_code == 302  # same account, elsewhere
    assert _signed_in(client)


def test_a_successful_sign_in_clears_the_count(client: Client, user: User) -> None:
    for i in range(4):
        assert _sign_in(client, f"guess-{i}").status_code == 200
    assert _sign_in(client, PASSWORD).status_code == 302
    client.logout()
    for i in range(4):
        assert _sign_in(client, f"again-{i}").status_code == 200


def test_the_lock_ends_after_the_lockout(client: Client, user: User) -> None:
    with override_settings(LOGIN_FAILURE_LIMIT=2, LOGIN_LOCKOUT_SECONDS=1):
        assert [_sign_in(client, "x").status_code for _ in range(3)] == [200, 429, 429]
        time.sleep(1.2)
        assert _sign_in(client, PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_too(client: Client, user: User) -> None:
    for i in range(5):
        _sign_in(client, f"guess-{i}", url="/admin/login/")
    _sign_in(client, PASSWORD, url="/admin/login/")
    assert not _signed_in(client)


def test_a_limit_of_zero_turns_throttling_off(client: Client, user: User) -> None:
    with override_settings(LOGIN_FAILURE_LIMIT=0):
        assert {_sign_in(client, f"guess-{i}").status_code for i in range(10)} == {200}
        assert _sign_in(client, PASSWORD).status_code == 302


def test_behind_a_proxy_the_last_forwarded_hop_is_the_address(client: Client, user: User) -> None:
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):

        def attempt(password: str, forwarded: str):
            return client.post(
                LOGIN,
                {"username": "mayor", "password": password},
                REMOTE_ADDR="10.0.0.2",  # the proxy
                HTTP_X_FORWARDED_FOR=forwarded,
                HTTP_X_FORWARDED_PROTO="https",
            )

        for i in range(5):
            attempt(f"guess-{i}", f"1.1.1.{i}, 203.0.113.7")  # a forged first hop changes nothing
        assert attempt(PASSWORD, "9.9.9.9, 203.0.113.7").status_code == 429
        assert attempt(PASSWORD, "203.0.113.8").status_code == 302
