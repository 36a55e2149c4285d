"""Fixtures shared by the runner tests (tests/reverie/test_runner*.py)."""

import pytest

from environment import gateway as shared_gateway
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_world import GOOD


@pytest.fixture
def scripted(monkeypatch):
    """The process gateway the runner thread picks up is a scripted one."""
    gw = routed_gateway(GOOD)
    monkeypatch.setattr(shared_gateway, "_gateway", gw)
    return gw
