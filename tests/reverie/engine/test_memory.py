"""Memory stream, vector index and reflection trigger: pure Python, no database, no model."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from reverie.engine.clock import format_game_time, game_time_at, hours_between, step_at, steps_per_hour
from reverie.engine.memory import (
    MemoryNode,
    MemoryStream,
    ReflectionTrigger,
    normalise_keyword,
    should_reflect,
    time_code,
)
from reverie.engine.ports import BLAS_MIN_ROWS, InMemoryVectorIndex, VectorIndex

T0 = datetime(2023, 2, 13, 9, 0, 0)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(stream: MemoryStream, s: str, p: str, o: str, minutes: float = 0, poignancy: int = 3, **kw) -> MemoryNode:
    return stream.add_event(s, p, o, f"{s} {p} {o}", created=at(minutes), poignancy=poignancy, **kw)


# --- nodes and ids ------------------------------------------------------------------


def test_add_assigns_increasing_ids_and_fields():
    stream = MemoryStream()
    a = event(stream, "Isabella Rodriguez", "is", "brewing coffee", 0, 4)
    b = stream.add_chat(
        "Isabella Rodriguez",
        "chat with",
        "Klaus Mueller",
        "conversing about the party",
        created=at(5),
        poignancy=6,
        filling=[("Isabella Rodriguez", "Hi Klaus!"), ("Klaus Mueller", "Hello!")],
    )
    c = stream.add_thought(
        "Isabella Rodriguez", "plans", "party", "Isabella wants a party", created=at(6), poignancy=8, evidence=[a.id]
    )
    assert [a.id, b.id, c.id] == [1, 2, 3]
    assert a.kind == "event" and b.kind == "chat" and c.kind == "thought"
    assert a.triple == ("Isabella Rodriguez", "is", "brewing coffee")
    assert a.last_accessed == a.created == at(0)
    assert a.depth == 0 and b.depth == 0 and c.depth == 1
    assert b.filling == [("Isabella Rodriguez", "Hi Klaus!"), ("Klaus Mueller", "Hello!")]
    assert c.evidence == (1,)
    assert stream.get(2) is b and 2 in stream and 99 not in stream
    assert len(stream) == 3 and stream.next_id == 4


def test_default_keywords_are_subject_and_object_normalised():
    stream = MemoryStream()
    node = event(stream, "Isabella Rodriguez", "is", "the_ville:Hobbs Cafe:cafe:Coffee Machine")
    assert node.keywords == frozenset({"isabella rodriguez", "coffee machine"})
    explicit = event(stream, "a", "b", "c", keywords=["  Party ", "VALENTINE"])
    assert explicit.keywords == frozenset({"party", "valentine"})
    single = event(stream, "a", "b", "c", keywords="Lone Word")
    assert single.keywords == frozenset({"lone word"})
    assert normalise_keyword("w:s:a:Bed ") == "bed"


def test_thought_depth_is_one_plus_deepest_evidence():
    stream = MemoryStream()
    e1 = event(stream, "a", "is", "x")
    e2 = event(stream, "a", "is", "y")
    t1 = stream.add_thought("a", "thinks", "x", "t1", created=at(1), poignancy=5, evidence=[e1.id, e2.id])
    t2 = stream.add_thought("a", "thinks", "t", "t2", created=at(2), poignancy=5, evidence=[e1.id, t1.id, t1.id])
    t3 = stream.add_thought("a", "thinks", "n", "no evidence", created=at(3), poignancy=5)
    assert (t1.depth, t2.depth, t3.depth) == (1, 2, 1)
    assert t2.evidence == (e1.id, t1.id)  # deduplicated, order kept


@pytest.mark.parametrize("poignancy", [0, 11, -1, 2.5, True, "5"])
def test_poignancy_must_be_int_1_to_10(poignancy):
    with pytest.raises(ValueError, match="poignancy"):
        MemoryStream().add_event("a", "b", "c", "d", created=T0, poignancy=poignancy)


def test_invalid_inputs_are_rejected_and_leave_stream_unchanged():
    stream = MemoryStream()
    with pytest.raises(ValueError, match="unknown memory ids"):
        stream.add_thought("a", "b", "c", "d", created=T0, poignancy=3, evidence=[42])
    with pytest.raises(ValueError, match="description"):
        stream.add_event("a", "b", "c", "  ", created=T0, poignancy=3)
    with pytest.raises(ValueError, match="before created"):
        stream.add_event("a", "b", "c", "d", created=at(10), poignancy=3, expiration=at(5))
    with pytest.raises(ValueError, match="pairs"):
        stream.add_chat("a", "b", "c", "d", created=T0, poignancy=3, filling=[("only one",)])
    with pytest.raises(ValueError, match="zeros"):
        stream.add_event("a", "b", "c", "d", created=T0, poignancy=3, embedding=np.zeros(4))
    assert len(stream) == 0 and stream.next_id == 1 and len(stream.index) == 0
    with pytest.raises(KeyError, match="no memory with id 7"):
        stream.get(7)
    with pytest.raises(ValueError, match="unknown memory kind"):
        stream.by_kind("dream")  # type: ignore[arg-type]


def test_embedding_is_forwarded_to_the_index():
    class Recorder:
        def __init__(self) -> None:
            self.calls: list[tuple] = []

        def add(self, node_id, kind, vector, created):
            self.calls.append((node_id, kind, tuple(vector), created))

        def similarities(self, query, node_ids):
            return {}

    index = Recorder()
    assert isinstance(index, VectorIndex)
    stream = MemoryStream(index)
    event(stream, "a", "b", "c", 0, embedding=np.array([1.0, 0.0]))
    event(stream, "a", "b", "d", 1)  # no embedding: nothing forwarded
    stream.add_thought("a", "b", "e", "t", created=at(2), poignancy=2, embedding=np.array([0.0, 1.0]))
    assert index.calls == [(1, "event", (1.0, 0.0), at(0)), (3, "thought", (0.0, 1.0), at(2))]


# --- views --------------------------------------------------------------------------


def test_latest_by_kind_and_merged_newest_first():
    stream = MemoryStream()
    e1 = event(stream, "a", "is", "1", 0)
    t1 = stream.add_thought("a", "t", "1", "thought 1", created=at(1), poignancy=2)
    e2 = event(stream, "a", "is", "2", 2)
    c1 = stream.add_chat("a", "chat with", "b", "chat 1", created=at(3), poignancy=2, filling=[])
    e3 = event(stream, "a", "is", "3", 4)
    assert stream.latest(2) == [e3, c1]
    assert stream.latest(10, ("event",)) == [e3, e2, e1]
    assert stream.latest(3, ("event", "thought")) == [e3, e2, t1]
    assert stream.latest(0) == [] and stream.latest(-1) == []
    assert stream.by_kind("event") == [e1, e2, e3]
    assert stream.all() == [e1, t1, e2, c1, e3]
    assert stream.count("chat") == 1


def test_by_keywords_union_newest_first_with_kinds_and_limit():
    stream = MemoryStream()
    e1 = event(stream, "Isabella Rodriguez", "is", "brewing coffee")
    e2 = event(stream, "Klaus Mueller", "is", "reading")
    t1 = stream.add_thought(
        "Isabella Rodriguez", "likes", "Klaus Mueller", "likes Klaus", created=at(1), poignancy=5, evidence=[e2.id]
    )
    e3 = event(stream, "Maria Lopez", "is", "w:s:a:desk")
    assert stream.by_keywords(["ISABELLA RODRIGUEZ"]) == [t1, e1]
    assert stream.by_keywords(["klaus mueller", "desk"]) == [e3, t1, e2]
    assert stream.by_keywords("klaus mueller", kinds=("event",)) == [e2]
    assert stream.by_keywords(["klaus mueller", "isabella rodriguez"], limit=2) == [t1, e2]
    assert stream.by_keywords(["nobody"]) == []
    assert stream.keyword_strength("Isabella Rodriguez") == 2
    assert stream.keyword_strength("Isabella Rodriguez", kinds=("thought",)) == 1


def test_touched_ids_are_kept_until_their_access_times_are_saved():
    stream = MemoryStream()
    a = event(stream, "a", "b", "c", 0)
    b = event(stream, "a", "b", "d", 0)
    assert stream.touched() == set()
    stream.touch([a.id, b.id], at(60))
    taken = stream.touched()
    stream.saved_access({a.id})
    assert taken == {a.id, b.id} and stream.touched() == {b.id}
    stream.touch([a.id], at(90))
    stream.saved_access({b.id})
    assert stream.touched() == {a.id}


def test_touch_updates_last_accessed_all_or_nothing():
    stream = MemoryStream()
    a = event(stream, "a", "b", "c", 0)
    b = event(stream, "a", "b", "d", 0)
    stream.touch([a.id], at(60))
    assert a.last_accessed == at(60) and b.last_accessed == at(0)
    assert a.created == at(0)
    with pytest.raises(KeyError):
        stream.touch([b.id, 999], at(90))
    assert b.last_accessed == at(0)


# --- retention (perceive) -------------------------------------------------------------


def test_already_perceived_looks_at_last_retention_events_only():
    stream = MemoryStream()
    event(stream, "bed", "is", "idle", 0)
    for i in range(5):
        event(stream, "a", "is", f"doing {i}", i + 1)
    # Chats and thoughts do not push events out of the retention window.
    stream.add_thought("a", "is", "thinking", "a thought", created=at(10), poignancy=1)
    assert stream.summarise_recent_events(5) == [("a", "is", f"doing {i}") for i in (4, 3, 2, 1, 0)]
    assert stream.already_perceived(("a", "is", "doing 0"))
    assert stream.already_perceived(["a", "is", "doing 4"], among_last=1)
    assert not stream.already_perceived(("a", "is", "doing 0"), among_last=4)
    assert not stream.already_perceived(("bed", "is", "idle"))  # 6th newest event: out of the window
    assert not stream.already_perceived(("a", "is", "thinking"))  # a thought, not an event
    with pytest.raises(ValueError, match="3 parts"):
        stream.already_perceived(("a", "is"))


# --- expiry ------------------------------------------------------------------------


def test_expire_hides_nodes_from_views_but_keeps_them_gettable():
    stream = MemoryStream()
    short = event(stream, "stove", "is", "on", 0, expiration=at(30))
    keep = event(stream, "stove", "is", "off", 1)
    later = event(stream, "stove", "is", "hot", 2, expiration=at(120))
    thought = stream.add_thought("a", "b", "stove", "careful", created=at(3), poignancy=4, evidence=[short.id])
    assert stream.expire(at(29)) == []
    assert stream.expire(at(30)) == [short]  # expiration is inclusive
    assert stream.is_expired(short.id) and not stream.is_expired(keep.id)
    assert stream.get(short.id) is short and thought.evidence == (short.id,)
    assert short not in stream.by_kind("event") and short not in stream.latest(10)
    assert short not in stream.by_keywords(["on"]) and stream.by_keywords(["stove"]) == [thought, later, keep]
    assert not stream.already_perceived(("stove", "is", "on"))
    assert len(stream) == 3 and stream.all(include_expired=True)[0] is short
    assert stream.expire(at(30)) == []  # idempotent
    assert stream.expire(at(500)) == [later]


# --- persistence -------------------------------------------------------------------


def test_stream_round_trips_through_json():
    stream = MemoryStream()
    tz = datetime(2023, 2, 13, 9, tzinfo=UTC)
    e1 = stream.add_event(
        "Isabella Rodriguez", "is", "w:cafe:counter:register", "at the register", created=tz, poignancy=2
    )
    e2 = stream.add_event("a", "is", "b", "gone soon", created=tz, poignancy=1, expiration=tz + timedelta(hours=1))
    stream.add_chat(
        "Isabella Rodriguez",
        "chat with",
        "Maria Lopez",
        "about the party",
        created=tz,
        poignancy=7,
        filling=[("Isabella Rodriguez", "Come on Feb 14!"), ("Maria Lopez", "I will.")],
    )
    stream.add_thought("a", "b", "c", "insight", created=tz, poignancy=9, evidence=[e1.id, e2.id])
    stream.touch([e1.id], tz + timedelta(minutes=5))
    stream.expire(tz + timedelta(hours=2))

    data = json.loads(json.dumps(stream.to_dict()))
    restored = MemoryStream.from_dict(data)
    assert restored.to_dict() == stream.to_dict()
    assert [n.to_dict() for n in restored.all(include_expired=True)] == [
        n.to_dict() for n in stream.all(include_expired=True)
    ]
    assert restored.is_expired(e2.id)
    assert restored.get(3).filling == [("Isabella Rodriguez", "Come on Feb 14!"), ("Maria Lopez", "I will.")]
    assert restored.get(1).last_accessed == tz + timedelta(minutes=5)
    assert restored.by_keywords(["a"]) == [restored.get(4)]  # the expired event stays out of the keyword index
    new = restored.add_event("x", "y", "z", "after restore", created=tz, poignancy=3)
    assert new.id == 5


def test_from_dict_rejects_bad_data():
    stream = MemoryStream()
    event(stream, "a", "b", "c")
    data = stream.to_dict()
    with pytest.raises(ValueError, match="version"):
        MemoryStream.from_dict({**data, "version": 99})
    with pytest.raises(ValueError, match="missing"):
        MemoryStream.from_dict({"nodes": [{"id": 1}]})
    thought = {**data["nodes"][0], "id": 2, "kind": "thought", "evidence": [7]}
    with pytest.raises(ValueError, match="evidence"):
        MemoryStream.from_dict({"nodes": [*data["nodes"], thought]})
    with pytest.raises(ValueError, match="not in the stream"):
        MemoryStream.from_dict({**data, "expired": [5]})


# --- vector index -------------------------------------------------------------------


def test_in_memory_index_matches_brute_force_cosine():
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3000, 48)).astype(np.float32) * rng.uniform(0.1, 5, size=(3000, 1))
    index = InMemoryVectorIndex(capacity=16)  # forces several doublings
    for i, v in enumerate(vectors):
        index.add(i + 100, "event", v, T0)
    query = rng.normal(size=48)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    expected_all = unit @ (query / np.linalg.norm(query))
    for candidates in ([100, 105, 2000], list(range(100, 3100)), list(range(100, 3100, 3))):
        got = index.similarities(query, candidates)
        assert list(got) == candidates
        np.testing.assert_allclose([got[i] for i in candidates], expected_all[np.array(candidates) - 100], atol=1e-5)


def test_in_memory_index_replace_unknown_and_validation():
    index = InMemoryVectorIndex()
    assert index.similarities(np.ones(3), [1]) == {}
    index.add(1, "event", np.array([1.0, 0, 0]), T0)
    index.add(2, "thought", np.array([0, 3.0, 0]), T0)
    assert index.dim == 3 and len(index) == 2 and 2 in index and index.kind_of(2) == "thought"
    assert index.similarities(np.array([0, 1.0, 0]), [1, 2, 3]) == pytest.approx({1: 0.0, 2: 1.0})
    index.add(1, "event", np.array([0, 1.0, 0]), T0)  # replace in place
    assert len(index) == 2 and index.similarities(np.array([0, 1.0, 0]), [1]) == pytest.approx({1: 1.0})
    np.testing.assert_allclose(index.vector(2), [0, 1, 0])
    with pytest.raises(ValueError, match="dimensions"):
        index.add(3, "event", np.ones(4), T0)
    with pytest.raises(ValueError, match="dimensions"):
        index.similarities(np.ones(4), [1])
    with pytest.raises(ValueError, match="NaN"):
        index.add(3, "event", np.array([np.nan, 0, 1]), T0)
    with pytest.raises(ValueError, match="zeros"):
        index.similarities(np.zeros(3), [1])


# --- reflection trigger --------------------------------------------------------------


def test_reflection_trigger_counts_events_and_chats_not_thoughts():
    stream = MemoryStream()
    trigger = ReflectionTrigger(threshold=20)
    assert not trigger.should_reflect()
    assert trigger.record(event(stream, "a", "b", "c", poignancy=9)) is False
    thought = stream.add_thought("a", "b", "c", "t", created=T0, poignancy=10)
    assert trigger.record(thought) is False and trigger.accumulated == 9  # thoughts ignored
    chat = stream.add_chat("a", "chat with", "b", "c", created=T0, poignancy=10, filling=[])
    assert trigger.record(chat) is False and trigger.accumulated == 19
    assert trigger.record(1) is True and trigger.accumulated == 20 and trigger.recorded == 3  # reaches threshold
    assert trigger.record(5) is True  # stays due until reset
    restored = ReflectionTrigger.from_dict(json.loads(json.dumps(trigger.to_dict())))
    assert restored == trigger
    trigger.reset()
    assert (trigger.accumulated, trigger.recorded, trigger.reflections) == (0, 0, 1)
    assert not trigger.should_reflect()
    with pytest.raises(ValueError, match="poignancy"):
        trigger.record(0)


def test_should_reflect_function_and_paper_threshold():
    assert not should_reflect(149) and should_reflect(150) and should_reflect(151)
    assert should_reflect(10, threshold=10) and not should_reflect(5, threshold=0)
    trigger = ReflectionTrigger()
    assert trigger.threshold == 150
    for _ in range(18):
        trigger.record(8)  # 144
    assert not trigger.should_reflect()
    assert trigger.record(6)


# --- clock -------------------------------------------------------------------------


def test_clock_helpers():
    assert game_time_at(T0, 360) == T0 + timedelta(hours=1)
    assert step_at(T0, T0 + timedelta(seconds=25)) == 2 and step_at(T0, T0 - timedelta(hours=1)) == 0
    assert steps_per_hour() == 360 and steps_per_hour(60) == 60
    assert hours_between(T0, T0 + timedelta(minutes=90)) == 1.5
    assert format_game_time(datetime(2023, 2, 13, 14, 5)) == "February 13, 2023, 14:05:00"
    with pytest.raises(ValueError):
        game_time_at(T0, -1)
    with pytest.raises(ValueError):
        steps_per_hour(0)


def test_many_nodes_views_stay_consistent():
    stream = MemoryStream()
    rng = np.random.default_rng(3)
    for i in range(5000):
        kind = i % 3
        created = at(i)
        if kind == 0:
            event(stream, f"p{i % 25}", "is", f"o{i % 40}", i, expiration=at(i + 100) if i % 7 == 0 else None)
        elif kind == 1:
            stream.add_chat(
                f"p{i % 25}", "chat with", f"p{(i + 1) % 25}", "c", created=created, poignancy=2, filling=[]
            )
        else:
            evidence = rng.choice(np.arange(1, i + 1), size=min(3, i), replace=False).tolist()
            stream.add_thought("me", "thinks", f"o{i % 40}", "t", created=created, poignancy=5, evidence=evidence)
    expired = stream.expire(at(2600))
    assert expired and all(n.kind == "event" and n.expiration <= at(2600) for n in expired)
    active = stream.all()
    assert len(active) == len(stream) == 5000 - len(expired)
    assert stream.latest(50) == sorted(active, key=lambda n: -n.id)[:50]
    by_kw = stream.by_keywords(["p3", "o7"])
    brute = sorted((n for n in active if {"p3", "o7"} & n.keywords), key=lambda n: -n.id)
    assert by_kw == brute


# --- column arrays (what retrieval scores from) --------------------------------------------


def columns_agree_with_nodes(stream: MemoryStream) -> None:
    """The candidate columns hold exactly the active nodes' ids, poignancy and last access."""
    found = stream.candidates()
    active = stream.all()
    assert found.ids.tolist() == [n.id for n in active]
    assert found.poignancy.tolist() == [float(n.poignancy) for n in active]
    assert stream.access_codes(found.positions).tolist() == [time_code(n.last_accessed) for n in active]


def test_time_code_differences_are_exact_total_seconds():
    a, b = datetime(2023, 2, 13, 7, 0, 0, 123457), datetime(2023, 2, 15, 23, 59, 59, 999999)
    assert (time_code(b) - time_code(a)) / 1e6 == (b - a).total_seconds()
    aware = datetime(2023, 2, 13, 9, tzinfo=UTC)
    assert time_code(aware) == time_code(datetime(2023, 2, 13, 9))
    assert time_code(aware.astimezone(timezone(timedelta(hours=-8)))) == time_code(aware)


def test_columns_follow_add_touch_expire_and_grow():
    stream = MemoryStream()
    for i in range(3000):  # past the initial capacity of 1024 rows: two doublings
        if i % 4 == 3:
            stream.add_thought("me", "reflects", f"o{i}", f"thought {i}", created=at(i), poignancy=1 + i % 10)
        else:
            event(stream, "me", "is", f"o{i}", i, poignancy=1 + i % 10, expiration=at(i + 50) if i % 9 == 0 else None)
    columns_agree_with_nodes(stream)
    before = stream.candidates(("event",))
    assert stream.candidates(("event",)) is before  # cached while nothing changes

    stream.touch([5, 17, 2999], at(10_000))
    columns_agree_with_nodes(stream)
    assert stream.access_codes(np.array([4, 16])).tolist() == [time_code(at(10_000))] * 2  # rows of ids 5, 17
    assert stream.candidates(("event",)) is before  # a touch changes access, not the candidate set

    expired = stream.expire(at(1000))
    assert expired
    columns_agree_with_nodes(stream)
    after = stream.candidates(("event",))
    assert after is not before and not set(after.ids.tolist()) & {n.id for n in expired}
    assert after.ids.tolist() == [n.id for n in stream.by_kind("event")]
    assert stream.candidates(("thought",)).ids.tolist() == [n.id for n in stream.by_kind("thought")]
    new = event(stream, "me", "is", "new", 5000)
    assert stream.candidates(("event",)).ids[-1] == new.id  # an add refreshes the cached set


def test_candidates_skip_idle_and_exclude_thought_predicates():
    stream = MemoryStream()
    seen = event(stream, "Isabella", "plans", "party")  # an event's predicate is never excluded
    idle = stream.add_event("bed", "is", "idle", "bed is idle", created=T0, poignancy=1)
    idle_word = stream.add_event("desk", "is", "x", "the desk is Idle now", created=T0, poignancy=1)
    reflection = stream.add_thought("me", "reflects", "x", "an insight", created=T0, poignancy=5)
    plan = stream.add_thought("me", "plans", "y", "a plan note", created=T0, poignancy=5)
    known = stream.add_thought("me", "knows", "z", "a fact", created=T0, poignancy=5)
    chat = stream.add_chat("me", "chat with", "you", "idle talk", created=T0, poignancy=3, filling=[])

    def ids(**kw) -> list[int]:
        return stream.candidates(**kw).ids.tolist()

    assert ids() == [n.id for n in stream.all()]
    assert ids(skip_idle=True) == [seen.id, reflection.id, plan.id, known.id]
    assert ids(kinds=("chat",)) == [chat.id] and ids(kinds="chat") == [chat.id]
    assert ids(kinds=("event", "thought"), exclude_predicates=("reflects",)) == [
        seen.id, idle.id, idle_word.id, plan.id, known.id
    ]  # fmt: skip
    assert ids(kinds=("thought",), exclude_predicates=["plans", "reflects", "never used"]) == [known.id]
    assert ids(kinds=("thought",), exclude_predicates="plans") == [reflection.id, known.id]
    with pytest.raises(ValueError, match="unknown memory kind"):
        stream.candidates(("dream",))  # type: ignore[arg-type]


def test_columns_are_rebuilt_by_from_dict():
    stream = MemoryStream()
    tz = datetime(2023, 2, 13, 9, tzinfo=UTC)
    for i in range(40):
        stream.add_event("a", "is", f"o{i}", f"e {i}", created=tz + timedelta(minutes=i), poignancy=1 + i % 10,
                         expiration=tz + timedelta(minutes=i + 5) if i % 4 == 0 else None)  # fmt: skip
    stream.add_thought("a", "reflects", "b", "insight", created=tz, poignancy=9, evidence=[1, 2])
    stream.touch([3, 7, 41], tz + timedelta(hours=3))
    stream.expire(tz + timedelta(minutes=20))
    restored = MemoryStream.from_dict(json.loads(json.dumps(stream.to_dict())))
    columns_agree_with_nodes(restored)
    for kw in ({}, {"kinds": ("event",)}, {"skip_idle": True, "exclude_predicates": ("reflects",)}):
        mine, theirs = stream.candidates(**kw), restored.candidates(**kw)
        assert theirs.ids.tolist() == mine.ids.tolist()
        assert restored.access_codes(theirs.positions).tolist() == stream.access_codes(mine.positions).tolist()
    restored.touch([41], tz + timedelta(hours=5))
    columns_agree_with_nodes(restored)


def test_index_similarity_arrays_match_the_dict_protocol():
    rng = np.random.default_rng(5)
    index = InMemoryVectorIndex(capacity=8)
    vectors = rng.normal(size=(300, 6))
    for i, v in enumerate(vectors):
        if i % 7:  # every 7th id has no vector
            index.add(i, "event", v, T0)
    queries = [rng.normal(size=6) for _ in range(3)]
    ids = np.array([0, 299, 5, 7, 14, 1000, 3, 3], dtype=np.int64)  # missing, unknown and repeated ids
    got = index.similarity_arrays(queries, ids)
    assert got.shape == (3, len(ids)) and got.dtype == np.float64
    for row, query in zip(got, queries, strict=True):
        answer = index.similarities(query, ids.tolist())
        assert row.tolist() == [answer.get(i, 0.0) for i in ids.tolist()]
    np.testing.assert_array_equal(index.similarity_array(queries[0], ids), got[0])
    assert InMemoryVectorIndex().similarity_array(queries[0], ids).tolist() == [0.0] * len(ids)
    with pytest.raises(ValueError, match="dimensions"):
        index.similarity_array(np.ones(4), ids)
    # An id the dense id -> row array cannot hold switches it off; answers stay the same.
    index.add(10**12, "event", rng.normal(size=6), T0)
    sparse = index.similarity_arrays(queries, [*ids.tolist(), 10**12])
    np.testing.assert_array_equal(sparse[:, :-1], got)
    assert sparse[0, -1] == index.similarities(queries[0], [10**12])[10**12]


def test_index_blocked_product_for_several_queries_on_a_large_matrix():
    rng = np.random.default_rng(9)
    n = BLAS_MIN_ROWS + 700  # above the threshold: the blocked several-query product
    index = InMemoryVectorIndex(4, capacity=n)
    for i, v in enumerate(rng.normal(size=(n, 4))):
        index.add(i + 1, "event", v, T0)
    queries = [rng.normal(size=4) for _ in range(3)]
    ids = np.arange(1, n + 1)
    together = index.similarity_arrays(queries, ids)
    for row, query in zip(together, queries, strict=True):
        np.testing.assert_allclose(row, index.similarity_array(query, ids), atol=1e-6)
        some = ids[::97].tolist()
        answer = index.similarities(query, some)
        np.testing.assert_allclose(row[::97], [answer[i] for i in some], atol=1e-6)
