"""Validates the base simulations and history files shipped in storage/base/.

Plain file reading: no database, no model. The format is documented in docs/base_simulations.md.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from reverie.town import load_maze

BASE_DIR = Path(__file__).resolve().parents[2] / "storage" / "base"
N25 = "base_the_ville_n25"
N3 = "base_the_ville_isabella_maria_klaus"
HISTORY = {
    N25: BASE_DIR / "the_ville" / "agent_history_init_n25.csv",
    N3: BASE_DIR / "the_ville" / "agent_history_init_n3.csv",
}

N25_NAMES = [
    "Isabella Rodriguez",
    "Maria Lopez",
    "Klaus Mueller",
    "Sam Moore",
    "Jennifer Moore",
    "Tom Moreno",
    "Jane Moreno",
    "Eddy Lin",
    "John Lin",
    "Mei Lin",
    "Carmen Ortiz",
    "Tamara Taylor",
    "Adam Smith",
    "Yuriko Yamamoto",
    "Wolfgang Schulz",
    "Ayesha Khan",
    "Giorgio Rossi",
    "Francisco Lopez",
    "Hailey Johnson",
    "Latoya Williams",
    "Rajiv Patel",
    "Abigail Chen",
    "Arthur Burton",
    "Ryan Park",
    "Carlos Gomez",
]
N3_NAMES = ["Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"]

# Homes and workplaces are checked against the real town, so data and map never drift.
TOWN = load_maze("the_ville")
TOWN_SECTORS = {address.split(":")[1] for address in TOWN.addresses("sector")}


def spawn_sector(name: str) -> str:
    return TOWN.address_at(*TOWN.spawn_tile(f"{name} bed")).split(":")[1]


BIO_FIELDS = ["innate", "learned", "currently", "lifestyle", "daily_requirement"]
STRING_FIELDS = [*BIO_FIELDS, "name", "home", "home_sector", "workplace"]
REQUIRED = {*STRING_FIELDS, "age", "relationships"}

# The paper's two seeded facts: exactly one agent knows each at the start.
SEEDED = {
    "Isabella Rodriguez": [r"valentine", r"\bpart(y|ies)\b"],
    # Sam's candidacy, not the election: others wonder who will stand (see test_mayoral_seed).
    "Sam Moore": [r"\brunning for mayor\b", r"\bcandida(te|tes|cy)\b", r"\bcampaign"],
}
# The original base seeded these as curious about who will stand for mayor (Tom keenly, and
# not fond of Sam); Sam's wife Jennifer's status does not mention the election.
ELECTION_CURIOUS = ["John Lin", "Adam Smith", "Giorgio Rossi", "Latoya Williams", "Yuriko Yamamoto", "Tom Moreno"]
ELECTION = re.compile(r"\bmayor(al)?\b.*\belection\b|\belection\b.*\bmayor", re.I)
PERCEPTION = ("vision_radius", "attention_bandwidth", "retention")

TIME = re.compile(r"\b\d{1,2}(:\d\d)?\s?(am|pm)\b")


def sentences(text: str) -> list[str]:
    assert text.rstrip()[-1] in ".!?", f"not a full sentence: {text!r}"
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def load_yaml(path: Path):
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_history(path: Path) -> dict[str, list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["Name", "Whisper"]
    out: dict[str, list[str]] = {}
    for row in rows[1:]:
        assert len(row) == 2, row
        name, whisper = row
        assert name not in out, f"duplicate row for {name}"
        out[name] = [w.strip() for w in whisper.split(";")]
    return out


@pytest.fixture(scope="module", params=[N25, N3])
def base(request):
    name = request.param
    return {
        "name": name,
        "meta": load_yaml(BASE_DIR / name / "meta.yaml"),
        "personas": load_yaml(BASE_DIR / name / "personas.yaml"),
        "history": load_history(HISTORY[name]),
    }


def persona_texts(base) -> dict[str, str]:
    """Everything an agent of the base knows at the start: bio, relationships and whispers."""
    out = {}
    for p in base["personas"]:
        parts = [p[f] for f in BIO_FIELDS]
        parts += list(p["relationships"].values())
        parts += base["history"].get(p["name"], [])
        out[p["name"]] = "\n".join(parts)
    return out


def test_meta(base):
    meta = base["meta"]
    assert meta["name"] == base["name"]
    assert isinstance(meta["description"], str) and meta["description"].strip()
    assert meta["maze"] == "the_ville"
    assert isinstance(meta["start_time"], str)
    start = datetime.fromisoformat(meta["start_time"])
    assert start == datetime(2023, 2, 13, 7, 0) and start.weekday() == 0  # Monday
    assert meta["sec_per_step"] == 10
    assert meta["step"] == 0
    expected = N25_NAMES if base["name"] == N25 else N3_NAMES
    assert meta["personas"] == expected
    assert [p["name"] for p in base["personas"]] == expected


def test_scenarios(base):
    scenarios = {s["id"]: s for s in base["meta"]["scenarios"]}
    assert scenarios["party"]["seeded_in"] == "Isabella Rodriguez"
    if base["name"] == N25:
        assert scenarios["mayor"]["seeded_in"] == "Sam Moore"
    names = set(base["meta"]["personas"])
    for s in base["meta"]["scenarios"]:
        assert {"id", "description", "seeded_in", "keywords", "probe"} <= s.keys()
        assert s["seeded_in"] in names
        assert isinstance(s["description"], str) and s["description"].strip()
        assert isinstance(s["probe"], str) and s["probe"].strip()
        assert s["keywords"] and all(isinstance(k, str) and k for k in s["keywords"])


def test_persona_fields(base):
    for p in base["personas"]:
        who = p.get("name", "?")
        assert not REQUIRED - p.keys(), f"{who} lacks {sorted(REQUIRED - p.keys())}"
        for f in STRING_FIELDS:
            assert isinstance(p[f], str) and p[f].strip(), f"{who}.{f} is empty"
        assert isinstance(p["age"], int) and not isinstance(p["age"], bool)
        assert 18 <= p["age"] <= 90
        traits = [t.strip() for t in p["innate"].split(",")]
        assert 3 <= len(traits) <= 5, who
        assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", t) for t in traits), (who, traits)
        assert 3 <= len(sentences(p["learned"])) <= 5, who
        assert 1 <= len(sentences(p["currently"])) <= 2, who
        assert len(sentences(p["lifestyle"])) == 1, who
        assert "bed" in p["lifestyle"] and "wake" in p["lifestyle"], who
        assert len(TIME.findall(p["lifestyle"])) >= 2, f"{who}: lifestyle needs a bedtime and a wake-up time"
        assert len(sentences(p["daily_requirement"])) == 1, who
        assert p["home"] == f"{who} bed"
        assert p["home_sector"] == spawn_sector(who), who
        assert p["workplace"] in TOWN_SECTORS | {"home"}, who


def test_relationships(base):
    names = {p["name"] for p in base["personas"]}
    for p in base["personas"]:
        rel = p["relationships"]
        assert isinstance(rel, dict)
        assert 2 <= len(rel) <= 6, p["name"]
        for target, text in rel.items():
            assert target in names, f"{p['name']} knows {target!r}, who is not in {base['name']}"
            assert target != p["name"]
            assert isinstance(text, str) and len(sentences(text)) == 1, (p["name"], target)


def test_history(base):
    history = base["history"]
    names = [p["name"] for p in base["personas"]]
    assert sorted(history) == sorted(names), "one row per persona"
    for name, whispers in history.items():
        assert 2 <= len(whispers) <= 5, name
        assert all(w for w in whispers), f"empty whisper for {name}"
        assert not any(re.search(r"\b(I|me|my|we|our)\b", w) for w in whispers), name


def test_seeded_knowledge(base):
    """Only the seeding agent knows a scenario's fact, across bios, relationships and whispers."""
    texts = persona_texts(base)
    rules = {who: pats for who, pats in SEEDED.items() if who in texts}
    for s in base["meta"]["scenarios"]:
        pats = [rf"\b{re.escape(k)}\b" for k in s["keywords"]]
        rules[s["seeded_in"]] = [*rules.get(s["seeded_in"], []), *pats]
    for seeder, patterns in rules.items():
        assert any(re.search(p, texts[seeder], re.I) for p in patterns), f"{seeder} was not seeded"
        for name, text in texts.items():
            if name == seeder:
                continue
            for pattern in patterns:
                assert not re.search(pattern, text, re.I), f"{name} already knows {seeder}'s news ({pattern})"


def test_small_base_matches_full_base():
    full = {p["name"]: p for p in load_yaml(BASE_DIR / N25 / "personas.yaml")}
    small = load_yaml(BASE_DIR / N3 / "personas.yaml")
    for p in small:
        ref = full[p["name"]]
        for f in ["age", *STRING_FIELDS]:
            assert p[f] == ref[f], (p["name"], f)
        assert p["relationships"] == {k: v for k, v in ref["relationships"].items() if k in N3_NAMES}
    assert set(small[1]["relationships"]) == {"Isabella Rodriguez", "Klaus Mueller"}
    assert "crush" in small[1]["relationships"]["Klaus Mueller"]


def test_small_base_mentions_nobody_else():
    """The 3-agent base must stand alone: nobody outside it is named in what its agents know."""
    base = {
        "personas": load_yaml(BASE_DIR / N3 / "personas.yaml"),
        "history": load_history(HISTORY[N3]),
    }
    outsiders = [n for n in N25_NAMES if n not in N3_NAMES]
    first_names = {n.split()[0] for n in outsiders}
    for name, text in persona_texts(base).items():
        for other in [*outsiders, *first_names]:
            assert not re.search(rf"\b{re.escape(other)}\b", text), f"{name}'s text mentions {other}"


def test_perception_settings_are_the_original_bases(base):
    """Vision radius, attention bandwidth and retention per persona: 8/8/8, as the original base."""
    for p in base["personas"]:
        for key in PERCEPTION:
            assert p.get(key) == 8, (p["name"], key)


def test_mayoral_seed():
    """Sam is telling his neighbours (no secret); six others already wonder who will stand."""
    people = {p["name"]: p for p in load_yaml(BASE_DIR / N25 / "personas.yaml")}
    sam = " ".join(people["Sam Moore"]["currently"].split())
    assert re.search(r"running for mayor", sam) and re.search(r"telling his neighbors", sam)
    assert not re.search(r"not told|secret|no one|nobody", sam, re.I)
    for name in ELECTION_CURIOUS:
        assert ELECTION.search(" ".join(people[name]["currently"].split())), name
    assert re.search(r"Sam Moore", people["Tom Moreno"]["currently"]) and "liked" in people["Tom Moreno"]["currently"]
    assert not re.search(r"mayor|election", people["Jennifer Moore"]["currently"], re.I)
    meta = load_yaml(BASE_DIR / N25 / "meta.yaml")
    mayor = next(s for s in meta["scenarios"] if s["id"] == "mayor")
    assert "telling his" in mayor["description"] and "told no one" not in mayor["description"]
