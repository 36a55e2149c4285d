"""The compressed demo form: only changes stored, lossless, written atomically, and its command."""

from __future__ import annotations

import gzip
import io
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reverie import compress, selectors, services
from reverie.models import Movement, Simulation

BASE = "base_the_ville_isabella_maria_klaus"
START = datetime(2023, 2, 13, 7, 0, 0)  # the base's start_time
STEPS = 40
CAFE = "the Ville:Hobbs Cafe:cafe:cafe counter"
LINES = [["Isabella Rodriguez", "Good morning, Klaus!"], ["Klaus Mueller", "Morning! A coffee, please."]]
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(settings: Any, tmp_path: Any) -> Any:
    settings.STORAGE_DIR = tmp_path  # never write into the real storage/ folder
    return tmp_path


def _row(sim: Simulation, step: int, name: str) -> Movement:
    """A deterministic little story with changes in position, action, emoji and chat."""
    chat = LINES if 20 <= step < 25 and name != "Maria Lopez" else None
    if name == "Isabella Rodriguez":
        x, y = min(10 + step, 14), 57  # walks for four steps, then stays
        emoji, action = ("😴", "waking up @ the Ville:Isabella Rodriguez's apartment:main room:bed")
        if step >= 10:
            emoji, action = "☕", f"brewing coffee @ {CAFE}"
    elif name == "Klaus Mueller":
        x, y = (50, 60) if step < 15 else (51, 60 + (step - 15) // 5)
        emoji, action = "📚", "reading @ the Ville:Oak Hill College Dorm:Klaus Mueller's room:desk"
    else:
        x, y = 70, 20
        emoji = "😴" if step < 30 else "💤"  # only the emoji changes
        action = "sleeping @ the Ville:Oak Hill College Dorm:Maria Lopez's room:bed"
    return Movement(simulation=sim, step=step, persona=name, x=x, y=y, emoji=emoji, description=action, chat=chat)


def make_sim(name: str = "compress-1", steps: int = STEPS, first: int = 0) -> Simulation:
    sim = services.fork(BASE, name)
    names = list(sim.personas.values_list("name", flat=True))
    Movement.objects.bulk_create([_row(sim, s, n) for s in range(first, steps) for n in names])
    sim.step = steps
    sim.save(update_fields=["step"])
    return sim


def frame_from_rows(sim: Simulation, step: int) -> dict[str, Any]:
    """The contract's frame built straight from the stored rows (what replay serves)."""
    agents = {}
    rows = {m.persona: m for m in Movement.objects.filter(simulation=sim, step=step)}
    for name in sim.personas.values_list("name", flat=True):
        m = rows[name]
        agents[name] = {"x": m.x, "y": m.y, "emoji": m.emoji, "action": m.description, "chat": m.chat}
    time = (START + timedelta(seconds=10 * step)).isoformat()
    return {"step": step, "time": time, "agents": agents}


def test_only_changes_are_stored():
    sim = make_sim()
    data = compress.compress(sim)
    assert {k: v for k, v in data.items() if k != "tracks"} == {
        "format": 1,
        "sim": "compress-1",
        "maze": "the_ville",
        "start_time": "2023-02-13T07:00:00",
        "sec_per_step": 10,
        "first_step": 0,
        "steps": STEPS,
        "personas": ["Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"],
    }
    isabella = data["tracks"]["Isabella Rodriguez"]
    assert isabella["pos"] == [[0, 10, 57], [1, 11, 57], [2, 12, 57], [3, 13, 57], [4, 14, 57]]
    assert isabella["act"] == [
        [0, "😴", "waking up @ the Ville:Isabella Rodriguez's apartment:main room:bed"],
        [10, "☕", f"brewing coffee @ {CAFE}"],
    ]
    assert isabella["chat"] == [[0, None], [20, LINES], [25, None]]
    maria = data["tracks"]["Maria Lopez"]
    assert maria["pos"] == [[0, 70, 20]]
    assert [e[:2] for e in maria["act"]] == [[0, "😴"], [30, "💤"]]
    assert maria["chat"] == [[0, None]]
    klaus = data["tracks"]["Klaus Mueller"]
    assert klaus["pos"] == [[0, 50, 60], [15, 51, 60], [20, 51, 61], [25, 51, 62], [30, 51, 63], [35, 51, 64]]
    rows = Movement.objects.filter(simulation=sim).count()
    entries = sum(len(v) for t in data["tracks"].values() for v in t.values())
    assert rows == 3 * STEPS and entries == 5 + 2 + 3 + 1 + 2 + 1 + 6 + 1 + 3


def test_expand_rebuilds_every_frame_exactly():
    sim = make_sim()
    data = json.loads(compress.encode(compress.compress(sim)))  # through JSON, as the browser gets it
    for step in range(STEPS):
        assert compress.expand(data, step) == frame_from_rows(sim, step), step
    assert selectors.frame_time(sim, 12).isoformat() == "2023-02-13T07:02:00"
    with pytest.raises(ValueError, match="outside"):
        compress.expand(data, STEPS)


def test_a_simulation_whose_stored_steps_start_later():
    sim = make_sim("late", steps=12, first=5)
    data = compress.compress(sim)
    assert data["first_step"] == 5 and data["steps"] == 7
    assert data["tracks"]["Isabella Rodriguez"]["pos"][0] == [5, 14, 57]
    for step in range(5, 12):
        assert compress.expand(data, step) == frame_from_rows(sim, step)
    with pytest.raises(ValueError):
        compress.expand(data, 4)


def test_written_file_is_gzip_json_named_by_database_primary_key_and_creation(storage):
    sim = make_sim()
    seen: list[tuple[int, int]] = []
    path = compress.write_compressed(sim, progress=lambda done, total: seen.append((done, total)))
    assert path == compress.demo_path(sim) and path.is_relative_to(storage / "compressed")
    assert path.name == f"{sim.pk}-{int(sim.created.timestamp() * 1000)}.json.gz"
    blob = path.read_bytes()
    assert blob[:2] == b"\x1f\x8b"  # gzip magic
    assert json.loads(gzip.decompress(blob).decode("utf-8")) == json.loads(compress.encode(compress.compress(sim)))
    assert "☕" in gzip.decompress(blob).decode("utf-8")  # ensure_ascii=False: emoji as UTF-8
    assert seen[-1] == (STEPS, STEPS) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert compress.load(sim)["steps"] == STEPS
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind
    assert path.stat().st_mode & 0o777 == 0o644  # readable by a web server running as another user
    again = compress.write_demo(sim)  # rewriting replaces the file in place
    assert again.path == path and again.gz_bytes == len(blob) and again.raw_bytes > again.gz_bytes


def test_the_command_reports_what_it_wrote(storage):
    sim = make_sim()
    out = io.StringIO()
    call_command("compress_sim", "compress-1", stdout=out)
    text = out.getvalue()
    assert str(compress.demo_path(sim)) in text
    assert "steps 0..39 (40 steps), 3 agents" in text
    assert "JSON ->" in text and "gzip" in text and " s" in text
    assert compress.demo_path(sim).is_file()


def test_the_command_errors_are_one_clear_line():
    with pytest.raises(CommandError, match=r"^no simulation named 'nope'"):
        call_command("compress_sim", "nope", stdout=io.StringIO())
    services.fork(BASE, "never-run")
    with pytest.raises(CommandError, match="'never-run' has no stored steps yet: run it first") as err:
        call_command("compress_sim", "never-run", stdout=io.StringIO())
    assert "\n" not in str(err.value) and "--resume never-run" in str(err.value)
    with pytest.raises(CommandError, match=f"reverie --fork {BASE} --name"):  # bases are forked, not resumed
        call_command("compress_sim", BASE, stdout=io.StringIO())


def test_demo_files_of_different_databases_or_deleted_runs_never_collide(storage):
    from reverie import services

    sim = make_sim()
    path = compress.write_compressed(sim)
    with override_settings_db_name("/elsewhere/other.sqlite3"):
        assert compress.demo_path(sim) != path  # the same id in another database
    services.delete(sim)
    assert not path.exists()  # deleting a run removes its demo


def override_settings_db_name(name):
    from contextlib import contextmanager

    from django.db import connections

    @contextmanager
    def swapped():
        settings_dict = connections["default"].settings_dict
        old = settings_dict["NAME"]
        settings_dict["NAME"] = name
        try:
            yield
        finally:
            settings_dict["NAME"] = old

    return swapped()
