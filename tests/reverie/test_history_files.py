"""History files (`call -- load history <file.csv>`): what they may look like, and
the bad ones that are refused whole, with the file and line named, before any model call."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from reverie import services
from reverie.models import MemoryNode
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_world import GOOD

BASE = "base_the_ville_isabella_maria_klaus"
pytestmark = pytest.mark.django_db


class NoModel:
    """A gateway that fails the test if a refused file gets as far as the model."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a refused history file reached the model (gateway.{name})")


def _model() -> Any:
    """A scripted model that answers the whisper prompts."""
    return routed_gateway(GOOD)  # type: ignore[arg-type]


@pytest.fixture
def sim() -> Any:
    return services.fork(BASE, "hist", gateway=_model())


def _planted(sim: Any) -> Any:
    """The memories a history file planted: all but the starting relationships the fork remembers."""
    starting = r"^[^:]+ knows [^:]+: "  # services.relationship_text
    return MemoryNode.objects.filter(persona__simulation=sim).exclude(description__regex=starting)


def _memories(sim: Any) -> int:
    return _planted(sim).count()


def _refused(sim: Any, path: Path, match: str) -> str:
    with pytest.raises(services.HistoryFileError, match=match) as info:
        services.load_history(sim, str(path), gateway=NoModel())
    assert _memories(sim) == 0
    message = str(info.value)
    assert "\n" not in message
    return message


GOOD_ROWS = "Name,Whisper\nMaria Lopez,likes physics; has a midterm\nKlaus Mueller,writes a paper\n"


def test_a_plain_file_loads(sim: Any, tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text(GOOD_ROWS, encoding="utf-8")
    assert services.load_history(sim, str(path), gateway=_model()) == 3
    assert _memories(sim) == 3


@pytest.mark.parametrize(
    "raw",
    [
        b"\xef\xbb\xbf" + GOOD_ROWS.encode(),  # a byte-order mark, as Excel's "CSV UTF-8" writes
        GOOD_ROWS.replace("\n", "\r\n").encode(),  # Windows line endings
        b"\xef\xbb\xbf" + GOOD_ROWS.replace("\n", "\r\n").encode(),  # both
    ],
    ids=["bom", "crlf", "bom-crlf"],
)
def test_a_byte_order_mark_and_windows_line_endings_are_accepted(sim: Any, tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(raw)
    assert services.load_history(sim, str(path), gateway=_model()) == 3
    stored = list(_planted(sim).values_list("description", flat=True))
    assert sorted(stored) == ["has a midterm", "likes physics", "writes a paper"]
    assert not any("\r" in d or "\ufeff" in d for d in stored)


def test_an_empty_whisper_names_its_line_and_loads_nothing(sim: Any, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"\xef\xbb\xbfName,Whisper\r\nMaria Lopez,likes physics\r\nKlaus Mueller,\r\n")
    _refused(sim, path, r"empty\.csv:3: expected")


def test_line_numbers_count_lines_inside_quoted_cells(sim: Any, tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text('Name,Whisper\nMaria Lopez,"likes physics;\nhas a midterm"\n\nBob,hello\n', encoding="utf-8")
    message = _refused(sim, path, "Bob")
    assert message.startswith(f"{path}:5: 'Bob' is not in simulation 'hist'")


def test_an_unknown_persona_names_its_line(sim: Any, tmp_path: Path) -> None:
    path = tmp_path / "stranger.csv"
    path.write_text("Name,Whisper\nMaria Lopez,likes physics\nBob,hello\n", encoding="utf-8")
    message = _refused(sim, path, "Bob")
    assert message == (
        f"{path}:3: 'Bob' is not in simulation 'hist'; personas: Isabella Rodriguez, Klaus Mueller, Maria Lopez"
    )


def test_several_unknown_personas_are_each_named_with_their_line(sim: Any, tmp_path: Path) -> None:
    path = tmp_path / "strangers.csv"
    path.write_text("Name,Whisper\r\nBob,hello\r\nMaria Lopez,likes physics\r\nEve,hi\r\n", encoding="utf-8")
    message = _refused(sim, path, "Eve")
    assert message.startswith(f"{path}:2: 'Bob'; {path}:4: 'Eve' are not in simulation 'hist'")


def test_a_missing_header_and_a_header_after_a_bom(sim: Any, tmp_path: Path) -> None:
    path = tmp_path / "noheader.csv"
    path.write_bytes(b"\xef\xbb\xbfMaria Lopez,likes physics\r\n")
    _refused(sim, path, r"noheader\.csv:1: the header must be Name,Whisper")


def test_a_file_that_is_not_utf8_is_refused_in_one_line(sim: Any, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("Name,Whisper\nMaria Lopez,caf\xe9 au lait\n".encode("latin-1"))
    _refused(sim, path, "is not UTF-8 text")


def test_a_file_over_the_size_limit_is_refused_without_reading_it(
    sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.write(GOOD_ROWS.encode())
        f.truncate(services.HISTORY_MAX_BYTES + 1)  # sparse: no 10 MB written to disk

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an oversized history file was opened")

    monkeypatch.setattr(Path, "open", never)
    monkeypatch.setattr(Path, "read_text", never)
    monkeypatch.setattr(Path, "read_bytes", never)
    message = _refused(sim, path, "over the 10 MB limit")
    assert repr(str(path)) in message


def test_the_limit_is_the_module_constant(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "small.csv"
    path.write_text(GOOD_ROWS, encoding="utf-8")
    monkeypatch.setattr(services, "HISTORY_MAX_BYTES", len(GOOD_ROWS) - 1)
    _refused(sim, path, f"is {len(GOOD_ROWS)} bytes, over the {len(GOOD_ROWS) - 1} bytes limit")
    monkeypatch.setattr(services, "HISTORY_MAX_BYTES", len(GOOD_ROWS))
    assert services.load_history(sim, str(path), gateway=_model()) == 3


def test_the_cli_refuses_a_bad_file_with_one_line_and_exit_status_1(tmp_path: Path, monkeypatch: Any) -> None:
    gateway = _model()  # the fork embeds the starting relationships through the shared gateway
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gateway)
    path = tmp_path / "stranger.csv"
    path.write_text("Name,Whisper\nMaria Lopez,likes physics\nBob,hello\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "reverie", "--fork", BASE, "--name", "hist-cli",
            "--command", f"call -- load history {path}", "--command", "fin",
            stdout=out, stderr=err,
        )  # fmt: skip
    assert exit_info.value.code == 1
    assert err.getvalue().splitlines() == [
        f"error: {path}:3: 'Bob' is not in simulation 'hist-cli'; "
        "personas: Isabella Rodriguez, Klaus Mueller, Maria Lopez"
    ]
    assert _memories(services.get_simulation("hist-cli")) == 0
