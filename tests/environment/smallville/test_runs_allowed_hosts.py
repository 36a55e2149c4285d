"""`make run HOST=...` lets the browser in by the host it binds to (issue 13, section 9):
Django answered 400 DisallowedHost to a page opened by the machine's LAN address."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.http.request import validate_host

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _allowed(host: str, env: dict[str, str] | None = None) -> list[str]:
    """ALLOWED_HOSTS as `make run HOST=host` hands it to daphne (dry run: nothing starts)."""
    plan = subprocess.run(["make", "-n", "run", f"HOST={host}"], cwd=ROOT, capture_output=True, text=True, check=True)
    line = next(x for x in plan.stdout.splitlines() if "daphne" in x and "ALLOWED_HOSTS=" in x)
    assignment = line.split(" .venv/bin/daphne", 1)[0].split(" $(BIN)", 1)[0]
    shell = subprocess.run(
        ["sh", "-c", f'{assignment}; printf %s "$ALLOWED_HOSTS"'], capture_output=True, text=True, check=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )  # fmt: skip
    return shell.stdout.split(",")


def test_all_interfaces_allow_this_machines_addresses_and_name():
    addresses = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    name = subprocess.run(["hostname"], capture_output=True, text=True).stdout.strip()
    allowed = _allowed("0.0.0.0")
    assert validate_host("localhost", allowed) and validate_host("127.0.0.1", allowed)
    for address in [a for a in addresses if ":" not in a] + [name]:
        assert validate_host(address, allowed), (address, allowed)
    assert not validate_host("evil.example", allowed)


def test_a_named_host_is_allowed_and_the_environment_is_kept():
    allowed = _allowed("town.lan", {"ALLOWED_HOSTS": "example.org"})
    assert validate_host("town.lan", allowed) and validate_host("example.org", allowed)
    assert not validate_host("localhost", allowed)  # the environment's list replaces the defaults
