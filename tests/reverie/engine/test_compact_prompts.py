"""The compact preset's token savings (docs/benchmarks.md, "Smallville cost"), each proved
on the prompt the scripted model is shown, with `paper` keeping the original's prompt:
a short list of places, a one-line identity for ratings and decompositions, and one
action for adjacent identical subtasks."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from reverie.engine.config import AgentConfig
from reverie.engine.persona import ScheduleItem, Scratch
from reverie.engine.plan import PlaceOptions, choose_place, decompose_block, merge_repeats, shortlist_places
from reverie.engine.reflect import rate_poignancy
from tests.reverie.engine.fakes import routed_gateway
from tests.reverie.engine.test_persona import ISABELLA

WORKER = replace(ISABELLA, workplace="Hobbs Cafe")
HOME = "Isabella Rodriguez's apartment: main room"
KNOWN = [
    *(f"Oak Hill College Dorm: student {i}'s room" for i in range(12)),
    "Hobbs Cafe: cafe",
    "Hobbs Cafe: kitchen",
    "Isabella Rodriguez's apartment: kitchen",
    "Johnson Park: park",
    *(f"Willow Market: aisle {i}" for i in range(6)),
]
PLACES = PlaceOptions(world="the_ville", home=HOME, current="Oak Hill College Dorm: student 3's room",
                      arenas=KNOWN, objects={})  # fmt: skip


def _prompts(gw, purpose):
    return [t.prompt for t in gw.recorder.traces if t.purpose == purpose]


def _listed(prompt_text: str) -> list[str]:
    return prompt_text.split("knows: ")[1].split(".\n")[0].split("; ")


async def test_compact_lists_a_few_places_and_paper_every_place_known():
    activity = "taking a walk in the park"
    gw = routed_gateway({"Where?": '{"place": "Johnson Park: park"}'})
    await choose_place(gw, WORKER, activity, PLACES)
    listed = _listed(_prompts(gw, "plan.location")[0])
    assert len(listed) == 8
    # Where it is, home, the best fit for the activity and the workplace are all there.
    for place in (PLACES.current, HOME, "Johnson Park: park", "Hobbs Cafe: cafe", "Hobbs Cafe: kitchen"):
        assert place in listed
    assert "Willow Market: aisle 5" not in listed
    gw = routed_gateway({"Where?": '{"place": "Johnson Park: park"}'})
    await choose_place(gw, WORKER, activity, PLACES, config=AgentConfig.paper())
    assert len(_listed(_prompts(gw, "plan.location")[0])) == len(KNOWN) + 1  # + home (it is in one of them)


def test_the_shortlist_puts_the_places_an_activity_names_before_the_rest():
    options = list(dict.fromkeys([PLACES.current, HOME, *KNOWN]))
    picked = shortlist_places("buying groceries at the store", options, current=PLACES.current, home=HOME,
                              workplace="Hobbs Cafe", limit=5)  # fmt: skip
    assert picked[:2] == [PLACES.current, HOME]
    assert any(p.startswith("Willow Market") for p in picked) is False  # "store" names no known sector here
    picked = shortlist_places("shopping at Willow Market", options, current=PLACES.current, home=HOME,
                              workplace="Hobbs Cafe", limit=5)  # fmt: skip
    assert sum(p.startswith("Willow Market") for p in picked) == 3  # the three best fits
    assert len(picked) == 5


async def test_compact_rates_with_a_one_line_identity_and_paper_with_the_whole():
    for config, whole in ((AgentConfig.compact(), False), (AgentConfig.paper(), True)):
        gw = routed_gateway({"rate how poignant": '{"ratings": [5]}'})
        assert await rate_poignancy(gw, ISABELLA, ["Klaus is reading"], purpose="perceive.poignancy",
                                    config=config) == [5]  # fmt: skip
        [seen] = _prompts(gw, "perceive.poignancy")
        assert ISABELLA.currently in seen  # what matters to her now is always there
        assert ("Learned traits: " + ISABELLA.learned in seen) is whole
        assert ("Lifestyle:" in seen) is whole


async def test_compact_decomposes_with_a_one_line_identity_and_paper_with_the_whole():
    for config, whole in ((AgentConfig.compact(), False), (AgentConfig.paper(), True)):
        gw = routed_gateway({"2 to 8 subtasks": '{"subtasks": [{"activity": "baking bread", "minutes": 30}, '
                                                '{"activity": "serving coffee", "minutes": 30}]}'})  # fmt: skip
        scratch = Scratch(hourly_schedule=[ScheduleItem("sleeping", 420, 0), ScheduleItem("working", 1020, 420)])
        await decompose_block(gw, ISABELLA, scratch, 1, datetime(2023, 2, 13, 7, 0), config=config)
        [seen] = _prompts(gw, "plan.decompose")
        assert ISABELLA.currently in seen and "working" in seen
        assert ("Daily plan requirement: " + ISABELLA.daily_requirement in seen) is whole


async def test_adjacent_identical_subtasks_are_one_action():
    subtasks = [("baking bread", 20), ("Baking  bread", 20), ("serving coffee", 20), ("baking bread", 20)]
    gw = routed_gateway({"2 to 8 subtasks": json.dumps({"subtasks": [{"activity": a, "minutes": m}
                                                                     for a, m in subtasks]})})  # fmt: skip
    scratch = Scratch(hourly_schedule=[ScheduleItem("sleeping", 420, 0), ScheduleItem("working", 80, 420),
                                       ScheduleItem("sleeping", 940, 500)])  # fmt: skip
    done = await decompose_block(gw, ISABELLA, scratch, 1, datetime(2023, 2, 13, 7, 0))
    assert [(s.activity, s.minutes) for s in done] == [("baking bread", 40), ("serving coffee", 20),
                                                       ("baking bread", 20)]  # fmt: skip
    assert merge_repeats([]) == []
