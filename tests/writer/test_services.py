"""The writer's services on a real database with a scripted model: jobs, the history
tree, edits that reach the next step, branches, and what is refused."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.writer.engine.fakes import StoryScript, encoded, prompts_of, scripted_gateway
from writer import selectors, services
from writer.models import Job, MemoryEntry, Node, Passage, Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create_user("ann", password="pw")


@pytest.fixture
def gw():
    return scripted_gateway(StoryScript())


def run_all(project: Project, gw) -> list[Node | None]:
    """What the runner does, in this thread: every queued job, oldest first."""
    done = []
    while (job := services.next_job(project)) is not None:
        done.append(services.run_job(job, gw))
    project.refresh_from_db()
    return done


def started(user, gw, **kw) -> Project:
    project = services.create_project(user, novel_type="science fiction", topic="Aliens", start=False, **kw)
    run_all(project, gw)
    return project


def test_create_writes_the_opening_as_the_root_node(user, gw):
    project = started(user, gw)
    head = project.head
    assert head.kind == "init" and head.parent is None
    state = services.state_at(head)
    assert state.title == "The Glass Harbour"
    assert len(state.paragraphs) == 1 and state.plans
    assert Job.objects.get(project=project).state == "done"
    assert project.run_state == "paused"  # the runner pauses itself when no job is left


def test_a_step_saves_one_passage_and_one_entry_and_moves_the_head(user, gw):
    project = started(user, gw)
    root = project.head
    passages, entries = Passage.objects.count(), MemoryEntry.objects.count()
    plan = services.state_at(root).plans[0]
    services.enqueue_step(project, plan=plan, start=False)
    (node,) = run_all(project, gw)
    assert project.head == node and node.parent == root and node.plan == plan
    assert Passage.objects.count() == passages + 1 and MemoryEntry.objects.count() == entries + 1
    assert node.details["retrieved"] is not None and node.calls > 0 and node.tokens > 0
    # The state rebuilt from the database (cache cleared) is the one the engine returned.
    cached = services.state_at(node)
    services._states.clear()
    assert services.state_at(node) == cached
    assert services.state_at(node).long_term[-1].vector is not None


def test_old_paragraphs_are_never_embedded_again(user, gw):
    project = started(user, gw)
    for _ in range(3):
        services.enqueue_step(project, plan=services.state_at(project.head).plans[0], start=False)
        run_all(project, gw)
    services._states.clear()  # a restarted server: states come back from the database
    before = len(encoded(gw))
    services.enqueue_step(project, plan="Mara meets the keeper of the lights.", start=False)
    run_all(project, gw)
    new = encoded(gw)[before:]
    assert len(new) == 2  # the plan (the retrieval query) and the new paragraph's entry
    assert "Mara meets the keeper of the lights." in new


def test_an_edited_memory_reaches_the_next_step(user, gw):
    project = started(user, gw)
    services.edit_short_memory(project, "The keeper's name is Oskar Vell.")
    project.refresh_from_db()
    assert project.head.kind == "edit"
    services.enqueue_step(project, plan="Mara talks to the keeper.", start=False)
    run_all(project, gw)
    assert "Oskar Vell" in prompts_of(gw, "writer.paragraph")[-1]


def test_an_edited_paragraph_and_a_lorebook_entry_reach_the_next_step(user, gw):
    project = started(user, gw)
    services.edit_story_paragraph(project, 0, "Mara finds a brass compass that points to the drowned tower.")
    services.save_lore(project, {"name": "Drowned tower", "kind": "place", "text": "The tower sings at low tide.",
                                 "keywords": "tower"})  # fmt: skip
    services.enqueue_step(project, plan="Mara swims to the tower.", start=False)
    (node,) = run_all(project, gw)
    prompt = prompts_of(gw, "writer.paragraph")[-1]
    assert "brass compass" in prompt and "sings at low tide" in prompt
    assert [h["name"] for h in node.details["lore"]] == ["Drowned tower"]


def test_regenerate_makes_a_sibling_branch_and_goto_switches_back(user, gw):
    project = started(user, gw)
    root = project.head
    services.enqueue_step(project, plan="Mara opens the gate.", start=False)
    (first,) = run_all(project, gw)
    services.regenerate(project, start=False)
    (second,) = run_all(project, gw)
    assert second.parent == root and second.plan == first.plan and second != first
    assert project.head == second
    assert services.state_at(first).paragraphs[-1] != services.state_at(second).paragraphs[-1]
    services.goto(project, first.pk)
    project.refresh_from_db()
    assert project.head == first
    view = selectors.view(project)
    assert {n["id"] for n in view["tree"]} == {root.pk, first.pk, second.pk}
    compared = selectors.compare(project, first, second)
    assert compared["common"] == 1


def test_a_step_from_an_earlier_node_branches_without_touching_the_later_ones(user, gw):
    project = started(user, gw)
    root = project.head
    services.enqueue_step(project, plan="Mara opens the gate.", start=False)
    (a,) = run_all(project, gw)
    services.enqueue_step(project, plan="Mara turns back to the boat.", node=root, start=False)
    (b,) = run_all(project, gw)
    assert a.parent == b.parent == root
    assert services.state_at(a).paragraphs[:1] == services.state_at(b).paragraphs[:1]


def test_edits_and_new_steps_are_refused_while_a_step_is_queued(user, gw):
    project = started(user, gw)
    services.enqueue_step(project, plan="Mara opens the gate.", start=False)
    with pytest.raises(services.Busy, match="being written"):
        services.edit_short_memory(project, "anything")
    with pytest.raises(services.Busy, match="already being written"):
        services.enqueue_step(project, plan="another", start=False)
    assert services.cancel_jobs(project) == 1
    services.edit_short_memory(project, "Now it works.")


def test_a_cancelled_step_saves_nothing(user, gw):
    project = started(user, gw)
    nodes = Node.objects.count()
    job = services.enqueue_step(project, plan="Mara opens the gate.", start=False)
    job = services.next_job(project)
    Job.objects.filter(pk=job.pk).update(state="cancelling")
    assert services.run_job(job, gw) is None
    assert Node.objects.count() == nodes
    job.refresh_from_db()
    assert job.state == "cancelled"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"topic": ""}, "topic is empty"),
        ({"topic": "x" * 100_000}, "100,000 characters long"),
        ({"novel_type": "  "}, "novel type is empty"),
        ({"language": "fr"}, "language must be en or zh"),
    ],
)
def test_bad_project_fields_get_one_line(user, fields, message):
    base = {"novel_type": "fantasy", "topic": "Dragons"}
    with pytest.raises(services.WriterError, match=message):
        services.create_project(user, start=False, **{**base, **fields})
    assert not Project.objects.exists()


def test_another_users_project_is_not_found(user, gw):
    project = started(user, gw)
    other = get_user_model().objects.create_user("bob", password="pw")
    with pytest.raises(services.WriterError, match="no project"):
        services.get_project(other, project.pk)
    with pytest.raises(services.WriterError, match="no step"):
        services.goto(project, 10**9)


def test_after_an_edit_the_view_describes_the_step_it_was_made_on_in_the_pages_language(user, gw):
    from django.utils import translation

    project = started(user, gw)
    services.enqueue_step(project, plan="Mara opens the gate.", start=False)
    (step,) = run_all(project, gw)
    services.edit_story_paragraph(project, 1, "Mara opens the gate and a bell rings.")
    project.refresh_from_db()
    view = selectors.view(project)
    assert view["node"]["kind"] == "edit" and view["node"]["step"] == step.pk
    assert view["node"]["details"]["retrieved"] == selectors._details(step.details)["retrieved"]
    assert view["node"]["cost"]["tokens"] == step.tokens > 0
    assert view["node"]["label"] == "Edited paragraph 2"
    with translation.override("zh-hans"):
        assert selectors.view(project)["tree"][-1]["label"] == "编辑了第 2 段"


def test_a_model_that_answers_garbage_still_gives_a_usable_story_with_the_fallbacks_named(user):
    garbage = scripted_gateway(lambda payload: "}}} not json at all {{{")
    project = services.create_project(user, novel_type="fantasy", topic="Dragons", start=False)
    run_all(project, garbage)
    root = project.head
    assert root is not None and "writer.init" in root.details["fallbacks"]
    state = services.state_at(root)
    assert state.title and state.plans  # typed fallbacks, never an empty page
    services.enqueue_step(project, plan=state.plans[0], start=False)
    (node,) = run_all(project, garbage)
    assert node is not None and len(services.state_at(node).paragraphs) == 2
    assert set(node.details["fallbacks"]) >= {"writer.memory", "writer.plans"}
    assert selectors.view(project)["node"]["details"]["fallbacks"] == node.details["fallbacks"]


def test_the_celery_task_writes_the_queued_jobs(user, gw, monkeypatch):
    from writer.tasks import run

    monkeypatch.setattr("environment.gateway.get_gateway", lambda: gw)
    project = services.create_project(user, novel_type="fantasy", topic="Dragons", start=False)
    Project.objects.filter(pk=project.pk).update(run_state="playing")
    assert run(project.pk) == {"project": project.pk, "jobs": 1}
    project.refresh_from_db()
    assert project.head is not None and project.run_state == "paused"


def test_errors_reach_a_chinese_page_in_chinese(user):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(services.WriterError, match="主题是空的"):
        services.create_project(user, novel_type="奇幻", topic="  ", start=False)
