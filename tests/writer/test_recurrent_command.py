"""`manage.py recurrent`: the original's unattended run, saved as a co-writing project.

A scripted model (tests/writer/engine/fakes.py) stands in for the gateway, through the
command's `open_gateway`; the last test runs the real bundled model (marker `model`).
"""

from __future__ import annotations

import io
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from llm.errors import RetryableError
from llm.retry import RetryPolicy
from tests.writer.engine.fakes import StoryScript, prompts_of, scripted_gateway
from writer import services
from writer.management.commands import recurrent
from writer.models import Job, Node, Project

pytestmark = pytest.mark.django_db

User = get_user_model()


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def script() -> StoryScript:
    return StoryScript()


@pytest.fixture
def gw(script, monkeypatch):
    gateway = scripted_gateway(script)
    gateway.retry = RetryPolicy(base_delay=0.0)
    opened: list[Any] = []

    def open_gateway(model):
        opened.append(model)
        return gateway

    monkeypatch.setattr(recurrent, "open_gateway", open_gateway)
    gateway.opened = opened  # type: ignore[attr-defined]
    return gateway


@pytest.fixture
def admin():
    return User.objects.create_superuser("admin", password="pw")


@pytest.fixture
def outfile(tmp_path: Path) -> Path:
    return tmp_path / "response.txt"


def run(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("recurrent", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return Run(code, out.getvalue(), err.getvalue())


def base_args(outfile: Path, iterations: int = 3) -> list[str]:
    return ["--iteration", str(iterations), "--topic", "Aliens", "--type", "science-fiction", "--outfile", str(outfile)]


def chain(project: Project) -> list[Node]:
    """The nodes from the head back to the root, root first."""
    nodes, node = [], project.head
    while node is not None:
        nodes.append(node)
        node = node.parent
    return nodes[::-1]


def test_three_iterations_make_a_project_of_the_only_superuser(gw, admin, outfile):
    result = run(*base_args(outfile))
    assert result.code == 0, result.err
    assert result.err == ""
    project = Project.objects.get()
    assert project.owner == admin and project.novel_type == "science-fiction" and project.topic == "Aliens"
    nodes = chain(project)
    assert [n.kind for n in nodes] == ["init", "step", "step", "step"]
    assert Node.objects.filter(project=project).count() == 4
    assert [j.kind for j in Job.objects.filter(project=project)] == ["init", "auto", "auto", "auto"]
    assert set(Job.objects.values_list("state", flat=True)) == {"done"}
    state = services.state_at(project.head)
    assert len(state.paragraphs) == 4 and state.steps == 3
    # Each step followed the simulator's choice (the second plan) and says why.
    for node in nodes[1:]:
        offered = node.parent.state["plans"]
        assert node.plan == offered[1]
        assert node.details["choice"]["reason"] == "It raises the stakes."
        assert node.calls > 0 and node.tokens > 0
    assert result.out.count("why: It raises the stakes.") == 3
    assert "step 3/3: plan 2 of 3: " in result.out
    # The story file: the title, then every paragraph.
    story = outfile.read_text(encoding="utf-8")
    assert story.startswith("The Glass Harbour\n=================\n")
    for paragraph in state.paragraphs:
        assert paragraph in story
    assert f"open it at /writer/{project.pk}/" in result.out
    assert "wrote 3 of 3 step(s)" in result.out


def test_refine_and_expand_are_saved_in_the_step(gw, admin, outfile):
    result = run(*base_args(outfile, 1), "--refine", "--expand")
    assert result.code == 0, result.err
    project = Project.objects.get()
    node = project.head
    assert node.kind == "step" and node.plan == "Mara opens the bronze gate at midnight."
    assert node.details["refined"] == node.plan and node.details["choice"]["plan"] != node.plan
    assert node.details["expanded"] is True
    paragraph = services.state_at(node).paragraphs[-1]
    assert paragraph.startswith("Mara swims toward the lights below, slowly")
    assert "refined: Mara opens the bronze gate at midnight." in result.out and "words (expanded)" in result.out
    assert paragraph in outfile.read_text(encoding="utf-8")


def test_project_names_a_new_project_and_then_continues_it(gw, admin, outfile):
    first = run(*base_args(outfile, 1), "--project", "My book")
    assert first.code == 0, first.err
    project = Project.objects.get()
    assert project.name == "My book" and Node.objects.filter(project=project).count() == 2
    head = project.head

    again = run("--iteration", "2", "--project", "My book", "--outfile", str(outfile))
    assert again.code == 0, again.err
    assert Project.objects.count() == 1
    project.refresh_from_db()
    assert Node.objects.filter(project=project).count() == 4
    assert [n.kind for n in chain(project)] == ["init", "step", "step", "step"]
    assert chain(project)[1] == head  # grown from the old head
    assert "continuing 'My book'" in again.out
    story = outfile.read_text(encoding="utf-8")
    for paragraph in services.state_at(project.head).paragraphs:
        assert paragraph in story


def test_continuing_with_another_language_or_preset_is_refused(gw, admin, outfile):
    assert run(*base_args(outfile, 1), "--project", "My book").code == 0
    nodes = Node.objects.count()
    with pytest.raises(CommandError, match=r"^project 'My book' is written in en \(English\), not zh: leave"):
        call_command("recurrent", "--project", "My book", "--language", "zh", "--outfile", str(outfile))
    with pytest.raises(CommandError, match="uses the compact preset, not paper"):
        call_command("recurrent", "--project", "My book", "--preset", "paper", "--outfile", str(outfile))
    assert Node.objects.count() == nodes


def test_init_prompt_lorebook_is_in_the_state_and_fires_on_its_keyword(gw, admin, outfile, tmp_path):
    prompt_file = tmp_path / "init.json"
    prompt_file.write_text(json.dumps({
        "topic": "A sunken city that is still lit",
        "type": "fantasy",
        "premise": "Told by the harbour master, years later.",
        "lorebook": [
            {"name": "Harbour keeper", "kind": "character", "text": "Oskar Vell keeps the lights burning.",
             "keywords": ["Mara"]},
            {"name": "Dragon", "kind": "fact", "text": "Dragons sleep under the ice.", "keywords": "dragon, wyrm"},
        ],
    }), encoding="utf-8")  # fmt: skip
    result = run("--iteration", "1", "--init_prompt", str(prompt_file), "--outfile", str(outfile))
    assert result.code == 0, result.err
    project = Project.objects.get()
    assert project.topic == "A sunken city that is still lit" and project.novel_type == "fantasy"
    assert project.premise == "Told by the harbour master, years later."
    assert "Told by the harbour master" in prompts_of(gw, "writer.init")[0]
    lore = services.state_at(project.head).lore
    assert [e.name for e in lore] == ["Harbour keeper", "Dragon"]
    assert lore[1].keywords == ("dragon", "wyrm")
    # "Mara" is in every paragraph: the keeper enters the step's prompt; the dragon does not.
    step_prompt = prompts_of(gw, "writer.paragraph")[-1]
    assert "Oskar Vell keeps the lights burning." in step_prompt
    assert "Dragons sleep under the ice." not in step_prompt
    assert [h["name"] for h in project.head.details["lore"]] == ["Harbour keeper"]


def test_the_originals_init_prompt_file_is_accepted(gw, admin, outfile, tmp_path):
    prompt_file = tmp_path / "init_prompt.json"
    prompt_file.write_text(json.dumps({"init_prompt": "Please write a {type} novel about {topic} ..."}))
    result = run(*base_args(outfile, 1), "--init_prompt", str(prompt_file))
    assert result.code == 0, result.err
    assert 'the original\'s "init_prompt" template is not used' in result.out
    assert Project.objects.get().topic == "Aliens"


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "not_json": "{topic: Aliens}",
        "a_list": '["Aliens"]',
        "unknown_key": '{"topic": "Aliens", "genre": "sf"}',
        "bad_lore": '{"lorebook": [{"name": "Mara", "kind": "monster", "text": "A diver."}]}',
        "lore_not_list": '{"lorebook": {"name": "Mara"}}',
        "topic_number": '{"topic": 42}',
    }
    paths = {}
    for name, text in files.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(text, encoding="utf-8")
    paths["huge"] = tmp_path / "huge.json"
    paths["huge"].write_text(json.dumps({"premise": "x" * (3 << 20)}), encoding="utf-8")
    paths["missing"] = tmp_path / "missing.json"
    return paths


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--topic", ""], "the topic is empty: write a few words"),
        (["--topic", "x" * 100_000], "the topic is 100,000 characters long; keep it under 2,000"),
        (["--topic", "Aliens", "--type", " "], "the novel type is empty"),
        (["--topic", "Aliens", "--iteration", "0"], "--iteration must be at least 1, got 0"),
        (["--topic", "Aliens", "--language", "fr"], "language must be en or zh, not 'fr'"),
        (["--topic", "Aliens", "--preset", "huge"], "preset must be compact or paper, not 'huge'"),
        (["--type", "fantasy"], "a new project needs a topic"),
        (["--topic", "Aliens", "--owner", "nobody"], "there is no user 'nobody'"),
        (["--topic", "Aliens", "--init_prompt", "{missing}"], "missing.json: no such file"),
        (["--topic", "Aliens", "--init_prompt", "{not_json}"], "not_json.json: is not JSON: Expecting property"),
        (["--topic", "Aliens", "--init_prompt", "{a_list}"], "a_list.json: must hold a JSON object"),
        (["--topic", "Aliens", "--init_prompt", "{unknown_key}"], "unknown_key.json: unknown key 'genre'"),
        (["--topic", "Aliens", "--init_prompt", "{bad_lore}"], r"bad_lore.json: lorebook\[0\]: a lorebook entry's"),
        (["--topic", "Aliens", "--init_prompt", "{lore_not_list}"], '"lorebook" must be a list'),
        (["--topic", "Aliens", "--init_prompt", "{topic_number}"], '"topic" must be a string'),
        (["--topic", "Aliens", "--init_prompt", "{huge}"], "huge.json: is 3.0 MiB; an init prompt file is at most"),
        (["--topic", "Aliens", "--language", "zh", "--init_prompt", "{lang_en}"], "disagrees with"),
    ],
)
def test_bad_input_is_one_line_and_creates_nothing(gw, admin, outfile, tmp_path, args, message):
    files = _bad_files(tmp_path)
    files["lang_en"] = tmp_path / "lang_en.json"
    files["lang_en"].write_text('{"language": "en"}')
    args = [a.format(**{k: str(v) for k, v in files.items()}) if a.startswith("{") else a for a in args]
    with pytest.raises(CommandError, match=message) as info:
        call_command("recurrent", "--outfile", str(outfile), *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert "\n" not in str(info.value) and len(str(info.value)) < 300
    assert not Project.objects.exists() and not Job.objects.exists()
    assert list(User.objects.values_list("username", flat=True)) == ["admin"]
    assert gw.opened == [] and not outfile.exists()


def test_without_users_a_writer_user_is_created(gw, outfile):
    result = run(*base_args(outfile, 1))
    assert result.code == 0, result.err
    writer = User.objects.get()
    assert writer.username == "writer" and not writer.has_usable_password()
    assert Project.objects.get().owner == writer
    assert "manage.py changepassword writer" in result.out


def test_owner_must_be_named_when_it_is_not_obvious(gw, admin, outfile):
    User.objects.create_superuser("root", password="pw")
    with pytest.raises(CommandError, match="there are several superusers: name the owner with --owner USERNAME"):
        call_command("recurrent", *base_args(outfile, 1))
    ann = User.objects.create_user("ann", password="pw")
    result = run(*base_args(outfile, 1), "--owner", "ann")
    assert result.code == 0, result.err
    assert Project.objects.get().owner == ann


def test_ctrl_c_cancels_the_paragraph_in_flight_and_keeps_the_finished_steps(gw, script, admin, outfile):
    calls = []

    def paragraph(prompt: str) -> str:
        calls.append(prompt)
        if len(calls) == 2:  # the second step's paragraph: Ctrl-C while it streams
            os.kill(os.getpid(), signal.SIGINT)
        return f"Paragraph {len(calls)}: Mara swims toward the lights below, deeper and deeper."

    script.routes["writer.paragraph"] = paragraph
    result = run(*base_args(outfile, 3))
    assert result.code == 130
    project = Project.objects.get()
    assert [n.kind for n in chain(project)] == ["init", "step"]
    assert list(Job.objects.values_list("state", flat=True)) == ["done", "done", "cancelled"]
    assert "stopping: the paragraph being written is cancelled" in result.out
    assert "stopped after 1 of 3 step(s)" in result.out
    assert "continue with: manage.py recurrent --project 'science-fiction: Aliens' --iteration 2" in result.out
    assert "Paragraph 1:" in outfile.read_text() and "Paragraph 2:" not in outfile.read_text()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_ctrl_c_quits_at_once_and_drops_the_step_in_flight(gw, script, admin, outfile):
    calls = []
    remember = script.routes["writer.memory"]

    def memory(prompt: str) -> str:  # not streamed: the first Ctrl-C cannot cancel it
        calls.append(prompt)
        if len(calls) == 2:  # the first step's memory update
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # two signals before the handler runs would count as one
            os.kill(os.getpid(), signal.SIGINT)
        return remember(prompt)

    script.routes["writer.memory"] = memory
    result = run(*base_args(outfile, 3))
    assert result.code == 130
    project = Project.objects.get()
    assert [n.kind for n in chain(project)] == ["init"]
    assert list(Job.objects.values_list("state", flat=True)) == ["done", "cancelled"]
    assert "waiting for the model call in flight to finish" in result.out
    assert "continue with: manage.py recurrent --project 'science-fiction: Aliens' --iteration 3" in result.out


def _refuse_after(script: StoryScript, purpose: str, calls: int, failures: int) -> None:
    """`purpose` answers `calls` times, then the server refuses `failures` attempts."""
    original = script.routes[purpose]
    seen = []

    def reply(prompt: str) -> str:
        seen.append(prompt)
        if calls < len(seen) <= calls + failures:
            raise RetryableError("connection refused", kind="refused")
        return original(prompt) if callable(original) else original

    script.routes[purpose] = reply


def test_an_outage_is_waited_out(gw, script, admin, outfile):
    _refuse_after(script, "writer.choose", calls=1, failures=3)  # one call's three attempts
    result = run(*base_args(outfile, 2))
    assert result.code == 0, result.err
    assert "waiting for the model server: the server stopped accepting connections" in result.out
    assert "resumed: the model server answers again" in result.out
    project = Project.objects.get()
    assert [n.kind for n in chain(project)] == ["init", "step", "step"]
    assert project.waiting_since is None


def test_stop_on_outage_ends_with_one_error_line_and_keeps_the_finished_steps(gw, script, admin, outfile):
    _refuse_after(script, "writer.choose", calls=1, failures=100)
    result = run(*base_args(outfile, 3), "--stop-on-outage")
    assert result.code == 1
    errors = result.err.splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: the model server is down")
    assert "(--stop-on-outage)" in errors[0]
    project = Project.objects.get()
    assert [n.kind for n in chain(project)] == ["init", "step"]
    assert Job.objects.order_by("id").last().state == "failed"
    assert "continue with: manage.py recurrent --project" in result.out


def test_a_tty_gets_a_progress_bar(gw, admin, outfile):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    call_command("recurrent", *base_args(outfile, 2), stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert "2/2 steps" in text and "5 paragraphs" not in text and "3 paragraphs" in text
    assert " tokens" in text and " s/step" in text


@pytest.mark.model
@pytest.mark.django_db(transaction=True)  # the lease's heartbeat thread writes while the step runs
def test_one_step_on_the_bundled_model(admin, outfile, monkeypatch):
    """End to end on Gemma 3 270M and MiniLM with the compact preset."""
    from llm.factory import build_gateway
    from llm.tracing import MemoryRecorder

    gateway = build_gateway(
        "llama_cpp:bundled", embedding_model="sentence_transformers:bundled", recorder=MemoryRecorder(), timeout=120
    )
    monkeypatch.setattr(recurrent, "open_gateway", lambda model: gateway)
    try:
        result = run("--iteration", "1", "--topic", "Aliens land in a small fishing town", "--type",
                     "science fiction", "--preset", "compact", "--outfile", str(outfile))  # fmt: skip
    finally:
        gateway.close()
    assert result.code == 0, result.err
    print(result.out)
    calls = [(t.purpose, t.outcome.value, round(t.seconds, 1)) for t in gateway.recorder.traces if t.kind != "embed"]
    print("CALLS:", calls)
    story = outfile.read_text(encoding="utf-8")
    print(story)
    title, *paragraphs = story.strip().split("\n\n")
    assert title.splitlines()[1].startswith("=")  # the title, underlined
    assert paragraphs and sum(c.isalpha() for c in paragraphs[-1]) >= 2  # then paragraphs with words
    assert [n.kind for n in chain(Project.objects.get())] == ["init", "step"]
