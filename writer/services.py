"""Load a project's states, call the engine, save what it returns; no presentation.

Everything a page, the reader page, the runner or `manage.py recurrent` does to a
project goes through here:

- `create_project` checks the form and queues the opening ("init") job;
- `state_at(node)` rebuilds the full StoryState of any node of the history tree;
- `enqueue_step` / `cancel_jobs` ask the runner to write or stop (writer.runner);
- `run_job` is the runner's unit: it streams the paragraph to the project's viewers,
  saves the new node and moves the head, all or nothing;
- `edit_*` apply a writer's edit to the head as a new "edit" node (the old state stays
  in the history), refused while one of the writer's steps is being written;
- `goto` moves the head to any node (history, branches).

Bad input raises `WriterError` with one line that says what to do.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from llm.context import call_context
from writer.engine import (
    Cancelled,
    LoreEntry,
    StoryState,
    WriterConfig,
    choose_plan,
    edit_long_term,
    edit_memory,
    edit_paragraph,
    edit_plans,
    expand_paragraph,
    init,
    refine_plan,
    remove_lore,
    step,
    upsert_lore,
)
from writer.engine.memory import EntryIndex
from writer.engine.state import LORE_KINDS, LongTermEntry, new_id
from writer.models import Job, MemoryEntry, Node, Passage, Project, ReaderPath

NAME_MAX = 200
TYPE_MAX = 200
TOPIC_MAX = 2_000
PREMISE_MAX = 10_000
PLAN_MAX = 2_000
PARAGRAPH_MAX = 20_000
MEMORY_MAX = 20_000
LORE_TEXT_MAX = 5_000
LORE_WORDS_MAX = 50


class WriterError(ValueError):
    """A request the writer cannot carry out; the message says why, in one line."""


class Busy(WriterError):
    """One of the writer's steps is being written."""


# --- configuration ----------------------------------------------------------------------


def config_for(project: Project) -> WriterConfig:
    if project.preset == "paper":
        return WriterConfig.paper(language=project.language)
    return WriterConfig.compact(language=project.language)


def _clean(value: Any, field: str, limit: int, *, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise WriterError(_("the %(field)s is empty: write a few words") % {"field": field})
    if len(text) > limit:
        raise WriterError(
            _("the %(field)s is %(length)s characters long; keep it under %(limit)s")
            % {"field": field, "length": f"{len(text):,}", "limit": f"{limit:,}"}
        )
    return text


# --- projects ------------------------------------------------------------------------------


def projects_of(user: Any) -> Any:
    steps = Count("nodes", filter=Q(nodes__kind__in=("init", "step"), nodes__reader=None))
    return Project.objects.filter(owner=user).annotate(step_count=steps).order_by("-updated")


def get_project(user: Any, pk: Any) -> Project:
    """The user's project `pk`; WriterError for an unknown or foreign one (same message)."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise WriterError(_("there is no project %(pk)r") % {"pk": pk}) from None
    project = Project.objects.filter(pk=number, owner_id=getattr(user, "pk", None)).first()
    if project is None:
        raise WriterError(_("there is no project %(pk)s of yours") % {"pk": number})
    return project


def unique_name(owner: Any, name: str) -> str:
    base, n = name, 2
    while Project.objects.filter(owner=owner, name=name).exists():
        name = f"{base[: NAME_MAX - 6]} ({n})"
        n += 1
    return name


def create_project(
    owner: Any,
    *,
    novel_type: str,
    topic: str,
    premise: str = "",
    name: str = "",
    language: str = "en",
    preset: str = "compact",
    lore: Sequence[LoreEntry] = (),
    start: bool = True,
) -> Project:
    """A new project; its opening is queued as an "init" job (written in the background)."""
    novel_type = _clean(novel_type, _("novel type"), TYPE_MAX)
    topic = _clean(topic, _("topic"), TOPIC_MAX)
    premise = _clean(premise, _("premise"), PREMISE_MAX, required=False)
    name = _clean(name, _("name"), NAME_MAX, required=False) or f"{novel_type}: {topic}"[:NAME_MAX]
    if language not in ("en", "zh"):
        raise WriterError(f"language must be en or zh, not {language!r}")
    if preset not in ("compact", "paper"):
        raise WriterError(f"preset must be compact or paper, not {preset!r}")
    with transaction.atomic():
        project = Project.objects.create(
            owner=owner,
            name=unique_name(owner, name),
            novel_type=novel_type,
            topic=topic,
            premise=premise,
            language=language,
            preset=preset,
        )
        Job.objects.create(project=project, kind="init", options={"lore": [e.to_dict() for e in lore]})
    if start:
        _start_runner(project)
    return project


def delete_project(project: Project) -> None:
    project.delete()


# --- states --------------------------------------------------------------------------------

_STATE_CACHE_SIZE = 16
# Keyed by (id, created): SQLite may hand a deleted node's id to a new one.
_states: OrderedDict[tuple[int, Any], StoryState] = OrderedDict()
_states_lock = threading.Lock()


def _cache_state(node: Node, state: StoryState) -> None:
    key = (node.pk, node.created)
    with _states_lock:
        _states[key] = state
        _states.move_to_end(key)
        while len(_states) > _STATE_CACHE_SIZE:
            _states.popitem(last=False)


def _vector(raw: Any) -> np.ndarray | None:
    if raw is None:
        return None
    array = np.frombuffer(bytes(raw), dtype="<f4").astype(np.float32)
    array.flags.writeable = False
    return array


def _chunks(ids: Sequence[int], size: int = 900) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def state_at(node: Node) -> StoryState:
    """The full state of `node` (nodes never change, so states are cached by node id)."""
    with _states_lock:
        cached = _states.get((node.pk, node.created))
    if cached is not None:
        return cached
    light = node.state
    paragraph_ids = [int(i) for i in light.get("paragraphs", ())]
    entry_ids = [int(i) for i in light.get("long_term", ())]
    texts: dict[int, str] = {}
    for chunk in _chunks(paragraph_ids):
        texts.update(Passage.objects.filter(pk__in=chunk).values_list("pk", "text"))
    entries: dict[int, LongTermEntry] = {}
    for chunk in _chunks(entry_ids):
        for pk, paragraph, summary, text, vector in MemoryEntry.objects.filter(pk__in=chunk).values_list(
            "pk", "paragraph", "summary", "text", "vector"
        ):
            entries[pk] = LongTermEntry(id=pk, paragraph=paragraph, summary=summary, text=text, vector=_vector(vector))
    full = dict(light)
    full["paragraphs"] = [texts[i] for i in paragraph_ids]
    full["long_term"] = []
    state = StoryState.from_dict(full)
    state = replace(state, long_term=tuple(entries[i] for i in entry_ids))
    _cache_state(node, state)
    return state


def _passage_ids(project: Project, state: StoryState, parent: Node | None) -> list[int]:
    """Ids of the state's paragraphs: the parent's where the text is unchanged, new rows otherwise."""
    known: list[int] = []
    known_texts: Sequence[str] = ()
    if parent is not None:
        known = [int(i) for i in parent.state.get("paragraphs", ())]
        known_texts = state_at(parent).paragraphs
    ids: list[int] = []
    for i, text in enumerate(state.paragraphs):
        if i < len(known) and known_texts[i] == text:
            ids.append(known[i])
        else:
            ids.append(Passage.objects.create(project=project, text=text).pk)
    return ids


def _save_entries(project: Project, state: StoryState, parent: Node | None) -> None:
    known = set(int(i) for i in parent.state.get("long_term", ())) if parent is not None else set()
    new = [e for e in state.long_term if e.id not in known]
    MemoryEntry.objects.bulk_create(
        [
            MemoryEntry(
                id=e.id,
                project=project,
                paragraph=e.paragraph,
                summary=e.summary,
                text=e.text,
                vector=None if e.vector is None else np.asarray(e.vector, dtype="<f4").tobytes(),
            )
            for e in new
        ],
        ignore_conflicts=True,
    )


def light_state(state: StoryState, paragraph_ids: Sequence[int]) -> dict[str, Any]:
    light = state.to_dict(vectors=False)
    light["paragraphs"] = list(paragraph_ids)
    light["long_term"] = [e.id for e in state.long_term]
    return light


def save_node(
    project: Project,
    parent: Node | None,
    state: StoryState,
    *,
    kind: str,
    label: str = "",
    plan: str = "",
    details: dict[str, Any] | None = None,
    usage: dict[str, Any] | None = None,
    reader: ReaderPath | None = None,
) -> Node:
    """Store `state` as a child of `parent` (texts and entries written once)."""
    usage = usage or {}
    with transaction.atomic():
        ids = _passage_ids(project, state, parent)
        _save_entries(project, state, parent)
        node = Node.objects.create(
            project=project,
            parent=parent,
            reader=reader,
            kind=kind,
            label=label[:200],
            plan=plan,
            state=light_state(state, ids),
            details=details or {},
            paragraphs=len(state.paragraphs),
            calls=int(usage.get("calls", 0)),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            seconds=float(usage.get("seconds", 0.0)),
        )
    _cache_state(node, state)
    return node


def project_node(project: Project, node_id: Any, *, reader: ReaderPath | None = None) -> Node:
    """A node of the writer's tree (or of `reader`'s path); WriterError otherwise."""
    try:
        number = int(node_id)
    except (TypeError, ValueError):
        raise WriterError(_("there is no step %(node)r in this project") % {"node": node_id}) from None
    node = Node.objects.filter(pk=number, project=project).filter(Q(reader=None) | Q(reader=reader)).first()
    if node is None:
        raise WriterError(_("there is no step %(node)s in this project") % {"node": number})
    return node


# --- jobs: what the runner does ------------------------------------------------------------


def active_jobs(project: Project) -> Any:
    return Job.objects.filter(project=project, state__in=Job.ACTIVE)


def writer_busy(project: Project) -> Job | None:
    """The writer's own job being queued or written (readers' jobs do not block edits)."""
    return active_jobs(project).filter(reader=None).first()


def _start_runner(project: Project) -> None:
    from writer import runner

    Project.objects.filter(pk=project.pk).update(run_state="playing", run_until=None, run_error="")
    project.refresh_from_db()
    runner.ensure_runner(project)


def enqueue_step(
    project: Project,
    *,
    plan: str,
    node: Node | None = None,
    reader: ReaderPath | None = None,
    auto: bool = False,
    start: bool = True,
) -> Job:
    """Queue a step from `node` (default: the head) following `plan`; `auto` lets the
    human simulator choose the plan."""
    plan = "" if auto else _clean(plan, _("plan"), PLAN_MAX)
    if node is None:
        project.refresh_from_db(fields=["head"])  # another tab or the runner may have moved it
        node = project.head
    if node is None:
        raise WriterError(_("the story has not started yet: wait for its opening to be written"))
    with transaction.atomic():
        if reader is None and (busy := writer_busy(project)) is not None:
            raise Busy(
                _("a step is already being written (job %(job)s); stop it or wait for it to finish") % {"job": busy.pk}
            )
        if reader is not None and active_jobs(project).filter(reader=reader).exists():
            raise Busy(_("the story is still being written; wait for it to finish"))
        job = Job.objects.create(project=project, kind="auto" if auto else "step", node=node, plan=plan, reader=reader)
    if start:
        _start_runner(project)
    publish_job(project, job)
    return job


def cancel_jobs(project: Project, *, reader: ReaderPath | None = None) -> int:
    """Stop the writer's (or the reader's) queued and running jobs; returns how many."""
    jobs = active_jobs(project).filter(reader=reader)
    queued = list(jobs.filter(state="queued"))
    running = list(jobs.filter(state="running"))
    n = jobs.filter(state="queued").update(state="cancelled", finished=timezone.now())
    n += jobs.filter(state="running").update(state="cancelling")
    # Every tab hears of it: a queued job is gone, a running one is stopping.
    for job, state in [*((j, "cancelled") for j in queued), *((j, "cancelling") for j in running)]:
        job.state = state
        publish_job(project, job)
    return n


def next_job(project: Project) -> Job | None:
    """The oldest queued job, marked running; None (and the run paused) when none is left."""
    with transaction.atomic():
        job = Job.objects.filter(project=project, state="queued").order_by("id").first()
        if job is not None:
            Job.objects.filter(pk=job.pk).update(state="running")
            job.state = "running"
            return job
        # One conditional UPDATE: a job queued meanwhile keeps the run playing.
        Project.objects.filter(pk=project.pk, run_state="playing").exclude(
            jobs__state__in=("queued", "running")
        ).update(run_state="paused", run_until=None)
    return None


class _Stream:
    """Streamed pieces to the viewers (batched every 50 ms) and the cancel check; a caller
    (the CLI) may add its own stop check and get a copy of each piece."""

    def __init__(
        self,
        project: Project,
        job: Job,
        stop: Callable[[], bool] | None = None,
        forward: Callable[[str], None] | None = None,
    ) -> None:
        self.project, self.job = project, job
        self.stop, self.forward = stop, forward
        self.buffer: list[str] = []
        self.text: list[str] = []
        self.last_send = 0.0
        self.last_save = time.monotonic()
        self.last_check = 0.0
        self.cancelled = False
        self.first_piece: float | None = None
        self.started = time.monotonic()

    def on_piece(self, piece: str) -> None:
        if self.forward is not None:
            self.forward(piece)
        if self.first_piece is None:
            self.first_piece = time.monotonic() - self.started
        self.buffer.append(piece)
        self.text.append(piece)
        now = time.monotonic()
        if now - self.last_send >= 0.05:
            self.flush()
        if now - self.last_save >= 1.0:
            # A viewer who opens the page mid-paragraph catches up from the row.
            Job.objects.filter(pk=self.job.pk).update(text="".join(self.text))
            self.last_save = now

    def flush(self) -> None:
        if self.buffer:
            publish_piece(self.project, self.job, "".join(self.buffer))
            self.buffer = []
        self.last_send = time.monotonic()

    def restart(self) -> None:
        """A new text begins (an expansion after the paragraph, a retried unit)."""
        self.flush()
        self.text = []
        publish_piece(self.project, self.job, "", reset=True)

    def should_cancel(self) -> bool:
        if self.stop is not None and self.stop():
            self.cancelled = True
            return True
        now = time.monotonic()
        if now - self.last_check < 0.25:
            return self.cancelled
        self.last_check = now
        state = Job.objects.filter(pk=self.job.pk).values_list("state", flat=True).first()
        self.cancelled = state in (None, "cancelling", "cancelled")
        return self.cancelled


def _usage(gw: Any, run: str, before: Any) -> dict[str, Any]:
    after = gw.accounting.total(run)
    return {
        "calls": after.calls - before.calls,
        "prompt_tokens": after.prompt_tokens - before.prompt_tokens,
        "completion_tokens": after.completion_tokens - before.completion_tokens,
        "seconds": 0.0,
    }


def _retrieved_details(result: Any) -> dict[str, Any]:
    return {
        "retrieved": [
            {"id": r.entry.id, "paragraph": r.entry.paragraph, "summary": r.entry.summary, "score": round(r.score, 4)}
            for r in result.retrieved
        ],
        "lore": [
            {
                "id": h.entry.id,
                "name": h.entry.name,
                "kind": h.entry.kind,
                "trigger": h.trigger,
                "tokens": h.tokens,
                "included": h.included,
            }
            for h in result.lore
        ],
        "memory_added": list(result.memory_added),
        "memory_dropped": list(result.memory_dropped),
        "fallbacks": list(result.fallbacks),
    }


def run_job(
    job: Job,
    gw: Any,
    *,
    index: EntryIndex | None = None,
    stop: Callable[[], bool] | None = None,
    on_piece: Callable[[str], None] | None = None,
) -> Node | None:
    """Write `job` and save its node (None when it was cancelled: nothing is saved).

    An "auto" job lets the human simulator choose the plan, and with the job's options
    "refine" / "expand" also sharpen the plan and lengthen the paragraph (a stop during
    the expansion keeps the step as written). `stop` and `on_piece` are the caller's own
    stop check and piece observer (the CLI's Ctrl-C and progress bar)."""
    project = Project.objects.get(pk=job.project_id)
    config = config_for(project)
    stream = _Stream(project, job, stop, on_piece)
    run = f"writer:{project.pk}"
    started = time.monotonic()
    publish_job(project, job)
    before = gw.accounting.total(run)
    try:
        with call_context(run=run, item=f"job:{job.pk}"):
            if job.kind == "init":
                lore = [LoreEntry.from_dict(e) for e in job.options.get("lore", ())]
                result = init(
                    gw, novel_type=project.novel_type, topic=project.topic, premise=project.premise,
                    config=config, lore=lore, on_piece=stream.on_piece, cancel=stream.should_cancel,
                )  # fmt: skip
                state, parent, plan, kind = result.state, None, "", "init"
                details: dict[str, Any] = {"fallbacks": list(result.fallbacks)}
                label = state.title
            else:
                parent = job.node
                assert parent is not None
                before_state = state_at(parent)
                plan = job.plan
                choice = None
                if job.kind == "auto":
                    if stream.should_cancel():
                        raise Cancelled("")
                    choice = choose_plan(gw, before_state, config=config)
                    plan = choice.plan
                    if job.options.get("refine"):
                        plan = refine_plan(gw, before_state, choice.plan, config=config)
                step_result = step(gw, before_state, plan, config=config, index=index,
                                   on_piece=stream.on_piece, cancel=stream.should_cancel)  # fmt: skip
                state, kind, plan = step_result.state, "step", step_result.plan
                details = _retrieved_details(step_result)
                if choice is not None:
                    details["choice"] = {"index": choice.index, "reason": choice.reason, "fallback": choice.fallback,
                                         "plan": choice.plan}  # fmt: skip
                    if " ".join(plan.split()) != " ".join(choice.plan.split()):
                        details["refined"] = plan
                if job.options.get("expand"):
                    stream.restart()
                    try:
                        longer = expand_paragraph(gw, state, config=config, index=index,
                                                  on_piece=stream.on_piece, cancel=stream.should_cancel)  # fmt: skip
                    except Cancelled:
                        longer = state  # the step itself is finished: keep it as written
                    details["expanded"] = longer is not state
                    state = longer
                label = plan
    except Cancelled:
        stream.flush()
        finish_job(job, "cancelled")
        publish_job(project, job)
        return None
    stream.flush()
    usage = _usage(gw, run, before)
    usage["seconds"] = time.monotonic() - started
    details["first_piece_seconds"] = None if stream.first_piece is None else round(stream.first_piece, 3)
    with transaction.atomic():
        node = save_node(project, parent, state, kind=kind, label=label, plan=plan, details=details,
                         usage=usage, reader=job.reader)  # fmt: skip
        job.result = node
        finish_job(job, "done", result=node)
        if job.reader is not None:
            ReaderPath.objects.filter(pk=job.reader_id).update(node=node, updated=timezone.now())
        else:  # the writer's step (a regeneration too) is what every tab shows next
            Project.objects.filter(pk=project.pk).update(head=node, updated=timezone.now())
    project.refresh_from_db()
    publish_job(project, job)
    publish_view(project, job.reader)
    return node


def finish_job(job: Job, state: str, *, error: str = "", result: Node | None = None) -> None:
    job.state, job.error, job.finished = state, error[:2000], timezone.now()
    Job.objects.filter(pk=job.pk).update(state=state, error=job.error, finished=job.finished, result=result, text="")


def fail_job(job: Job, error: str) -> None:
    finish_job(job, "failed", error=error)
    publish_job(Project.objects.get(pk=job.project_id), job)


# --- the writer's moves on the head --------------------------------------------------------


def _head(project: Project) -> Node:
    project.refresh_from_db(fields=["head"])
    if project.head is None:
        raise WriterError(_("the story has not started yet: wait for its opening to be written"))
    return project.head


def _edit(
    project: Project, label: str, change: Callable[[StoryState], StoryState], *, code: str, arg: Any = None
) -> Node:
    """Apply `change` to the head as a new "edit" node. `label` is the English history
    label; `code` and `arg` let the pages show it in the reader's language."""
    if (busy := writer_busy(project)) is not None:
        raise Busy(
            _(
                "a step is being written (job %(job)s); your edit was not applied: "
                "stop the step or wait, then save again"
            )
            % {"job": busy.pk}
        )
    head = _head(project)
    before = state_at(head)
    try:
        state = change(before)
    except (IndexError, KeyError, ValueError) as exc:
        raise WriterError(str(exc).strip("'\"")) from None
    if state == before:
        return head
    node = save_node(project, head, state, kind="edit", label=label, plan=head.plan,
                     details={"edit": code, "arg": arg})  # fmt: skip
    Project.objects.filter(pk=project.pk).update(head=node, updated=timezone.now())
    project.refresh_from_db()
    publish_view(project)
    return node


def _gw(gateway: Any) -> Any:
    if gateway is not None:
        return gateway
    from environment.gateway import get_gateway

    return get_gateway()


def edit_story_paragraph(project: Project, number: int, text: str, *, gateway: Any = None) -> Node:
    text = _clean(text, _("paragraph"), PARAGRAPH_MAX)
    config = config_for(project)
    return _edit(project, f"Edited paragraph {number + 1}",
                 lambda s: edit_paragraph(_gw(gateway), s, number, text, config=config),
                 code="paragraph", arg=number + 1)  # fmt: skip


def edit_entry(project: Project, entry_id: int, *, summary: str, gateway: Any = None) -> Node:
    summary = _clean(summary, _("summary"), PARAGRAPH_MAX)
    return _edit(project, "Edited a long-term memory",
                 lambda s: edit_long_term(_gw(gateway), s, entry_id, summary=summary), code="entry")  # fmt: skip


def edit_short_memory(project: Project, memory: str) -> Node:
    memory = _clean(memory, _("short-term memory"), MEMORY_MAX, required=False)
    return _edit(project, "Edited the short-term memory", lambda s: edit_memory(s, memory), code="memory")


def edit_plan_list(project: Project, plans: Sequence[str]) -> Node:
    cleaned = [_clean(p, _("plan"), PLAN_MAX) for p in plans if isinstance(p, str) and p.strip()]
    if not cleaned:
        raise WriterError(_("keep at least one plan"))
    return _edit(project, "Edited the plans", lambda s: edit_plans(s, cleaned), code="plans")


def lore_entry(data: Any) -> LoreEntry:
    """A lorebook entry from a page's form fields; WriterError on bad input."""
    if not isinstance(data, dict):
        raise WriterError(_("a lorebook entry needs a name, a kind and a text"))
    name = _clean(data.get("name"), _("lorebook entry's name"), NAME_MAX)
    kind = data.get("kind") or "fact"
    if kind not in LORE_KINDS:
        raise WriterError(_("a lorebook entry's kind is one of %(kinds)s") % {"kinds": ", ".join(LORE_KINDS)})
    text = _clean(data.get("text"), _("lorebook entry's text"), LORE_TEXT_MAX)

    def words(value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
        out = tuple(w.strip()[:100] for w in items if isinstance(w, str) and w.strip())
        if len(out) > LORE_WORDS_MAX:
            raise WriterError(_("at most %(n)s keywords per lorebook entry") % {"n": LORE_WORDS_MAX})
        return out

    keywords = words(data.get("keywords")) or (name,)
    raw_id = data.get("id")
    entry_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) and raw_id > 0 else new_id()
    return LoreEntry(id=entry_id, name=name, kind=kind, text=text, keywords=keywords,  # type: ignore[arg-type]
                     aliases=words(data.get("aliases")))  # fmt: skip


def save_lore(project: Project, data: Any) -> Node:
    entry = lore_entry(data)
    return _edit(project, f"Lorebook: {entry.name}", lambda s: upsert_lore(s, entry), code="lore", arg=entry.name)


def delete_lore(project: Project, entry_id: int) -> Node:
    def change(state: StoryState) -> StoryState:
        if not any(e.id == entry_id for e in state.lore):
            raise KeyError("that lorebook entry is not in this version of the story")
        return remove_lore(state, entry_id)

    return _edit(project, "Removed a lorebook entry", change, code="lore_removed")


def goto(project: Project, node_id: Any) -> Node:
    node = project_node(project, node_id)
    Project.objects.filter(pk=project.pk).update(head=node, updated=timezone.now())
    project.refresh_from_db()
    publish_view(project)
    return node


def regenerate(project: Project, *, start: bool = True) -> Job:
    """Another candidate for the head's paragraph: the same plan from the head's parent
    (a sibling branch; the current one stays)."""
    head = _head(project)
    if head.kind == "edit":
        # Regenerate the paragraph the edits were made on: walk back to the step.
        while head.kind == "edit" and head.parent is not None:
            head = head.parent
    if head.parent is None or head.kind != "step":
        raise WriterError(_("only a written step can be regenerated; the opening cannot"))
    return enqueue_step(project, plan=head.plan, node=head.parent, start=start)


# --- totals ----------------------------------------------------------------------------------


def totals(project: Project) -> dict[str, Any]:
    row = Node.objects.filter(project=project).aggregate(
        calls=Sum("calls"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"),
        seconds=Sum("seconds"), steps=Count("id", filter=Q(kind__in=("init", "step"))), longest=Max("paragraphs"),
    )  # fmt: skip
    return {
        "calls": row["calls"] or 0,
        "tokens": (row["prompt"] or 0) + (row["completion"] or 0),
        "prompt_tokens": row["prompt"] or 0,
        "completion_tokens": row["completion"] or 0,
        "seconds": round(row["seconds"] or 0.0, 2),
        "steps": row["steps"] or 0,
    }


# --- publishing (the pages subscribe; see environment/writer/consumers.py) -----------------


def group_name(project_pk: int, reader_pk: int | None = None) -> str:
    return f"writer-{project_pk}" if reader_pk is None else f"writer-{project_pk}-read-{reader_pk}"


def _send(group: str, message: dict[str, Any]) -> None:
    from environment.publish import send

    with contextlib.suppress(Exception):  # a viewer's trouble never breaks a run
        send(group, message)


def publish_piece(project: Project, job: Job, text: str, *, reset: bool = False) -> None:
    _send(group_name(project.pk, job.reader_id), {"type": "writer.piece", "job": job.pk, "text": text, "reset": reset})


def publish_job(project: Project, job: Job) -> None:
    _send(group_name(project.pk, job.reader_id), {"type": "writer.job", "job": job.as_message()})


def publish_view(project: Project, reader: ReaderPath | None = None) -> None:
    _send(group_name(project.pk, reader.pk if reader else None), {"type": "writer.changed"})


# --- export and import (the file format is writer.exchange's) --------------------------------


def export_document(project: Project) -> dict[str, Any]:
    """The whole project, its history tree and memories, as an exchange document
    (readers' paths are theirs and stay out)."""
    from writer import exchange

    project.refresh_from_db()
    nodes = list(Node.objects.filter(project=project, reader=None).order_by("id"))
    paragraph_ids: set[int] = set()
    entry_ids: set[int] = set()
    for node in nodes:
        paragraph_ids.update(int(i) for i in node.state.get("paragraphs", ()))
        entry_ids.update(int(i) for i in node.state.get("long_term", ()))
    paragraphs = Passage.objects.filter(pk__in=paragraph_ids).order_by("pk").values_list("pk", "text")
    entries = [
        {"id": pk, "paragraph": paragraph, "summary": summary, "text": text, "vector": vector}
        for pk, paragraph, summary, text, vector in MemoryEntry.objects.filter(pk__in=entry_ids)
        .order_by("pk")
        .values_list("pk", "paragraph", "summary", "text", "vector")
    ]
    records = [
        {
            "key": n.pk,
            "parent": n.parent_id,
            "kind": n.kind,
            "label": n.label,
            "plan": n.plan,
            "state": n.state,
            "details": {
                **n.details,
                "cost": {"calls": n.calls, "prompt_tokens": n.prompt_tokens, "completion_tokens": n.completion_tokens},
            },
            "tokens": n.tokens,
            "seconds": n.seconds,
            "created": n.created,
        }
        for n in nodes
    ]
    info = {"name": project.name, "novel_type": project.novel_type, "topic": project.topic,
            "premise": project.premise, "language": project.language, "preset": project.preset,
            "published": project.published}  # fmt: skip
    head = project.head_id or (nodes[0].pk if nodes else 0)
    if not nodes:
        raise WriterError(_("the story has not started yet: there is nothing to export"))
    return exchange.build_document(info, paragraphs, entries, records, head)


def import_document(owner: Any, data: Any, *, gateway: Any = None) -> Project:
    """A new project of `owner` from an exchange document (dict, bytes or str), with its
    tree and memories. Vectors made by another embedding model are computed again here,
    once, so the project's steps never re-embed its past."""
    from writer import exchange

    doc = exchange.load_document(data) if isinstance(data, bytes | str) else exchange.parse_document(data)
    vectors = [e.vector for e in doc.entries.values() if e.vector is not None]
    dims = {v.shape[0] for v in vectors}
    need_embedding = [e for e in doc.entries.values() if e.vector is None]
    if doc.entries:
        gw = _gw(gateway)
        probe = gw.embed(["dimension probe"], purpose="writer.embed")[0]
        if dims and dims != {len(probe)}:
            need_embedding = list(doc.entries.values())  # another embedding model: its vectors are useless here
    fresh: dict[int, np.ndarray] = {}
    if need_embedding:
        gw = _gw(gateway)
        for i in range(0, len(need_embedding), 256):
            batch = need_embedding[i : i + 256]
            for entry, vector in zip(batch, gw.embed([e.embedded_text for e in batch], purpose="writer.embed"),
                                     strict=True):  # fmt: skip
                fresh[entry.id] = np.asarray(vector, dtype=np.float32)
    info = doc.project
    with transaction.atomic():
        project = Project.objects.create(
            owner=owner, name=unique_name(owner, info.name[:NAME_MAX] or "Imported story"),
            novel_type=info.novel_type[:TYPE_MAX], topic=info.topic, premise=info.premise,
            language=info.language, preset=info.preset, published=False,
        )  # fmt: skip
        paragraph_map: dict[int, int] = {}
        for doc_id, text in doc.paragraphs.items():
            paragraph_map[doc_id] = Passage.objects.create(project=project, text=text).pk
        entry_map = {doc_id: new_id() for doc_id in doc.entries}
        rows = []
        for doc_id, e in doc.entries.items():
            vector = fresh.get(doc_id, e.vector)
            raw = None if vector is None else np.asarray(vector, dtype="<f4").tobytes()
            rows.append(MemoryEntry(id=entry_map[doc_id], project=project, paragraph=e.paragraph,
                                    summary=e.summary, text=e.text, vector=raw))  # fmt: skip
        MemoryEntry.objects.bulk_create(rows, batch_size=500)
        node_map: dict[int, int] = {}
        for record in doc.nodes:  # parents before children
            raw_cost = record.details.get("cost")
            cost: dict[str, Any] = raw_cost if isinstance(raw_cost, dict) else {}
            light = doc.light_state(record.key, paragraph_map, entry_map)
            node = Node.objects.create(
                project=project, parent_id=None if record.parent is None else node_map[record.parent],
                kind=record.kind, label=record.label[:200], plan=record.plan, state=light,
                details={k: v for k, v in record.details.items() if k != "cost"},
                paragraphs=len(light["paragraphs"]), seconds=max(0.0, record.seconds),
                calls=_count(cost.get("calls")), prompt_tokens=_count(cost.get("prompt_tokens", record.tokens)),
                completion_tokens=_count(cost.get("completion_tokens")),
            )  # fmt: skip
            node_map[record.key] = node.pk
        Project.objects.filter(pk=project.pk).update(head_id=node_map[doc.head])
    project.refresh_from_db()
    return project


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31 else 0
