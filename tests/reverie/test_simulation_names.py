"""One rule for new simulation names (services.check_simulation_name), applied by the
service, the fork page/API and the CLI: a name must survive as a URL path segment."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from reverie import services
from reverie.models import Simulation

BASE = "base_the_ville_isabella_maria_klaus"

# (name, what the one-line message says)
REFUSED = [
    (".", "only dots"),
    ("..", "only dots"),
    ("...", "only dots"),
    (" .. ", "only dots"),  # stripped first
    ("a\x00b", "U+0000"),
    ("a\nb", "U+000A"),
    ("a\tb", "U+0009"),
    ("a\rb", "U+000D"),
    ("a\x7fb", "U+007F"),
    ("a\x85b", "U+0085"),  # C1 control (NEL)
    ("a\u200bb", "U+200B"),  # zero-width space: looks like "ab"
    ("a\u202eb", "U+202E"),  # right-to-left override: displays backwards
    ("a\u2028b", "U+2028"),  # line separator
    ("../escape", "no slashes"),
    ("a/b", "no slashes"),
    ("a\\b", "no slashes"),
    ("a?b", "no slashes, ?, # or %"),
    ("a#b", "no slashes, ?, # or %"),
    ("100%", "no slashes, ?, # or %"),
    ("", "cannot be empty"),
    ("   ", "cannot be empty"),
    ("x" * 201, "at most 200 characters"),
]


@pytest.mark.parametrize(("name", "says"), REFUSED, ids=[repr(n)[:20] for n, _ in REFUSED])
def test_the_rule_refuses_with_one_line(name: str, says: str) -> None:
    with pytest.raises(services.SimulationError, match=re.escape(says)) as info:
        services.check_simulation_name(name)
    assert "\n" not in str(info.value) and "\r" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("july1", "july1"),
        ("  july1 \t", "july1"),  # surrounding whitespace is trimmed, not refused
        ("Valentine's party 2", "Valentine's party 2"),
        (".hidden", ".hidden"),
        ("v1.2", "v1.2"),
        ("café-村", "café-村"),
        ("🎉 party", "🎉 party"),
        ("x" * 200, "x" * 200),
    ],
)
def test_the_rule_keeps_ordinary_names(name: str, kept: str) -> None:
    assert services.check_simulation_name(name) == kept


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "says"), REFUSED, ids=[repr(n)[:20] for n, _ in REFUSED])
def test_fork_refuses_and_makes_nothing(name: str, says: str) -> None:
    before = Simulation.objects.count()
    with pytest.raises(services.SimulationError, match=re.escape(says)):
        services.fork(BASE, name)
    assert Simulation.objects.count() == before  # the base itself, loaded by the lookup


@pytest.mark.django_db
def test_fork_uses_the_trimmed_name() -> None:
    assert services.fork(BASE, "  july1  ").name == "july1"
    with pytest.raises(services.SimulationExists):
        services.fork(BASE, "july1\n")  # trimmed to a name that is taken


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["..", "a\x00b", "a\nb", "a#b"])
def test_the_fork_view_answers_400_with_the_message(client, django_user_model, name: str) -> None:
    user = django_user_model.objects.create_user("mayor", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="add_simulation"))
    client.force_login(user)
    response = client.post("/sims/fork/", {"source": BASE, "name": name}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert "is not a usable simulation name" in error and "\n" not in error
    assert not Simulation.objects.filter(is_base=False).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["..", "a\x00b", "a\nb", "a?b"])
def test_the_cli_name_option_refuses_with_one_error_line(name: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("reverie", "--fork", BASE, "--name", name, "--command", "fin", stdout=out, stderr=err)
    assert exit_info.value.code == 1
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "is not a usable simulation name" in lines[0]
    assert not Simulation.objects.filter(is_base=False).exists()


@pytest.mark.django_db
def test_the_cli_prompt_asks_again_after_a_refused_name() -> None:
    stdin = io.StringIO(f"{BASE}\n..\nok-run\nfin\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("reverie", stdin=stdin, stdout=out, stderr=err)
    assert err.getvalue() == "error: '..' is not a usable simulation name: a name cannot be only dots\n"
    assert f"forked {BASE} into ok-run" in out.getvalue()
    assert list(Simulation.objects.filter(is_base=False).values_list("name", flat=True)) == ["ok-run"]
