"""A persona's identity and working state ("scratch"), as plain serialisable data.

Identity is who the agent is. It changes slowly: `currently` and the daily requirement
are revised each morning from retrieved memories (plan.revise_identity).
Scratch is what the agent is doing now: today's plan, the hour-by-hour schedule and
its decomposition into 5-15 minute subtasks, the current action with its place,
emoji and event triples, the conversation it is in, and the path it is walking.
The cognitive modules read and write these; the Django shell stores them as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from reverie.engine.prompting import current_language

Tile = tuple[int, int]
Triple = tuple[str, str, str]


@dataclass
class Identity:
    name: str
    age: int
    innate: str  # innate traits, e.g. "friendly, outgoing, hospitable"
    learned: str  # background and learned traits, a few sentences
    currently: str  # what they are focused on these days
    lifestyle: str  # e.g. "goes to bed around 11pm, wakes up around 6am"
    living_area: str  # address of home, world:sector:arena
    daily_requirement: str = ""  # standing goals the daily plan must serve
    workplace: str = ""  # where they work or study (a sector name), "" if nowhere in particular

    @property
    def first_name(self) -> str:
        return self.name.split(" ")[0]

    def summary(self) -> str:
        """The identity stable set the planning and conversation prompts start with
        (labelled in the language prompts are rendered in: prompting.current_language)."""
        if current_language() == "zh":
            return (
                f"姓名：{self.name}（{self.age}岁）\n"
                f"性格：{self.innate}\n"
                f"背景：{self.learned}\n"
                f"近况：{self.currently}\n"
                f"作息：{self.lifestyle}\n"
                f"每日要务：{self.daily_requirement}"
            )
        return (
            f"Name: {self.name} (age: {self.age})\n"
            f"Innate traits: {self.innate}\n"
            f"Learned traits: {self.learned}\n"
            f"Currently: {self.currently}\n"
            f"Lifestyle: {self.lifestyle}\n"
            f"Daily plan requirement: {self.daily_requirement}"
        )


@dataclass
class ScheduleItem:
    """One entry of the hourly schedule or of a decomposition: an activity and its length.

    `start` (minutes after midnight) is set on hourly-schedule blocks: the clock time
    the plan put the block at. The schedule is contiguous (it always sums to 24 hours),
    so `start` equals the sum of the minutes before it; stored schedules without it
    still load and work.
    """

    activity: str
    minutes: int
    start: int | None = None


@dataclass
class Action:
    """What the persona is doing now, where, since when and for how long."""

    address: str  # world:sector:arena:object (or "<persona> Name" while chatting)
    description: str
    start: datetime
    minutes: int
    emoji: str = "🙂"
    event: Triple = ("", "", "")  # persona, predicate, object
    object_event: Triple = ("", "", "")  # object, predicate, its new state
    object_description: str = ""

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)

    def finished(self, now: datetime) -> bool:
        return now >= self.end


@dataclass
class ChatState:
    partner: str | None = None
    lines: list[tuple[str, str]] = field(default_factory=list)  # (speaker, utterance)
    ends_at: datetime | None = None
    # partner -> steps to wait before talking to them again (no chat loops)
    cooldown: dict[str, int] = field(default_factory=dict)


@dataclass
class Scratch:
    # perception parameters (the paper's values)
    vision_radius: int = 4
    attention_bandwidth: int = 3
    retention: int = 5
    # time and place
    now: datetime | None = None
    tile: Tile | None = None
    # planning
    wake_up_hour: int | None = None
    daily_plan: list[str] = field(default_factory=list)
    hourly_schedule: list[ScheduleItem] = field(default_factory=list)  # covers the whole day
    decomposed: dict[int, list[ScheduleItem]] = field(default_factory=dict)  # hourly index -> subtasks
    action: Action | None = None
    chat: ChatState = field(default_factory=ChatState)
    path: list[Tile] = field(default_factory=list)
    path_set: bool = False

    def schedule_index(self, when: datetime) -> int:
        """Index of the hourly-schedule item covering `when` (by cumulative minutes)."""
        minute_of_day = when.hour * 60 + when.minute
        elapsed = 0
        for i, item in enumerate(self.hourly_schedule):
            elapsed += item.minutes
            if elapsed > minute_of_day:
                return i
        return max(0, len(self.hourly_schedule) - 1)

    def is_new_day(self, when: datetime) -> bool:
        return self.now is None or when.date() != self.now.date()


# --- serialisation ------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"__dt__": value.isoformat()}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


def _decode_dt(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, dict) and "__dt__" in value:
        return datetime.fromisoformat(value["__dt__"])
    raise ValueError(f"expected an encoded datetime, got {value!r}")


def identity_to_dict(identity: Identity) -> dict[str, Any]:
    return asdict(identity)


def identity_from_dict(data: dict[str, Any]) -> Identity:
    known = {f.name for f in fields(Identity)}
    missing = {"name", "age", "innate", "learned", "currently", "lifestyle", "living_area"} - data.keys()
    if missing:
        raise ValueError(f"persona {data.get('name', '?')!r} is missing {sorted(missing)}")
    return Identity(**{k: v for k, v in data.items() if k in known})


def scratch_to_dict(scratch: Scratch) -> dict[str, Any]:
    """What `_encode(asdict(scratch))` gives, written out: asdict deep-copies field by
    field through the dataclass machinery, a third of a 25-agent step's commit (a test
    holds the two equal, field for field)."""
    s, a, c = scratch, scratch.action, scratch.chat
    return {
        "vision_radius": s.vision_radius,
        "attention_bandwidth": s.attention_bandwidth,
        "retention": s.retention,
        "now": _encode_dt(s.now),
        "tile": list(s.tile) if s.tile is not None else None,
        "wake_up_hour": s.wake_up_hour,
        "daily_plan": list(s.daily_plan),
        "hourly_schedule": [_item(i) for i in s.hourly_schedule],
        "decomposed": {str(k): [_item(i) for i in v] for k, v in s.decomposed.items()},
        "action": None if a is None else {
            "address": a.address, "description": a.description, "start": _encode_dt(a.start), "minutes": a.minutes,
            "emoji": a.emoji, "event": list(a.event), "object_event": list(a.object_event),
            "object_description": a.object_description,
        },
        "chat": {
            "partner": c.partner, "lines": [list(line) for line in c.lines], "ends_at": _encode_dt(c.ends_at),
            "cooldown": {str(k): v for k, v in c.cooldown.items()},
        },
        "path": [list(tile) for tile in s.path],
        "path_set": s.path_set,
    }  # fmt: skip


def _item(item: ScheduleItem) -> dict[str, Any]:
    return {"activity": item.activity, "minutes": item.minutes, "start": item.start}


def _encode_dt(value: datetime | None) -> dict[str, str] | None:
    return None if value is None else {"__dt__": value.isoformat()}


def scratch_from_dict(data: dict[str, Any]) -> Scratch:
    s = Scratch()
    for name in ("vision_radius", "attention_bandwidth", "retention", "wake_up_hour", "daily_plan", "path_set"):
        if name in data:
            setattr(s, name, data[name])
    s.now = _decode_dt(data.get("now"))
    s.tile = tuple(data["tile"]) if data.get("tile") is not None else None  # type: ignore[assignment]
    s.hourly_schedule = [ScheduleItem(**i) for i in data.get("hourly_schedule", [])]
    s.decomposed = {int(k): [ScheduleItem(**i) for i in v] for k, v in data.get("decomposed", {}).items()}
    if data.get("action"):
        a = data["action"]
        s.action = Action(
            address=a["address"],
            description=a["description"],
            start=_decode_dt(a["start"]) or datetime.min,
            minutes=int(a["minutes"]),
            emoji=a.get("emoji", "🙂"),
            event=tuple(a.get("event", ("", "", ""))),  # type: ignore[arg-type]
            object_event=tuple(a.get("object_event", ("", "", ""))),  # type: ignore[arg-type]
            object_description=a.get("object_description", ""),
        )
    chat = data.get("chat") or {}
    s.chat = ChatState(
        partner=chat.get("partner"),
        lines=[(str(sp), str(line)) for sp, line in chat.get("lines", [])],
        ends_at=_decode_dt(chat.get("ends_at")),
        cooldown={str(k): int(v) for k, v in chat.get("cooldown", {}).items()},
    )
    s.path = [(int(x), int(y)) for x, y in data.get("path", [])]
    return s
