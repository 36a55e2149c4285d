"""A Retroformer run's page (/training/<pk>/ of a "retro" run) in a real browser, at 1440x900
and on a phone (390x844): the trials, reflections and "improved" marks are there, and
with every trial's steps opened nothing scrolls sideways, even with long unbroken model
text. The run is written straight into the database (the rows are committed; the
server reads the same file). Screenshots go to /tmp (retro-run-*.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server
from tests.environment.training.retro_factories import PLAYS_RETRO, make_retro_run
from training.models import RiseItem

SHOTS = Path("/tmp")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
LONG_WORD = "https://example.org/" + "x" * 400  # no place to break: must wrap anyway
OPEN_ALL = "() => document.querySelectorAll('details').forEach((d) => { d.open = true; })"
WIDTHS = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def _long_text(run_pk: int) -> None:
    """Make one task's texts long and unbroken: a thought, an action, an observation, a reflection."""
    item = RiseItem.objects.filter(run_id=run_pk, problem_id="hotpotqa-t3").get()
    ep = item.episode
    step = ep["trials"][0]["steps"][0]
    step["thought"] = "I think " + LONG_WORD
    step["action"] = f"Search[{LONG_WORD}]"
    step["observation"] = ("A long page. " * 200) + LONG_WORD
    ep["reflections"][0] = "Diagnosis: " + LONG_WORD + "\nPlan: " + "read again " * 80
    ep["goal"] = "Question 3: " + LONG_WORD
    item.episode = ep
    item.save(update_fields=["episode"])


@pytest.mark.parametrize(("viewport", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_retro_run_page_shows_its_trials_and_never_scrolls_sideways(
    new_page: Any, server: Server, tmp_path: Path, viewport: dict[str, int], label: str
) -> None:
    run = make_retro_run(tmp_path, PLAYS_RETRO[:4], name="Retroformer on HotPotQA " + LONG_WORD[:60])
    _long_text(run.pk)
    context: dict[str, Any] = {"viewport": viewport}
    if label == "phone":
        context.update(is_mobile=True, has_touch=True)
    page = new_page(**context)
    page.goto(f"/training/{run.pk}/")
    assert page.locator("#trial-table tbody tr").count() == 3
    assert page.locator("#tasks > li").count() == 4
    task = page.locator('li[data-task="hotpotqa-t1"]')
    assert task.locator(".retro-trial").count() == 2
    assert "Reflection after trial 1" in task.locator(".reflection").text_content()
    assert task.locator('.next-trial[data-change="up"]').count() == 1
    assert page.locator("#chart").evaluate("(img) => img.complete && img.naturalWidth > 0")

    page.evaluate(OPEN_ALL)
    long_task = page.locator('li[data-task="hotpotqa-t3"]')
    assert long_task.locator(".retro-step").first.is_visible()
    scroll, client = page.evaluate(WIDTHS)
    assert scroll <= client, f"the page scrolls sideways at {label}: {scroll} > {client}"
    # The long texts wrap inside their task's box rather than running past it.
    box = long_task.bounding_box()
    assert box is not None and box["x"] + box["width"] <= client + 1
    page.screenshot(path=str(SHOTS / f"retro-run-{label}.png"), full_page=True)

    page.goto("/training/")
    assert page.locator(f'#runs a[href="/training/{run.pk}/"]').count() == 1
    scroll, client = page.evaluate(WIDTHS)
    assert scroll <= client, f"the run list scrolls sideways at {label}: {scroll} > {client}"
    assert not page.console_errors and not page.page_errors, (page.console_errors, page.page_errors)
