"""The evaluation results page (/sim/<sim>/eval/): what `manage.py reverie_eval` stored.

- the page: each measure's latest result beside the paper's figures, with charts
  (diffusion over time from every stored diffusion result, the relationship graphs at
  step 0 and now, the attendance table, the believability standings);
- a result's interviews: each question, answer and verdict, linked to its traces;
- one interview's traces: the model calls tagged with its item (answer, summary, judge).

Read-only GETs; the results are written by reverie.eval_services. These URL patterns
are included under "sim/<str:sim>/eval/" by environment/smallville/urls.py.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from environment import charts
from environment.llmlog.models import LLMCall
from reverie import eval_services, services
from reverie.evaluation import network
from reverie.models import EvalResult, Simulation

MAX_INTERVIEWS_SHOWN = 2000


def _sim(name: str) -> Simulation:
    try:
        return services.get_simulation(name)
    except services.SimulationError:
        raise Http404(_("There is no simulation with that name.")) from None


def _result(sim: Simulation, pk: int) -> EvalResult:
    found = EvalResult.objects.filter(simulation=sim, pk=pk).first()
    if found is None:
        raise Http404(_("There is no evaluation result with that number for this simulation."))
    return found


def _graphs(result: EvalResult) -> list[dict[str, Any]]:
    s = result.summary or {}
    names = list(s.get("names", []))
    out = []
    for state, label in (("start", _("step 0")), ("now", _("now (step %(step)s)") % {"step": result.step})):
        if state in s:
            edges = [tuple(e) for e in s[state].get("edges", [])]
            title = _("Who knows whom, %(when)s") % {"when": label}
            out.append({"label": label, "density": s[state].get("density", 0.0), "edges": len(edges),
                        "svg": mark_safe(network.graph_svg(names, edges, title=title))})  # fmt: skip  # escaped
    return out


@require_GET
def page(request: HttpRequest, sim: str) -> HttpResponse:
    found = _sim(sim)
    latest = eval_services.latest(found)
    history = eval_services.diffusion_history(found)
    diffusion_chart = charts.line_chart(
        {sid: [(float(x), y) for x, y in points] for sid, points in history.items()},
        title=_("Agents aware of each seeded fact (interviews)"), x_label=_("step"), y_label=_("% aware"),
        y_bounds=(0.0, 100.0),
    )  # fmt: skip
    diffusion = latest.get("diffusion")
    if diffusion is not None and "repeated" in (diffusion.summary or {}):
        diffusion = None  # the newest is an average over forks, shown below
    relationships = latest.get("relationships")
    context = {
        "sim": found,
        "latest": latest,
        "diffusion": diffusion,
        "diffusion_chart": mark_safe(diffusion_chart),  # charts escape every text they draw
        "relationships": relationships,
        "graphs": _graphs(relationships) if relationships and "repeated" not in relationships.summary else [],
        "attendance": latest.get("attendance"),
        "believability": latest.get("believability"),
        "repeated": [r for r in latest.values() if "repeated" in (r.summary or {})],
        "results": EvalResult.objects.filter(simulation=found).order_by("-created", "-id")[:50],
    }
    return render(request, "smallville/eval.html", context)


@require_GET
def interviews(request: HttpRequest, sim: str, pk: int) -> HttpResponse:
    found = _sim(sim)
    result = _result(found, pk)
    persona = request.GET.get("persona") or None
    rows = [i for i in result.interviews if persona is None or i.get("persona") == persona]
    context = {
        "sim": found,
        "result": result,
        "rows": rows[:MAX_INTERVIEWS_SHOWN],
        "cut": len(rows) > MAX_INTERVIEWS_SHOWN,
        "persona": persona,
        "personas": sorted({i.get("persona", "") for i in result.interviews}),
    }
    return render(request, "smallville/eval_interviews.html", context)


@require_GET
def traces(request: HttpRequest, sim: str, pk: int, n: int) -> HttpResponse:
    found = _sim(sim)
    result = _result(found, pk)
    row = next((i for i in result.interviews if i.get("n") == n), None)
    if row is None:
        raise Http404(_("There is no interview with that number in this result."))
    calls = LLMCall.objects.filter(run=found.run_label, item=result.item(n)).order_by("created", "id")
    return render(request, "smallville/eval_traces.html", {"sim": found, "result": result, "row": row,
                                                            "calls": calls})  # fmt: skip


urlpatterns = [
    path("", page, name="sim_eval"),
    path("<int:pk>/", interviews, name="sim_eval_interviews"),
    path("<int:pk>/<int:n>/traces/", traces, name="sim_eval_traces"),
]
