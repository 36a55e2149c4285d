"""update_rows: one UPDATE per row, values prepared by their fields (JSON, datetimes)."""

from datetime import UTC, datetime

import pytest

from environment.bulk import update_rows
from reverie.models import MemoryNode, Persona, Simulation

pytestmark = pytest.mark.django_db

T0 = datetime(2023, 2, 13, 7, 0, tzinfo=UTC)
BOTH = [
    pytest.param("default", id="sqlite"),
    pytest.param("pg", marks=[pytest.mark.postgres, pytest.mark.django_db(databases=["default", "pg"])], id="postgres"),
]


def make_personas(db: str = "default") -> list[Persona]:
    sim = Simulation.objects.using(db).create(name="bulk", start_time=T0, current_time=T0)
    return [
        Persona.objects.using(db).create(simulation=sim, name=f"P{i}", identity={"name": f"P{i}"}) for i in range(3)
    ]


@pytest.mark.parametrize("db", BOTH)
def test_json_fields_round_trip_and_other_rows_and_fields_are_untouched(db: str):
    a, b, c = make_personas(db)
    a.scratch = {"tile": [3, 4], "plan": ["wake up", "café ☕"], "nested": {"n": None, "ok": True}}
    a.trigger = {"accumulated": 12.5}
    b.scratch = []  # any JSON value
    a.name = b.name = "not written"  # not among the fields
    assert update_rows([a, b], ["scratch", "trigger"]) == 2
    fresh = {p.pk: p for p in Persona.objects.using(db).all()}
    assert fresh[a.pk].scratch == a.scratch and fresh[a.pk].trigger == {"accumulated": 12.5}
    assert fresh[b.pk].scratch == [] and fresh[b.pk].trigger == {}
    assert fresh[c.pk].scratch == {} and fresh[a.pk].name == "P0" and fresh[b.pk].name == "P1"


@pytest.mark.parametrize("db", BOTH)
def test_datetimes_are_stored_as_the_database_expects(db: str):
    (persona, *_) = make_personas(db)
    node = MemoryNode.objects.using(db).create(
        persona=persona, node_id=1, data={"id": 1}, kind="event", description="d", created=T0, last_accessed=T0
    )
    later = datetime(2023, 2, 13, 9, 30, 15, tzinfo=UTC)
    node.last_accessed, node.data = later, {"id": 1, "seen": 2}
    update_rows([node], ["data", "last_accessed"])
    node.refresh_from_db()
    assert node.last_accessed == later and node.data == {"id": 1, "seen": 2}
    assert MemoryNode.objects.using(db).filter(last_accessed__gt=T0).count() == 1  # compares as a datetime, not as text


def test_nothing_to_write_and_unsaved_rows():
    assert update_rows([], ["scratch"]) == 0
    sim_persona = make_personas()[0]
    unsaved = Persona(simulation=sim_persona.simulation, name="new", identity={})
    with pytest.raises(ValueError, match="saved Persona rows of one database only"):
        update_rows([sim_persona, unsaved], ["scratch"])
