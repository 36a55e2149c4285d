"""Planning: from a new day to the next concrete action.

The algorithm (Park et al. 2023, section 4.3), with every model call small and typed:

1. New day: ask for the wake-up hour (`plan.wake_up`), a broad daily plan of 4-8 items
   (`plan.daily`), then blocks of whole hours covering the waking day
   (`plan.hourly`). The blocks are scaled to fill wake-up .. bedtime exactly and
   framed by sleep, so the schedule always covers 24 hours whatever the model says.
2. When a block becomes current and is not sleep, it is decomposed into 5-60 minute
   subtasks (`plan.decompose`), rescaled to the block's exact length.
3. Each new subtask becomes an action: the place is chosen from the places the
   persona knows, first "sector: arena" (`plan.location`), then the object there
   (`plan.object`); then an emoji and the object's new state (`plan.details`).

Every call has a fallback that keeps the agent sensible (wake at 7, keep the previous
plan, stay where it is, use the first object), so malformed output never stops a step.
Functions are async and take the gateway: a step runs all agents concurrently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from reverie.engine.persona import Action, Identity, ScheduleItem, Scratch
from reverie.engine.prompting import prompt
from reverie.engine.schemas import (
    ActionDetails,
    DailyPlan,
    Decomposition,
    HourlyPlan,
    Revision,
    WakeUp,
    choice_model,
)

SLEEPING = "sleeping"
DEFAULT_AWAKE_HOURS = 16
MINUTES_PER_DAY = 24 * 60


class StructuredGateway(Protocol):
    """The part of llm.Gateway the engine uses."""

    async def astructured(self, schema: Any, **kwargs: Any) -> Any: ...


def _date(now: datetime) -> str:
    return now.strftime("%A %B %d, %Y")


def _clock(now: datetime) -> str:
    return now.strftime("%I:%M %p").lstrip("0")


# --- 1. the day --------------------------------------------------------------------


async def plan_day(gw: StructuredGateway, identity: Identity, scratch: Scratch, now: datetime) -> None:
    """Fill `scratch` with today's wake-up hour, daily plan and 24-hour schedule."""
    wake = await gw.astructured(
        WakeUp,
        prompt=prompt("plan_wake_up", identity=identity.summary(), lifestyle=identity.lifestyle,
                      date=_date(now), first_name=identity.first_name),
        fallback=WakeUp(hour=scratch.wake_up_hour or 7),
        purpose="plan.wake_up",
        max_tokens=12,
    )  # fmt: skip
    wake_up = wake.value.hour
    daily = await gw.astructured(
        DailyPlan,
        prompt=prompt("plan_daily", identity=identity.summary(), date=_date(now), first_name=identity.first_name,
                      wake_up=wake_up),
        fallback=lambda: DailyPlan(items=scratch.daily_plan or default_daily_plan(identity)),
        purpose="plan.daily",
        max_tokens=160,
    )  # fmt: skip
    awake_hours = min(DEFAULT_AWAKE_HOURS, 24 - wake_up)
    hourly = await gw.astructured(
        HourlyPlan,
        prompt=prompt("plan_hourly", identity=identity.summary(), date=_date(now), first_name=identity.first_name,
                      daily_plan="; ".join(daily.value.items), wake_up=wake_up, awake_hours=awake_hours),
        fallback=lambda: HourlyPlan.model_validate(
            {"blocks": [{"activity": item, "hours": 2} for item in daily.value.items[:8]] or
             [{"activity": "going about the day", "hours": awake_hours}]}
        ),
        purpose="plan.hourly",
        max_tokens=220,
    )  # fmt: skip
    scratch.wake_up_hour = wake_up
    scratch.daily_plan = list(daily.value.items)
    scratch.hourly_schedule = frame_schedule(
        [(b.activity, b.hours * 60) for b in hourly.value.blocks], wake_up=wake_up, awake_hours=awake_hours
    )
    scratch.decomposed = {}


def default_daily_plan(identity: Identity) -> list[str]:
    return [
        "wake up and do the morning routine",
        "work on what matters most today",
        "have lunch",
        "keep working",
        "have dinner",
        "relax at home",
    ]


def frame_schedule(blocks: list[tuple[str, int]], *, wake_up: int, awake_hours: int) -> list[ScheduleItem]:
    """Sleep until `wake_up`, the blocks scaled to the waking span (15-minute grain),
    sleep until midnight. The result always sums to 24 hours."""
    span = awake_hours * 60
    total = sum(max(1, m) for _, m in blocks) or 1
    items = [ScheduleItem(SLEEPING, wake_up * 60)] if wake_up > 0 else []
    used = 0
    for i, (activity, minutes) in enumerate(blocks):
        if i == len(blocks) - 1:
            share = span - used
        else:
            share = max(15, round(max(1, minutes) * span / total / 15) * 15)
            share = min(share, span - used - 15 * (len(blocks) - i - 1))
        if share <= 0:
            continue
        items.append(ScheduleItem(activity.strip() or "resting", share))
        used += share
    rest = MINUTES_PER_DAY - wake_up * 60 - used
    if rest > 0:
        items.append(ScheduleItem(SLEEPING, rest))
    return items


# --- 2. decomposition --------------------------------------------------------------


def block_start(scratch: Scratch, index: int, day: datetime) -> datetime:
    midnight = day.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(minutes=sum(item.minutes for item in scratch.hourly_schedule[:index]))


async def decompose_block(
    gw: StructuredGateway, identity: Identity, scratch: Scratch, index: int, now: datetime
) -> list[ScheduleItem]:
    """The subtasks of schedule block `index` (cached in scratch.decomposed)."""
    if index in scratch.decomposed:
        return scratch.decomposed[index]
    block = scratch.hourly_schedule[index]
    if block.activity == SLEEPING or block.minutes < 30:
        subtasks = [ScheduleItem(block.activity, block.minutes)]
    else:
        start = block_start(scratch, index, now)
        result = await gw.astructured(
            Decomposition,
            prompt=prompt("plan_decompose", identity=identity.summary(), first_name=identity.first_name,
                          activity=block.activity, start=_clock(start), minutes=block.minutes),
            fallback=Decomposition.model_validate(
                {"subtasks": [{"activity": block.activity, "minutes": 60}, {"activity": block.activity, "minutes": 60}]}
            ),
            purpose="plan.decompose",
            max_tokens=220,
        )  # fmt: skip
        subtasks = rescale([(s.activity, s.minutes) for s in result.value.subtasks], block.minutes)
        if not result.ok or not subtasks:
            subtasks = [ScheduleItem(block.activity, block.minutes)]
    scratch.decomposed[index] = subtasks
    return subtasks


def rescale(parts: list[tuple[str, int]], total: int) -> list[ScheduleItem]:
    """Scale part lengths to sum exactly to `total` minutes (5-minute grain, no empty parts)."""
    parts = [(a, max(1, m)) for a, m in parts][: max(1, total // 5)]  # no part shorter than 5 minutes
    if not parts:
        return []
    raw = sum(m for _, m in parts)
    out: list[ScheduleItem] = []
    used = 0
    for i, (activity, minutes) in enumerate(parts):
        left = len(parts) - i - 1
        share = total - used if left == 0 else max(5, round(minutes * total / raw / 5) * 5)
        share = min(share, total - used - 5 * left)
        if share <= 0:
            break
        out.append(ScheduleItem(activity, share))
        used += share
    if not out:
        return [ScheduleItem(parts[0][0], total)]
    if used < total:
        out[-1].minutes += total - used
    return out


def current_subtask(subtasks: list[ScheduleItem], block_begins: datetime, now: datetime) -> tuple[int, datetime]:
    """Index of the subtask running at `now`, and when it started."""
    start = block_begins
    for i, item in enumerate(subtasks):
        end = start + timedelta(minutes=item.minutes)
        if now < end or i == len(subtasks) - 1:
            return i, start
        start = end
    return len(subtasks) - 1, start


async def revise_for_interruption(
    gw: StructuredGateway, identity: Identity, scratch: Scratch, now: datetime, interruption: str, minutes: int
) -> None:
    """Fit an interruption (a conversation) into the current block's subtasks.

    What was done stays; the interruption takes its minutes; the rest of the block is
    revised by the model (`plan.revise`) and rescaled to the time that is left, so the
    block keeps its exact length. Fallback: the old remaining subtasks, squeezed.
    """
    if not scratch.hourly_schedule:
        return
    index = scratch.schedule_index(now)
    block = scratch.hourly_schedule[index]
    begin = block_start(scratch, index, now)
    subtasks = scratch.decomposed.get(index) or [ScheduleItem(block.activity, block.minutes)]
    current, started = current_subtask(subtasks, begin, now)
    elapsed = max(0, int((now - started).total_seconds() // 60))
    done = [*subtasks[:current], *([ScheduleItem(subtasks[current].activity, elapsed)] if elapsed else [])]
    used = sum(item.minutes for item in done)
    minutes = max(1, min(minutes, block.minutes - used))
    left = block.minutes - used - minutes
    before = [(subtasks[current].activity, subtasks[current].minutes - elapsed)] + [
        (item.activity, item.minutes) for item in subtasks[current + 1 :]
    ]
    rest: list[ScheduleItem] = []
    if left > 0:
        block_end = begin + timedelta(minutes=block.minutes)
        result = await gw.astructured(
            Revision,
            prompt=prompt("plan_revise", identity=identity.summary(), first_name=identity.first_name,
                          block_end=_clock(block_end), time=_clock(now), interruption=interruption,
                          minutes=minutes, remaining="; ".join(f"{a} ({m} min)" for a, m in before if m > 0),
                          example=before[0][0]),
            fallback=lambda: Revision.model_validate(
                {"subtasks": [{"activity": a, "minutes": min(60, max(5, m))} for a, m in before if m > 0][:6]
                 or [{"activity": block.activity, "minutes": 5}]}
            ),
            purpose="plan.revise",
            max_tokens=160,
        )  # fmt: skip
        rest = rescale([(s.activity, s.minutes) for s in result.value.subtasks], left)
    scratch.decomposed[index] = [*done, ScheduleItem(interruption, minutes), *rest]


# --- 3. the action -----------------------------------------------------------------


@dataclass(frozen=True)
class PlaceOptions:
    """What the persona knows of the world, flattened for the prompts."""

    world: str
    home: str  # "sector: arena"
    current: str  # "sector: arena"
    arenas: list[str]  # "sector: arena" entries the persona knows
    objects: dict[str, list[str]]  # "sector: arena" -> object names there


# Words in an activity that point at a kind of room: a prior for the few-shot example.
_ROOM_HINTS: dict[str, tuple[str, ...]] = {
    "kitchen": ("cook", "breakfast", "lunch", "dinner", "eat", "meal", "bake", "dishes", "snack"),
    "bedroom": ("sleep", "bed", "nap", "dress", "wake"),
    "bathroom": ("shower", "bath", "teeth", "toilet", "wash up", "shave"),
    "cafe": ("coffee", "cafe", "latte", "tea", "pastry"),
    "library": ("study", "read", "book", "research", "library", "homework", "essay", "paper"),
    "classroom": ("class", "lecture", "lesson", "teach", "seminar"),
    "pub": ("beer", "pub", "pint", "drinks", "quiz", "bar"),
    "store": ("buy", "shop", "supplies", "groceries", "store", "market", "pharmacy", "medicine"),
    "park": ("walk", "jog", "run", "park", "garden", "picnic", "exercise"),
    "studio": ("paint", "draw", "sketch", "art", "compose", "music", "practice"),
    "living": ("relax", "tv", "watch", "family", "guests"),
}


def guess_place(activity: str, options: list[str], *, current: str, home: str) -> str:
    """A sensible default place for an activity, by word overlap and room hints.

    It is shown to the model as the example answer: a strong model decides for
    itself, a tiny model that copies the example still goes somewhere plausible.
    """
    words = activity.lower()
    domestic = any(h in words for room in ("kitchen", "bedroom", "bathroom", "living") for h in _ROOM_HINTS[room])
    home_sector = home.split(": ")[0]

    def score(option: str) -> tuple[int, int, int]:
        text = option.lower()
        overlap = sum(1 for w in words.split() if len(w) > 3 and w in text)
        hinted = sum(1 for room, hints in _ROOM_HINTS.items() if room in text and any(h in words for h in hints))
        at_home = int(domestic and option.startswith(home_sector + ":"))
        return (hinted + overlap + 2 * at_home, int(option == current), -options.index(option))

    best = max(options, key=score)
    return best if score(best)[0] > 0 else current


async def choose_place(
    gw: StructuredGateway, identity: Identity, activity: str, places: PlaceOptions
) -> tuple[str, str | None]:
    """("sector: arena", object or None) for an activity, from known places only."""
    options = list(dict.fromkeys([places.current, places.home, *places.arenas]))
    fallback_arena = places.home if activity == SLEEPING else places.current
    if len(options) == 1:
        arena = options[0]
    else:
        model = choice_model("Place", "place", options)
        result = await gw.astructured(
            model,
            prompt=prompt("plan_location", name=identity.name, first_name=identity.first_name, home=places.home,
                          current=places.current, options="; ".join(options), activity=activity,
                          example=guess_place(activity, options, current=places.current, home=places.home)),
            fallback=lambda: model(place=fallback_arena),
            purpose="plan.location",
            max_tokens=40,
        )  # fmt: skip
        arena = result.value.place  # type: ignore[attr-defined]
    objects = places.objects.get(arena, [])
    if not objects:
        return arena, None
    if len(objects) == 1:
        return arena, objects[0]
    model = choice_model("Thing", "object", objects)
    picked = await gw.astructured(
        model,
        prompt=prompt("plan_object", first_name=identity.first_name, activity=activity, arena=arena,
                      options="; ".join(objects), example=objects[-1]),
        fallback=lambda: model(object=objects[0]),
        purpose="plan.object",
        max_tokens=30,
    )  # fmt: skip
    return arena, picked.value.object  # type: ignore[attr-defined]


async def describe_action(gw: StructuredGateway, activity: str, obj: str | None) -> ActionDetails:
    result = await gw.astructured(
        ActionDetails,
        prompt=prompt("plan_details", activity=activity, object=obj or "none"),
        fallback=ActionDetails(emoji="🙂", object_state="in use" if obj else "idle"),
        purpose="plan.details",
        max_tokens=30,
    )
    details: ActionDetails = result.value
    return details


def address_of(world: str, arena: str, obj: str | None) -> str:
    sector, _, arena_name = arena.partition(": ")
    parts = [world, sector, arena_name] + ([obj] if obj else [])
    return ":".join(parts)


async def next_action(
    gw: StructuredGateway, identity: Identity, scratch: Scratch, now: datetime, places: PlaceOptions
) -> Action:
    """Plan whatever is needed (new day, decomposition) and return the action for `now`."""
    if scratch.is_new_day(now) or not scratch.hourly_schedule:
        await plan_day(gw, identity, scratch, now)
    index = scratch.schedule_index(now)
    subtasks = await decompose_block(gw, identity, scratch, index, now)
    sub_index, started = current_subtask(subtasks, block_start(scratch, index, now), now)
    item = subtasks[sub_index]
    arena, obj = await choose_place(gw, identity, item.activity, places)
    details = await describe_action(gw, item.activity, obj)
    remaining = item.minutes - int((now - started).total_seconds() // 60)
    return Action(
        address=address_of(places.world, arena, obj),
        description=item.activity,
        start=now,
        minutes=max(1, remaining),
        emoji=details.emoji,
        event=(identity.name, "is", item.activity),
        object_event=(obj, "is", details.object_state) if obj else ("", "", ""),
        object_description=f"{obj} is {details.object_state}" if obj else "",
    )
