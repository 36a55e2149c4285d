from dataclasses import asdict
from datetime import datetime

import pytest

from reverie.engine.persona import (
    Action,
    ChatState,
    Identity,
    ScheduleItem,
    Scratch,
    _encode,
    identity_from_dict,
    identity_to_dict,
    scratch_from_dict,
    scratch_to_dict,
)

ISABELLA = Identity(
    name="Isabella Rodriguez",
    age=34,
    innate="friendly, outgoing, hospitable",
    learned="Isabella runs Hobbs Cafe and loves making people feel welcome.",
    currently="planning a Valentine's Day party at the cafe on February 14th, 5pm to 7pm",
    lifestyle="goes to bed around 11pm, wakes up around 6am",
    living_area="the_ville:Isabella Rodriguez's apartment:main room",
    daily_requirement="open the cafe at 8am",
)


def test_identity_round_trip_and_summary():
    again = identity_from_dict(identity_to_dict(ISABELLA))
    assert again == ISABELLA and again.first_name == "Isabella"
    assert "Valentine's Day party" in ISABELLA.summary()


def test_identity_missing_fields_are_named():
    with pytest.raises(ValueError, match="lifestyle"):
        identity_from_dict({"name": "X", "age": 3, "innate": "", "learned": "", "currently": "", "living_area": ""})


def test_scratch_round_trip_keeps_everything():
    now = datetime(2023, 2, 13, 9, 30)
    s = Scratch(now=now, tile=(12, 40), wake_up_hour=6, daily_plan=["wake up at 6am", "open the cafe"])
    s.hourly_schedule = [ScheduleItem("sleeping", 360), ScheduleItem("morning routine", 60)]
    s.decomposed = {1: [ScheduleItem("brushing teeth", 5), ScheduleItem("making coffee", 10)]}
    s.action = Action(
        address="the_ville:Hobbs Cafe:cafe:counter",
        description="serving coffee",
        start=now,
        minutes=15,
        emoji="☕",
        event=("Isabella Rodriguez", "serve", "coffee"),
        object_event=("counter", "is", "busy"),
    )
    s.chat = ChatState(
        partner="Klaus Mueller",
        lines=[("Isabella Rodriguez", "Hi Klaus!")],
        ends_at=now,
        cooldown={"Klaus Mueller": 30},
    )
    s.path = [(12, 40), (13, 40)]
    again = scratch_from_dict(scratch_to_dict(s))
    assert again == s
    assert again.action is not None and again.action.end == datetime(2023, 2, 13, 9, 45)
    # Written out field by field for speed, it must stay what the generic encoding gives
    # (a field added to Scratch, Action or ChatState and not to scratch_to_dict fails here).
    assert scratch_to_dict(s) == _encode(asdict(s))
    assert scratch_to_dict(Scratch()) == _encode(asdict(Scratch()))


def test_schedule_index_by_cumulative_minutes():
    s = Scratch(hourly_schedule=[ScheduleItem("sleep", 360), ScheduleItem("breakfast", 60), ScheduleItem("work", 480)])
    assert s.schedule_index(datetime(2023, 2, 13, 5, 59)) == 0
    assert s.schedule_index(datetime(2023, 2, 13, 6, 0)) == 1
    assert s.schedule_index(datetime(2023, 2, 13, 7, 30)) == 2
    assert s.schedule_index(datetime(2023, 2, 13, 23, 0)) == 2


def test_the_workplace_is_part_of_the_identity():
    data = {**identity_to_dict(ISABELLA), "workplace": "Hobbs Cafe", "relationships": {"Maria Lopez": "a regular"}}
    again = identity_from_dict(data)
    assert again.workplace == "Hobbs Cafe"  # base personas.yaml has it; unknown keys are still dropped
    assert identity_from_dict({k: v for k, v in data.items() if k != "workplace"}).workplace == ""


def test_schedule_blocks_keep_their_clock_time_and_old_scratches_still_load():
    s = Scratch(hourly_schedule=[ScheduleItem("sleeping", 420, start=0), ScheduleItem("party", 1020, start=420)])
    again = scratch_from_dict(scratch_to_dict(s))
    assert [i.start for i in again.hourly_schedule] == [0, 420]
    stored = scratch_to_dict(s)
    for item in stored["hourly_schedule"]:
        del item["start"]  # stored before blocks had a start
    old = scratch_from_dict(stored)
    assert [i.start for i in old.hourly_schedule] == [None, None]
    assert old.schedule_index(datetime(2023, 2, 13, 8, 0)) == 1
