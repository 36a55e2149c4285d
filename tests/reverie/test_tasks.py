import pytest

from reverie import services, tasks
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_world import GOOD

pytestmark = pytest.mark.django_db


def test_the_advance_task_runs_and_commits_steps(monkeypatch):
    gw = routed_gateway(GOOD)
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gw)
    services.fork("base_the_ville_isabella_maria_klaus", "celery-1")
    result = tasks.advance.apply(args=("celery-1", 4)).get()
    assert result["simulation"] == "celery-1" and result["step"] == 4
    assert services.get_simulation("celery-1").movements.count() == 12


def test_the_advance_task_reports_a_missing_simulation():
    with pytest.raises(services.SimulationNotFound):
        tasks.advance.apply(args=("nope", 1)).get()
