"""Retrieval scoring on hand-computed examples, plus the keyword path for perception."""

from __future__ import annotations

import math
import platform
from datetime import datetime, timedelta

import numpy as np
import pytest

from reverie.engine import int8_kernel, quantised
from reverie.engine.memory import MemoryNode, MemoryStream
from reverie.engine.ports import InMemoryVectorIndex
from reverie.engine.quantised import Int8Rows
from reverie.engine.retrieve import (
    RetrievalConfig,
    ScoredNode,
    min_max_normalise,
    retrieve,
    retrieve_for_perception,
    retrieve_one,
)

T0 = datetime(2023, 2, 13, 7, 0, 0)
Q = np.array([1.0, 0.0])
SQRT_HALF = math.sqrt(0.5)


def hours(h: float) -> datetime:
    return T0 + timedelta(hours=h)


def add(
    stream: MemoryStream,
    text: str,
    *,
    at: float = 0.0,
    poignancy: int = 5,
    vector: list[float] | None = None,
    kind: str = "event",
    **kw,
) -> MemoryNode:
    embedding = np.array(vector, dtype=float) if vector is not None else None
    if kind == "thought":
        return stream.add_thought(
            "me", "thinks", text, text, created=hours(at), poignancy=poignancy, embedding=embedding, **kw
        )
    if kind == "chat":
        return stream.add_chat(
            "me", "chat with", text, text, created=hours(at), poignancy=poignancy, embedding=embedding, filling=[]
        )
    return stream.add_event("me", "sees", text, text, created=hours(at), poignancy=poignancy, embedding=embedding, **kw)


def three_nodes() -> tuple[MemoryStream, MemoryNode, MemoryNode, MemoryNode]:
    """A: old, very relevant, unimportant; B: fresh, irrelevant, important; C: in between."""
    stream = MemoryStream(InMemoryVectorIndex())
    a = add(stream, "A", at=0, poignancy=2, vector=[1, 0])
    b = add(stream, "B", at=10, poignancy=8, vector=[0, 1])
    c = add(stream, "C", at=5, poignancy=5, vector=[1, 1])
    return stream, a, b, c


def ids(scored: list[ScoredNode]) -> list[int]:
    return [s.node.id for s in scored]


# --- the formula -------------------------------------------------------------------------


def test_paper_scoring_hand_computed():
    stream, a, b, c = three_nodes()
    got = retrieve_one(stream, None, "coffee", Q, hours(10))
    # recency 0.995 ** hours since last access: A 10 h, B 0 h, C 5 h; min-max over the three
    raw = {a.id: 0.995**10, b.id: 1.0, c.id: 0.995**5}
    rec_c = (0.995**5 - 0.995**10) / (1 - 0.995**10)
    # relevance: cosine to [1, 0] is 1, 0, sqrt(.5) -> already spans [0, 1]
    # importance: poignancy 2, 8, 5 -> 0, 1, 0.5
    expected = {a.id: (0.0, 1.0, 0.0), b.id: (1.0, 0.0, 1.0), c.id: (rec_c, SQRT_HALF, 0.5)}
    assert ids(got) == [b.id, c.id, a.id]  # 2.0 > 1.70 > 1.0
    for scored in got:
        recency, relevance, importance = expected[scored.node.id]
        assert scored.recency == pytest.approx(recency)
        assert scored.relevance == pytest.approx(relevance, abs=1e-6)
        assert scored.importance == pytest.approx(importance)
        assert scored.score == pytest.approx(recency + relevance + importance, abs=1e-6)
        assert scored.raw_recency == pytest.approx(raw[scored.node.id])
    assert got[1].score == pytest.approx(0.49373 + SQRT_HALF + 0.5, abs=1e-5)
    assert got[1].similarity == pytest.approx(SQRT_HALF, abs=1e-6)


def test_weights_change_the_order():
    stream, a, b, c = three_nodes()
    relevance_heavy = RetrievalConfig(relevance_weight=10)
    got = retrieve_one(stream, None, "q", Q, hours(10), config=relevance_heavy, touch=False)
    assert ids(got) == [a.id, c.id, b.id]
    assert got[0].score == pytest.approx(10.0, abs=1e-5)  # 0 + 10*1 + 0
    importance_only = RetrievalConfig(recency_weight=0, relevance_weight=0, importance_weight=1)
    got = retrieve_one(stream, None, "q", Q, hours(10), config=importance_only, touch=False)
    assert ids(got) == [b.id, c.id, a.id]
    assert [s.score for s in got] == pytest.approx([1.0, 0.5, 0.0])
    original = RetrievalConfig.original_code()
    assert (original.recency_weight, original.relevance_weight, original.importance_weight) == (0.5, 3.0, 2.0)
    assert (original.recency_decay, original.recency_mode) == (0.99, "rank")


def test_equal_components_normalise_to_one_half():
    assert min_max_normalise(np.array([3.0, 3.0, 3.0])).tolist() == [0.5, 0.5, 0.5]
    assert min_max_normalise(np.array([1.0, 3.0, 2.0])).tolist() == [0.0, 1.0, 0.5]
    assert min_max_normalise(np.array([])).size == 0
    stream = MemoryStream()
    only = add(stream, "only", poignancy=7, vector=[1, 0])
    [scored] = retrieve_one(stream, None, "q", Q, hours(3))
    assert scored.node is only
    assert (scored.recency, scored.relevance, scored.importance, scored.score) == (0.5, 0.5, 0.5, 1.5)
    # Same poignancy everywhere: importance is 0.5 for all and does not change the order.
    stream = MemoryStream()
    older = add(stream, "older", at=0, vector=[1, 0])
    newer = add(stream, "newer", at=1, vector=[1, 0])
    got = retrieve_one(stream, None, "q", Q, hours(2))
    assert [s.importance for s in got] == [0.5, 0.5] and [s.relevance for s in got] == [0.5, 0.5]
    assert ids(got) == [newer.id, older.id]


def test_k_cut_off():
    stream = MemoryStream()
    nodes = [add(stream, f"n{i}", at=0, poignancy=i + 1, vector=[1, 0]) for i in range(10)]
    assert ids(retrieve_one(stream, None, "q", Q, hours(1), k=3)) == [nodes[9].id, nodes[8].id, nodes[7].id]
    assert len(retrieve_one(stream, None, "q", Q, hours(1), k=50)) == 10
    assert retrieve_one(stream, None, "q", Q, hours(1), k=0) == []
    assert len(retrieve_one(stream, None, "q", Q, hours(1))) == 10  # default k=30
    with pytest.raises(ValueError, match="k must be"):
        retrieve_one(stream, None, "q", Q, hours(1), k=-1)


def test_ties_go_to_the_more_recently_accessed_then_the_newer_node():
    stream = MemoryStream()
    # X: accessed now, poignancy 1; Y: accessed 10 h ago, poignancy 9; same relevance.
    # Scores: X = 1 + 0.5 + 0 = 1.5, Y = 0 + 0.5 + 1 = 1.5 -> tie, X more recent.
    y = add(stream, "Y", at=0, poignancy=9, vector=[1, 0])
    x = add(stream, "X", at=10, poignancy=1, vector=[1, 0])
    got = retrieve_one(stream, None, "q", Q, hours(10), touch=False)
    assert [s.score for s in got] == [1.5, 1.5] and ids(got) == [x.id, y.id]
    # Identical nodes: the newer id first, including at the k cut.
    stream = MemoryStream()
    same = [add(stream, f"s{i}", at=0, poignancy=4, vector=[0.6, 0.8]) for i in range(5)]
    assert ids(retrieve_one(stream, None, "q", Q, hours(1), k=2)) == [same[4].id, same[3].id]
    assert ids(retrieve_one(stream, None, "q", Q, hours(1))) == [n.id for n in reversed(same)]


def test_float_noise_does_not_break_ties():
    stream = MemoryStream()
    # a: 0.2 * importance 1 + 0.1 * relevance 1 = 0.30000000000000004 in floating point;
    # b: 0.3 * recency 1 = 0.3. Mathematically a tie, so the more recent b comes first.
    a = add(stream, "a", at=0, poignancy=9, vector=[1, 0])
    b = add(stream, "b", at=10, poignancy=1, vector=[0, 1])
    config = RetrievalConfig(recency_weight=0.3, relevance_weight=0.1, importance_weight=0.2)
    got = retrieve_one(stream, None, "q", Q, hours(10), config=config)
    assert got[0].score == 0.3 and got[1].score > 0.3  # the noise is real
    assert ids(got) == [b.id, a.id]


# --- recency -------------------------------------------------------------------------


def test_recency_rank_mode():
    stream = MemoryStream()
    oldest = add(stream, "oldest", at=0, vector=[1, 0])
    middle = add(stream, "middle", at=1, vector=[1, 0])
    newest = add(stream, "newest", at=2, vector=[1, 0])
    twin = add(stream, "twin", at=2, vector=[1, 0])  # same last access as `newest`: newer id ranks first
    config = RetrievalConfig(recency_mode="rank", recency_decay=0.5)
    got = {s.node.id: s for s in retrieve_one(stream, None, "q", Q, hours(100), config=config, touch=False)}
    assert [got[n.id].raw_recency for n in (twin, newest, middle, oldest)] == [1.0, 0.5, 0.25, 0.125]
    assert got[twin.id].recency == 1.0 and got[oldest.id].recency == 0.0
    assert got[newest.id].recency == pytest.approx((0.5 - 0.125) / 0.875)
    # Rank mode ignores how long ago: the same ranks at any `now`.
    again = retrieve_one(stream, None, "q", Q, hours(1000), config=config, touch=False)
    assert {s.node.id: s.raw_recency for s in again}[middle.id] == 0.25


def test_recency_unit_and_decay_configurable_and_future_access_clamped():
    stream = MemoryStream()
    two_minutes = add(stream, "a", at=0, vector=[1, 0])
    stream.touch([two_minutes.id], hours(1) - timedelta(minutes=2))
    future = add(stream, "b", at=0, vector=[1, 0])
    stream.touch([future.id], hours(5))  # after `now`: counts as just accessed
    config = RetrievalConfig(recency_decay=0.5, recency_unit_seconds=60)
    got = {s.node.id: s.raw_recency for s in retrieve_one(stream, None, "q", Q, hours(1), config=config)}
    assert got == {two_minutes.id: pytest.approx(0.25), future.id: 1.0}


def test_last_accessed_is_updated_for_returned_nodes_only():
    stream = MemoryStream()
    nodes = [add(stream, f"n{i}", at=0, poignancy=i + 1, vector=[1, 0]) for i in range(4)]
    retrieve_one(stream, None, "q", Q, hours(6), k=2)
    assert [n.last_accessed for n in nodes] == [hours(0), hours(0), hours(6), hours(6)]
    retrieve_one(stream, None, "q", Q, hours(8), k=4, touch=False)
    assert [n.last_accessed for n in nodes] == [hours(0), hours(0), hours(6), hours(6)]
    assert all(n.created == hours(0) for n in nodes)


def test_recently_retrieved_memories_come_back_more_easily():
    stream = MemoryStream()
    a = add(stream, "a", at=0, poignancy=5, vector=[1, 0])
    b = add(stream, "b", at=0, poignancy=5, vector=[1, 0])
    assert ids(retrieve_one(stream, None, "q", Q, hours(1), k=1)) == [b.id]
    stream.touch([a.id], hours(20))
    assert ids(retrieve_one(stream, None, "q", Q, hours(21), k=1)) == [a.id]


def test_several_focal_points_share_one_snapshot():
    stream = MemoryStream()
    for i in range(20):
        angle = i * math.pi / 40
        add(stream, f"n{i}", at=i, poignancy=1 + i % 10, vector=[math.cos(angle), math.sin(angle)])
    q1, q2 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    alone = {
        "first": ids(retrieve_one(stream, None, "first", q1, hours(30), k=5, touch=False)),
        "second": ids(retrieve_one(stream, None, "second", q2, hours(30), k=5, touch=False)),
    }
    both = retrieve(stream, stream.index, {"first": q1, "second": q2}, hours(30), k=5)
    assert list(both) == ["first", "second"]
    assert {text: ids(found) for text, found in both.items()} == alone
    touched = {n.id for n in stream.all() if n.last_accessed == hours(30)}
    assert touched == set(alone["first"]) | set(alone["second"])
    listed = retrieve(stream, None, [("second", q2), ("first", q1)], hours(31), k=5, touch=False)
    assert list(listed) == ["second", "first"]
    # A repeated focal text (a model asking the same question twice) is retrieved once, first vector wins.
    repeated = retrieve(stream, None, [("x", q1), ("x", q2)], hours(31), k=5, touch=False)
    first_only = retrieve_one(stream, None, "x", q1, hours(31), k=5, touch=False)
    assert list(repeated) == ["x"] and ids(repeated["x"]) == ids(first_only)


# --- candidates -----------------------------------------------------------------------


def test_candidates_kinds_idle_expired_and_missing_embeddings():
    stream = MemoryStream()
    event = add(stream, "a walk", at=0, vector=[1, 0])
    thought = add(stream, "a thought", at=0, vector=[1, 0], kind="thought")
    chat = add(stream, "a chat", at=0, vector=[1, 0], kind="chat")
    idle = add(stream, "bed is idle", at=0, vector=[1, 0])
    gone = add(stream, "gone", at=0, vector=[1, 0], expiration=hours(1))
    no_vector = add(stream, "no embedding", at=0, poignancy=5)
    stream.expire(hours(2))
    found = {s.node.id: s for s in retrieve_one(stream, None, "q", Q, hours(3))}
    assert set(found) == {event.id, thought.id, no_vector.id}  # no chat, no idle, no expired
    assert found[no_vector.id].similarity == 0.0 and found[no_vector.id].relevance == 0.0
    assert found[event.id].relevance == 1.0
    assert ids(retrieve_one(stream, None, "q", Q, hours(3), kinds=("chat",))) == [chat.id]
    assert ids(retrieve_one(stream, None, "q", Q, hours(3), kinds="chat")) == [chat.id]
    with_idle = retrieve_one(stream, None, "q", Q, hours(3), config=RetrievalConfig(skip_idle=False))
    assert idle.id in ids(with_idle) and gone.id not in ids(with_idle)
    assert retrieve(MemoryStream(), None, {"q": Q}, hours(1)) == {"q": []}


def test_matches_a_brute_force_reference_on_random_data():
    rng = np.random.default_rng(11)
    stream = MemoryStream()
    dim = 16
    for i in range(2000):
        kind = "thought" if i % 5 == 0 else "event"
        node = add(stream, f"n{i}", at=rng.uniform(0, 48), poignancy=int(rng.integers(1, 11)), kind=kind,
                   vector=rng.normal(size=dim).tolist())  # fmt: skip
        if i % 3 == 0:
            stream.touch([node.id], hours(rng.uniform(0, 48)))
    query = rng.normal(size=dim)
    now = hours(50)
    config = RetrievalConfig(recency_weight=0.7, relevance_weight=1.3, importance_weight=0.9)
    got = retrieve_one(stream, None, "q", query, now, k=30, config=config, touch=False)

    nodes = stream.all()
    unit_q = query / np.linalg.norm(query)

    def norm(values: list[float]) -> list[float]:
        lo, hi = min(values), max(values)
        return [0.5] * len(values) if hi == lo else [(v - lo) / (hi - lo) for v in values]

    rec = norm([0.995 ** ((now - n.last_accessed).total_seconds() / 3600) for n in nodes])
    rel = norm([float(stream.index.vector(n.id) @ unit_q) for n in nodes])
    imp = norm([float(n.poignancy) for n in nodes])
    scores = [0.7 * r + 1.3 * v + 0.9 * m for r, v, m in zip(rec, rel, imp, strict=True)]
    expected = sorted(range(len(nodes)), key=lambda i: (-scores[i], now - nodes[i].last_accessed, -nodes[i].id))
    assert ids(got) == [nodes[i].id for i in expected[:30]]
    assert [s.score for s in got] == pytest.approx([scores[i] for i in expected[:30]], abs=1e-5)


# --- config and traces -----------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"recency_weight": -1},
        {"relevance_weight": float("nan")},
        {"recency_decay": 0},
        {"recency_decay": 1.5},
        {"recency_mode": "days"},
        {"recency_unit_seconds": 0},
    ],
)
def test_config_validation(kwargs):
    with pytest.raises(ValueError):
        RetrievalConfig(**kwargs)


def test_paper_defaults_and_trace_dict():
    config = RetrievalConfig.paper()
    assert (config.recency_weight, config.relevance_weight, config.importance_weight) == (1.0, 1.0, 1.0)
    assert (config.recency_decay, config.recency_mode, config.recency_unit_seconds) == (0.995, "hours", 3600.0)
    stream, _, b, _ = three_nodes()
    top = retrieve_one(stream, None, "q", Q, hours(10), k=1)[0]
    trace = top.to_dict()
    assert trace["id"] == b.id and trace["description"] == "B" and trace["poignancy"] == 8
    assert set(trace) >= {"score", "recency", "relevance", "importance", "raw_recency", "similarity"}


def test_query_of_the_wrong_dimension_is_an_error():
    stream, *_ = three_nodes()
    with pytest.raises(ValueError, match="dimensions"):
        retrieve_one(stream, None, "q", np.ones(3), hours(1))


# --- keyword retrieval for perception ------------------------------------------------------


def test_retrieve_for_perception_by_keywords():
    stream = MemoryStream()
    e1 = stream.add_event("Klaus Mueller", "is", "reading", "Klaus is reading", created=hours(0), poignancy=2)
    e2 = stream.add_event("Maria Lopez", "is", "w:s:cafe:piano", "Maria plays piano", created=hours(1), poignancy=3)
    t1 = stream.add_thought(
        "Isabella Rodriguez", "likes", "Klaus Mueller", "Isabella likes Klaus", created=hours(2), poignancy=6
    )
    e3 = stream.add_event("Klaus Mueller", "is", "writing", "Klaus is writing", created=hours(3), poignancy=2)
    stream.add_chat("Klaus Mueller", "chat with", "Maria Lopez", "a chat", created=hours(4), poignancy=4, filling=[])
    before = [n.last_accessed for n in stream.all()]

    [by_node, by_triple] = retrieve_for_perception(stream, [e3, ("Maria Lopez", "plays", "the_ville:cafe:piano")])
    assert by_node.event is e3 and by_node.triple == e3.triple
    assert by_node.events == [e1] and by_node.thoughts == [t1]  # itself left out, chats not included
    assert by_triple.event == ("Maria Lopez", "plays", "the_ville:cafe:piano")
    assert by_triple.events == [e2] and by_triple.thoughts == []

    [limited] = retrieve_for_perception(stream, [("Klaus Mueller", "is", "sleeping")], k=1)
    assert limited.events == [e3] and limited.thoughts == [t1]
    assert [n.last_accessed for n in stream.all()] == before  # nothing touched
    assert retrieve_for_perception(stream, []) == []
    with pytest.raises(ValueError, match="triple"):
        retrieve_for_perception(stream, [("only", "two")])


# --- the vectorised path -----------------------------------------------------------------


class DictOnlyIndex:
    """A VectorIndex with only the protocol's dict method (no similarity_arrays)."""

    def __init__(self, inner: InMemoryVectorIndex) -> None:
        self.inner = inner

    def add(self, node_id, kind, vector, created):
        self.inner.add(node_id, kind, vector, created)

    def similarities(self, query, node_ids):
        return self.inner.similarities(query, node_ids)


def reference_top_k(stream, query, now, k, config, kinds=("event", "thought"), exclude=()) -> list[int]:
    """Straight from the module docstring, one node at a time in plain Python."""
    nodes = [
        n for n in stream.all()
        if n.kind in kinds and "idle" not in n.description.lower().split()
        and not (n.kind == "thought" and n.predicate in exclude)
    ]  # fmt: skip
    index = stream.index
    unit_q = query / np.linalg.norm(query)
    ages = [max((now - n.last_accessed).total_seconds(), 0.0) for n in nodes]
    if config.recency_mode == "hours":
        raw = [config.recency_decay ** (a / config.recency_unit_seconds) for a in ages]
    else:
        order = sorted(range(len(nodes)), key=lambda i: (ages[i], -nodes[i].id))
        raw = [0.0] * len(nodes)
        for rank, i in enumerate(order):
            raw[i] = config.recency_decay**rank
    sims = [float(index.vector(n.id) @ unit_q) if n.id in index else 0.0 for n in nodes]

    def norm(values: list[float]) -> list[float]:
        lo, hi = min(values), max(values)
        return [0.5] * len(values) if hi == lo else [(v - lo) / (hi - lo) for v in values]

    scores = [
        config.recency_weight * r + config.relevance_weight * v + config.importance_weight * m
        for r, v, m in zip(norm(raw), norm(sims), norm([float(n.poignancy) for n in nodes]), strict=True)
    ]
    best = sorted(range(len(nodes)), key=lambda i: (-round(scores[i], 12), ages[i], -nodes[i].id))
    return [nodes[i].id for i in best[:k]]


def random_stream(rng: np.random.Generator, n: int, dim: int) -> MemoryStream:
    stream = MemoryStream()
    for i in range(n):
        kind = ("thought", "event", "event", "chat", "event")[i % 5]
        text = f"n{i} is idle" if i % 23 == 0 else f"n{i}"
        vector = None if i % 17 == 0 else rng.normal(size=dim).tolist()
        expiration = hours(i * 48 / n + 2) if i % 13 == 0 else None
        if kind == "thought":
            embedding = None if vector is None else np.array(vector)
            node = stream.add_thought("me", ("reflects", "plans", "knows")[i % 3], text, text,
                                      created=hours(i * 48 / n), poignancy=int(rng.integers(1, 11)),
                                      embedding=embedding, expiration=expiration)  # fmt: skip
        else:
            extra = {"expiration": expiration} if kind == "event" else {}
            node = add(stream, text, at=i * 48 / n, poignancy=int(rng.integers(1, 11)), vector=vector, kind=kind,
                       **extra)  # fmt: skip
        if i % 3 == 0:
            stream.touch([node.id], hours(rng.uniform(0, 48)))
    stream.expire(hours(45))
    return stream


@pytest.mark.parametrize("mode", ["hours", "rank"])
def test_vectorised_path_matches_a_plain_python_reference(mode):
    rng = np.random.default_rng(23)
    stream = random_stream(rng, 1500, 12)
    config = RetrievalConfig(recency_weight=0.7, relevance_weight=1.3, importance_weight=0.9, recency_mode=mode)
    queries = {f"q{j}": rng.normal(size=12) for j in range(3)}
    now = hours(50)
    got = retrieve(stream, None, queries, now, k=25, config=config, touch=False)
    via_dicts = retrieve(stream, DictOnlyIndex(stream.index), queries, now, k=25, config=config, touch=False)
    for text, query in queries.items():
        assert ids(got[text]) == reference_top_k(stream, query, now, 25, config)
        assert ids(via_dicts[text]) == ids(got[text])
        assert [s.score for s in via_dicts[text]] == [s.score for s in got[text]]
    chats = retrieve_one(stream, None, "q", queries["q0"], now, k=10, kinds=("chat",), config=config, touch=False)
    assert ids(chats) == reference_top_k(stream, queries["q0"], now, 10, config, kinds=("chat",))
    pruned = retrieve_one(stream, None, "q", queries["q1"], now, k=40, config=config, touch=False,
                          exclude_predicates=("reflects", "plans"))  # fmt: skip
    assert ids(pruned) == reference_top_k(stream, queries["q1"], now, 40, config, exclude=("reflects", "plans"))


def test_touch_by_retrieval_moves_recency_in_the_columns():
    stream = MemoryStream()
    a = add(stream, "a", at=0, poignancy=5, vector=[1, 0])
    b = add(stream, "b", at=0, poignancy=5, vector=[1, 0])
    [first] = retrieve_one(stream, None, "q", Q, hours(10), k=1)
    assert first.node is b and b.last_accessed == hours(10)
    # b was touched at 10 h, so at 11 h it is the more recent one by far.
    got = {s.node.id: s for s in retrieve_one(stream, None, "q", Q, hours(11), touch=False)}
    assert got[b.id].raw_recency == pytest.approx(0.995) and got[a.id].raw_recency == pytest.approx(0.995**11)


def test_exclude_predicates_leaves_out_thoughts_only():
    stream = MemoryStream()
    seen = stream.add_event("me", "reflects", "light", "light reflects on water", created=hours(0), poignancy=5,
                            embedding=np.array([1.0, 0]))  # fmt: skip
    insight = add(stream, "an insight", kind="thought", vector=[1, 0])
    stream.add_thought("me", "reflects", "x", "a reflection", created=hours(0), poignancy=5, embedding=np.ones(2))
    stream.add_thought("me", "plans", "y", "a plan note", created=hours(0), poignancy=5, embedding=np.ones(2))
    everything = ids(retrieve_one(stream, None, "q", Q, hours(1), touch=False))
    assert len(everything) == 4
    kept = ids(retrieve_one(stream, None, "q", Q, hours(1), exclude_predicates=("reflects", "plans")))
    assert set(kept) == {seen.id, insight.id}  # the event keeps its predicate "reflects"


# --- the int8 estimate path for large streams (reverie.engine.quantised) ----------------


@pytest.fixture(params=["native", "torch"])
def int8_kernel_choice(request, monkeypatch):
    """Run a test with each int8 kernel: the native one (built for this machine) and torch's."""
    if request.param == "native":
        if platform.machine().lower() in ("x86_64", "amd64"):
            assert int8_kernel.load() is not None, "the native int8 kernel did not build on this x86 machine"
        else:
            pytest.skip("the native int8 kernel has x86 vector paths only")
    else:
        monkeypatch.setattr(int8_kernel, "load", lambda: None)
    return request.param


def test_int8_estimates_stay_within_their_bounds(int8_kernel_choice):
    rng = np.random.default_rng(5)
    rows = rng.normal(size=(3000, 384)).astype(np.float32)
    rows[:5] *= 40.0  # rows of very different scale and one peaked row
    rows[5] = 0.001
    rows[5, 7] = 1.0
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    copy = Int8Rows()
    copy.sync(rows, len(rows))
    queries = rng.normal(size=(4, 384)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    answer = copy.estimate(queries, np.arange(len(rows)), kernel=int8_kernel_choice)
    assert answer is not None, f"the {int8_kernel_choice} int8 kernel is missing: the fast path never runs"
    estimates, bounds = answer
    exact = queries.astype(np.float64) @ rows.astype(np.float64).T
    assert bounds.shape == (4,)  # one bound per query, for every row
    assert np.all(np.abs(exact - estimates) <= bounds[:, None])
    # The peaked row's error is the widest and sets the bound; still tight enough to
    # rule out almost every row of a 384-d stream.
    assert np.all(bounds < 0.03)
    fresh = Int8Rows()  # without the odd rows
    fresh.sync(rows[6:], len(rows) - 6)
    narrow = fresh.estimate(queries, None, kernel=int8_kernel_choice)
    assert narrow is not None and np.all(narrow[1] < 0.02)
    assert np.all(np.abs(exact[:, 6:] - narrow[0]) <= narrow[1][:, None])
    # The error terms are those of the row: a row replaced in place is re-quantised.
    rows[100] = rows[5]
    fresh.replace(rows[6:], 94)
    again = fresh.estimate(queries, None, kernel=int8_kernel_choice)
    assert again is not None and np.all(again[1] > narrow[1])
    assert np.all(np.abs(queries.astype(np.float64) @ rows[6:].astype(np.float64).T - again[0]) <= again[1][:, None])


def test_native_int8_kernel_is_exact_on_integers():
    kernel = int8_kernel.load()
    if kernel is None:
        assert platform.machine().lower() not in ("x86_64", "amd64"), "no native int8 kernel on an x86 machine"
        pytest.skip("the native int8 kernel has x86 vector paths only")
    rng = np.random.default_rng(9)
    for rows, dim, nq in ((1, 1, 1), (3, 64, 2), (9, 65, 1), (1300, 384, 3), (7, 1000, 2)):
        codes = rng.integers(-127, 128, size=(rows, dim), dtype=np.int8)
        queries = rng.integers(-127, 128, size=(nq, dim), dtype=np.int8)
        out = np.empty((nq, rows), dtype=np.float32)
        scales = np.full(rows, 0.25, np.float32)
        kernel.cosines(queries, np.full(nq, 0.5, np.float32), codes, codes.sum(axis=1, dtype=np.int32), scales, out)
        want = (queries.astype(np.int64) @ codes.astype(np.int64).T) * 0.125
        assert np.array_equal(out.astype(np.float64), want)
    with pytest.raises(ValueError, match="C-contiguous"):
        kernel.cosines(queries, np.ones(nq, np.float32), codes[:, ::-1], codes.sum(axis=1, dtype=np.int32),
                       np.ones(7, np.float32), out)  # fmt: skip


def test_native_int8_kernel_is_optional(monkeypatch, tmp_path):
    monkeypatch.setitem(int8_kernel._state, "kernel", None)
    copy = Int8Rows()
    rows = np.eye(40, 8, dtype=np.float32)
    copy.sync(rows, 40)
    assert copy.estimate(np.eye(1, 8, dtype=np.float32), None, kernel="native") is None
    torch_answer = copy.estimate(np.eye(1, 8, dtype=np.float32), None)  # "auto" falls back to torch's kernel
    assert torch_answer is not None and torch_answer[0].shape == (1, 40)
    # No compiler: load() gives None and says why, nothing raises.
    monkeypatch.setitem(int8_kernel._state, "why", "")
    monkeypatch.delitem(int8_kernel._state, "kernel")
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    monkeypatch.setenv("REVERIE_NATIVE_CACHE", str(tmp_path / "cache"))
    assert int8_kernel.load() is None
    assert "no-such-compiler" in int8_kernel.why_not() or "x86" in int8_kernel.why_not()
    monkeypatch.setenv("REVERIE_NATIVE", "0")
    monkeypatch.delitem(int8_kernel._state, "kernel")
    assert int8_kernel.load() is None and int8_kernel.why_not() == "REVERIE_NATIVE=0"


@pytest.mark.parametrize("mode", ["hours", "rank"])
def test_int8_path_gives_the_exact_answer(monkeypatch, mode, int8_kernel_choice):
    rng = np.random.default_rng(29)
    stream = random_stream(rng, 1500, 48)  # idle, expired and embedding-less nodes included
    replaced = stream.all()[10]
    stream.index.add(replaced.id, replaced.kind, rng.normal(size=48), replaced.created)  # re-quantised in place
    monkeypatch.setattr(InMemoryVectorIndex, "APPROX_MIN_ROWS", 100)
    exact_rows: list[int] = []
    original = InMemoryVectorIndex.similarity_arrays

    def counting(self, queries, node_ids):
        exact_rows.append(len(node_ids))
        return original(self, queries, node_ids)

    monkeypatch.setattr(InMemoryVectorIndex, "similarity_arrays", counting)
    config = RetrievalConfig(recency_weight=0.7, relevance_weight=1.3, importance_weight=0.9, recency_mode=mode)
    queries = {f"q{j}": rng.normal(size=48) for j in range(3)}
    now = hours(50)
    got = retrieve(stream, None, queries, now, k=25, config=config, touch=False)
    candidates = len(stream.candidates(("event", "thought"), skip_idle=True, exclude_predicates=()).ids)
    assert exact_rows and max(exact_rows) < candidates / 3  # exact cosines for the open rows only
    for text, query in queries.items():
        assert ids(got[text]) == reference_top_k(stream, query, now, 25, config)
    monkeypatch.setattr(InMemoryVectorIndex, "APPROX_MIN_ROWS", 10**9)
    exact = retrieve(stream, None, queries, now, k=25, config=config, touch=False)
    for text in queries:
        assert ids(exact[text]) == ids(got[text])
        assert [s.score for s in got[text]] == pytest.approx([s.score for s in exact[text]], abs=1e-6)
        assert [s.similarity for s in got[text]] == pytest.approx([s.similarity for s in exact[text]], abs=1e-6)


def test_without_an_int8_kernel_retrieval_uses_float32_products(monkeypatch):
    rng = np.random.default_rng(31)
    stream = random_stream(rng, 400, 16)
    monkeypatch.setattr(InMemoryVectorIndex, "APPROX_MIN_ROWS", 10)
    monkeypatch.setitem(quantised._kernel_state, "torch", None)
    monkeypatch.setattr(int8_kernel, "load", lambda: None)
    ids_ = stream.candidates(("event", "thought"), skip_idle=True, exclude_predicates=()).ids
    assert stream.index.similarity_bounds([rng.normal(size=16)], ids_) is None
    query = rng.normal(size=16)
    config = RetrievalConfig()
    got = retrieve_one(stream, None, "q", query, hours(50), k=20, config=config, touch=False)
    assert ids(got) == reference_top_k(stream, query, hours(50), 20, config)
