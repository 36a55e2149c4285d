"""A synthetic but plausible day in Smallville, for the demo, replay, log and plots pages.

Creates (or replaces) the simulation `bench-demo-day`, a fork of `base_the_ville_n25`,
with 8,640 steps (24 game hours at 10 s a step) for all 25 residents, without any
model: each resident follows a daily routine drawn from their persona (bed and wake
times parsed from the lifestyle line, workplace, home), choosing real addresses of the
town, walking tile by tile along the maze's shortest paths between them, and now and
then chatting with someone in the same room. Chats leave a memory in both people, and
gossip spreads the seeded facts (the party, Sam's run for mayor) so the diffusion plot
has something to show. Then it writes the compressed demo form (reverie.compress).

    python bench/make_demo_day.py [--steps 8640] [--agents 25] [--name bench-demo-day]

It uses the project database (DATABASE_URL, default storage/db.sqlite3), migrating it
if needed. It replaces only a simulation it made itself (meta "synthetic"), unless
--force. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

BASE = "base_the_ville_n25"
SYNTHETIC = "bench/make_demo_day.py"
CHAT_CHANCE = 0.006  # per step, for two idle people in one room: ~70 chats a day
Tile = tuple[int, int]
Row = tuple[int, str, Tile, str, str, Any]  # step, persona, tile, emoji, description, chat
Talk = tuple[int, str, str, str, list[list[str]], str]  # step, a, b, place, lines, topic

# Work spots by the workplace's kind: (arena, object, activity, emoji).
WORK: dict[str, list[tuple[str, str, str, str]]] = {
    "cafe": [
        ("cafe", "cafe counter", "serving customers at the counter", "☕"),
        ("kitchen", "oven", "baking bread and pastries", "🥐"),
        ("cafe", "coffee machine", "making espresso", "☕"),
        ("storage room", "shelves", "checking the stock", "📦"),
    ],
    "college": [
        ("classroom", "student desks", "attending a lecture", "📚"),
        ("library", "reading tables", "studying in the library", "📖"),
        ("student lounge", "study table", "working on an assignment", "📝"),
        ("library", "library computers", "looking up papers", "💻"),
    ],
    "market": [
        ("market hall", "checkout counters", "working the checkout", "🛒"),
        ("market hall", "produce stand", "arranging the produce", "🥕"),
        ("storage room", "crates", "unpacking deliveries", "📦"),
        ("office", "desk", "ordering stock", "📋"),
    ],
    "pharmacy": [
        ("pharmacy store", "pharmacy counter", "filling prescriptions", "💊"),
        ("dispensary", "dispensing desk", "preparing medicines", "⚗️"),
        ("consultation room", "desk", "advising a customer", "🩺"),
    ],
    "store": [
        ("shop floor", "checkout counter", "serving customers", "🧰"),
        ("workshop", "workbench", "repairing a lawnmower", "🔧"),
        ("storeroom", "storage shelves", "sorting deliveries", "📦"),
    ],
    "pub": [
        ("bar", "bar counter", "pouring drinks", "🍺"),
        ("kitchen", "stove", "cooking pub food", "🍳"),
        ("cellar", "beer kegs", "changing a keg", "🛢️"),
        ("bar", "pub tables", "clearing tables", "🧽"),
    ],
    "park": [
        ("garden", "flower beds", "tending the flower beds", "🌷"),
        ("pond", "willow tree", "pruning the willow", "🌳"),
        ("picnic lawn", "picnic tables", "tidying the picnic lawn", "🧹"),
        ("garden", "fountain", "cleaning the fountain", "⛲"),
    ],
}
TEACHING = [
    ("classroom", "professor's desk", "teaching a class", "🧑‍🏫"),
    ("professors' office", "office desks", "preparing lectures", "📝"),
    ("library", "reading tables", "reading in the library", "📖"),
]
WRITER_AT_CAFE = [("cafe", "cafe customer seating", "writing at the window seat", "✍️")]
# Working from home, by a word of the persona's description: activity, emoji, objects to use.
HOME_WORK: list[tuple[str, str, str, list[str]]] = [
    ("piano", "giving a piano lesson", "🎹", ["piano"]),
    ("painter", "painting a canvas", "🎨", ["easel", "easels"]),
    ("photograph", "editing photographs", "📷", ["photo printer", "computer", "desk"]),
    ("software", "writing code", "💻", ["computer", "desk"]),
    ("guitar", "practicing guitar", "🎸", ["guitar stand", "armchair", "sofa"]),
    ("poet", "writing poems", "✍️", ["desk"]),
    ("books", "writing a picture book", "✍️", ["desk"]),
    ("retired", "reading history books", "📚", ["bookshelves", "bookshelf", "armchair", "desk"]),
    ("", "working at the desk", "💼", ["desk", "study table"]),
]
LUNCH = [
    ("Hobbs Cafe", "cafe", "cafe customer seating", "having lunch at Hobbs Cafe", "🥪"),
    ("The Rose and Crown Pub", "bar", "pub tables", "having lunch at the pub", "🍔"),
    ("Johnson Park", "picnic lawn", "picnic tables", "eating a packed lunch in the park", "🧺"),
]
ERRANDS = [
    ("Willows Market", "market hall", "grocery shelves", "buying groceries", "🛒"),
    ("Willows Pharmacy", "pharmacy store", "medicine shelves", "picking up a prescription", "💊"),
    ("Harvey Oak Supply Store", "shop floor", "tool shelves", "buying a few supplies", "🧰"),
]
LEISURE = [
    ("Johnson Park", "garden", "garden benches", "relaxing in the garden", "🌳"),
    ("Johnson Park", "pond", "pond benches", "watching the ducks on the pond", "🦆"),
    ("Johnson Park", "picnic lawn", "statue", "taking a walk in the park", "🚶"),
    ("Hobbs Cafe", "cafe", "cafe customer seating", "having a coffee", "☕"),
    ("The Rose and Crown Pub", "bar", "bar stools", "having a drink with friends", "🍻"),
    ("The Rose and Crown Pub", "bar", "dartboard", "playing darts", "🎯"),
    ("Oak Hill College", "library", "reading chairs", "reading in the college library", "📖"),
]
EVENING = [
    (["sofa", "lounge sofa", "armchair", "armchairs"], "relaxing on the sofa", "🛋️"),
    (["tv", "lounge tv"], "watching TV", "📺"),
    (["bookshelf", "bookshelves", "desk"], "reading a book", "📖"),
    (["piano"], "playing the piano", "🎹"),
]
# Seeded facts and how readily someone who knows one brings it up in a chat.
GOSSIP = {
    "party": (
        0.8,
        "Isabella is hosting a Valentine's Day party at Hobbs Cafe tomorrow, from 5 to 7pm. You should come!",
        "A Valentine's Day party at Hobbs Cafe? I'd love to come, thanks for telling me.",
        "the Valentine's Day party at Hobbs Cafe on February 14th, 5 to 7pm",
    ),
    "mayor": (
        0.25,
        "Between us, I hear Sam Moore is going to run for mayor in the local election.",
        "Sam Moore, running for mayor? That's news to me. He'd know the town well.",
        "Sam Moore running for mayor in the upcoming election",
    ),
}
SMALL_TALK = [
    ("How is your day going, {b}?", "Pretty well, thanks! I've been {b_doing} most of the day."),
    ("Lovely weather today, isn't it?", "It really is. Perfect for a walk later."),
    ("Have you tried the new pastries at Hobbs Cafe?", "Not yet, but I keep hearing about them."),
    ("I haven't seen you in a while, {b}!", "I know, it's been a busy week. Good to see you."),
    ("Are you busy this week?", "A little. I'm mostly {b_doing}, as usual."),
]


@dataclass
class Block:
    minute: float  # game minutes since midnight of the first day
    address: str
    tile: Tile
    activity: str
    emoji: str

    @property
    def description(self) -> str:
        return f"{self.activity} @ {self.address}"


@dataclass
class Resident:
    name: str
    first_name: str
    learned: str
    wake: int  # minutes after midnight
    bed: int  # minutes after midnight; past 1440 for after midnight
    shift: tuple[int, int]
    living_area: str
    bed_tile: Tile
    sector_kind: str  # the workplace's kind, or "home"
    work_spots: list[tuple[str, str, str]] = field(default_factory=list)  # (address, activity, emoji)
    bathroom: str = ""
    kitchen: str = ""
    evening: list[tuple[str, str, str]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


def setup_django(database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "environment.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a fresh checkout works too


def _clock(text: str) -> int | None:
    """ "11pm" -> 1380, "5:30am" -> 330, "12am" -> 1440 (bed after midnight counts on)."""
    m = re.match(r"(\d{1,2})(?::(\d\d))?\s*([ap])m", text)
    if not m:
        return None
    hour, minute = int(m.group(1)) % 12, int(m.group(2) or 0)
    return (hour + (12 if m.group(3) == "p" else 0)) * 60 + minute


def _sleep_times(lifestyle: str) -> tuple[int, int]:
    bed_m = re.search(r"bed around ([\d:]+\s*[ap]m)", lifestyle)
    wake_m = re.search(r"wakes up around ([\d:]+\s*[ap]m)", lifestyle)
    bed = _clock(bed_m.group(1)) if bed_m else None
    wake = _clock(wake_m.group(1)) if wake_m else None
    bed = 23 * 60 if bed is None else bed
    if bed < 12 * 60:  # "1am": the same night, after midnight
        bed += 24 * 60
    return (7 * 60 if wake is None else wake), bed


class Town:
    """The maze with the lookups the planner needs, and a cache of paths."""

    def __init__(self, maze: Any, rng: random.Random) -> None:
        self.maze = maze
        self.world = maze.world
        self.rng = rng
        self.tree = maze.spatial_tree()[maze.world]
        self.kinds = {s.name: s.kind for s in maze.spec.sectors}
        self.paths: dict[tuple[Tile, Tile], list[Tile]] = {}

    def obj(self, sector: str, arena: str, name: str) -> str | None:
        objects = self.tree.get(sector, {}).get(arena)
        return f"{self.world}:{sector}:{arena}:{name}" if objects is not None and name in objects else None

    def first_obj(self, arenas: list[str], names: list[str]) -> str | None:
        """The first object named `names[i]` found in the arenas, by name preference."""
        for name in names:
            for arena in arenas:
                _, sector, room = arena.split(":")
                found = self.obj(sector, room, name)
                if found:
                    return found
        return None

    def arenas_of(self, sector: str) -> list[str]:
        return [f"{self.world}:{sector}:{arena}" for arena in self.tree.get(sector, {})]

    def spot(self, address: str) -> Tile:
        """Where to stand for an address: one of its access (or walkable) tiles."""
        return self.rng.choice(self.maze.walkable_tiles_of(address))

    def path(self, start: Tile, goal: Tile) -> list[Tile]:
        key = (start, goal)
        if key not in self.paths:
            self.paths[key] = self.maze.find_path(start, goal)
        return self.paths[key]

    def arena_id(self, tile: Tile) -> int:
        return int(self.maze.arena[tile[1], tile[0]])


def make_resident(town: Town, persona: Any) -> Resident:
    identity, extra = persona.identity, persona.extra
    wake, bed = _sleep_times(identity.get("lifestyle", ""))
    bed_tile = town.maze.spawn_tile(extra["home"])
    living = ":".join(town.maze.address_at(*bed_tile).split(":")[:3])
    home_sector = living.split(":")[1]
    home_arenas = [living] + [a for a in town.arenas_of(home_sector) if a != living]
    learned = " ".join(str(identity.get("learned", "")).split())
    workplace = extra.get("workplace", "home")
    kind = town.kinds.get(workplace, "home")
    r = Resident(
        name=persona.name, first_name=persona.name.split()[0], learned=learned, wake=wake, bed=bed,
        shift=(0, 0), living_area=living, bed_tile=bed_tile, sector_kind=kind,
    )  # fmt: skip
    # Work: where, and when. The shift starts an hour after waking (not before 7:30), ends
    # at 5pm; the cafe owner keeps it open until 8pm; the pub works the evening.
    start = max(wake + 60, 7 * 60 + 30)
    end = 17 * 60
    if kind == "home":
        for word, activity, emoji, objects in HOME_WORK:
            if word in learned.lower():
                address = town.first_obj(home_arenas, objects)
                if address:
                    r.work_spots = [(address, activity, emoji)]
                    break
    else:
        spots = WORK.get(kind, [])
        if kind == "college" and re.search(r"\bteach|\bprofessor", learned):
            spots = TEACHING
        elif kind == "cafe" and "owns" not in learned:
            spots = WRITER_AT_CAFE
        for arena, obj, activity, emoji in spots:
            address = town.obj(workplace, arena, obj)
            if address:
                r.work_spots.append((address, activity, emoji))
        if kind == "cafe" and "owns" in learned:
            start, end = wake + 45, 20 * 60
        elif kind == "pub":
            start, end = 15 * 60 + 30, bed - 30
    if not r.work_spots:  # nothing fitting: the desk at home, or the living area itself
        r.work_spots = [(town.first_obj(home_arenas, ["desk", "table"]) or living, "working", "💼")]
    r.shift = (start, end)
    bathrooms = [a for a in home_arenas if "bathroom" in a]
    own = [a for a in bathrooms if persona.name in a]
    r.bathroom = town.first_obj(own or bathrooms or [living], ["sink", "sinks", "shower", "showers"]) or living
    kitchens = [a for a in home_arenas if a.endswith(":kitchen")] + [living]
    r.kitchen = town.first_obj(kitchens, ["dining table", "small table", "table", "kitchen counter", "stove"]) or living
    for objects, activity, emoji in EVENING:
        address = town.first_obj(home_arenas, objects)
        if address:
            r.evening.append((address, activity, emoji))
    if not r.evening:
        r.evening = [(living, "resting at home", "🏠")]
    return r


def plan_days(town: Town, r: Resident, first_minute: float, last_minute: float, rng: random.Random) -> None:
    """The resident's blocks from the night before the first minute to past the last.

    A day: wash, breakfast, then until bed: meals when due (lunch around noon, dinner
    around 7pm, or a quick one at work on a late shift), work spots during the shift,
    and outside it an errand, the park, the cafe, the pub or an evening at home.
    """
    bed_address = town.obj(*r.living_area.split(":")[1:], "bed") or r.living_area
    blocks: list[Block] = []

    def add(minute: float, address: str, activity: str, emoji: str, tile: Tile | None = None) -> None:
        blocks.append(Block(minute, address, tile or town.spot(address), activity, emoji))

    def place(choices: list[tuple[str, str, str, str, str]]) -> tuple[str, str, str] | None:
        sector, arena, obj, activity, emoji = rng.choice(choices)
        address = town.obj(sector, arena, obj)
        return (address, activity, emoji) if address else None

    first_day = math.floor(first_minute / 1440) - 1
    last_day = math.floor(last_minute / 1440)
    for day in range(first_day, last_day + 1):
        base = day * 1440
        wake = base + r.wake + rng.randint(-10, 10)
        bed = base + r.bed + rng.randint(-15, 15)
        shift_start, shift_end = base + r.shift[0], base + r.shift[1]
        t = float(wake)
        add(t, r.bathroom, "getting ready for the day", "🚿")
        t += rng.randint(15, 25)
        add(t, r.kitchen, "having breakfast", "🍳")
        t += rng.randint(20, 35)
        # Meals as (start, minutes, kind); a shift through the evening eats at work.
        meals = [(base + 12 * 60 + rng.randint(-15, 15), rng.randint(40, 55), "lunch")]
        late_shift = shift_start < base + 18 * 60 and shift_end > base + 20 * 60
        meals.append((base + (18 * 60 + 30 if late_shift else 19 * 60) + rng.randint(-15, 15), rng.randint(30, 45),
                      "dinner"))  # fmt: skip
        meals = [m for m in meals if t < m[0] < bed - 60]
        errand_done = False
        while bed - t > 15:
            working = shift_start <= t < shift_end - 5
            meal = next((m for m in meals if m[0] <= t + 5), None)
            if meal is not None:
                meals.remove(meal)
                if meal[2] == "lunch":
                    spot = place(LUNCH) if rng.random() < 0.7 else None
                    address, activity, emoji = spot or (r.kitchen, "having lunch at home", "🥪")
                elif working:
                    address, activity, emoji = r.work_spots[0][0], "having a quick dinner", "🍽️"
                else:
                    address, activity, emoji = r.kitchen, "having dinner", "🍽️"
                add(t, address, activity, emoji)
                t += meal[1]
                continue
            if working:
                # Another spot than the last one, where there is another: the day has some motion.
                last = blocks[-1].address if blocks else ""
                address, activity, emoji = rng.choice([w for w in r.work_spots if w[0] != last] or r.work_spots)
                length = rng.randint(40, 100)
            elif shift_end <= t < base + 20 * 60 and not errand_done and rng.random() < 0.5:
                errand_done = True
                spot = place(ERRANDS)
                if spot is None:
                    continue
                address, activity, emoji = spot
                length = rng.randint(20, 35)
            else:
                evening = t >= base + 20 * 60 or t < base + 8 * 60
                spot = None if evening or rng.random() < 0.4 else place(LEISURE)
                address, activity, emoji = spot or rng.choice(r.evening)
                length = rng.randint(45, 90)
            # End at the next boundary: a meal, the shift starting or ending, bed.
            bounds = [m[0] for m in meals] + [b for b in (shift_start, shift_end) if b > t] + [bed]
            add(t, address, activity, emoji)
            t = min(t + length, *bounds)
        add(max(t, bed), bed_address, "sleeping", "😴", tile=r.bed_tile)
    # Keep the blocks in time order; anything squeezed out by a late day is dropped.
    r.blocks = []
    for block in blocks:
        if not r.blocks or block.minute > r.blocks[-1].minute:
            r.blocks.append(block)


@dataclass
class Walker:
    resident: Resident
    index: int  # current block
    tile: Tile
    path: list[Tile]
    chat: list[list[str]] | None = None
    chat_with: str = ""
    chat_until: int = -1
    cooldown: int = 0


def _chat_lines(rng: random.Random, a: Walker, b: Walker, topic: str | None) -> list[list[str]]:
    an, bn = a.resident, b.resident
    b_doing = bn.blocks[b.index].activity
    lines = [[an.name, rng.choice([f"Hi {bn.first_name}!", f"Oh, hello {bn.first_name}.", f"Hey {bn.first_name}!"])]]
    lines.append([bn.name, rng.choice([f"Hi {an.first_name}, good to see you.", f"Hello {an.first_name}!"])])
    if topic is not None:
        _, tell, answer, _ = GOSSIP[topic]
        lines += [[an.name, tell], [bn.name, answer]]
    else:
        ask, reply = rng.choice(SMALL_TALK)
        lines += [[an.name, ask.format(b=bn.first_name)], [bn.name, reply.format(b_doing=b_doing)]]
    lines.append([an.name, rng.choice(["See you around!", "Take care!", "Talk soon."])])
    return lines


def simulate(
    town: Town, walkers: list[Walker], steps: int, first_minute: float, sec: int, rng: random.Random,
    knows: dict[str, dict[str, int]],
) -> tuple[list[Row], list[Talk]]:  # fmt: skip
    """Step the residents: (step, name, tile, emoji, description, chat) per agent per step,
    and the conversations (step, a, b, place, lines, topic)."""
    rows: list[Row] = []
    talks: list[Talk] = []
    pair_cooldown: dict[frozenset[str], int] = {}
    steps_per_minute = 60 / sec
    for step in range(steps):
        minute = first_minute + step / steps_per_minute
        for w in walkers:
            blocks = w.resident.blocks
            moved = False
            while w.index + 1 < len(blocks) and blocks[w.index + 1].minute <= minute:
                w.index += 1
                moved = True
            if moved:
                w.path = town.path(w.tile, blocks[w.index].tile)[1:]
            if w.chat is not None and step > w.chat_until:
                w.chat, w.chat_with = None, ""
            if w.chat is None and w.path:
                w.tile = w.path.pop(0)  # one tile a step, as the engine walks
            w.cooldown = max(0, w.cooldown - 1)
        # Chats: two idle people (arrived, awake, not talking) in the same room.
        rooms: dict[int, list[Walker]] = defaultdict(list)
        for w in walkers:
            block = w.resident.blocks[w.index]
            if w.chat is None and not w.path and w.cooldown == 0 and block.emoji != "😴":
                room = town.arena_id(w.tile)
                if room:
                    rooms[room].append(w)
        for group in rooms.values():
            rng.shuffle(group)
            while len(group) >= 2:
                a, b = group.pop(), group.pop()
                pair = frozenset((a.resident.name, b.resident.name))
                if pair_cooldown.get(pair, -1) > step or rng.random() > CHAT_CHANCE:
                    continue
                topic = None
                for name, (chance, *_rest) in GOSSIP.items():
                    told = knows[name]
                    if a.resident.name in told and b.resident.name not in told and rng.random() < chance:
                        topic = name
                        break
                lines = _chat_lines(rng, a, b, topic)
                length = rng.randint(6, 18)  # one to three game minutes on screen
                for me, other in ((a, b), (b, a)):
                    me.chat, me.chat_with, me.chat_until = lines, other.resident.name, step + length - 1
                    me.cooldown = length + 60
                pair_cooldown[pair] = step + 720  # the same two talk again two hours later at the soonest
                address = a.resident.blocks[a.index].address
                place = ": ".join(address.split(":")[1:3])
                talks.append((step, a.resident.name, b.resident.name, place, lines, topic or ""))
                if topic is not None:
                    knows[topic].setdefault(b.resident.name, step)
        for w in walkers:
            block = w.resident.blocks[w.index]
            if w.chat is not None:
                emoji, description = "💬", f"chatting with {w.chat_with} @ {block.address}"
            else:
                emoji, description = block.emoji, block.description
            rows.append((step, w.resident.name, w.tile, emoji, description, w.chat))
    return rows, talks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=8640, help="steps of 10 game seconds (8640 = one day)")
    parser.add_argument("--agents", type=int, default=25, help="how many of the 25 residents (in base order)")
    parser.add_argument("--name", default="bench-demo-day")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--force", action="store_true", help="replace a same-named simulation not made by this script")
    parser.add_argument("--database-url", help="another database than the project's (DATABASE_URL)")
    parser.add_argument("--storage-dir", type=Path, help="where compressed/ goes (default: the project's storage/)")
    args = parser.parse_args()
    if args.steps < 1 or not 1 <= args.agents <= 25:
        parser.error("--steps must be at least 1 and --agents between 1 and 25")
    setup_django(args.database_url)
    from django.conf import settings

    if args.storage_dir is not None:  # with another database, keep its files apart (they are named by id)
        settings.STORAGE_DIR = args.storage_dir.resolve()
    from _common import write_result
    from django.db import transaction
    from django.utils import timezone

    from environment.vectors.models import VectorItem
    from reverie import analytics, compress, selectors, services
    from reverie.engine.memory import MemoryNode as Node
    from reverie.models import MemoryNode, Movement, Simulation

    started = time.perf_counter()
    old = Simulation.objects.filter(name=args.name).first()
    if old is not None:
        if old.is_base or (not (old.meta or {}).get("synthetic") and not args.force):
            sys.exit(f"{args.name!r} exists and was not made by this script; pick another --name or pass --force")
        compress.demo_path(old).unlink(missing_ok=True)
        VectorItem.objects.filter(owner__startswith=f"sim:{old.pk}:").delete()
        old.delete()
    sim = services.fork(BASE, args.name)
    sim.meta = {**sim.meta, "synthetic": SYNTHETIC, "description": "A synthetic day (no model) for the demo pages."}
    personas = list(sim.personas.all())[: args.agents]
    sim.personas.exclude(pk__in=[p.pk for p in personas]).delete()

    rng = random.Random(args.seed)
    town = Town(services.maze_for(sim.maze), rng)
    start = selectors.game_time(sim.start_time)
    first_minute = start.hour * 60 + start.minute + start.second / 60
    last_minute = first_minute + args.steps * sim.sec_per_step / 60
    residents = [make_resident(town, p) for p in personas]
    walkers = []
    for r in residents:
        plan_days(town, r, first_minute, last_minute, random.Random(f"{args.seed}:{r.name}"))
        index = max(i for i, b in enumerate(r.blocks) if b.minute <= first_minute)
        walkers.append(Walker(r, index, r.blocks[index].tile, []))  # already where the day finds them
    seeds = {s["id"]: s.get("seeded_in", "") for s in sim.meta.get("scenarios", [])}
    names = {r.name for r in residents}
    knows = {topic: ({seeds[topic]: 0} if seeds.get(topic) in names else {}) for topic in GOSSIP}
    rows, talks = simulate(town, walkers, args.steps, first_minute, sim.sec_per_step, rng, knows)
    planned = time.perf_counter() - started

    # Both sides remember each conversation (what the engine's remember_conversation does).
    next_id = {p.name: (p.memories.order_by("-node_id").values_list("node_id", flat=True).first() or 0) + 1
               for p in personas}  # fmt: skip
    by_name = {p.name: p for p in personas}
    memories = []
    for step, a, b, place, lines, topic in talks:
        when = start + timedelta(seconds=step * sim.sec_per_step)
        about = GOSSIP[topic][3] if topic else "how their day is going"
        for me, other in ((a, b), (b, a)):
            node = Node(id=next_id[me], kind="chat", subject=me, predicate="chat with", object=other,
                        description=f"{a} and {b} talked at {place} about {about}", created=when,
                        last_accessed=when, expiration=None, poignancy=6 if topic else 3,
                        keywords=frozenset({a, b, place}), filling=[(s, line) for s, line in lines])  # fmt: skip
            next_id[me] += 1
            aware = timezone.make_aware(when, timezone.get_default_timezone())
            memories.append(
                MemoryNode(persona=by_name[me], node_id=node.id, data=node.to_dict(), kind="chat",
                           description=node.description, created=aware, last_accessed=aware, step=step)
            )  # fmt: skip

    insert_started = time.perf_counter()
    batch = 20_000  # a transaction per batch: the web server reads in between (WAL)
    for i in range(0, len(rows), batch):
        with transaction.atomic():
            Movement.objects.bulk_create(
                [Movement(simulation=sim, step=s, persona=n, x=t[0], y=t[1], emoji=e, description=d, chat=c)
                 for s, n, t, e, d, c in rows[i : i + batch]],
                batch_size=2000,
            )  # fmt: skip
    with transaction.atomic():
        MemoryNode.objects.bulk_create(memories, batch_size=1000)
        for w in walkers:
            persona = by_name[w.resident.name]
            persona.scratch = {**persona.scratch, "tile": list(w.tile)}  # where a resumed run would pick up
            persona.save(update_fields=["scratch"])
        sim.step = args.steps
        sim.current_time = sim.start_time + timedelta(seconds=args.steps * sim.sec_per_step)
        sim.save(update_fields=["step", "current_time", "meta", "updated"])
    inserted = time.perf_counter() - insert_started
    total = time.perf_counter() - started

    compress_started = time.perf_counter()
    demo = compress.write_demo(sim)
    compressed = time.perf_counter() - compress_started
    spread = {d.scenario: f"{d.aware}/{d.total}" for d in analytics.diffusion(sim)}
    end = start + timedelta(seconds=args.steps * sim.sec_per_step)
    print(f"{sim.name} (id {sim.pk}): {len(residents)} agents x {args.steps} steps = {len(rows):,} movement rows, "
          f"game time {start:%a %H:%M} -> {end:%a %H:%M}")  # fmt: skip
    print(f"  made in {total:.1f} s (plan and walk {planned:.1f} s, insert {inserted:.1f} s)")
    print(f"  {len(talks)} conversations, {len(memories)} memories; who knows what at the end: {spread}")
    print(f"  compressed {demo.path} in {compressed:.1f} s: {demo.raw_bytes / 1e6:.2f} MB JSON -> "
          f"{demo.gz_bytes / 1e6:.2f} MB gzip ({demo.raw_bytes / demo.gz_bytes:.1f}x)")  # fmt: skip
    result = write_result(
        "make_demo_day",
        {"sim": sim.name, "agents": len(residents), "steps": args.steps, "rows": len(rows),
         "conversations": len(talks), "seconds": round(total, 2), "insert_seconds": round(inserted, 2),
         "compress_seconds": round(compressed, 2), "raw_bytes": demo.raw_bytes, "gz_bytes": demo.gz_bytes},
    )  # fmt: skip
    print(f"  results in {result.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
