"""The writer's pages over HTTP: create, owner-only access, export in four formats,
and import of good and hostile project files."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.writer.engine.fakes import StoryScript, scripted_gateway
from writer import exchange, services
from writer.models import MemoryEntry, Node, Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def gw(monkeypatch):
    gateway = scripted_gateway(StoryScript())
    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gateway)
    return gateway


@pytest.fixture
def ann(client):
    user = get_user_model().objects.create_user("ann", password="pw")
    client.force_login(user)
    return user


def written(user, gw, steps: int = 2) -> Project:
    project = services.create_project(user, novel_type="fantasy", topic="A lighthouse <b>keeper</b>", start=False)
    while (job := services.next_job(project)) is not None:
        services.run_job(job, gw)
    for i in range(steps):
        services.enqueue_step(project, plan=f"Step {i}: the keeper climbs.", start=False)
        while (job := services.next_job(project)) is not None:
            services.run_job(job, gw)
    project.refresh_from_db()
    return project


def test_the_list_needs_a_sign_in(client):
    response = client.get("/writer/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_creating_a_project_queues_its_opening_and_opens_its_page(client, ann, monkeypatch):
    started = []
    monkeypatch.setattr("writer.runner.ensure_runner", started.append)
    response = client.post("/writer/new/", {"novel_type": "fantasy", "topic": "Dragons", "language": "en"})
    project = Project.objects.get(owner=ann)
    assert response.status_code == 302 and response["Location"] == f"/writer/{project.pk}/"
    assert started and project.jobs.get().kind == "init"
    page = client.get(f"/writer/{project.pk}/")
    assert page.status_code == 200 and f"/ws/writer/{project.pk}/" in page.content.decode()
    assert project.name in client.get("/writer/").content.decode()


def test_a_bad_form_keeps_the_values_and_says_why(client, ann):
    response = client.post("/writer/new/", {"novel_type": "fantasy", "topic": "x" * 100_000})
    assert response.status_code == 400
    assert "100,000 characters long" in response.content.decode()
    assert not Project.objects.exists()


def test_another_users_project_is_a_404_everywhere(client, ann, gw):
    project = written(get_user_model().objects.create_user("bob", password="pw"), gw, steps=0)
    for url in (f"/writer/{project.pk}/", f"/writer/{project.pk}/export/md/", f"/writer/{project.pk}/export/json/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/writer/{project.pk}/delete/").status_code == 404
    assert client.get(f"/read/{project.pk}/").status_code == 404  # not published
    Project.objects.filter(pk=project.pk).update(published=True)
    assert client.get(f"/read/{project.pk}/").status_code == 200


def test_exports_carry_the_story_of_the_head(client, ann, gw):
    project = written(ann, gw)
    state = services.state_at(project.head)
    md = client.get(f"/writer/{project.pk}/export/md/")
    assert md.status_code == 200 and md["Content-Disposition"].endswith('.md"')
    assert all(p.split(":")[0] in md.content.decode() for p in state.paragraphs)
    txt = client.get(f"/writer/{project.pk}/export/txt/").content.decode()
    assert state.title in txt and state.paragraphs[-1] in txt
    epub = client.get(f"/writer/{project.pk}/export/epub/")
    assert epub["Content-Type"] == "application/epub+zip"
    with zipfile.ZipFile(io.BytesIO(epub.content)) as book:
        assert book.read("mimetype") == b"application/epub+zip"
        chapters = " ".join(book.read(n).decode() for n in book.namelist() if n.endswith(".xhtml"))
    assert state.paragraphs[-1].split(":")[0] in chapters
    # An earlier step of the tree exports its own (shorter) story.
    root = Node.objects.get(project=project, parent=None)
    early = client.get(f"/writer/{project.pk}/export/txt/?node={root.pk}").content.decode()
    assert state.paragraphs[-1] not in early
    assert client.get(f"/writer/{project.pk}/export/pdf/").status_code == 404


def test_json_export_imports_back_as_a_new_project_with_its_tree_and_memories(client, ann, gw):
    project = written(ann, gw)
    services.regenerate(project, start=False)  # a branch
    while (job := services.next_job(project)) is not None:
        services.run_job(job, gw)
    project.refresh_from_db()
    exported = client.get(f"/writer/{project.pk}/export/json/")
    document = json.loads(exported.content)
    assert document["format"] == "recurrentgpt-project" and len(document["nodes"]) == 4
    upload = SimpleUploadedFile("story.json", exported.content, content_type="application/json")
    response = client.post("/writer/import/", {"file": upload})
    copy = Project.objects.exclude(pk=project.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/writer/{copy.pk}/"
    assert copy.name == f"{project.name} (2)"
    assert copy.nodes.count() == 4 and copy.nodes.filter(parent=None).count() == 1
    original, imported = services.state_at(project.head), services.state_at(copy.head)
    assert imported.paragraphs == original.paragraphs and imported.memory == original.memory
    assert [e.summary for e in imported.long_term] == [e.summary for e in original.long_term]
    # New entry ids (the original's still belong to it), the same vectors: nothing re-embedded.
    assert not {e.id for e in imported.long_term} & {e.id for e in original.long_term}
    assert all((a.vector == b.vector).all() for a, b in zip(imported.long_term, original.long_term, strict=True))
    assert MemoryEntry.objects.filter(project=copy).count() == MemoryEntry.objects.filter(project=project).count()
    # The imported project steps on like the original.
    services.enqueue_step(copy, plan="The keeper sails away.", start=False)
    while (job := services.next_job(copy)) is not None:
        services.run_job(job, gw)
    copy.refresh_from_db()
    assert len(services.state_at(copy.head).paragraphs) == len(original.paragraphs) + 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (json.dumps({"format": "recurrentgpt-project", "version": 99}).encode(), "version"),
        (json.dumps({"format": "something-else", "version": 1}).encode(), "format"),
        (json.dumps({"format": "recurrentgpt-project", "version": 1, "project": {"name": "x"}}).encode(), "missing"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
    ],
)
def test_a_bad_import_file_gets_one_line_and_creates_nothing(client, ann, content, message):
    response = client.post("/writer/import/", {"file": SimpleUploadedFile("x.json", content)})
    assert response.status_code == 400
    body = response.content.decode()
    assert "cannot be imported" in body and message in body
    assert not Project.objects.exists()


def test_html_in_an_imported_story_is_kept_as_text(client, ann, gw):
    project = written(ann, gw, steps=0)
    services.edit_story_paragraph(project, 0, "<script>alert(1)</script> The keeper waits.")
    document = services.export_document(project)
    upload = SimpleUploadedFile("x.json", exchange.dump_document(document))
    assert client.post("/writer/import/", {"file": upload}).status_code == 302
    copy = Project.objects.exclude(pk=project.pk).get()
    assert services.state_at(copy.head).paragraphs[0] == "<script>alert(1)</script> The keeper waits."
    page = client.get(f"/writer/{copy.pk}/").content.decode()
    assert "<script>alert(1)" not in page


def test_no_file_and_a_huge_file_are_refused(client, ann, monkeypatch):
    assert "Choose a project file" in client.post("/writer/import/").content.decode()
    monkeypatch.setattr(exchange, "MAX_UPLOAD_BYTES", 10)
    response = client.post("/writer/import/", {"file": SimpleUploadedFile("x.json", b"{" + b" " * 100 + b"}")})
    assert response.status_code == 400 and "at most" in response.content.decode()
