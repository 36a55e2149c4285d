"""Template tags of the Smallville pages.

    {% load smallville %}{% demo_link sim %}

shows a simulation's "Demo" link when its compressed demo exists, else a "Make the
demo" button for a signed-in user who may run simulations (the demo is written by a
background job: reverie.tasks.start_demo), else nothing. `sim` is a Simulation or a row
of reverie.selectors.simulations_overview.
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def can_make_demo(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm("reverie.run_simulation"))


@register.inclusion_tag("smallville/_demo_link.html", takes_context=True)
def demo_link(context: template.Context, sim: Any, separator: str = "") -> dict[str, Any]:
    from reverie.compress import demo_path

    if isinstance(sim, dict):
        name, step, has_demo = sim["name"], sim["step"], sim["has_demo"]
    else:
        name, step, has_demo = sim.name, sim.step, demo_path(sim).is_file()
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "name": name,
        "has_demo": has_demo,
        "can_make": bool(step) and not has_demo and can_make_demo(user),
        "current": isinstance(context.get("boot"), dict) and context["boot"].get("page") == "demo",
        "separator": separator,
        "csrf_token": context.get("csrf_token"),
    }
