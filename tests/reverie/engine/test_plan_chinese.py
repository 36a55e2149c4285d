"""A Chinese run's schedule reads Chinese where no model wrote it: the routine the
compact example and the fallbacks are built from, the wake-up hour and bedtime read from
a Chinese lifestyle, Chinese 24-hour times kept at their clock times, and the built-in
block labels (sleep, free time, the morning routine)."""

from pathlib import Path

import yaml

from reverie.engine import plan
from reverie.engine.memory import has_cjk
from reverie.engine.persona import Identity
from reverie.engine.prompting import speaking

BASE = Path(__file__).resolve().parents[3] / "storage" / "base" / "base_the_ville_zh_3" / "personas.yaml"


def chinese_people() -> list[Identity]:
    people = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    return [
        Identity(
            name=p["name"],
            age=p["age"],
            innate=p["innate"],
            learned=p["learned"],
            currently=p["currently"],
            lifestyle=p["lifestyle"],
            living_area=p["home_sector"],
            daily_requirement=p["daily_requirement"],
            workplace=p["workplace"],
        )
        for p in people
    ]


def test_a_chinese_lifestyle_gives_its_wake_up_hour_and_bedtime():
    assert plan.lifestyle_hours("林晓雨晚上十一点左右睡觉，早上六点左右起床，在开店前把面包烤好。") == (360, 1380)
    assert plan.lifestyle_hours("苏念一般午夜十二点左右睡觉，早上七点半左右起床。") == (450, 1440)
    assert plan.lifestyle_hours("下午3点起来，晚上22:30睡觉") == (900, 1350)
    assert plan.lifestyle_hours("凌晨一点睡，上午十点起床") == (600, 1440)  # after midnight: the day's end
    assert plan.lifestyle_hours("他作息很规律") == (None, None)
    assert plan.lifestyle_hours("goes to bed around 11pm and wakes up around 6am") == (360, 1380)  # English unchanged


def test_chinese_items_keep_their_24_hour_times_without_the_times_in_their_text():
    item = "8:00 到 20:00 在霍布斯咖啡馆招呼客人"
    assert plan._times_in(item) == (480, 1200)
    assert plan._without_times(item) == "在霍布斯咖啡馆招呼客人"
    assert plan._without_times("正在筹备 2 月 14 日 17:00 到 19:00 的茶话会") == "正在筹备 的茶话会"
    assert plan._times_in("在图书馆读书") == (None, None)


def test_the_routine_of_a_chinese_run_is_chinese_and_split_into_clauses():
    for person in chinese_people():
        with speaking("zh"):
            wake, bed = plan.lifestyle_hours(person.lifestyle)
            assert wake is not None and bed is not None
            items = plan.routine_items(person, wake // 60)
        assert items[0] == f"{wake // 60}:00 起床洗漱" and "12:00 吃午饭" in items
        # Every item is Chinese (a map name such as "Hobbs Cafe" may sit inside one).
        assert all(has_cjk(item) for item in items), items
        # The daily requirement is split at its Chinese commas, and the name is not repeated.
        assert len(items) >= 5 and not any(item.startswith(person.name) for item in items), items
    with speaking("en"):
        english = plan.routine_items(chinese_people()[0], 6)
    assert english[0] == "wake up and get ready at 6:00"  # an English run keeps English built-ins


def test_a_chinese_schedule_labels_its_sleep_gaps_and_morning_in_chinese():
    person = chinese_people()[0]
    with speaking("zh"):
        items = plan.routine_items(person, 6)
        blocks = plan.routine_blocks(items, wake_up=6, bedtime=23 * 60)
        schedule = plan.frame_schedule(blocks, wake_up=6, bedtime=23 * 60)
    activities = [item.activity for item in schedule]
    assert activities[0] == "睡觉" and activities[-1] == "睡觉" and "起床洗漱" in activities
    assert sum(item.minutes for item in schedule) == plan.MINUTES_PER_DAY
    assert not {"sleeping", "free time", "morning routine"} & set(activities)
    # The shop hours are kept at their clock times.
    start = sum(item.minutes for item in schedule[: activities.index("在霍布斯咖啡馆招呼客人")])
    assert start == 8 * 60


def test_sleep_is_recognised_in_either_language():
    assert plan.is_sleeping("林晓雨正在睡觉") and plan.is_sleeping("睡觉") and plan.is_sleeping("Klaus is sleeping")
    assert not plan.is_sleeping("睡觉前看书") and not plan.is_sleeping("在图书馆读书")
    assert not plan.is_sleeping("Klaus is reading")
