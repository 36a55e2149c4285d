"""Check a base simulation folder (meta.yaml + personas.yaml) before anyone forks it.

`manage.py check_base <folder-or-name>` runs `check_base(folder)`: every problem is
one line `file:line: message`, so an editor jumps to it. Errors make the base unusable
(a fork would fail, or silently lose something); warnings are likely mistakes (a
Chinese base whose text has no Chinese in it). The format is in docs/base_simulations.md.

Pure apart from reading the folder and the town it names (reverie.town): no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from reverie.engine.prompting import LANGUAGES

__all__ = ["PERSONA_KEYS", "Problem", "check_base"]

REQUIRED_META = ("name", "start_time", "personas")
META_KEYS = frozenset(
    {
        "name",
        "description",
        "maze",
        "start_time",
        "sec_per_step",
        "step",
        "personas",
        "scenarios",
        "language",
        "town_labels",
    }
)
REQUIRED_TEXT = ("innate", "learned", "currently", "lifestyle")
PERSONA_KEYS = frozenset(
    {
        "name",
        "age",
        "innate",
        "learned",
        "currently",
        "lifestyle",
        "daily_requirement",
        "home",
        "home_sector",
        "workplace",
        "vision_radius",
        "attention_bandwidth",
        "retention",
        "relationships",
    }
)
PERCEPTION = ("vision_radius", "attention_bandwidth", "retention")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    message: str
    level: str = "error"  # or "warning"

    def __str__(self) -> str:
        prefix = "" if self.level == "error" else "warning: "
        return f"{self.file}:{self.line}: {prefix}{self.message}"


class _Doc:
    """A YAML file's data and its node tree, to say on which line a value is."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        self.node = yaml.compose(self.text, Loader=yaml.SafeLoader)
        self.data = yaml.safe_load(self.text)

    def line(self, *keys: str | int) -> int:
        """1-based line of the value at `keys` (of the deepest part that exists)."""
        node = self.node
        line = node.start_mark.line + 1 if node is not None else 1
        for key in keys:
            found = None
            if isinstance(node, yaml.MappingNode) and isinstance(key, str):
                for k, v in node.value:
                    if k.value == key:
                        found, line = v, k.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                found = node.value[key]
                line = found.start_mark.line + 1
            if found is None:
                return line
            node = found
        return line


def _is_count(value: Any, low: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def check_base(folder: str | Path, *, load_town: Callable[[str], Any] | None = None) -> list[Problem]:
    """Every problem of the base in `folder`, errors and warnings, in file order."""
    folder = Path(folder)
    problems: list[Problem] = []
    meta_path, people_path = folder / "meta.yaml", folder / "personas.yaml"
    docs: dict[str, _Doc] = {}
    for path in (meta_path, people_path):
        shown = str(path)
        if not path.is_file():
            problems.append(Problem(shown, 1, f"missing: a base folder needs {path.name}"))
            continue
        try:
            docs[path.name] = _Doc(path)
        except UnicodeDecodeError:
            problems.append(Problem(shown, 1, "not UTF-8 text; save it as UTF-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            problems.append(Problem(shown, line, f"not valid YAML: {getattr(exc, 'problem', None) or exc}"))
    if len(docs) < 2:
        return problems
    meta, people = docs["meta.yaml"], docs["personas.yaml"]
    town = _check_meta(meta, folder, problems, load_town)
    names = _check_people(people, meta, town, problems)
    _check_listed(meta, people, names, problems)
    return problems


def _check_meta(meta: _Doc, folder: Path, problems: list[Problem], load_town: Callable[[str], Any] | None) -> Any:
    f = str(meta.path)
    data = meta.data
    if not isinstance(data, dict):
        problems.append(Problem(f, 1, "meta.yaml must be a mapping (name: ..., start_time: ..., personas: [...])"))
        return None
    for key in REQUIRED_META:
        if key not in data:
            problems.append(Problem(f, 1, f"missing {key!r}"))
    for key in data:
        if key not in META_KEYS:
            problems.append(Problem(f, meta.line(key), f"unknown key {key!r}; known: {', '.join(sorted(META_KEYS))}"))
    if "name" in data and data["name"] != folder.name:
        problems.append(
            Problem(f, meta.line("name"), f"name {data['name']!r} differs from the folder's name {folder.name!r}")
        )
    if "start_time" in data:
        try:
            datetime.fromisoformat(str(data["start_time"]))
        except ValueError:
            problems.append(
                Problem(
                    f,
                    meta.line("start_time"),
                    f'start_time {data["start_time"]!r} is not a date and time like "2023-02-13T07:00:00"',
                )
            )
    if "sec_per_step" in data and not _is_count(data["sec_per_step"]):
        problems.append(Problem(f, meta.line("sec_per_step"), "sec_per_step must be a positive whole number"))
    if "step" in data and not _is_count(data["step"], 0):
        problems.append(Problem(f, meta.line("step"), "step must be a whole number >= 0"))
    if "language" in data and data["language"] not in LANGUAGES:
        problems.append(
            Problem(
                f, meta.line("language"), f"unknown language {data['language']!r}; choose from {', '.join(LANGUAGES)}"
            )
        )
    personas = data.get("personas")
    if "personas" in data and (not isinstance(personas, list) or not personas):
        problems.append(Problem(f, meta.line("personas"), "personas must be a list of at least one name"))
    elif isinstance(personas, list):
        seen: set[str] = set()
        for i, name in enumerate(personas):
            if not isinstance(name, str) or not name.strip():
                problems.append(Problem(f, meta.line("personas", i), f"persona {i + 1} is not a name: {name!r}"))
            elif name in seen:
                problems.append(Problem(f, meta.line("personas", i), f"{name!r} is listed twice"))
            seen.add(str(name))
    town = None
    maze = str(data.get("maze", "the_ville"))
    try:
        town = (load_town or _load_town)(maze)
    except Exception as exc:  # a missing or broken town: say so, keep checking the rest
        problems.append(Problem(f, meta.line("maze"), f"cannot load town {maze!r}: {exc}"))
    labels = data.get("town_labels")
    if "town_labels" in data:
        if not isinstance(labels, dict):
            problems.append(Problem(f, meta.line("town_labels"), "town_labels must map a place's name to its label"))
        elif town is not None:
            places = {s.name for s in town.spec.sectors} | {a.name for s in town.spec.sectors for a in s.arenas}
            for place, label in labels.items():
                if place not in places:
                    problems.append(
                        Problem(
                            f,
                            meta.line("town_labels", str(place)),
                            f"town_labels: {place!r} is not a place in town {maze!r}",
                        )
                    )
                elif not isinstance(label, str) or not label.strip():
                    problems.append(
                        Problem(f, meta.line("town_labels", str(place)), f"town_labels: {place!r} needs a label")
                    )
    return town


def _load_town(name: str) -> Any:
    from reverie.town import load_maze

    return load_maze(name)


def _check_people(people: _Doc, meta: _Doc, town: Any, problems: list[Problem]) -> list[str]:
    f = str(people.path)
    data = people.data
    if not isinstance(data, list):
        problems.append(Problem(f, 1, "personas.yaml must be a list of personas (- name: ...)"))
        return []
    language = meta.data.get("language", "en") if isinstance(meta.data, dict) else "en"
    names = [p.get("name") for p in data if isinstance(p, dict)]
    sectors = {s.name for s in town.spec.sectors} if town is not None else None
    homes: dict[str, str] = {}
    for i, person in enumerate(data):
        if not isinstance(person, dict):
            problems.append(Problem(f, people.line(i), f"persona {i + 1} must be a mapping (name: ..., age: ...)"))
            continue
        who = str(person.get("name") or f"persona {i + 1}")

        def at(*keys: str | int, _i: int = i) -> int:
            return people.line(_i, *keys)

        if not isinstance(person.get("name"), str) or not person["name"].strip():
            problems.append(Problem(f, at("name"), f"{who}: needs a name"))
        elif names.count(person["name"]) > 1:
            problems.append(Problem(f, at("name"), f"{who}: two personas have this name"))
        for key in person:
            if key not in PERSONA_KEYS:
                problems.append(
                    Problem(f, at(key), f"{who}: unknown key {key!r}; known: {', '.join(sorted(PERSONA_KEYS))}")
                )
        if not _is_count(person.get("age")):
            problems.append(Problem(f, at("age"), f"{who}: age must be a positive whole number"))
        for key in (*REQUIRED_TEXT, "daily_requirement"):
            value = person.get(key)
            if key not in person and key in REQUIRED_TEXT:
                problems.append(Problem(f, at(), f"{who}: missing {key!r}"))
            elif key in person and (not isinstance(value, str) or not value.strip()):
                problems.append(Problem(f, at(key), f"{who}: {key} must be text"))
            elif key in person and language == "zh" and not _CJK.search(value):
                problems.append(
                    Problem(
                        f, at(key), f"{who}: {key} has no Chinese in it, but meta.yaml says language: zh", "warning"
                    )
                )
        for key in PERCEPTION:
            if key in person and not _is_count(person[key]):
                problems.append(Problem(f, at(key), f"{who}: {key} must be a positive whole number"))
        home = person.get("home")
        if not isinstance(home, str) or not home.strip():
            problems.append(
                Problem(
                    f,
                    at("home") if "home" in person else at(),
                    f"{who}: needs a home (a spawning location of the town)",
                )
            )
        elif town is not None:
            if home not in town.spawns:
                problems.append(
                    Problem(
                        f,
                        at("home"),
                        f"{who}: home {home!r} is not a spawning location of the town{_hint(home, town.spawns)}",
                    )
                )
            elif home in homes:
                problems.append(Problem(f, at("home"), f"{who}: home {home!r} is already {homes[home]}'s"))
            homes.setdefault(home, who)
        for key in ("home_sector", "workplace"):
            value = person.get(key)
            if value in (None, "") or (key == "workplace" and value == "home"):  # "home": works from home
                continue
            if not isinstance(value, str):
                problems.append(Problem(f, at(key), f"{who}: {key} must be a place name"))
            elif sectors is not None and value not in sectors:
                problems.append(
                    Problem(f, at(key), f"{who}: {key} {value!r} is not a place in the town{_hint(value, sectors)}")
                )
        relations = person.get("relationships", {})
        if not isinstance(relations, dict):
            problems.append(Problem(f, at("relationships"), f"{who}: relationships must map a name to a sentence"))
            continue
        for other, text in relations.items():
            line = at("relationships", str(other))
            if other not in names:
                problems.append(Problem(f, line, f"{who}: relationship with {other!r}, who is not in this base"))
            elif other == person.get("name"):
                problems.append(Problem(f, line, f"{who}: a relationship with oneself"))
            if not isinstance(text, str) or not text.strip():
                problems.append(Problem(f, line, f"{who}: the relationship with {other!r} needs a sentence"))
    return [n for n in names if isinstance(n, str)]


def _check_listed(meta: _Doc, people: _Doc, names: Sequence[str], problems: list[Problem]) -> None:
    listed = meta.data.get("personas") if isinstance(meta.data, dict) else None
    if not isinstance(listed, list):
        return
    for i, name in enumerate(listed):
        if isinstance(name, str) and name not in names:
            problems.append(
                Problem(
                    str(meta.path), meta.line("personas", i), f"{name!r} is not in personas.yaml{_hint(name, names)}"
                )
            )
    for i, name in enumerate(names):
        if name not in listed:
            problems.append(
                Problem(
                    str(people.path),
                    people.line(i, "name"),
                    f"{name!r} is not listed in meta.yaml's personas, so no fork will have them",
                    "warning",
                )
            )


def _hint(name: str, options: Any) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
