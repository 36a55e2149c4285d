"""Planning: from a new day to the next concrete action.

The algorithm (Park et al. 2023, section 4.3; the original code's `_long_term_planning`),
with every model call small and typed and every setting in `AgentConfig.planning`:

1. A new day.
   a. Recall (every day but the first planning of a run, when the memory stream has
      anything): retrieve `planning.revision_memories` memories for each of two focal
      points, "<name>'s plan for <Weekday Month DD>" and "important recent events in
      <name>'s life" (reverie.engine.retrieve, the config's weights). Kinds the
      config's `memory` switches hide (observations, reflections, plans) are left out.
   b. Revise the identity (`plan.identity`, with `planning.daily_revision`): from the
      identity and those memories, a new `currently` and a new daily requirement. The
      Identity object is changed in place (the Django shell saves it).
   c. Wake-up hour (`plan.wake_up`), a broad daily plan of 4-8 items (`plan.daily`),
      then the day's schedule as blocks at clock times, {"start": "17:00", "end":
      "19:00", "activity": ...} (`plan.hourly`). Each of the three prompts shows the
      (revised) identity and the recalled memories.
   d. `frame_schedule` turns the blocks into a contiguous 24-hour schedule: sleep
      until the wake-up hour; each block at the clock time the model gave it (a later
      block painted over an earlier one, so overlaps are clipped and a block inside
      another splits it); a gap of up to an hour continues the block before it, a
      longer one is "free time"; after the last block, sleep until midnight. Blocks
      are never stretched. With `planning.waking_hours` (compact only) the day runs
      at least that many hours after waking before sleep.
   e. The daily plan is stored as a thought, "This is <name>'s plan for <Weekday Month
      DD>: item, item, ..." (predicate "plans", poignancy 5, keywords "plan" and the
      name, embedded, 30 days), so the next morning's recall finds it; not when
      `memory.plans` is off.
2. When a block becomes current and is not sleep, it is decomposed into 5-60 minute
   subtasks (`plan.decompose`), rescaled to the block's exact length; adjacent
   subtasks with the same activity are merged into one. The prompt shows the whole
   identity, or with `planning.brief_identity` (compact) its one-line form.
3. Each new subtask becomes an action: the place is chosen from the places the
   persona knows (with `planning.place_options`, compact, at most that many: the
   current place, home, the workplace and the best keyword fits for the activity),
   first "sector: arena" (`plan.location`), then the object there
   (`plan.object`); then an emoji and the object's new state (`plan.details`).
4. An interruption (a conversation, with its summary) is fitted into the current
   block and the rest of the block revised (`plan.revise`).

Examples. Under `planning.personal_examples` (compact) the example answers of the
daily, hourly, decomposition and identity prompts are built from the persona's own
data (lifestyle, workplace, daily requirement, `currently`): a tiny model that copies
the example still gets a personal day. Under `planning.guess_place` (compact) the
place example is a keyword guess. Under `planning.lifestyle_wake_up` (compact) a
lifestyle that states the wake-up hour ("wakes up around 6am") sets it with no call
(yesterday's hour once there is one). Otherwise (paper) the examples only show the answer
format and decide nothing.

Planning off (`planning.enabled` False, the paper's no-planning ablation): no
planning calls at all; the day is the persona's standing routine (`routine_day`, from
its lifestyle and daily requirement), blocks are not decomposed, no plan thought is
stored. Places and emoji are still chosen by the model.

Fallbacks (each counted per purpose by the gateway): plan.identity keeps the
identity unchanged; plan.wake_up keeps yesterday's hour, else the lifestyle's, else 7;
plan.daily keeps yesterday's plan, else the standing routine; plan.hourly lays the
daily plan out as the standing routine does; plan.decompose keeps the block whole;
plan.revise keeps the old remaining subtasks, squeezed; plan.location stays where it
is (home to sleep); plan.object takes the first object; plan.details a smiley and
"in use"/"idle". Malformed output never stops a step.
Functions are async and take the gateway: a step runs all agents concurrently.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from reverie.engine.config import AgentConfig
from reverie.engine.interview import recall_filter
from reverie.engine.memory import MemoryNode, MemoryStream, has_cjk, is_doing
from reverie.engine.persona import Action, Identity, ScheduleItem, Scratch
from reverie.engine.ports import ModelGateway
from reverie.engine.prompting import chinese_date, current_language, prompt
from reverie.engine.reflect import brief_identity, memory_line
from reverie.engine.retrieve import retrieve
from reverie.engine.schemas import (
    ActionDetails,
    choice_model,
    daily_plan_model,
    hourly_plan_model,
    identity_revision_model,
    subtasks_model,
    wake_up_model,
)

SLEEPING = "sleeping"
FREE_TIME = "free time"
MORNING_ROUTINE = "morning routine"
# The same block labels in the other languages: the schedule a Chinese run shows reads
# Chinese even where no model wrote it (the wake-up hour, gaps, the night).
_LABELS = {
    "zh": {SLEEPING: "睡觉", FREE_TIME: "空闲时间", MORNING_ROUTINE: "起床洗漱", "resting": "休息"},
}
SLEEP_LABELS = frozenset({SLEEPING, *(labels[SLEEPING] for labels in _LABELS.values())})


def label(english: str) -> str:
    """A built-in block label ("sleeping", "free time", ...) in the current language."""
    return _LABELS.get(current_language(), {}).get(english, english)


_SLEEPING_NOW = re.compile(r"\bsleeping\b|睡觉(?!前)")  # "睡觉前看书" is reading before bed


def is_sleeping(activity: str) -> bool:
    """Whether an action or block is sleep, in any language ("sleeping", "睡觉", "林晓雨正在睡觉")."""
    return _SLEEPING_NOW.search(activity) is not None


MINUTES_PER_DAY = 24 * 60
PLAN_POIGNANCY = 5  # the original's fixed importance of a plan thought
PLAN_DAYS = 30  # a plan thought expires after this many days (as the original's)
_SLEEP_WORDS = ("sleep", "asleep", "睡觉", "入睡", "就寝")
# Words a cut-short example must not end on ("get ready for" -> "get ready").
_DANGLING = {"a", "an", "the", "for", "to", "of", "in", "on", "at", "and", "or", "with", "how", "each", "some", "from"}


def _date(now: datetime) -> str:
    if current_language() == "zh":
        return chinese_date(now, year=True)
    return now.strftime("%A %B %d, %Y")


def _day(now: datetime) -> str:
    """The date as the plan thought and its focal point name it: "Tuesday February 14"."""
    if current_language() == "zh":
        return chinese_date(now)
    return now.strftime("%A %B %d")


def _clock(now: datetime) -> str:
    return now.strftime("%I:%M %p").lstrip("0")


def hhmm(minutes: int) -> str:
    """Minutes after midnight as a 24-hour clock time ("17:00"; 1440 is "24:00")."""
    minutes = max(0, min(MINUTES_PER_DAY, minutes))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: str) -> int:
    hours, _, mins = text.strip().partition(":")
    return max(0, min(MINUTES_PER_DAY, int(hours) * 60 + int(mins or 0)))


def _fit(text: str, cap: int) -> str:
    """`text` cut at a word boundary to at most `cap` characters (an example answer must validate)."""
    text = " ".join(text.split()).strip(" ,.;")
    if len(text) <= cap:
        return text
    words = text[:cap].split(" ")[:-1] if " " in text[:cap] else [text[:cap]]
    while len(words) > 1 and words[-1].lower() in _DANGLING:
        words.pop()
    return " ".join(words).strip(" ,.;")


def _is_sleep(activity: str) -> bool:
    words = activity.lower()
    return any(w in words for w in _SLEEP_WORDS)


# --- what the persona's own data says ------------------------------------------------

_TIME = r"(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\b"


def _to_minutes(hour: str, minute: str | None, half: str) -> int:
    h = int(hour) % 12 + (12 if half.lower() == "p" else 0)
    return h * 60 + int(minute or 0)


def lifestyle_hours(lifestyle: str) -> tuple[int | None, int | None]:
    """(wake-up, bedtime) in minutes after midnight, when the lifestyle says them.

    "goes to bed around 11pm and wakes up around 6am" -> (360, 1380). A bedtime after
    midnight ("12:30am") counts as midnight: the schedule is one calendar day.
    """
    if has_cjk(lifestyle):
        wake_at, bed_at = _chinese_lifestyle_hours(lifestyle)
    else:
        wake = re.search(r"\bup\s+(?:at|around|about|by)?\s*" + _TIME, lifestyle, re.IGNORECASE)
        bed = re.search(r"\bbed\s+(?:at|around|about|by)?\s*" + _TIME, lifestyle, re.IGNORECASE)
        wake_at = _to_minutes(*wake.groups()) if wake else None
        bed_at = _to_minutes(*bed.groups()) if bed else None
    if bed_at is not None and wake_at is not None and bed_at <= wake_at:
        bed_at = MINUTES_PER_DAY
    return wake_at, bed_at


# Chinese clock times: "早上六点", "晚上十一点半", "8:00", "20：30", "下午3点".
_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_TIME = re.compile(
    r"(凌晨|午夜|半夜|早上|早晨|清晨|上午|中午|下午|傍晚|晚上|夜里|夜间)?\s*"
    r"(\d{1,2}|[零一二两三四五六七八九十]{1,3})\s*(?:点|时|[:：](?=\d))\s*(半|\d{2})?"
)
_ZH_CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})")


def _zh_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if "十" in text:  # 十 = 10, 十一 = 11, 二十 = 20, 二十三 = 23
        tens, _, ones = text.partition("十")
        return (_ZH_DIGITS.get(tens, 1) if tens else 1) * 10 + (_ZH_DIGITS.get(ones, 0) if ones else 0)
    return _ZH_DIGITS.get(text, 0)


def _zh_minutes(match: re.Match[str]) -> int:
    part, hour_text, minute_text = match.groups()
    hour = _zh_number(hour_text)
    if part in ("下午", "傍晚", "晚上", "夜里", "夜间") and hour < 12:
        hour += 12
    elif part in ("晚上", "夜里", "夜间", "凌晨", "午夜", "半夜") and hour == 12:
        hour = 24  # midnight: the end of the schedule's day
    minute = 30 if minute_text == "半" else int(minute_text or 0)
    return min(MINUTES_PER_DAY, hour * 60 + minute)


def _chinese_lifestyle_hours(lifestyle: str) -> tuple[int | None, int | None]:
    """ "晚上十一点左右睡觉，早上六点左右起床" -> (360, 1380): the time in the clause that
    says 起床/醒 (wake-up) and the one in the clause that says 睡/上床/就寝 (bedtime)."""
    wake_at = bed_at = None
    for clause in re.split(r"[，。；,;]", lifestyle):
        found = _ZH_TIME.search(clause)
        if found is None:
            continue
        if wake_at is None and re.search(r"起床|起来|醒", clause):
            wake_at = _zh_minutes(found)
        elif bed_at is None and re.search(r"睡|上床|就寝", clause):
            bed_at = _zh_minutes(found)
    return wake_at, bed_at


def _times_in(text: str) -> tuple[int | None, int | None]:
    """The first clock time an item mentions, and a second one after "to/until/-" (its end)."""
    if has_cjk(text):  # Chinese items name 24-hour times: "8:00 到 20:00 招呼客人"
        clock = [int(h) * 60 + int(m) for h, m in _ZH_CLOCK.findall(text)]
        if not clock:
            return None, None
        end_at = clock[1] if len(clock) > 1 else None
        return clock[0], (end_at if end_at is not None and end_at > clock[0] else None)
    found = list(re.finditer(_TIME, text, re.IGNORECASE))
    if not found:
        return None, None
    start = _to_minutes(*found[0].groups())
    end = _to_minutes(*found[1].groups()) if len(found) > 1 else None
    return start, (end if end is not None and end > start else None)


def _base_verb(verb: str) -> str:
    """ "bakes" -> "bake", "studies" -> "study", "goes" -> "go" (third person to plain form)."""
    lower = verb.lower()
    if lower in ("is", "are"):
        return ""
    if lower == "has":
        return "have"
    if len(lower) < 4 or not lower.endswith("s") or lower.endswith(("ss", "us", "is")) or lower in ("this", "his"):
        return verb
    if lower.endswith("ies"):
        return verb[:-3] + "y"
    if lower.endswith(("ches", "shes", "sses", "xes", "oes")):
        return verb[:-2]
    return verb[:-1]


def _imperative(clause: str, identity: Identity) -> str:
    """ "Isabella bakes in the morning" / "runs the counter" -> "bake in the morning" / "run the counter"."""
    if has_cjk(clause):  # Chinese verbs do not inflect: only the subject goes
        for subject in (identity.name, identity.first_name, "她", "他"):
            if subject and clause.startswith(subject) and len(clause) > len(subject) + 1:
                return clause[len(subject) :].strip()
        return clause
    words = clause.split()
    subjects = {identity.first_name.lower(), "she", "he", "they"}
    if len(words) >= 2 and " ".join(words[:2]).lower() == identity.name.lower():
        words = words[2:]
    elif words and words[0].lower().strip(",") in subjects:
        words = words[1:]
    if not words:
        return clause
    verb = _base_verb(words[0])
    return " ".join([verb, *words[1:]] if verb else words[1:])


def _clauses(text: str) -> list[str]:
    """The parts of a sentence joined by commas, "and", ";" or ".", in order."""
    parts = re.split(r"[;.]\s+|,\s*(?:and\s+)?|\s+and\s+|[，。；、]\s*", text.strip().rstrip(".。"))
    return [p.strip() for p in parts if len(p.strip()) > 3 or (has_cjk(p) and len(p.strip()) >= 2)]


def _without_times(activity: str) -> str:
    """ "run the counter at Hobbs Cafe from 8am until closing at 8pm" -> "run the counter at Hobbs Cafe"
    (a block carries its times itself)."""
    if has_cjk(activity):  # "8:00 到 20:00 在霍布斯咖啡馆招呼客人" -> "在霍布斯咖啡馆招呼客人"
        bare = re.sub(r"\d{1,2}[:：]\d{2}\s*(?:(?:到|至|-|—|~)\s*\d{1,2}[:：]\d{2})?\s*", "", activity)
        bare = re.sub(r"\d{1,2}\s*月\s*\d{1,2}\s*日\s*", "", bare)  # the day is the schedule's own
        return bare.strip(" ，,") or activity
    found = re.search(r"\s+(?:from|at|until|till|to|by|between|around)?\s*" + _TIME, activity, re.IGNORECASE)
    return activity[: found.start()].strip(" ,") if found and found.start() > 3 else activity


def routine_items(identity: Identity, wake_up: int, cap: int = 60) -> list[str]:
    """A personal broad-strokes day from the persona's own data, 4 to 8 items.

    Used as the compact daily-plan example, as the daily-plan fallback, and as the
    whole day when planning is off.
    """
    zh = current_language() == "zh"
    items = [f"{wake_up}:00 起床洗漱" if zh else f"wake up and get ready at {wake_up}:00"]
    workplace = identity.workplace.strip()
    wanted = [_imperative(c, identity) for c in _clauses(identity.daily_requirement)][:3]
    if workplace and workplace.lower() != "home" and not any(workplace.lower() in w.lower() for w in wanted):
        items.append(f"去{workplace}" if zh else f"go to {workplace}")
    items.extend(wanted)
    currently = _clauses(re.split(r"\. |。", identity.currently)[0])
    if currently:
        focus = _imperative(currently[0], identity)
        items.append(f"spend time {focus}" if focus.split(" ")[0].endswith("ing") else focus)
    if zh:
        items.extend(["12:00 吃午饭", "18:00 吃晚饭", "睡前放松"])
    else:
        items.extend(["have lunch at 12:00 pm", "have dinner at 6:00 pm", "relax before bed"])
    fitted = [_fit(item, cap) for item in dict.fromkeys(items)]
    return [item for item in fitted if len(item) >= 2][:8]


def routine_blocks(items: list[str], *, wake_up: int, bedtime: int, cap: int = 50) -> list[tuple[int, int, str]]:
    """Lay daily-plan items out from the wake-up hour to `bedtime` (minutes): the
    example answer (compact) and the fallback of the hourly call, and the day when
    planning is off. A morning-routine hour first; an item that names a time goes at
    that time (an hour, or until the second time it names); the others fill the free
    time in order, an even share each (1-3 hours, half-hour grain)."""
    day = [i for i in items if not i.lower().startswith("wake up") and "起床" not in i and not _is_sleep(i)]
    wake = wake_up * 60
    blocks = [(wake, wake + 60, label(MORNING_ROUTINE))]
    anchored: list[tuple[int, int]] = []
    loose: list[str] = []
    for item in day:
        named, named_end = _times_in(item)
        if named is not None and wake + 60 <= named < bedtime:
            end = min(bedtime, named_end or named + 60)
            blocks.append((named, end, _fit(_without_times(item), cap)))
            anchored.append((named, end))
        else:
            loose.append(item)
    anchored.sort()
    free = (bedtime - wake - 60) - sum(e - s for s, e in anchored)
    share = max(60, min(180, round(free / max(1, len(loose)) / 30) * 30))
    cursor = wake + 60
    for item in loose:
        for s_, e_ in anchored:  # step over a commitment the cursor is inside
            if s_ <= cursor < e_:
                cursor = e_
        if cursor >= bedtime:
            break
        following = min((s_ for s_, _ in anchored if s_ > cursor), default=bedtime)
        end = min(cursor + share, following, bedtime)
        blocks.append((cursor, end, _fit(_without_times(item), cap)))
        cursor = end
    return sorted(blocks)


def routine_day(identity: Identity, scratch: Scratch, config: AgentConfig) -> None:
    """The standing routine without any model call (planning off)."""
    wake_at, bed_at = lifestyle_hours(identity.lifestyle)
    wake_up = (wake_at // 60) if wake_at is not None else 7
    bedtime = bed_at if bed_at is not None else 23 * 60
    items = routine_items(identity, wake_up, config.chars("plan.daily", 60))
    scratch.wake_up_hour = wake_up
    scratch.daily_plan = items
    scratch.hourly_schedule = frame_schedule(
        routine_blocks(items, wake_up=wake_up, bedtime=bedtime, cap=config.chars("plan.hourly", 50)),
        wake_up=wake_up,
        bedtime=bedtime,
    )
    scratch.decomposed = {}


# --- 1. the day --------------------------------------------------------------------


async def recall_for_the_day(
    gw: ModelGateway, identity: Identity, stream: MemoryStream, now: datetime, config: AgentConfig
) -> list[MemoryNode]:
    """The memories a new day's planning sees (step 1a), oldest first, each once."""
    if not len(stream):
        return []
    focal = [f"{identity.name}'s plan for {_day(now)}", f"important recent events in {identity.name}'s life"]
    if current_language() == "zh":
        focal = [f"{identity.name}{_day(now)}的计划", f"{identity.name}生活中最近的重要事件"]
    vectors = await gw.aembed(focal, purpose="plan.embed")
    kinds, excluded = recall_filter(config.memory)  # what the memory switches hide stays hidden
    found = retrieve(stream, None, list(zip(focal, vectors, strict=True)), now, k=config.planning.revision_memories,
                     kinds=kinds, exclude_predicates=excluded, config=config.retrieval)  # fmt: skip
    kept = {scored.node.id: scored.node for text in focal for scored in found[text]}
    return sorted(kept.values(), key=lambda n: (n.created, n.id))


def memory_bullets(nodes: list[MemoryNode]) -> str:
    if not nodes:
        return "- (nothing in particular)"
    return "\n".join(f"- {n.created.strftime('%A %B %d, %H:%M')}: {memory_line(n)}" for n in nodes)


def _example(compact: bool, answer: dict[str, Any]) -> str:
    """The example line of a prompt: a personal answer (compact) or the format only (paper)."""
    return ("Example answer: " if compact else "Answer format: ") + json.dumps(answer, ensure_ascii=False)


async def revise_identity(
    gw: ModelGateway, identity: Identity, now: datetime, memories: list[MemoryNode], config: AgentConfig
) -> bool:
    """Step 1b: revise `currently` and the daily requirement in place; True if revised."""
    cap = config.chars("plan.identity", 200)
    model = identity_revision_model(cap)
    personal = config.planning.personal_examples
    example = (
        {"currently": _fit(identity.currently, cap) or "-----", "daily_requirement":
         _fit(identity.daily_requirement, cap) or "-----"}
        if personal
        else {"currently": "<what they are focused on now, with dates, times and places>",
              "daily_requirement": "<what they mean to do today, with times>"}
    )  # fmt: skip
    result = await gw.astructured(
        model,
        prompt=prompt("plan_identity", identity=identity.summary(), date=_date(now), first_name=identity.first_name,
                      memories=memory_bullets(memories), example=_example(personal, example)),
        fallback=lambda: model.model_construct(currently=identity.currently,
                                               daily_requirement=identity.daily_requirement),
        **config.call_kwargs("plan.identity"),
    )  # fmt: skip
    if not result.ok:
        return False
    identity.currently = result.value.currently.strip()
    identity.daily_requirement = result.value.daily_requirement.strip()
    return True


async def plan_day(
    gw: ModelGateway,
    identity: Identity,
    scratch: Scratch,
    now: datetime,
    *,
    stream: MemoryStream | None = None,
    config: AgentConfig | None = None,
) -> None:
    """Fill `scratch` with today's wake-up hour, daily plan and 24-hour schedule (step 1)."""
    config = config or AgentConfig.compact()
    planning = config.planning
    if not planning.enabled:
        routine_day(identity, scratch, config)
        return
    first_planning = scratch.now is None
    memories: list[MemoryNode] = []
    if stream is not None and not first_planning:
        memories = await recall_for_the_day(gw, identity, stream, now, config)
        if planning.daily_revision and memories:
            await revise_identity(gw, identity, now, memories, config)
    recalled = memory_bullets(memories)
    personal = planning.personal_examples
    wake_at, bed_at = lifestyle_hours(identity.lifestyle)

    low, high = planning.wake_up_range
    usual = scratch.wake_up_hour or (wake_at // 60 if wake_at is not None else 7)
    usual = max(low, min(high, usual))
    if planning.lifestyle_wake_up and wake_at is not None:
        wake_up = usual
    else:
        wake_model = wake_up_model(low, high)
        wake = await gw.astructured(
            wake_model,
            prompt=prompt("plan_wake_up", identity=identity.summary(), lifestyle=identity.lifestyle, date=_date(now),
                          first_name=identity.first_name, memories=recalled,
                          example=_example(personal, {"hour": usual} if personal else {"hour": "<0-23>"})),
            fallback=lambda: wake_model(hour=usual),
            **config.call_kwargs("plan.wake_up"),
        )  # fmt: skip
        wake_up = int(wake.value.hour)

    daily_cap = config.chars("plan.daily", 60)
    daily_model = daily_plan_model(daily_cap)
    routine = routine_items(identity, wake_up, daily_cap)
    daily = await gw.astructured(
        daily_model,
        prompt=prompt("plan_daily", identity=identity.summary(), date=_date(now), first_name=identity.first_name,
                      wake_up=wake_up, memories=recalled,
                      example=_example(personal, {"items": routine} if personal else
                                       {"items": ["<first thing, with its time if it has one>", "<next thing>"]})),
        fallback=lambda: daily_model(items=[_fit(i, daily_cap) for i in scratch.daily_plan][:8]
                                     if len(scratch.daily_plan) >= 4 else routine),
        **config.call_kwargs("plan.daily"),
    )  # fmt: skip
    items = [str(item) for item in daily.value.items]

    hourly_cap = config.chars("plan.hourly", 50)
    hourly_model = hourly_plan_model(hourly_cap)
    forced = min(MINUTES_PER_DAY, (wake_up + planning.waking_hours) * 60) if planning.waking_hours else None
    layout_end = forced or (bed_at if bed_at is not None and bed_at > wake_up * 60 + 180 else 23 * 60)
    laid_out = routine_blocks(items, wake_up=wake_up, bedtime=layout_end, cap=hourly_cap)
    as_json = [{"start": hhmm(s), "end": hhmm(e), "activity": a} for s, e, a in laid_out]
    span = f" and goes to bed at {hhmm(forced)}" if forced else ""
    hourly_call = gw.astructured(
        hourly_model,
        prompt=prompt("plan_hourly", identity=identity.summary(), date=_date(now), first_name=identity.first_name,
                      daily_plan="; ".join(items), wake_up=hhmm(wake_up * 60), span=span, memories=recalled,
                      example=_example(personal, {"blocks": as_json} if personal else {"blocks": [
                          {"start": "HH:MM", "end": "HH:MM", "activity": "<what>"},
                          {"start": "HH:MM", "end": "HH:MM", "activity": "<what next>"}]})),
        fallback=lambda: hourly_model.model_validate({"blocks": (as_json * 3)[: max(3, len(as_json))]}),
        **config.call_kwargs("plan.hourly"),
    )  # fmt: skip
    if stream is not None and config.memory.plans:
        # The plan thought needs only the items: it is embedded while the schedule is written.
        hourly, _ = await asyncio.gather(hourly_call, remember_plan(gw, identity, stream, items, now))
    else:
        hourly = await hourly_call
    blocks = [(parse_hhmm(b.start), parse_hhmm(b.end), str(b.activity)) for b in hourly.value.blocks]
    scratch.wake_up_hour = wake_up
    scratch.daily_plan = items
    scratch.hourly_schedule = frame_schedule(blocks, wake_up=wake_up, bedtime=forced)
    scratch.decomposed = {}


async def remember_plan(
    gw: ModelGateway, identity: Identity, stream: MemoryStream, items: list[str], now: datetime
) -> MemoryNode:
    """Step 1e: the day's plan as a thought the next morning's recall can find."""
    text = f"This is {identity.name}'s plan for {_day(now)}: {', '.join(items)}."
    if current_language() == "zh":
        text = f"这是{identity.name}{_day(now)}的计划：{'、'.join(items)}。"
    vector = (await gw.aembed([text], purpose="plan.embed"))[0]
    return stream.add_thought(identity.name, "plans", _day(now), text, created=now, poignancy=PLAN_POIGNANCY,
                              embedding=vector, keywords={"plan", identity.name},
                              expiration=now + timedelta(days=PLAN_DAYS))  # fmt: skip


def frame_schedule(
    blocks: list[tuple[int, int, str]], *, wake_up: int, bedtime: int | None = None
) -> list[ScheduleItem]:
    """A contiguous 24-hour schedule from (start, end, activity) blocks in minutes (step 1d).

    Sleep until `wake_up` (an hour). Blocks are kept at their clock times, clipped to
    the waking day; sorted by start and painted in that order, so a later-starting
    block wins an overlap (a block inside another splits it). An end before the start
    runs to midnight; an end equal to the start means one hour. A gap of up to an hour
    continues the block before it; a longer gap is free time (before the first block:
    the morning routine). After the last block (or `bedtime`, whichever is later),
    sleep until midnight. The result always sums to 24 hours; every item has its start.
    """
    wake = max(0, min(MINUTES_PER_DAY, wake_up * 60))
    sleeping, free_time, morning = label(SLEEPING), label(FREE_TIME), label(MORNING_ROUTINE)
    slots: list[str | None] = [None] * MINUTES_PER_DAY
    for minute in range(wake):
        slots[minute] = sleeping
    cleaned = []
    for order, (start, end, activity) in enumerate(blocks):
        start, end = max(0, min(MINUTES_PER_DAY, start)), max(0, min(MINUTES_PER_DAY, end))
        if end < start:
            end = MINUTES_PER_DAY
        elif end == start:
            end = min(MINUTES_PER_DAY, start + 60)
        start = max(start, wake)
        if end > start:
            cleaned.append((start, order, end, " ".join(activity.split()) or label("resting")))
    cleaned.sort()
    for start, _, end, activity in cleaned:
        slots[start:end] = [activity] * (end - start)
    last = max((end for _, _, end, _ in cleaned), default=wake)
    day_end = max(last, bedtime or 0, wake)
    # Runs of equal minutes (not a loop over 1,440 minutes: 0.3 ms a plan, 25 at once).
    # Fill the gaps of the waking day, then sleep; equal neighbours merge.
    items: list[ScheduleItem] = []

    def add(activity: str, start: int, end: int) -> None:
        if items and items[-1].activity == activity:
            items[-1].minutes += end - start
        else:
            items.append(ScheduleItem(activity, end - start, start=start))

    start = 0
    for slot, run in groupby(slots):
        end = start + len(list(run))
        if slot is not None:
            add(slot, start, end)
        else:
            gap = start
            if gap < day_end:
                before = items[-1].activity if gap > wake else None
                stop = min(end, day_end)
                if before is None:
                    fill = morning
                elif stop - gap <= 60 and before != sleeping:
                    fill = before
                else:
                    fill = free_time
                add(fill, gap, stop)
                gap = stop
            if gap < end:
                add(sleeping, gap, end)
        start = end
    return items


# --- 2. decomposition --------------------------------------------------------------


def block_start(scratch: Scratch, index: int, day: datetime) -> datetime:
    midnight = day.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(minutes=sum(item.minutes for item in scratch.hourly_schedule[:index]))


def _decompose_example(activity: str, minutes: int, cap: int) -> list[dict[str, Any]]:
    """Compact's personal decomposition example: the block itself, begun, done, finished."""
    begun, done = ("（开始）", "（收尾）") if has_cjk(activity) else (" (getting started)", " (wrapping up)")
    core = _fit(activity, cap - len(begun))
    middle = max(5, min(60, minutes - 30))
    return [
        {"activity": f"{core}{begun}", "minutes": 15},
        {"activity": _fit(activity, cap), "minutes": middle},
        {"activity": f"{core}{done}", "minutes": 15},
    ]


async def decompose_block(
    gw: ModelGateway,
    identity: Identity,
    scratch: Scratch,
    index: int,
    now: datetime,
    *,
    config: AgentConfig | None = None,
) -> list[ScheduleItem]:
    """The subtasks of schedule block `index` (cached in scratch.decomposed)."""
    config = config or AgentConfig.compact()
    if index in scratch.decomposed:
        return scratch.decomposed[index]
    block = scratch.hourly_schedule[index]
    if block.activity in SLEEP_LABELS or block.minutes < 30 or not config.planning.enabled:
        subtasks = [ScheduleItem(block.activity, block.minutes)]
    else:
        start = block_start(scratch, index, now)
        cap = config.chars("plan.decompose", 50)
        model = subtasks_model("Decomposition", cap, min_items=2, max_items=8)
        personal = config.planning.personal_examples
        who = brief_identity(identity) if config.planning.brief_identity else identity.summary()
        example = (
            {"subtasks": _decompose_example(block.activity, block.minutes, cap)}
            if personal
            else {"subtasks": [{"activity": "<first step>", "minutes": 15}, {"activity": "<next step>", "minutes": 30}]}
        )
        result = await gw.astructured(
            model,
            prompt=prompt("plan_decompose", identity=who, first_name=identity.first_name,
                          activity=block.activity, start=_clock(start), minutes=block.minutes,
                          example=_example(personal, example)),
            fallback=lambda: model.model_construct(subtasks=[]),
            **config.call_kwargs("plan.decompose"),
        )  # fmt: skip
        parts = [(s.activity, s.minutes) for s in result.value.subtasks] if result.ok else []
        subtasks = merge_repeats(rescale(parts, block.minutes)) if parts else []
        if not subtasks:
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


def merge_repeats(items: list[ScheduleItem]) -> list[ScheduleItem]:
    """Adjacent subtasks with the same activity become one (their minutes added): the
    same action twice in a row is one action, not a new place, object and emoji to pick."""
    out: list[ScheduleItem] = []
    for item in items:
        if out and " ".join(out[-1].activity.lower().split()) == " ".join(item.activity.lower().split()):
            out[-1] = ScheduleItem(out[-1].activity, out[-1].minutes + item.minutes)
        else:
            out.append(item)
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
    gw: ModelGateway,
    identity: Identity,
    scratch: Scratch,
    now: datetime,
    interruption: str,
    minutes: int,
    *,
    config: AgentConfig | None = None,
) -> None:
    """Fit an interruption (a conversation, described by its summary) into the current
    block's subtasks.

    What was done stays; the interruption takes its minutes; the rest of the block is
    revised by the model (`plan.revise`), which is shown what the interruption was, and
    rescaled to the time that is left, so the block keeps its exact length. Fallback:
    the old remaining subtasks, squeezed.
    """
    config = config or AgentConfig.compact()
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
        cap = config.chars("plan.revise", 50)
        model = subtasks_model("Revision", cap, min_items=1, max_items=6)
        block_end = begin + timedelta(minutes=block.minutes)
        remaining = [(_fit(a, cap), m) for a, m in before if m > 0] or [(_fit(block.activity, cap), 5)]
        result = await gw.astructured(
            model,
            prompt=prompt("plan_revise", identity=identity.summary(), first_name=identity.first_name,
                          block_end=_clock(block_end), time=_clock(now), interruption=interruption,
                          minutes=minutes, remaining="; ".join(f"{a} ({m} min)" for a, m in before if m > 0),
                          example=remaining[0][0]),
            fallback=lambda: model.model_validate(
                {"subtasks": [{"activity": a, "minutes": min(60, max(5, m))} for a, m in remaining][:6]}
            ),
            **config.call_kwargs("plan.revise"),
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


def _place_scorer(activity: str, home: str) -> Callable[[str], int]:
    """How well a "sector: arena" suits `activity`: word overlap, room hints, and home
    for domestic activities (0: no sign either way). What depends on the activity is
    worked out once: a shortlist scores every place the persona knows."""
    words = activity.lower()
    long_words = [w for w in words.split() if len(w) > 3]
    rooms = [room for room, hints in _ROOM_HINTS.items() if any(h in words for h in hints)]
    domestic = any(room in rooms for room in ("kitchen", "bedroom", "bathroom", "living"))
    home_prefix = home.split(": ")[0] + ":"

    def fit(option: str) -> int:
        text = option.lower()
        overlap = sum(1 for w in long_words if w in text)
        hinted = sum(1 for room in rooms if room in text)
        return hinted + overlap + 2 * int(domestic and option.startswith(home_prefix))

    return fit


def guess_place(activity: str, options: list[str], *, current: str, home: str) -> str:
    """A sensible default place for an activity, by word overlap and room hints.

    Compact only (`planning.guess_place`): shown to the model as the example answer,
    so a tiny model that copies the example still goes somewhere plausible.
    """

    fit = _place_scorer(activity, home)

    def score(option: str) -> tuple[int, int, int]:
        return (fit(option), int(option == current), -options.index(option))

    best = max(options, key=score)
    return best if score(best)[0] > 0 else current


def shortlist_places(activity: str, options: list[str], *, current: str, home: str, workplace: str,
                     limit: int) -> list[str]:  # fmt: skip
    """At most `limit` places for the location prompt (compact's `planning.place_options`):
    the current place, home, the workplace's places, then the best fits for the activity
    (see _place_scorer; ties keep the order the persona knows them in)."""
    home_sector, work = home.split(": ")[0], workplace.strip().lower()
    first = [o for o in options if work and o.split(": ")[0].lower() == work]
    first += [o for o in options if o.startswith(home_sector + ":")]  # the rest of home: kitchen, bathroom
    fits = {o: fit for o, fit in zip(options, map(_place_scorer(activity, home), options), strict=True)}
    ranked = sorted(options, key=lambda o: -fits[o])  # stable: known order breaks ties
    best_fits = [o for o in ranked if fits[o] > 0]
    chosen = list(dict.fromkeys([current, home, *best_fits[:3], *first, *ranked]))
    return [o for o in options if o in chosen[:limit]]


async def choose_place(
    gw: ModelGateway, identity: Identity, activity: str, places: PlaceOptions, *, config: AgentConfig | None = None
) -> tuple[str, str | None]:
    """("sector: arena", object or None) for an activity, from known places only."""
    config = config or AgentConfig.compact()
    guess = config.planning.guess_place
    options = list(dict.fromkeys([places.current, places.home, *places.arenas]))
    limit = config.planning.place_options
    if limit is not None and len(options) > limit:
        options = shortlist_places(activity, options, current=places.current, home=places.home,
                                   workplace=identity.workplace, limit=limit)  # fmt: skip
    fallback_arena = places.home if activity in SLEEP_LABELS else places.current
    if len(options) == 1:
        arena = options[0]
    else:
        model = choice_model("Place", "place", options)
        example = (
            {"place": guess_place(activity, options, current=places.current, home=places.home)}
            if guess
            else {"place": "<one of the places listed, exactly as written>"}
        )
        result = await gw.astructured(
            model,
            prompt=prompt("plan_location", name=identity.name, first_name=identity.first_name, home=places.home,
                          current=places.current, options="; ".join(options), activity=activity,
                          example=_example(guess, example)),
            fallback=lambda: model(place=fallback_arena),
            **config.call_kwargs("plan.location"),
        )  # fmt: skip
        arena = result.value.place
    objects = places.objects.get(arena, [])
    if not objects:
        return arena, None
    if len(objects) == 1:
        return arena, objects[0]
    model = choice_model("Thing", "object", objects)
    picked = await gw.astructured(
        model,
        prompt=prompt("plan_object", first_name=identity.first_name, activity=activity, arena=arena,
                      options="; ".join(objects),
                      example=_example(guess, {"object": objects[-1] if guess else "<one of the things listed>"})),
        fallback=lambda: model(object=objects[0]),
        **config.call_kwargs("plan.object"),
    )  # fmt: skip
    return arena, picked.value.object


async def describe_action(
    gw: ModelGateway, activity: str, obj: str | None, *, config: AgentConfig | None = None
) -> ActionDetails:
    config = config or AgentConfig.compact()
    result = await gw.astructured(
        ActionDetails,
        prompt=prompt("plan_details", activity=activity, object=obj or "none"),
        fallback=ActionDetails(emoji="🙂", object_state="in use" if obj else "idle"),
        **config.call_kwargs("plan.details"),
    )
    details: ActionDetails = result.value
    return details


def address_of(world: str, arena: str, obj: str | None) -> str:
    sector, _, arena_name = arena.partition(": ")
    parts = [world, sector, arena_name] + ([obj] if obj else [])
    return ":".join(parts)


async def next_action(
    gw: ModelGateway,
    identity: Identity,
    scratch: Scratch,
    now: datetime,
    places: PlaceOptions,
    *,
    stream: MemoryStream | None = None,
    config: AgentConfig | None = None,
    on_activity: Callable[[str], None] | None = None,
) -> Action:
    """Plan whatever is needed (new day, decomposition) and return the action for `now`.

    `on_activity` is told the activity as soon as it is known, before its place and
    details are chosen (the world decides whether to talk meanwhile).
    """
    config = config or AgentConfig.compact()
    if scratch.is_new_day(now) or not scratch.hourly_schedule:
        await plan_day(gw, identity, scratch, now, stream=stream, config=config)
    index = scratch.schedule_index(now)
    subtasks = await decompose_block(gw, identity, scratch, index, now, config=config)
    sub_index, started = current_subtask(subtasks, block_start(scratch, index, now), now)
    item = subtasks[sub_index]
    if on_activity is not None:
        on_activity(item.activity)
    arena, obj = await choose_place(gw, identity, item.activity, places, config=config)
    details = await describe_action(gw, item.activity, obj, config=config)
    remaining = item.minutes - int((now - started).total_seconds() // 60)
    return Action(
        address=address_of(places.world, arena, obj),
        description=item.activity,
        start=now,
        minutes=max(1, remaining),
        emoji=details.emoji,
        event=(identity.name, "is", item.activity),
        object_event=(obj, "is", details.object_state) if obj else ("", "", ""),
        object_description=is_doing(obj, details.object_state) if obj else "",
    )
