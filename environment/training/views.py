"""RISE results pages: every run, one run with its problems turn by turn, and starting
an evaluation from the page. Retroformer evaluations (kind "retro", stored in the same
models by `run_retroformer_eval`) are listed with them; a retro run's page
(training/retro_run.html) is drawn on the server: success by trial beside the paper's
figures, and each task's trials (Thought / Action / Observation), the reflection after
each failed one and whether the next trial's reward went up. Retro runs are started by
the command only: their page offers no action.

Who may see what: anyone, signed in or not, may view the runs, their metrics and their
problems. They are research results (benchmark problems and what a model answered), the
same numbers the commands write to metrics.json; nothing on them is a user's private
work, and a link to a run is meant to be shared. Starting a run spends the server's
compute, so it needs the permission `training.add_riserun` (superusers have it); a
POST without it is refused with 403, signed in or not.

Views validate and delegate (training.actions writes, training.selectors reads); the
run page draws its live parts from JSON (the boot data, `items.json`, the websocket
`/ws/training/<pk>/`), and every text a model wrote reaches the DOM as text only.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from environment import charts
from environment.training import i18n
from training import actions, runner, selectors
from training.models import RiseRun
from training.rise.rollout import RolloutSettingsError
from training.services import RiseError

PERMISSION = "training.add_riserun"
FORM_FIELDS = ("env", "model", "max_turns", "samples", "context_window", "limit", "name")


def can_start(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and request.user.has_perm(PERMISSION))


def _run(pk: int) -> RiseRun:
    run = RiseRun.objects.filter(pk=pk).select_related("owner").first()
    if run is None:
        raise Http404(_("There is no run with that number."))
    return run


def accuracy_chart(accuracy: list[float], *, title: str, small: bool = False) -> str:
    """acc@t by turn as an SVG (environment.charts escapes every text it draws)."""
    series: dict[str, list[tuple[float, float]]] = {"acc@t": [(t + 1.0, 100 * a) for t, a in enumerate(accuracy)]}
    if small:
        return charts.line_chart(series, title=title, x_label=_("turn"), y_label="%", width=240, height=150)
    return charts.line_chart(series, title=title, x_label=_("turn"), y_label=percent_right(), width=560, height=260)


def run_chart(metrics: dict[str, Any] | None, *, title: str) -> str:
    """acc@t, m1@t and p1@t by turn (the paper's accuracy-by-turn figure)."""
    series: dict[str, list[tuple[float, float]]] = {}
    for key, label in (("accuracy", "acc@t"), ("m1", "m1@t"), ("p1", "p1@t")):
        values = (metrics or {}).get(key) or []
        series[label] = [(t + 1, 100 * float(v)) for t, v in enumerate(values)]
    return charts.line_chart(series, title=title, x_label=_("turn"), y_label=percent_right(), width=640, height=280)


def success_chart(success: list[float], *, title: str, small: bool = False) -> str:
    """A Retroformer run's success by trial (won by trial k) as an SVG."""
    series: dict[str, list[tuple[float, float]]] = {_("success"): [(k + 1.0, 100 * v) for k, v in enumerate(success)]}
    width, height = (240, 150) if small else (560, 260)
    return charts.line_chart(
        series, title=title, x_label=_("trial"), y_label=percent_won(), width=width, height=height, y_bounds=(0, 100)
    )


def percent_won() -> str:
    """The success chart's y label, "% won" (the "%" is a placeholder, as in percent_right)."""
    return _("%(percent)s won") % {"percent": "%"}


def percent_right() -> str:
    """The charts' y label, "% right" (the "%" is a placeholder: a bare "% r" in a msgid
    reads as a Python format to gettext's tools)."""
    return _("%(percent)s right") % {"percent": "%"}


def percent(value: float) -> str:
    """0.4 -> "40.0%"; the ends without a decimal ("0%", "100%"), as the run page shows them."""
    return f"{100 * value:.0f}%" if value in (0, 1) else f"{100 * value:.1f}%"


def _list_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    runs = selectors.run_list()
    for row in runs:
        row["kind_label"] = i18n.kind_label(row["kind"])
        row["headline_shown"] = [(name, percent(value)) for name, value in row["headline"].items()]
        # Finished runs only: a running one has no metrics yet ("no data yet" in a tiny box is noise).
        if row["success"]:
            row["chart"] = mark_safe(success_chart(row["success"], title=_("success by trial"), small=True))
        elif row["accuracy"]:
            row["chart"] = mark_safe(accuracy_chart(row["accuracy"], title=_("accuracy by turn"), small=True))
        else:
            row["chart"] = ""
    form = actions.form_defaults()
    form.update(extra.pop("form", {}))
    from training.envs import ENV_NAMES

    boot = {"runs_url": reverse("rise_runs_json"), "strings": i18n.list_strings()}
    return {"runs": runs, "form": form, "envs": ENV_NAMES, "can_start": can_start(request), "boot": boot,
            "max_turns": actions.MAX_TURNS, "max_samples": actions.MAX_SAMPLES, **extra}  # fmt: skip


@require_http_methods(["GET", "HEAD", "POST"])
def rise_home(request: HttpRequest) -> HttpResponse:
    """GET: every run and (for permitted users) the form. POST: start an evaluation."""
    if request.method != "POST":
        return render(request, "training/list.html", _list_context(request))
    if not can_start(request):
        return HttpResponseForbidden(_("Starting a run needs the permission to add RISE runs."))
    form = {k: str(request.POST.get(k, "")) for k in FORM_FIELDS}
    try:
        run = actions.start_eval(request.user, form)
    except (RiseError, RolloutSettingsError) as exc:
        # The reason is the engine's one line (English, as the commands print it); the
        # sentence around it is the page's.
        error = _("The evaluation was not started: %(why)s") % {"why": str(exc).splitlines()[0]}
        context = _list_context(request, form=form, error=error)
        return render(request, "training/list.html", context, status=400)
    runner.ensure_runner(run)
    return redirect("rise_run", run.pk)


@require_GET
def runs_json(request: HttpRequest) -> JsonResponse:
    """Status and progress of every run, which the list page polls while runs play."""
    return JsonResponse({"runs": selectors.run_progress()})


@require_GET
def run_page(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    if selectors.is_retro(run):
        return _retro_page(request, run)
    runner.resume(run)  # a page-started run left playing by a restarted server goes on
    detail = selectors.run_detail(run)
    detail["kind_label"] = i18n.kind_label(run.kind)
    if not run.data_path:
        detail["settings"]["data"] = _("the sample set")  # the selectors' English name of the env's own set
    boot = {
        "run": run.pk,
        "detail": detail,
        "page_size": selectors.PAGE_SIZE,
        "urls": {
            "ws": f"/ws/training/{run.pk}/",
            "items": reverse("rise_items", args=[run.pk]),
            "chart": reverse("rise_chart", args=[run.pk]),
        },
        "i18n": i18n.run_strings(),
    }
    return render(request, "training/run.html", {"run": run, "detail": detail, "boot": boot})


def reward_text(value: float) -> str:
    """1.0 -> "1", 0.5 -> "0.5", 2/3 -> "0.667": a trial's reward as short as it reads."""
    return f"{value:.3g}"


def _retro_page(request: HttpRequest, run: RiseRun) -> HttpResponse:
    """A Retroformer run: `?filter=first|after|never&page=n` picks the tasks shown."""
    detail = selectors.retro_detail(run)
    detail["kind_label"] = i18n.kind_label(run.kind)
    if not run.data_path:
        detail["settings"]["data"] = _("the sample set")
    for row in detail["table"]:
        row["success_shown"] = percent(row["success"]) if row["success"] is not None else "–"
    chosen = request.GET.get("filter") or None
    try:
        page = _int_param(request, "page", 1)
        if page is None or page < 1:
            raise selectors.SelectorError(_("page must be at least 1"))
        size = selectors.PAGE_SIZE
        tasks = selectors.retro_tasks(run, filter=chosen, offset=(page - 1) * size, limit=size)
    except selectors.SelectorError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    pages = max(1, -(-tasks["matching"] // size))
    for task in tasks["items"]:
        # The first observation is worth a box only when it says more than the goal
        # (ALFWorld's room, WebShop's page), not when it repeats the question.
        rest = " ".join(task["observation"].replace(task["goal"], " ").split())
        task["observation_shown"] = task["observation"] if len(rest) > 20 else ""
        for trial in task["trials"]:
            trial["reward_shown"] = reward_text(trial["reward"])
            if trial["next"]:
                trial["next"]["reward_shown"] = reward_text(trial["next"]["reward"])
    filters = [
        {"key": key, "label": label, "count": tasks["counts"].get(key or "all", 0), "current": key == chosen}
        for key, label in (
            (None, _("All")),
            ("first", _("Won at trial 1")),
            ("after", _("Won after reflecting")),
            ("never", _("Never won")),
        )
    ]
    context = {
        "run": run,
        "detail": detail,
        "tasks": tasks,
        "filters": filters,
        "filter": chosen,
        "page": page,
        "pages": pages,
        "first_number": tasks["offset"] + 1,
    }
    return render(request, "training/retro_run.html", context)


def _int_param(request: HttpRequest, name: str, default: int | None) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise selectors.SelectorError(
            _("%(name)s must be a whole number (got %(raw)s)") % {"name": name, "raw": repr(raw[:20])}
        ) from None


@require_GET
def items_json(request: HttpRequest, pk: int) -> JsonResponse:
    """`?filter=fixed|broke|never&turn=k&page=n` (page 1-based): one page of problems;
    for a Retroformer run `?filter=first|after|never&page=n`: one page of its tasks
    (selectors.retro_tasks)."""
    run = _run(pk)
    try:
        page = _int_param(request, "page", 1)
        if page is None or page < 1:
            raise selectors.SelectorError(_("page must be at least 1"))
        size = selectors.PAGE_SIZE
        if selectors.is_retro(run):
            data = selectors.retro_tasks(
                run, filter=request.GET.get("filter") or None, offset=(page - 1) * size, limit=size
            )
        else:
            turn = _int_param(request, "turn", None)
            data = selectors.run_items(
                run, filter=request.GET.get("filter") or None, turn=turn, offset=(page - 1) * size, limit=size
            )
    except selectors.SelectorError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    data["page"] = page
    data["pages"] = max(1, -(-data["matching"] // size))
    return JsonResponse(data)


@require_GET
def chart_svg(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's accuracy-by-turn chart (success by trial for a Retroformer run), drawn
    from its stored metrics."""
    run = _run(pk)
    if selectors.is_retro(run):
        metrics = selectors.retro_detail(run)["metrics"] or {}
        success = [float(v) for v in metrics.get("success") or [] if isinstance(v, int | float)]
        svg = success_chart(success, title=_("Success by trial"))
    else:
        svg = run_chart(selectors.run_detail(run)["metrics"], title=_("Accuracy by turn"))
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "no-cache"  # a running run's chart changes when it finishes
    return response
