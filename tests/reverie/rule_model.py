"""A rule-following scripted model for whole-chain tests of the town.

It knows nothing of the base data or of the expected answers: every answer is computed
from the prompt it is shown (and the JSON schema the gateway asks for, which gives the
length caps, the list sizes and the options of a choice). Its rules:

- News is a party. A sentence of the prompt that mentions a party is news; the model
  reads the party's name ("Valentine's Day party"), host ("<Name> is hosting/planning"),
  place ("at <Capitalised Words>"), date ("<Month> <day>") and start/end times ("5pm",
  "17:00") from the sentence, keeping the most detailed sentence (missing details are
  taken from the other news sentences). Memory bullets' own timestamps are not news.
- It mentions any news it remembers: deciding whether to talk, it says "talk" when the
  prompt shows news (outside what the other is seen doing), the other is awake, and
  their last chat was not already about the party; otherwise "continue". Its first line
  in a chat tells the news, with host, place, date and time as the prompt shows them.
- It accepts invitations: told of a party, it says it will come, and ends the chat.
  The chat summary and the memo name the party; a memo says the listener will go.
- It plans to attend events it has heard of: the morning identity revision adds the
  party (with its time) to `currently` and the daily requirement; the daily plan gets
  "attend the <party> at <place> at HH:MM" when the party is today (or undated); the
  schedule puts an item that names a time at that time (a party for two hours, or until
  its end time); a place is the option whose sector the activity names, home for sleep,
  else where the agent is.
- Importance: 7 for a memory that mentions a party, 3 otherwise.
- Interviews answer yes, with the details, when the prompt (its memories or the
  identity, not the question) shows the party; no otherwise. The judge says aware when
  the answer mentions the party and does not start with "No".

`RuleBackend.unknown` lists prompts it did not recognise (a test should assert none),
and `RuleBackend.used` counts the rules that answered.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from llm.gateway import Gateway
from llm.tracing import MemoryRecorder
from tests.llm.fakes import FakeEmbedder, ScriptedBackend

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip
_MONTH = "|".join(MONTHS)
_PARTY = re.compile(r"\bpart(?:y|ies)\b", re.IGNORECASE)
_EVENT = re.compile(r"((?:[A-Z][\w']*\s+){1,4})part(?:y|ies)\b")
_PLACE = re.compile(r"\bat\s+((?:the\s+)?[A-Z][\w']*(?:\s+[A-Z][\w']*)*)")
_DATE = re.compile(rf"\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b")
_TIME12 = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\b", re.IGNORECASE)
_TIME24 = re.compile(r"\b([01]?\d|2[0-4]):([0-5]\d)\b(?!\s*[ap]\.?m)", re.IGNORECASE)
_HOST = re.compile(
    r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s+(?:is|was|will be)\s+(?:hosting|planning|throwing|holding|"
    r"organi[sz]ing|having)\b"
)
# "- Monday February 13, 10:00: ..." (a memory bullet's own timestamp) and "(Monday February 13, 10:00 AM)".
_BULLET_TIME = re.compile(rf"^-\s*(?:[A-Z][a-z]+day\s+)?(?:{_MONTH})\s+\d{{1,2}},\s*\d{{1,2}}:\d{{2}}:\s*")
_PAREN_TIME = re.compile(r"\([^)]*\d{1,2}:\d{2}[^)]*\)")
_ARTICLES = {"a", "an", "the", "A", "An", "The"}


def _minutes_12(hour: str, minute: str | None, half: str) -> int:
    return (int(hour) % 12 + (12 if half.lower() == "p" else 0)) * 60 + int(minute or 0)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def twelve(minutes: int) -> str:
    hour, minute = divmod(minutes, 60)
    half = "am" if hour < 12 else "pm"
    hour = hour % 12 or 12
    return f"{hour}{half}" if minute == 0 else f"{hour}:{minute:02d}{half}"


def times_in(text: str) -> list[int]:
    """Clock times in `text`, in order, as minutes after midnight ("5pm", "17:00")."""
    found = [(m.start(), _minutes_12(*m.groups())) for m in _TIME12.finditer(text)]
    found += [(m.start(), int(m.group(1)) * 60 + int(m.group(2))) for m in _TIME24.finditer(text)]
    return [minutes for _, minutes in sorted(found)]


@dataclass(frozen=True)
class News:
    """A party as one sentence of a prompt describes it."""

    event: str = "party"
    host: str = ""
    place: str = ""
    date: tuple[str, int] | None = None  # (month, day)
    start: int | None = None  # minutes after midnight
    end: int | None = None

    @property
    def detail(self) -> int:
        return sum(bool(x) for x in (self.event != "party", self.host, self.place, self.date, self.start is not None))

    def merged(self, other: News) -> News:
        return News(
            self.event if self.event != "party" else other.event,
            self.host or other.host,
            self.place or other.place,
            self.date or other.date,
            self.start if self.start is not None else other.start,
            self.end if self.start is not None else other.end,
        )

    def date_text(self) -> str:
        return f"{self.date[0]} {self.date[1]}" if self.date else ""

    def fact(self) -> str:
        """ "Isabella Rodriguez is hosting a Valentine's Day party at Hobbs Cafe on February 14 from 5pm to 7pm"."""
        text = f"{self.host} is hosting a {self.event}" if self.host else f"there is a {self.event}"
        if self.place:
            text += f" at {self.place}"
        if self.date:
            text += f" on {self.date_text()}"
        if self.start is not None:
            text += f" from {twelve(self.start)}" + (f" to {twelve(self.end)}" if self.end else "")
        return text

    def plan_item(self) -> str:
        """ "attend the Valentine's Day party at Hobbs Cafe at 17:00"."""
        text = f"attend the {self.event}"
        if self.place:
            text += f" at {self.place}"
        if self.start is not None:
            text += f" at {hhmm(self.start)}"
        return text

    def on(self, month: str, day: int) -> bool:
        return self.date is None or self.date == (month, day)


def _clean(line: str) -> str:
    return _PAREN_TIME.sub("", _BULLET_TIME.sub("", line.strip()))


def _sentences(text: str) -> Iterable[str]:
    for line in text.splitlines():
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])|;\s+", _clean(line)):
            if sentence.strip():
                yield sentence.strip()


def read_news(sentence: str, prompt: str = "") -> News | None:
    """The party a sentence mentions (None if it mentions none)."""
    mention = _PARTY.search(sentence)
    if mention is None:
        return None
    named = _EVENT.search(sentence)
    event = "party"
    if named is not None:
        words = [w for w in named.group(1).split() if w not in _ARTICLES]
        event = " ".join([*words, "party"]) if words else "party"
    after = sentence[mention.end() :]
    clause = re.split(r",\s+(?!\d)|;|\.(?:\s|$)", after)[0]
    place_match = _PLACE.search(clause)
    place = place_match.group(1).removeprefix("the ") if place_match else ""
    date_match = _DATE.search(sentence)
    date = (date_match.group(1), int(date_match.group(2))) if date_match else None
    clock = times_in(clause)
    start = clock[0] if clock else None
    end = clock[1] if len(clock) > 1 and clock[1] > clock[0] else None
    host_match = _HOST.search(sentence)
    host = host_match.group(1) if host_match else ""
    if host and " " not in host and prompt:
        full = re.search(rf"\b{re.escape(host)}\s+([A-Z][a-z]+)\b", prompt)
        if full is not None and full.group(1) not in ("Is", "Was"):
            host = f"{host} {full.group(1)}"
    return News(event, host, place, date, start, end)


def news_in(text: str, prompt: str | None = None) -> News | None:
    """The most detailed party the text mentions, its gaps filled from the others."""
    found = [n for s in _sentences(text) if (n := read_news(s, prompt if prompt is not None else text))]
    if not found:
        return None
    found.sort(key=lambda n: -n.detail)
    best = found[0]
    for other in found[1:]:
        best = best.merged(other)
    return best


# --- reading prompts and schemas --------------------------------------------------------


def _between(text: str, start: str, end: str | None = None) -> str:
    if start not in text:
        return ""
    rest = text.split(start, 1)[1] if start else text
    return rest.split(end, 1)[0] if end and end in rest else rest


def _line_after(text: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}\s*(.*)$", text, re.MULTILINE)
    return match.group(1).strip() if match else ""


def _props(schema: dict[str, Any]) -> dict[str, Any]:
    return dict(schema.get("properties", {}))


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(schema.get("$defs", {}).get(ref.split("/")[-1], {}))
    return node


def cap(schema: dict[str, Any], *path: str, default: int = 200) -> int:
    """The maxLength of a string field reached through `path` (list items followed)."""
    node: dict[str, Any] = schema
    for name in path:
        node = _resolve(schema, node)
        if node.get("type") == "array":
            node = _resolve(schema, node.get("items", {}))
        node = _props(node).get(name, {})
    node = _resolve(schema, node)
    if node.get("type") == "array":
        node = _resolve(schema, node.get("items", {}))
    return int(node.get("maxLength", default))


def options(schema: dict[str, Any], field: str) -> list[str]:
    node = _resolve(schema, _props(schema).get(field, {}))
    if "enum" in node:
        return [str(v) for v in node["enum"]]
    if "const" in node:
        return [str(node["const"])]
    return []


def fit(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:")


def _first(name: str) -> str:
    return name.split()[0] if name else name


# --- the rules ---------------------------------------------------------------------------


def rate(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    lines = re.findall(r"^\d+\.\s+(.*)$", _between(prompt, "rate how poignant", "Example answer"), re.MULTILINE)
    count = int(schema.get("properties", {}).get("ratings", {}).get("minItems", len(lines)) or len(lines))
    scores = [7 if _PARTY.search(line) else 3 for line in lines][:count]
    scores += [3] * (count - len(scores))
    return {"ratings": scores}


def react(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    first = _between(prompt, "Should ", " start a conversation").strip()
    sees = re.search(r"^.* sees (.*), who is (.*)\.$", prompt, re.MULTILINE)
    other_doing = sees.group(2) if sees else ""
    last = _line_after(prompt, "Last time they talked:")
    known = "\n".join(line for line in prompt.splitlines() if " sees " not in line and "Last time" not in line)
    news = news_in(known)
    limit = cap(schema, "reasoning", default=80)
    if "sleep" in other_doing.lower():
        return {"reasoning": fit("they are asleep", limit), "decision": "continue"}
    if news is not None and not _PARTY.search(last):
        return {"reasoning": fit(f"{first} has news about the {news.event} to share", limit), "decision": "talk"}
    return {"reasoning": fit("nothing new to say", limit), "decision": "continue"}


def relationship(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    name = _between(prompt, "What ", " remembers about ").strip()
    other = _between(prompt, " remembers about ", ":").strip()
    return {"summary": fit(f"{name} knows {other} from around town.", cap(schema, "summary", default=160))}


def line(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    me = _line_after(prompt, "Name:").split(" (age")[0]
    other = _between(prompt, "'s next line to ", ",").strip()
    transcript = _between(prompt, "The conversation so far:\n", f"\n{_first(me)}'s next line")
    limit = cap(schema, "line", default=160)
    started = not transcript.startswith("[The conversation has not started")
    mine = [t for t in transcript.splitlines() if t.startswith(f"{me}:")] if started else []
    theirs = [t for t in transcript.splitlines() if t.startswith(f"{other}:")] if started else []
    told = news_in("\n".join(theirs), prompt) if theirs else None
    news = news_in(prompt)
    if told is not None and not any(_PARTY.search(t) for t in mine):
        when = f" at {twelve(told.start)}" if told.start is not None else ""
        where = f" at {told.place}" if told.place else ""
        text = f"Thank you for telling me! I would love to come to the {told.event}{where}{when}."
        return {"line": fit(text, limit), "end": True}
    if not mine and news is not None:
        text = f"Hi {_first(other)}! Have you heard? {news.fact()}. I'd love to see you there!"
        return {"line": fit(text, limit), "end": False}
    if not mine:
        return {"line": fit(f"Hi {_first(other)}, good to see you.", limit), "end": False}
    return {"line": fit("Good talking with you, see you later.", limit), "end": True}


def chat_summary(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    transcript = _between(prompt, ":\n", "\n\nSummarise")
    news = news_in(transcript, prompt)
    limit = cap(schema, "summary", default=120)
    if news is not None:
        return {"summary": fit(f"conversing about how {news.fact()}", limit)}
    return {"summary": fit("conversing about how they are doing today", limit)}


def memo(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    name = prompt.split(" just had this conversation with ", 1)[0].strip()
    other = _between(prompt, " just had this conversation with ", ":\n").strip()
    news = news_in(prompt)
    limit = cap(schema, "text", default=140)
    if news is None:
        return {"text": fit(f"{name} had a friendly chat with {other}.", limit)}
    if news.host == name:
        return {"text": fit(f"{name} invited {other} to the {news.event}: {news.fact()}.", limit)}
    return {"text": fit(f"{name} learned that {news.fact()}; {_first(name)} will go.", limit)}


def _today(prompt: str) -> tuple[str, int] | None:
    match = re.search(rf"Today is \w+ ({_MONTH}) (\d{{1,2}})", prompt)
    return (match.group(1), int(match.group(2))) if match else None


def revise_identity(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    first = _between(prompt, "What ", " remembers from the last days").strip()
    currently = _line_after(prompt, "Currently:")
    requirement = _line_after(prompt, "Daily plan requirement:")
    news = news_in(prompt)
    today = _today(prompt)
    limit_c, limit_r = cap(schema, "currently"), cap(schema, "daily_requirement")
    if news is not None and (today is None or news.on(*today) or (news.date and news.date > today)):
        plan = f"{first} plans to go to the {news.event}"
        plan += f" at {news.place}" if news.place else ""
        plan += f" on {news.date_text()}" if news.date else ""
        plan += f" at {hhmm(news.start)}." if news.start is not None else "."
        if not _PARTY.search(currently):
            currently = fit(currently, limit_c - len(plan) - 1) + " " + plan
        if today is None or news.on(*today):
            item = news.plan_item()
            if item not in requirement:
                requirement = fit(requirement, limit_r - len(item) - 3) + " " + item[0].upper() + item[1:] + "."
    return {"currently": fit(currently, limit_c), "daily_requirement": fit(requirement, limit_r)}


def wake_up(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    lifestyle = _between(prompt, "In general, ", "\n")
    match = re.search(r"wakes? up\s+(?:at|around|about|by)?\s*(\d{1,2})(?::\d{2})?\s*([ap])\.?m", lifestyle)
    hour = _minutes_12(match.group(1), None, match.group(2)) // 60 if match else 7
    node = _props(schema).get("hour", {})
    low, high = int(node.get("minimum", 0)), int(node.get("maximum", 23))
    return {"hour": max(low, min(high, hour))}


def _clauses(text: str) -> list[str]:
    parts = re.split(r"[;.]\s+|,\s*(?:and\s+)?(?![0-9])|\s+and\s+(?=[a-z]+s\b)", text.strip().rstrip("."))
    return [p.strip() for p in parts if len(p.strip()) > 3]


def daily(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    wake = int(_between(prompt, "wakes up at ", ":00") or 7)
    requirement = _line_after(prompt, "Daily plan requirement:")
    news = news_in(prompt)
    today = _today(prompt)
    attend = news is not None and (today is None or news.on(*today))
    limit = cap(schema, "items", default=60)
    items = [f"wake up and get ready at {wake}:00"]
    items += [c for c in _clauses(requirement) if not (attend and _PARTY.search(c))][:4]
    if attend and news is not None:
        items.append(news.plan_item())
    for filler in ("have lunch at 12:00", "relax at home in the evening", "read before bed"):
        if len(items) >= 4:
            break
        items.append(filler)
    return {"items": [fit(i, limit) for i in items[:8]]}


_TIME_PHRASE = re.compile(
    r"\s+(?:at|from|until|till|to|by|around)\s+(?:\d{1,2}(?::\d{2})?\s*[ap]\.?m|\d{1,2}:\d{2})\b", re.IGNORECASE
)


def hourly(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    items = [i.strip() for i in _between(prompt, "'s plan for today: ", ".\n").split("; ") if i.strip()]
    wake_text = re.search(r"wakes up at (\d{2}):(\d{2})", prompt)
    wake = int(wake_text.group(1)) * 60 + int(wake_text.group(2)) if wake_text else 7 * 60
    bed = re.search(
        r"bed\s+(?:at|around|about|by)?\s*(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m", _line_after(prompt, "Lifestyle:")
    )
    bedtime = _minutes_12(*bed.groups()) if bed else 22 * 60
    bedtime = bedtime if bedtime > wake + 120 else 24 * 60
    limit = cap(schema, "blocks", "activity", default=50)
    anchored: list[tuple[int, int, str]] = [(wake, wake + 60, "wake up and get ready")]
    loose: list[str] = []
    for item in items:
        if item.lower().startswith("wake up"):
            continue
        clock = times_in(item)
        activity = fit(_TIME_PHRASE.sub("", item).strip(" ,"), limit)
        if clock and wake + 60 <= clock[0] < 24 * 60:
            length = 120 if _PARTY.search(item) else 60
            end = clock[1] if len(clock) > 1 and clock[1] > clock[0] else clock[0] + length
            anchored.append((clock[0], min(end, 24 * 60), activity))
        else:
            loose.append(activity)
    blocks = list(anchored)
    cursor = wake + 60
    todo = iter(loose)
    while True:  # the loose items in order, two hours each, then free time until bedtime
        while True:  # step over a commitment the cursor is inside
            inside = [e for s, e, _ in anchored if s <= cursor < e]
            if not inside:
                break
            cursor = max(inside)
        if cursor >= bedtime:
            break
        following = min((s for s, _, _ in anchored if s > cursor), default=bedtime)
        activity = next(todo, None)
        end = min(cursor + 120 if activity else following, following, bedtime)
        blocks.append((cursor, end, activity or "relax at home"))
        cursor = end
    blocks.sort()
    while len(blocks) < 3:
        last = blocks[-1][1]
        blocks.append((last, min(24 * 60, last + 60), "free time"))
    return {"blocks": [{"start": hhmm(s), "end": hhmm(e), "activity": a} for s, e, a in blocks[:12]]}


def decompose(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    activity = _between(prompt, " starts ", ", for ").strip()
    minutes = int(_between(prompt, ", for ", " minutes") or 60)
    limit = cap(schema, "subtasks", "activity", default=50)
    half = max(5, min(60, minutes // 2))
    return {"subtasks": [{"activity": fit(activity, limit), "minutes": half},
                         {"activity": fit(f"{activity} (continued)", limit), "minutes": half}]}  # fmt: skip


def revise_plan(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    remaining = _between(prompt, " on: ", ".\nAt ")
    limit = cap(schema, "subtasks", "activity", default=50)
    subtasks = []
    for part in remaining.split("; "):
        match = re.match(r"(.*) \((\d+) min\)$", part.strip())
        if match:
            subtasks.append({"activity": fit(match.group(1), limit), "minutes": max(5, min(60, int(match.group(2))))})
    if not subtasks:
        example = json.loads(_between(prompt, "Example answer: ", "\n"))
        return dict(example)
    return {"subtasks": subtasks[:6]}


def location(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    choices = options(schema, "place")
    activity = _between(prompt, " is going to be ", ". Where?").lower()
    home = _between(prompt, " lives in ", " and is now in ").strip()
    current = _between(prompt, " and is now in ", ".\n").strip()
    if "sleep" in activity and home in choices:
        return {"place": home}
    named = [c for c in choices if c.split(": ")[0].lower() in activity]
    if named:
        # The arena the activity names, else the one named like its sector ("Hobbs Cafe: cafe").
        best = max(named, key=lambda c: (c.split(": ")[1].lower() in activity,
                                         c.split(": ")[1].lower() in c.split(": ")[0].lower()))  # fmt: skip
        return {"place": best}
    return {"place": current if current in choices else choices[0]}


def thing(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    choices = options(schema, "object")
    activity = _between(prompt, " is ", " in ").lower()
    words = set(re.findall(r"[a-z]{4,}", activity))
    best = max(choices, key=lambda c: len(words & set(re.findall(r"[a-z]{4,}", c.lower()))))
    return {"object": best}


def details(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"emoji": "🙂", "object_state": "in use"}


def questions(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    name = _between(prompt, "", "'s recent memories").strip()
    return {"questions": [f"What is {_first(name)} focused on these days?"]}


def insights(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    name = _between(prompt, "Statements about ", ":").strip()
    statements = re.findall(r"^(\d+)\.\s+(.*)$", prompt, re.MULTILINE)
    limit = cap(schema, "insights", "text", default=120)
    for number, text in statements:
        news = news_in(text, prompt)
        if news is not None:
            return {"insights": [{"text": fit(f"{name} knows that {news.fact()}", limit), "because_of": [int(number)]}]}
    return {"insights": [{"text": fit(f"{name} is going about an ordinary day", limit), "because_of": [1]}]}


def interview_summary(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    first = _between(prompt, "An interviewer asked ", ":").strip()
    memories = _between(prompt, "remembers:\n", "\n\nAn interviewer asked")
    question = _between(prompt, ': "', '"\n')
    words = {w for w in re.findall(r"[a-z']{5,}", question.lower())} - {"about", "there", "where", "which"}
    lines = [m[2:] for m in memories.splitlines() if m.startswith("- ")]
    relevant = [m for m in lines if words & set(re.findall(r"[a-z']{5,}", m.lower()))]
    limit = cap(schema, "summary", default=300)
    if not relevant:
        return {"summary": fit(f"Nothing {first} remembers bears on this question.", limit)}
    return {"summary": fit(" ".join(r.rstrip(".") + "." for r in relevant), limit)}


def interview_answer(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    question = _between(prompt, "asks ", '"\n')
    shown = prompt.replace(question, "")  # the question names the party; it is not knowledge
    limit = cap(schema, "answer", default=400)
    if _PARTY.search(question):
        news = news_in(_between(shown, "", "The interview so far"), prompt)
        if news is not None:
            return {"answer": fit(f"Yes! {news.fact()[0].upper()}{news.fact()[1:]}.", limit)}
        return {"answer": fit("No, I haven't heard of any party.", limit)}
    who = re.search(r"Do you know ([A-Z][a-z]+ [A-Z][a-z]+)\?", question)
    if who:
        person = who.group(1)
        known = person in _between(shown, "remembers that matters here:", "The interview so far")
        return {"answer": fit(f"Yes, I know {person}." if known else f"No, I don't know {person}.", limit)}
    return {"answer": fit("I don't remember anything about that.", limit)}


def judge(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    answer = _between(prompt, ' answered: "', '"\n')
    aware = bool(_PARTY.search(answer)) and not answer.lower().startswith("no")
    return {"aware": aware, "evidence": fit(answer, 80) if aware else ""}


def compare(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"reason": "both are plausible", "better": "tie"}


# Purposes told apart by a phrase only their prompt has (most specific first).
RULES: tuple[tuple[str, Any], ...] = (
    ("You are checking an interview", judge),
    ("You are rating interviews", compare),
    ("In a few sentences, summarise what", interview_summary),
    ("An interviewer asks", interview_answer),
    ("rate how poignant each of these is", rate),
    (" start a conversation with ", react),
    ("and feel about them?", relationship),
    ('"end" is true when the conversation should end', line),
    ("Summarise in one phrase what they talked about", chat_summary),
    ("learn from it", memo),
    ("Revise two things for today", revise_identity),
    ("Which hour does ", wake_up),
    ("plan for today in broad strokes", daily),
    ("Split that time into blocks", hourly),
    ("List the steps, 2 to 8 subtasks", decompose),
    ("Pick an emoji for an activity", details),
    (" was interrupted: ", revise_plan),
    (" knows: ", location),
    ("Things there:", thing),
    ("most salient high-level questions", questions),
    ("What high-level insights", insights),
)


class RuleBackend(ScriptedBackend):
    """A ScriptedBackend whose every answer is a rule applied to the prompt and schema."""

    kind = "rules"
    model_id = "rule-model"

    def __init__(self, concurrency: int = 8) -> None:
        super().__init__(concurrency=concurrency)
        self.used: Counter[str] = Counter()
        self.unknown: list[str] = []
        self._rules_lock = threading.Lock()

    def _answer(self, payload: Any, params: Any, n: int, schema: Any, timeout: float) -> Any:
        from llm.types import Generation

        text = payload if isinstance(payload, str) else json.dumps(payload)
        answer = self.respond(text, schema or {})
        return [Generation(text=answer, prompt_tokens=len(text) // 4, completion_tokens=len(answer) // 4)] * n

    def respond(self, prompt: str, schema: dict[str, Any]) -> str:
        for marker, rule in RULES:
            if marker in prompt:
                with self._rules_lock:
                    self.used[rule.__name__] += 1
                return json.dumps(rule(prompt, schema), ensure_ascii=False)
        with self._rules_lock:
            self.unknown.append(prompt[:300])
        return "I do not understand."


def rule_gateway(dim: int = 384) -> Gateway:
    """A gateway on the rule model, with traces kept in memory and deterministic embeddings."""
    return Gateway(RuleBackend(), recorder=MemoryRecorder(), embedder=FakeEmbedder(dim), max_repairs=0)


__all__ = ["News", "RuleBackend", "news_in", "read_news", "rule_gateway"]
