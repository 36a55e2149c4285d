"""Smallville pages and their JSON endpoints (docs/frontend_api.md).

Views look a simulation up by name in the database, ask reverie's selectors and
services, and present. No URL part is ever joined into a file path: bases are loaded
only by names listed from storage, compressed demos are files named by primary key,
and sprites are drawn from the name in memory.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import quote

from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from reverie import runner, selectors, services
from reverie.models import Persona, Simulation

SPEEDS = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16}  # speed setting -> multiple of 1x (one step per 0.5 s)
MAX_FRAMES = 500


def _sim(name: str) -> Simulation:
    """The simulation, read only: a GET never loads a base (only a fork, a POST, does)."""
    try:
        return services.get_simulation(name)
    except services.BaseNotLoaded:
        raise Http404(
            _("This base simulation is not loaded yet: run python manage.py prepare, or fork it from the home page.")
        ) from None
    except services.SimulationError:
        raise Http404(_("There is no simulation with that name.")) from None


def _check_persona(sim: Simulation, name: str) -> None:
    if not sim.personas.filter(name=name).exists():
        raise Http404(_("There is no persona with that name in this simulation."))


def _last_step(sim: Simulation) -> int:
    """The newest stored step (-1 before the first step)."""
    return sim.step - 1


def _q(name: str) -> str:
    return quote(name, safe="")


def _persona_cards(sim: Simulation) -> list[dict[str, str]]:
    return [
        {"name": name, "sheet": f"/sprites/{_q(name)}/sheet.png", "portrait": f"/sprites/{_q(name)}/portrait.png"}
        for name in sim.personas.values_list("name", flat=True)
    ]


def _can_control(request: HttpRequest) -> bool:
    return request.user.is_authenticated and request.user.has_perm("reverie.run_simulation")


def _i18n() -> dict[str, str]:
    """Every string the page scripts show, translated on the server."""
    return {
        "play": _("Play"), "pause": _("Pause"), "step": _("Step"), "playing": _("Playing"), "paused": _("Paused"),
        "follow": _("Follow"), "unfollow": _("Stop following"), "zoom_in": _("Zoom in"), "zoom_out": _("Zoom out"),
        "agents": _("Agents"), "now": _("Now"), "schedule": _("Today's schedule"), "memories": _("Recent memories"),
        "conversation": _("Conversation"), "no_conversation": _("Not talking to anyone."),
        "no_schedule": _("No plan for today yet."), "no_memories": _("No memories yet."),
        "connecting": _("Connecting…"), "connected": _("Live"), "disconnected": _("Disconnected; reconnecting…"),
        "step_label": _("Step"), "time_label": _("Game time"), "calls": _("model calls"), "tokens": _("tokens"),
        "error": _("Error"), "loading": _("Loading…"), "speed": _("Speed"), "panel": _("Panel"),
        "hide_panel": _("Hide panel"), "show_panel": _("Show panel"), "persona_state": _("Full state"),
        "end_of_replay": _("End of the stored steps."), "demo_missing": _("This simulation has no demo yet."),
        "sign_in_to_control": _("Sign in to play, pause or step this run."),
        "before_first_step": _("before the first step"), "chatting_with": _("Talking with"),
        "fit_map": _("Fit map"), "map_error": _("The map could not be loaded."), "no_agents": _("No agents."),
        "close": _("Close"), "not_here": _("Not in this step."), "no_action": _("No action yet."),
        "persona_load_error": _("Could not load this agent."), "request_failed": _("The request failed."),
        "minutes": _("min"), "poignancy": _("poignancy"), "buffering": _("Loading steps…"),
        "no_steps": _("No steps stored yet."), "frames_load_error": _("Could not load the stored steps."),
        "demo_load_error": _("Could not load the demo."), "bad_format": _("The demo file has an unknown format."),
        "waiting": _("Waiting for the model server"),
    }  # fmt: skip


def _boot(request: HttpRequest, sim: Simulation, page: str, **extra: Any) -> dict[str, Any]:
    name = _q(sim.name)
    return {
        "page": page,
        "sim": sim.name,
        "maze": sim.maze,
        "tile_size": 32,
        "map_url": static(f"towns/{sim.maze}/map.json"),
        "tileset_url": static(f"towns/{sim.maze}/tileset.png"),
        "personas": _persona_cards(sim),
        "last_step": _last_step(sim),
        "sec_per_step": sim.sec_per_step,
        "start_time": selectors.game_time(sim.start_time).isoformat(),
        "state": sim.run_state,
        "waiting_since": sim.waiting_since.isoformat() if sim.waiting_since else None,
        "waiting_reason": sim.waiting_reason or None,
        "can_control": _can_control(request) and not sim.is_base,
        "is_base": sim.is_base,
        "csrf_token": get_token(request),
        "urls": {
            "ws": f"/ws/sim/{name}/",
            "control": f"/simulator_home/{name}/control/",
            "persona": f"/api/sim/{name}/persona/__NAME__/",
            "frames": f"/api/sim/{name}/frames/",
            "demo": f"/api/sim/{name}/demo/",
            "persona_state": "/replay_persona_state/" + name + "/__STEP__/__NAME__/",
            "log": f"/sim/{name}/log/",
            "plots": f"/sim/{name}/plots/",
        },
        "speeds": SPEEDS,
        "i18n": _i18n(),
        **extra,
    }


# --- pages ----------------------------------------------------------------------------


@require_GET
def simulator_home(request: HttpRequest, sim: str | None = None) -> HttpResponse:
    if sim is None:
        # Your newest run; anyone else (or you, with no runs yet) gets the list to choose from.
        latest = selectors.newest_run_of(request.user)
        if latest is not None:
            return redirect("simulator_sim", sim=latest.name)
        sims = selectors.simulations_overview(request.user)
        context = {"sims": sims, "any_runs": any(not s["is_base"] for s in sims), "start": start_form(request)}
        return render(request, "smallville/choose.html", context)
    found = _sim(sim)
    frame = selectors.latest_frame(found)
    boot = _boot(request, found, "live", frame=frame, start_step=max(frame["step"], 0))
    context: dict[str, Any] = {"sim": found, "boot": boot}
    if found.is_base:
        context["start"] = start_form(request, source=found.name)
    return render(request, "smallville/live.html", context)


@require_GET
def replay(request: HttpRequest, sim: str, step: int) -> HttpResponse:
    found = _sim(sim)
    if not 0 <= step <= _last_step(found):
        raise Http404(_("That step is not stored for this simulation."))
    boot = _boot(request, found, "replay", frame=selectors.frame_at(found, step), start_step=step)
    return render(request, "smallville/replay.html", {"sim": found, "boot": boot})


@require_GET
def demo(request: HttpRequest, sim: str, step: int, speed: int) -> HttpResponse:
    from reverie.compress import demo_path

    found = _sim(sim)
    if speed not in SPEEDS:
        raise Http404(_("The demo speed must be 1 to 5."))
    if not demo_path(found).is_file():
        return _demo_page(request, found, status=404)
    if not 0 <= step <= max(_last_step(found), 0):
        raise Http404(_("That step is not stored for this simulation."))
    boot = _boot(request, found, "demo", frame=None, start_step=step, speed=speed)
    return render(request, "smallville/demo.html", {"sim": found, "boot": boot})


@require_GET
def persona_state(request: HttpRequest, sim: str, step: int, name: str) -> HttpResponse:
    found = _sim(sim)
    _check_persona(found, name)
    if not 0 <= step <= max(_last_step(found), 0):
        raise Http404(_("That step is not stored for this simulation."))
    state = selectors.persona_state(found, name, step)
    query = request.GET.get("q", "").strip()
    memories = state["memories"]
    if query:
        memories = [m for m in memories if query.lower() in m["description"].lower()]
    context = {
        "sim": found,
        "state": state,
        "memories": memories[:1000],
        "memory_total": len(state["memories"]),
        "shown_more": len(memories) > 1000,
        "query": query,
        "others": [p for p in found.personas.values_list("name", flat=True) if p != name],
        "preset": selectors.preset_of(found),
        "prev_step": step - 1 if step > 0 else None,
        "next_step": step + 1 if step < _last_step(found) else None,
    }
    return render(request, "smallville/persona_state.html", context)


# --- JSON ------------------------------------------------------------------------------


@require_GET
def api_sim(request: HttpRequest, sim: str) -> JsonResponse:
    found = _sim(sim)
    return JsonResponse(
        {
            "name": found.name,
            "maze": found.maze,
            "step": found.step,
            "time": selectors.game_time(found.current_time).isoformat(),
            "is_base": found.is_base,
            "preset": selectors.preset_of(found),
            "state": found.run_state,
            "error": found.run_error or None,
            "personas": list(found.personas.values_list("name", flat=True)),
        },
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
def api_frames(request: HttpRequest, sim: str) -> HttpResponse:
    found = _sim(sim)
    try:
        start = int(request.GET.get("from", 0))
        count = int(request.GET.get("count", 100))
    except ValueError:
        start, count = -1, 0
    if start < 0 or not 1 <= count <= MAX_FRAMES:
        return JsonResponse({"error": f"from must be a whole number >= 0 and count 1..{MAX_FRAMES}"}, status=400)
    return HttpResponse(selectors.frames_json(found, start, count), content_type="application/json")


@require_GET
def api_demo(request: HttpRequest, sim: str) -> HttpResponse:
    from reverie.compress import demo_path

    found = _sim(sim)
    path = demo_path(found)
    if not path.is_file():
        message = _("This simulation has no demo yet: run python manage.py compress_sim %(sim)s") % {"sim": found.name}
        return JsonResponse({"error": message}, status=404, json_dumps_params={"ensure_ascii": False})
    # The file is gzip already: the browser inflates it, the server never re-compresses.
    response = FileResponse(path.open("rb"), content_type="application/json")
    response["Content-Encoding"] = "gzip"
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def api_persona(request: HttpRequest, sim: str, name: str) -> JsonResponse:
    found = _sim(sim)
    _check_persona(found, name)
    return JsonResponse(selectors.persona_panel(found, name), json_dumps_params={"ensure_ascii": False})


@functools.lru_cache(maxsize=512)
def _sprite(name: str, kind: str) -> bytes:
    from reverie.town.art import sprites

    return sprites.sprite_sheet_png(name) if kind == "sheet" else sprites.portrait_png(name)


@require_GET
def sprite(request: HttpRequest, name: str, kind: str) -> HttpResponse:
    # Only the people of some simulation have sprites: any other name, path tricks
    # included, is a 404 (nothing is read from disk either way).
    if kind not in ("sheet", "portrait") or not Persona.objects.filter(name=name).exists():
        raise Http404("no such sprite")
    response = HttpResponse(_sprite(name, kind), content_type="image/png")
    # Drawn deterministically from the name: safe to cache for a day.
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- controls (signed-in users with permission; CSRF-protected POSTs) -------------------


def _forbidden(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=403)


@require_POST
def control(request: HttpRequest, sim: str) -> JsonResponse:
    found = _sim(sim)
    if not request.user.is_authenticated:
        return _forbidden(_("Sign in to control a simulation."))
    if not request.user.has_perm("reverie.run_simulation"):
        return _forbidden(_("Your account may not play, pause or step simulations."))
    try:
        found = runner.request(found, request.POST.get("action", ""))
    except services.SimulationError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({k: v for k, v in selectors.state_message(found).items() if k != "type"})


def _wants_json(request: HttpRequest) -> bool:
    """API clients ask for JSON (Accept: application/json); a browser's form post prefers HTML."""
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def _refused(request: HttpRequest, message: str, status: int, **fork: str) -> HttpResponse:
    """A refused form action: JSON for API clients, the home page with the message for forms."""
    if _wants_json(request):
        return JsonResponse({"error": message}, status=status, json_dumps_params={"ensure_ascii": False})
    from environment.views import render_home

    return render_home(request, form_error=message, status=status, fork=fork or None)


@require_POST
def fork(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("reverie.add_simulation"):
        return _refused(request, _("Your account may not fork simulations."), 403)
    source, name = request.POST.get("source", ""), request.POST.get("name", "")
    # An empty or absent preset keeps the source's config (a base: the default for the model).
    preset = request.POST.get("preset", "").strip() or None
    # Empty keeps the source's language (a base says its own in meta.yaml).
    language = request.POST.get("language", "").strip() or None
    kept = {"source": source, "name": name, "preset": preset or "", "language": language or ""}
    try:
        new = services.fork(source, name, preset=preset, owner=request.user, language=language)
    except services.SimulationNotFound:
        return _refused(request, _("There is no simulation with that name."), 404, **kept)
    except services.SimulationError as exc:
        return _refused(request, str(exc), 400, **kept)
    if _wants_json(request):
        url = reverse("simulator_sim", kwargs={"sim": new.name})
        return JsonResponse(
            {
                "name": new.name,
                "url": url,
                "preset": selectors.preset_of(new),
                "language": services.source_language(new),
            }
        )
    return redirect("simulator_sim", sim=new.name)


@require_POST
def delete(request: HttpRequest, sim: str) -> HttpResponse:
    if not request.user.has_perm("reverie.delete_simulation"):
        return _refused(request, _("Your account may not delete simulations."), 403)
    found = _sim(sim)
    try:
        services.delete(found)
    except services.SimulationError as exc:
        return _refused(request, str(exc), 400)
    if _wants_json(request):
        return JsonResponse({"deleted": found.name})
    return redirect("home")


# --- a run's story: conversations, timeline, plots ---------------------------------------


@require_GET
def log(request: HttpRequest, sim: str) -> HttpResponse:
    from reverie import analytics

    found = _sim(sim)
    persona = request.GET.get("persona") or None
    if persona is not None:
        _check_persona(found, persona)
    talks = analytics.conversations(found)
    if persona is not None:
        talks = [c for c in talks if persona in c.participants]
    spans = analytics.timeline(found, persona)
    context = {
        "sim": found,
        "conversations": talks,
        "timeline": sorted(spans.items()),
        "persona": persona,
        "personas": list(found.personas.values_list("name", flat=True)),
    }
    return render(request, "smallville/log.html", context)


@require_GET
def plots(request: HttpRequest, sim: str) -> HttpResponse:
    from django.utils.safestring import mark_safe

    from environment import charts
    from reverie import analytics

    found = _sim(sim)
    costs = analytics.calls_per_step(found)
    calls_chart = charts.bar_chart(
        {_("model calls"): [(c.step, c.calls) for c in costs]},
        title=_("Model calls per step"), x_label=_("step"), y_label=_("calls"),
    )  # fmt: skip
    tokens_chart = charts.bar_chart(
        {_("prompt tokens"): [(c.step, c.prompt_tokens) for c in costs],
         _("completion tokens"): [(c.step, c.completion_tokens) for c in costs]},
        title=_("Tokens per step"), x_label=_("step"), y_label=_("tokens"),
    )  # fmt: skip
    spread = analytics.diffusion(found)
    last = max(found.step - 1, 0)
    diffusion_chart = charts.line_chart(
        {d.scenario: [(float(s), float(n)) for s, n in d.points] + ([(float(last), float(d.points[-1][1]))]
                                                                   if d.points else []) for d in spread},
        title=_("How each seeded fact spreads"), x_label=_("step"), y_label=_("agents who know"), step=True,
    )  # fmt: skip
    context = {
        "sim": found,
        "calls_chart": mark_safe(calls_chart),  # charts escape every text they draw
        "tokens_chart": mark_safe(tokens_chart),
        "diffusion_chart": mark_safe(diffusion_chart),
        "diffusion": spread,
        "total_calls": sum(c.calls for c in costs),
        "total_tokens": sum(c.prompt_tokens + c.completion_tokens for c in costs),
        "steps": found.step,
    }
    return render(request, "smallville/plots.html", context)


# --- starting a run; making a run's demo ----------------------------------------------------


def _per_step_note(agents: int) -> str:
    """How long a step of an `agents`-agent town takes on the configured model, as far as
    the traces of earlier runs say; unmeasured, how many model calls its steps make
    (reverie.engine.cost, the measured rates of the default preset)."""
    from django.conf import settings

    from reverie.engine.cost import COSTS
    from reverie.services import default_preset

    measured = selectors.step_seconds(agents)
    model = settings.LLM_MODEL
    if measured is None:
        cost = COSTS.get(default_preset(), COSTS["paper"])
        return _(
            "time per step on %(model)s: not measured yet (it depends on the model); the first step makes about "
            "%(first)s model calls to plan every agent's day, then about %(hour)s calls per waking game hour"
        ) % {"model": model, "first": f"{cost.day_calls * agents:,.0f}", "hour": f"{cost.awake_calls * agents:,.0f}"}
    seconds, steps = measured
    return _("about %(seconds)s s per step on %(model)s (median of %(steps)s traced steps)") % {
        "seconds": f"{seconds:,.0f}" if seconds >= 10 else f"{seconds:.1f}",
        "model": model,
        "steps": steps,
    }


def start_form(
    request: HttpRequest, *, source: str | None = None, fork: dict[str, str] | None = None
) -> dict[str, Any]:
    """The "start a run" form: the towns to start from (bases first, the smallest town
    selected), a free name for the new run, the presets, and whether this user may.

    `source` fixes the town (a base's own page); `fork` refills a refused form.
    """
    fork = fork or {}
    towns = []
    for row in Simulation.objects.annotate(agents=Count("personas")).order_by("-is_base", "agents", "name"):
        if source is not None and row.name != source:
            continue
        note = _per_step_note(row.agents) if row.is_base and row.agents > 3 else ""
        towns.append({"name": row.name, "agents": row.agents, "is_base": row.is_base, "note": note})
    chosen = fork.get("source") or source or next((t["name"] for t in towns if t["is_base"]), "")
    if not chosen and towns:
        chosen = towns[0]["name"]
    return {
        "towns": towns,
        "source": chosen,
        # A base's page names the run after the base; the home page's choice may change.
        "name": fork.get("name") or selectors.suggest_run_name(source or "my-town"),
        "preset": fork.get("preset", ""),
        "presets": selectors.fork_presets(),
        "language": fork.get("language", ""),
        "languages": [("en", "English"), ("zh", "中文")],
        "fixed": source is not None,
        "slow": [t for t in towns if t["note"]],
        "signed_in": request.user.is_authenticated,
        "allowed": request.user.has_perm("reverie.add_simulation"),
        "login_next": request.get_full_path(),
    }


def _demo_page(request: HttpRequest, sim: Simulation, *, status: int = 200, error: str = "") -> HttpResponse:
    """A run without a written demo: what is happening with its demo, and the button to make it."""
    from environment.templatetags.smallville import can_make_demo
    from reverie import tasks

    job = tasks.demo_job(sim)
    making = job is not None and job.get("state") == "running"
    failed = job.get("error", "") if job is not None and job.get("state") == "failed" else ""
    context = {
        "sim": sim,
        "making": making,
        "error": error or failed,
        "can_make": can_make_demo(request.user) and sim.step > 0,
        "no_steps": sim.step == 0,
    }
    return render(request, "smallville/demo_make.html", context, status=status)


@require_POST
def make_demo(request: HttpRequest, sim: str) -> HttpResponse:
    """Start writing the run's demo in the background, then wait for it on the demo page."""
    from environment.templatetags.smallville import can_make_demo
    from reverie import tasks

    found = _sim(sim)
    if not request.user.is_authenticated:
        return _forbidden(_("Sign in to make a demo."))
    if not can_make_demo(request.user):
        return _forbidden(_("Your account may not make demos."))
    if found.step == 0:
        message = _("This run has no stored steps yet: play or step it first.")
        if _wants_json(request):
            return JsonResponse({"error": message}, status=400, json_dumps_params={"ensure_ascii": False})
        return _demo_page(request, found, status=400, error=message)
    started = tasks.start_demo(found)
    url = reverse("sim_demo_status", kwargs={"sim": found.name})
    if _wants_json(request):
        return JsonResponse({"started": started, "status": url}, status=202)
    return redirect(url)


@require_GET
def demo_status(request: HttpRequest, sim: str) -> HttpResponse:
    """Where a demo job stands: the demo itself once written, else a page that reloads
    itself every two seconds (JSON for API clients: {"state": ..., "url": ...})."""
    from reverie import tasks
    from reverie.compress import demo_path

    found = _sim(sim)
    job = tasks.demo_job(found)
    state = job.get("state", "") if job is not None else ""
    if not state:
        state = "done" if demo_path(found).is_file() else "none"
    demo_url = reverse("demo", kwargs={"sim": found.name, "step": 0, "speed": 3})
    if _wants_json(request):
        body = {"state": state, "url": demo_url if state == "done" else None, "error": (job or {}).get("error")}
        return JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    if state == "done":
        return redirect(demo_url)
    return _demo_page(request, found)
