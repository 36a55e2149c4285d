"""The bundled model plans three different, personal days (issue 11: "agents are clones").

On the 3-agent base the tiny model used to copy each prompt's fixed example, so Isabella,
who runs Hobbs Cafe and is planning a party, planned a student's day like Maria and
Klaus. Under `compact` the examples are built from each persona's own data.
"""

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from reverie.engine.config import AgentConfig
from reverie.engine.persona import Identity, Scratch, identity_from_dict
from reverie.engine.plan import plan_day

BASE = Path(__file__).resolve().parents[3] / "storage/base/base_the_ville_isabella_maria_klaus/personas.yaml"


def base_identities() -> list[Identity]:
    people = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    return [identity_from_dict({**p, "living_area": f"the_ville:{p['home_sector']}:main room"}) for p in people]


@pytest.mark.model
async def test_the_three_personas_plan_different_personal_days_on_the_bundled_model():
    from llm.factory import build_gateway

    gw = build_gateway("llama_cpp:bundled", timeout=120)
    plans: dict[str, list[str]] = {}
    schedules: dict[str, list[str]] = {}
    try:
        for identity in base_identities():
            scratch = Scratch()
            await plan_day(gw, identity, scratch, datetime(2023, 2, 13, 0, 0), config=AgentConfig.compact())
            assert sum(i.minutes for i in scratch.hourly_schedule) == 24 * 60
            plans[identity.first_name] = scratch.daily_plan
            schedules[identity.first_name] = [i.activity for i in scratch.hourly_schedule]
        totals = {purpose: t for (_, purpose), t in gw.accounting.rows().items()}
    finally:
        gw.close()
    print(plans, {p: (t.calls, t.repairs, t.fallbacks) for p, t in totals.items()})
    assert totals["plan.daily"].fallbacks == 0  # the plans are the model's answers, not the routine fallback
    assert plans["Isabella"] != plans["Maria"] != plans["Klaus"] != plans["Isabella"]
    assert schedules["Isabella"] != schedules["Maria"] and schedules["Isabella"] != schedules["Klaus"]
    isabella = " ".join(plans["Isabella"]).lower()
    assert "cafe" in isabella or "party" in isabella
