"""The strings the RISE run page's script shows, translated for the request's language.

They travel in the page's `boot` JSON (as the writer's pages do), so the script holds no
English text of its own beyond a fallback (`EN` in static_dirs/js/training/run.js, the
same English as here). Placeholders are Python-format names (`%(n)s`): run.js fills them in.
The metric names (acc@t, m1@t, p1@t, m1@t1) stay as they are in every language.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


def run_strings() -> dict[str, str]:
    """Every string static_dirs/js/training/run.js shows (its English fallbacks match)."""
    return {
        # connection
        "connecting": _("Connecting…"),
        "live": _("Live"),
        "offline": _("Offline, reconnecting…"),
        "gone": _("This run no longer exists."),
        # the run (the keys of the statuses are training.models.RiseRun.status)
        "queued": _("queued"),
        "running": _("running"),
        "stopped": _("stopped"),
        "failed": _("failed"),
        "finished": _("finished"),
        "progress": _("%(done)s of %(total)s problems finished · %(turns)s turns played"),
        "waiting": _("Waiting for the model server"),
        "waiting_why": _("Waiting for the model server: %(why)s"),
        "no_metrics": _("The metrics appear when every problem is finished."),
        # filters and pages
        "all": _("All"),
        "never": _("Never right"),
        "fixed_at": _("Fixed at turn %(turn)s"),
        "broke_at": _("Broke at turn %(turn)s"),
        "no_items": _("No problems match this filter."),
        "loading": _("Loading…"),
        "load_failed": _("The problems could not be loaded: %(why)s"),
        "http_error": _("the server answered with an error"),
        "page": _("Page %(page)s of %(pages)s"),
        # one problem and its turns (the keys of the changes are training.selectors' `change`)
        "gold": _("Gold answer:"),
        "turn_n": _("Turn %(n)s"),
        "answer": _("Answer:"),
        "no_answer": _("no answer"),
        "right": _("right"),
        "wrong": _("wrong"),
        "unreadable": _("unreadable"),
        "fixed": _("fixed"),
        "broke": _("broke"),
        "still wrong": _("still wrong"),
        "same": _("same answer"),
        "show_text": _("What the model wrote"),
        "samples": _("kept from %(n)s samples"),
        "solved": _("solved"),
        "unsolved": _("not solved"),
        "unplayed": _("not played yet"),
    }


def kind_label(kind: str) -> str:
    """A run's kind ("eval", "gen", "retro") as the pages name it."""
    labels = {"eval": _("evaluation"), "gen": _("data generation"), "retro": _("Retroformer evaluation")}
    return labels.get(kind, kind)


def list_strings() -> dict[str, str]:
    """The run statuses static_dirs/js/training/list.js writes into the list as runs play."""
    return {key: value for key, value in run_strings().items() if key in STATUSES}


STATUSES = ("queued", "running", "stopped", "failed", "finished")
