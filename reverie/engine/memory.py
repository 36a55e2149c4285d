"""The memory stream: everything one persona has perceived, said and concluded.

A `MemoryStream` holds `MemoryNode`s of three kinds:

    event    something perceived ("Isabella Rodriguez is brewing coffee")
    chat     a conversation the persona took part in, with its lines in `filling`
    thought  a conclusion (reflection, plan note) drawn from earlier nodes, which
             `evidence` lists; depth = 1 + the deepest evidence node (events and
             chats have depth 0)

Each node carries a subject-predicate-object triple, a description, game times
(created, last_accessed, expiration), a poignancy 1-10 and keywords.

Data layout (why: the stream grows to thousands of nodes per persona and is read
every step):
- `_nodes` maps id -> node for every node ever added (expired ones too, so evidence
  links keep resolving);
- per kind, an insertion-ordered dict of the *active* (not expired) nodes: ids grow
  with insertion, so iterating it backwards is the "most recent first" view, and
  removal on expiry is O(1);
- per kind, keyword -> ordered set of active node ids;
- a heap of (expiration, id), so `expire(now)` costs O(expired · log n).

- `columns`: one row per node ever added, in insertion (= id) order, as numpy arrays
  grown by doubling (amortised O(1) appends): node id, last access as integer
  microseconds (`time_code`), poignancy, kind code, predicate code, an "idle" flag
  (description says "idle", computed once at add time) and an "active" flag. `add`,
  `touch` and `expire` update them in place, so retrieval scores every candidate
  with array operations and never loops over nodes in Python.
  `candidates(kinds, ...)` turns them into the positions of the retrieval
  candidates; the answer is cached until the next add or expiry.

Embeddings are not stored on nodes: `add_*` forwards the node's vector to the
injected `VectorIndex`, which retrieval queries by node id. `to_dict`/`from_dict`
persist the nodes only; the index is persisted by whoever owns it (the vector store).

`ReflectionTrigger` is the poignancy counter the perceive step feeds and the reflect
step consumes.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, Literal

import numpy as np

from reverie.engine.ports import InMemoryVectorIndex, VectorIndex

__all__ = [
    "DEFAULT_RETENTION",
    "KINDS",
    "REFLECTION_THRESHOLD",
    "Candidates",
    "Kind",
    "MemoryNode",
    "MemoryStream",
    "ReflectionTrigger",
    "Triple",
    "cjk_keywords",
    "has_cjk",
    "is_doing",
    "is_idle",
    "keyword_set",
    "normalise_keyword",
    "should_reflect",
    "time_code",
]

Kind = Literal["event", "thought", "chat"]
KINDS: tuple[Kind, ...] = ("event", "thought", "chat")
Triple = tuple[str, str, str]

DEFAULT_RETENTION = 5  # perceive ignores events already among the last 5 event memories
REFLECTION_THRESHOLD = 150  # accumulated poignancy that triggers a reflection
SERIAL_VERSION = 1
_KIND_CODE: dict[str, int] = {kind: code for code, kind in enumerate(KINDS)}
_IDLE = re.compile(r"\bidle\b", re.IGNORECASE)
_TIME_EPOCH = datetime(2000, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


def is_idle(description: str) -> bool:
    """Whether a memory is "... is idle" filler (the word idle in its description);
    retrieval leaves these out by default, as the original did."""
    return _IDLE.search(description) is not None


def time_code(when: datetime) -> int:
    """A datetime as integer microseconds since 2000-01-01, the unit of the stream's
    last-access column. Aware datetimes are converted to UTC first; naive ones are
    taken as they are. The difference of two codes divided by 1e6 equals
    `(a - b).total_seconds()` exactly (both are integer microseconds over 10**6)."""
    if when.tzinfo is not None and when.utcoffset() is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return (when - _TIME_EPOCH) // _MICROSECOND


def normalise_keyword(term: str) -> str:
    """Keyword form of a triple term: the last segment of a `world:sector:arena:object`
    address, stripped and lower-cased ('the_ville:cafe:counter:coffee machine' ->
    'coffee machine'; 'Isabella Rodriguez' -> 'isabella rodriguez'). A full-width colon
    separates segments too, and Chinese punctuation around a term is dropped."""
    return _FULLWIDTH_COLON.split(term)[-1].strip().strip(_CJK_PUNCTUATION).strip().lower()


# Chinese (and Japanese kanji) has no spaces between words, so a whitespace split finds
# no keywords in it. Without a dictionary, the character bigrams and trigrams of each run
# of CJK ideographs stand in for its words: a name (林晓雨), a place (图书馆) or a thing
# (咖啡机) inside a longer phrase is one of its n-grams, so two phrases that share a word
# share a keyword. Latin text is left as it was (whole terms).
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_FULLWIDTH_COLON = re.compile(r"[:\uff1a]")
_CJK_PUNCTUATION = "。，、；！？“”‘’（）【】《》…"  # stripped from both ends of a Chinese term
CJK_NGRAMS = (2, 3)
MAX_CJK_KEYWORDS = 64  # per term: a long sentence must not flood the keyword index


def has_cjk(text: str) -> bool:
    """Whether `text` contains Chinese characters (CJK unified ideographs)."""
    return _CJK_RUN.search(text) is not None


def cjk_keywords(text: str) -> list[str]:
    """The character bigrams and trigrams of every run of CJK ideographs in `text`, in
    order of appearance, without repeats, at most MAX_CJK_KEYWORDS ('林晓雨在图书馆' ->
    '林晓', '晓雨', '雨在', ..., '林晓雨', '晓雨在', ...). A run of one character is itself."""
    grams: dict[str, None] = {}
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            grams.setdefault(run, None)
            continue
        for n in CJK_NGRAMS:
            for i in range(len(run) - n + 1):
                grams.setdefault(run[i : i + n], None)
    return list(grams)[:MAX_CJK_KEYWORDS]


def is_doing(subject: str, state: str) -> str:
    """An event's description: "Klaus is reading", or for Chinese "何远正在看书"."""
    if has_cjk(state):
        return f"{subject}{state}" if state.startswith(("正在", "在", "正")) else f"{subject}正在{state}"
    return f"{subject} is {state}"


def keyword_set(terms: Iterable[str]) -> frozenset[str]:
    """The keywords of triple terms: each term normalised (normalise_keyword) and, for a
    term with Chinese in it, also its character n-grams (cjk_keywords)."""
    out: set[str] = set()
    for term in terms:
        key = normalise_keyword(term)
        if not key:
            continue
        out.add(key)
        if has_cjk(key):
            out.update(cjk_keywords(key))
    return frozenset(out)


def _keywords(terms: Iterable[str]) -> frozenset[str]:
    return keyword_set(terms)


# --- nodes ---------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class MemoryNode:
    """One memory. Only `last_accessed` changes after creation, and only through
    `MemoryStream.touch` (which keeps the stream's columns in step).

    Nodes compare by identity: two nodes are the same memory only if they are the same
    object in the same stream.
    """

    id: int
    kind: Kind
    subject: str
    predicate: str
    object: str
    description: str
    created: datetime
    last_accessed: datetime
    expiration: datetime | None
    poignancy: int
    keywords: frozenset[str]
    evidence: tuple[int, ...] = ()
    depth: int = 0
    filling: list[tuple[str, str]] | None = None

    @property
    def triple(self) -> Triple:
        return (self.subject, self.predicate, self.object)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (datetimes as ISO 8601 strings)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "subject": self.subject,
            "predicate": self.predicate,
            "object": self.object,
            "description": self.description,
            "created": self.created.isoformat(),
            "last_accessed": self.last_accessed.isoformat(),
            "expiration": self.expiration.isoformat() if self.expiration is not None else None,
            "poignancy": self.poignancy,
            "keywords": sorted(self.keywords),
            "evidence": list(self.evidence),
            "depth": self.depth,
            "filling": [[speaker, line] for speaker, line in self.filling] if self.filling is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MemoryNode:
        try:
            expiration = data.get("expiration")
            filling = data.get("filling")
            return cls(
                id=int(data["id"]),
                kind=data["kind"],
                subject=data["subject"],
                predicate=data["predicate"],
                object=data["object"],
                description=data["description"],
                created=datetime.fromisoformat(data["created"]),
                last_accessed=datetime.fromisoformat(data["last_accessed"]),
                expiration=datetime.fromisoformat(expiration) if expiration is not None else None,
                poignancy=int(data["poignancy"]),
                keywords=frozenset(data.get("keywords", ())),
                evidence=tuple(int(i) for i in data.get("evidence", ())),
                depth=int(data.get("depth", 0)),
                filling=[(str(s), str(line)) for s, line in filling] if filling is not None else None,
            )
        except KeyError as exc:
            raise ValueError(f"memory node dict is missing {exc.args[0]!r}: {dict(data)!r}") from None

    def __repr__(self) -> str:
        return f"MemoryNode({self.id}, {self.kind}, {self.description!r}, poignancy={self.poignancy})"


# --- column arrays -------------------------------------------------------------------


class _Columns:
    """Per-node arrays, one row per node ever added, in insertion (= ascending id) order.

    Capacity doubles when full, like InMemoryVectorIndex's matrix, so appends are
    amortised O(1); rows are never removed (expiry clears `active`).
    """

    def __init__(self, capacity: int = 1024) -> None:
        capacity = max(1, capacity)
        self.size = 0
        self.ids = np.empty(capacity, dtype=np.int64)
        self.access = np.empty(capacity, dtype=np.int64)  # time_code(last_accessed)
        self.poignancy = np.empty(capacity, dtype=np.float64)
        self.kind = np.empty(capacity, dtype=np.int8)  # index into KINDS
        self.predicate = np.empty(capacity, dtype=np.int32)  # code in `predicates`
        self.idle = np.empty(capacity, dtype=np.bool_)
        self.active = np.empty(capacity, dtype=np.bool_)
        self.position: dict[int, int] = {}  # node id -> row
        self.predicates: dict[str, int] = {}  # predicate text -> code
        self.version = 0  # bumped by every add and expiry: candidate sets go stale

    _ARRAYS = ("ids", "access", "poignancy", "kind", "predicate", "idle", "active")

    def append(self, node: MemoryNode) -> None:
        row = self.size
        if row == self.ids.shape[0]:
            for name in self._ARRAYS:
                old = getattr(self, name)
                grown = np.empty(2 * old.shape[0], dtype=old.dtype)
                grown[:row] = old[:row]
                setattr(self, name, grown)
        self.ids[row] = node.id
        self.access[row] = time_code(node.last_accessed)
        self.poignancy[row] = node.poignancy
        self.kind[row] = _KIND_CODE[node.kind]
        self.predicate[row] = self.predicates.setdefault(node.predicate, len(self.predicates))
        self.idle[row] = is_idle(node.description)
        self.active[row] = True
        self.position[node.id] = row
        self.size = row + 1
        self.version += 1


@dataclass(frozen=True, slots=True, eq=False)
class Candidates:
    """Retrieval candidates as aligned read-only arrays (rows of the stream's columns,
    ascending id order): `positions` into the columns, node `ids`, `poignancy`."""

    positions: np.ndarray
    ids: np.ndarray
    poignancy: np.ndarray
    # Arrays derived from these candidates by retrieval (valid as long as they are).
    memo: dict[Any, np.ndarray] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return int(self.positions.shape[0])


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


# --- the stream ----------------------------------------------------------------------


class MemoryStream:
    """All memory nodes of one persona, with recency, kind and keyword views.

    Ids are assigned from 1 upward in insertion order and never reused. "Recent"
    means most recently *added* (highest id), which is also game-time order because
    the simulation only moves forward.
    """

    def __init__(self, index: VectorIndex | None = None) -> None:
        self.index: VectorIndex = index if index is not None else InMemoryVectorIndex()
        self._nodes: dict[int, MemoryNode] = {}
        self._active: dict[str, dict[int, MemoryNode]] = {k: {} for k in KINDS}
        self._by_keyword: dict[str, dict[str, dict[int, None]]] = {k: {} for k in KINDS}
        self._expired: set[int] = set()
        self._expiry_heap: list[tuple[datetime, int]] = []
        self._next_id = 1
        self._columns = _Columns()
        self._candidate_cache: dict[tuple[Any, ...], Candidates] = {}
        self._candidate_cache_version = -1
        # Ids whose last_accessed changed since the owner last saved them (`saved_access`):
        # a save writes those, without comparing every node of a long stream.
        self._touched: set[int] = set()

    # -- adding ---------------------------------------------------------------------

    def add_event(
        self,
        subject: str,
        predicate: str,
        obj: str,
        description: str,
        *,
        created: datetime,
        poignancy: int,
        embedding: np.ndarray | None = None,
        keywords: Iterable[str] | None = None,
        expiration: datetime | None = None,
    ) -> MemoryNode:
        """Record a perceived event. Keywords default to the subject and object."""
        return self._add(
            "event", subject, predicate, obj, description, created, poignancy, embedding, keywords, expiration
        )

    def add_chat(
        self,
        subject: str,
        predicate: str,
        obj: str,
        description: str,
        *,
        created: datetime,
        poignancy: int,
        filling: Sequence[tuple[str, str]],
        embedding: np.ndarray | None = None,
        keywords: Iterable[str] | None = None,
        expiration: datetime | None = None,
    ) -> MemoryNode:
        """Record a conversation; `filling` is its lines as (speaker, line) pairs."""
        lines = [_chat_line(item) for item in filling]
        return self._add(
            "chat",
            subject,
            predicate,
            obj,
            description,
            created,
            poignancy,
            embedding,
            keywords,
            expiration,
            filling=lines,
        )

    def add_thought(
        self,
        subject: str,
        predicate: str,
        obj: str,
        description: str,
        *,
        created: datetime,
        poignancy: int,
        evidence: Iterable[int] = (),
        embedding: np.ndarray | None = None,
        keywords: Iterable[str] | None = None,
        expiration: datetime | None = None,
    ) -> MemoryNode:
        """Record a thought drawn from the nodes in `evidence` (ids that must exist).

        depth = 1 + the deepest evidence node (1 with no evidence), so an insight about
        insights sits above the observations it rests on.
        """
        evidence_ids = tuple(dict.fromkeys(int(i) for i in evidence))  # dedupe, keep order
        missing = [i for i in evidence_ids if i not in self._nodes]
        if missing:
            raise ValueError(f"thought evidence refers to unknown memory ids {missing}")
        depth = 1 + max((self._nodes[i].depth for i in evidence_ids), default=0)
        return self._add(
            "thought",
            subject,
            predicate,
            obj,
            description,
            created,
            poignancy,
            embedding,
            keywords,
            expiration,
            evidence=evidence_ids,
            depth=depth,
        )

    def _add(
        self,
        kind: Kind,
        subject: str,
        predicate: str,
        obj: str,
        description: str,
        created: datetime,
        poignancy: int,
        embedding: np.ndarray | None,
        keywords: Iterable[str] | None,
        expiration: datetime | None,
        *,
        evidence: tuple[int, ...] = (),
        depth: int = 0,
        filling: list[tuple[str, str]] | None = None,
    ) -> MemoryNode:
        for name, value in (("subject", subject), ("predicate", predicate), ("object", obj)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string, got {type(value).__name__}")
        if not isinstance(description, str) or not description.strip():
            raise ValueError("description must be a non-empty string")
        _check_poignancy(poignancy)
        if not isinstance(created, datetime):
            raise TypeError(f"created must be a datetime, got {type(created).__name__}")
        if expiration is not None and expiration < created:
            raise ValueError(f"expiration {expiration} is before created {created}")
        if isinstance(keywords, str):  # a lone string would be split into characters
            keywords = [keywords]
        node = MemoryNode(
            id=self._next_id,
            kind=kind,
            subject=subject,
            predicate=predicate,
            object=obj,
            description=description,
            created=created,
            last_accessed=created,
            expiration=expiration,
            poignancy=int(poignancy),
            keywords=_keywords(keywords if keywords is not None else (subject, obj)),
            evidence=evidence,
            depth=depth,
            filling=filling,
        )
        # Index first: if the vector is rejected, the stream is left unchanged.
        if embedding is not None:
            self.index.add(node.id, kind, embedding, created)
        self._insert(node)
        return node

    def _insert(self, node: MemoryNode) -> None:
        self._nodes[node.id] = node
        self._next_id = max(self._next_id, node.id + 1)
        self._active[node.kind][node.id] = node
        self._columns.append(node)
        keyword_index = self._by_keyword[node.kind]
        for keyword in node.keywords:
            keyword_index.setdefault(keyword, {})[node.id] = None
        if node.expiration is not None:
            heapq.heappush(self._expiry_heap, (node.expiration, node.id))

    # -- reading --------------------------------------------------------------------

    def __len__(self) -> int:
        """Active (not expired) nodes."""
        return len(self._nodes) - len(self._expired)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __iter__(self) -> Iterator[MemoryNode]:
        return iter(self.all())

    @property
    def next_id(self) -> int:
        return self._next_id

    def get(self, node_id: int) -> MemoryNode:
        """The node with this id, expired or not. KeyError if there is none."""
        try:
            return self._nodes[node_id]
        except KeyError:
            raise KeyError(f"no memory with id {node_id}") from None

    def is_expired(self, node_id: int) -> bool:
        self.get(node_id)
        return node_id in self._expired

    def all(self, *, include_expired: bool = False) -> list[MemoryNode]:
        """Nodes in id (insertion) order, oldest first."""
        if include_expired or not self._expired:
            return list(self._nodes.values())
        return [n for n in self._nodes.values() if n.id not in self._expired]

    def by_kind(self, kind: Kind) -> list[MemoryNode]:
        """Active nodes of one kind, oldest first."""
        return list(self._active[_check_kind(kind)].values())

    def count(self, kind: Kind) -> int:
        return len(self._active[_check_kind(kind)])

    def latest(self, n: int, kinds: Iterable[Kind] | None = None) -> list[MemoryNode]:
        """The `n` most recently added active nodes of `kinds` (all kinds by default), newest first."""
        if n <= 0:
            return []
        return list(islice(self._newest_first(kinds), n))

    def _newest_first(self, kinds: Iterable[Kind] | None) -> Iterator[MemoryNode]:
        selected = _check_kinds(kinds)
        if len(selected) == 1:
            return reversed(self._active[selected[0]].values())
        # Each per-kind dict is in ascending id order; merge them descending.
        return heapq.merge(*(reversed(self._active[k].values()) for k in selected), key=lambda node: -node.id)

    def by_keywords(
        self, keywords: Iterable[str] | str, kinds: Iterable[Kind] | None = None, *, limit: int | None = None
    ) -> list[MemoryNode]:
        """Active nodes of `kinds` having any of `keywords` (normalised like node
        keywords), newest first, at most `limit`."""
        wanted = _keywords([keywords] if isinstance(keywords, str) else keywords)
        ids: set[int] = set()
        for kind in _check_kinds(kinds):
            index = self._by_keyword[kind]
            for keyword in wanted:
                ids.update(index.get(keyword, ()))
        ordered = sorted(ids, reverse=True)
        if limit is not None:
            ordered = ordered[: max(0, limit)]
        return [self._nodes[i] for i in ordered]

    def keyword_strength(self, keyword: str, kinds: Iterable[Kind] | None = None) -> int:
        """How many active nodes of `kinds` carry `keyword`."""
        key = normalise_keyword(keyword)
        return sum(len(self._by_keyword[k].get(key, ())) for k in _check_kinds(kinds))

    def summarise_recent_events(self, n: int = DEFAULT_RETENTION) -> list[Triple]:
        """The triples of the `n` latest active events, newest first."""
        return [node.triple for node in self.latest(n, ("event",))]

    def already_perceived(self, triple: Sequence[str], among_last: int = DEFAULT_RETENTION) -> bool:
        """Whether `triple` equals one of the last `among_last` event memories.

        The perceive step skips such events: an agent watching the same scene for
        several steps remembers it once, not once per step.
        """
        key = tuple(triple)
        if len(key) != 3:
            raise ValueError(f"a triple has 3 parts (subject, predicate, object), got {len(key)}")
        return any(node.triple == key for node in self.latest(among_last, ("event",)))

    # -- columns (for retrieval) -----------------------------------------------------

    def candidates(
        self, kinds: Iterable[Kind] | None = None, *, skip_idle: bool = False, exclude_predicates: Collection[str] = ()
    ) -> Candidates:
        """The active nodes of `kinds` as column arrays, ascending id order.

        `skip_idle` leaves out "... is idle" filler (see `is_idle`);
        `exclude_predicates` leaves out *thoughts* whose predicate is one of these
        exact strings (the ablations drop reflections, predicate "reflects", or plan
        notes, "plans"); events and chats are never excluded by predicate, since their
        predicates describe what was perceived. One vectorised pass over the columns;
        the answer is cached until the next add or expiry.
        """
        selected = _check_kinds(kinds)
        if isinstance(exclude_predicates, str):
            exclude_predicates = (exclude_predicates,)
        key = (selected, bool(skip_idle), frozenset(exclude_predicates))
        columns = self._columns
        cached = self._candidate_cache.get(key)
        if cached is not None and self._candidate_cache_version == columns.version:
            return cached
        size = columns.size
        mask = columns.active[:size].copy()
        kind = columns.kind[:size]
        if len(selected) < len(KINDS):
            mask &= np.isin(kind, [_KIND_CODE[k] for k in selected])
        if skip_idle:
            mask &= ~columns.idle[:size]
        codes = [columns.predicates[p] for p in key[2] if p in columns.predicates]
        if codes:
            mask &= ~((kind == _KIND_CODE["thought"]) & np.isin(columns.predicate[:size], codes))
        positions = np.flatnonzero(mask)
        found = Candidates(
            positions=_frozen(positions),
            ids=_frozen(columns.ids[positions]),
            poignancy=_frozen(columns.poignancy[positions]),
        )
        if self._candidate_cache_version != columns.version or len(self._candidate_cache) >= 16:
            self._candidate_cache.clear()
            self._candidate_cache_version = columns.version
        self._candidate_cache[key] = found
        return found

    def access_codes(self, positions: np.ndarray) -> np.ndarray:
        """`time_code(last_accessed)` of the nodes at these column positions, read-only
        and valid until the next change (`candidates` positions covering every column
        get a view, without a gather)."""
        columns = self._columns
        size = columns.size
        if positions.shape[0] == size and size and int(positions[-1]) == size - 1:
            # Positions are ascending and distinct, so these are all of 0..size-1.
            view = columns.access[:size]
        else:
            view = columns.access[positions]
        view = view.view()
        view.flags.writeable = False
        return view

    # -- changing -------------------------------------------------------------------

    def touch(self, node_ids: Iterable[int], when: datetime) -> None:
        """Set `last_accessed` of these nodes to `when` (retrieval calls this)."""
        nodes = [self.get(i) for i in node_ids]  # all-or-nothing on an unknown id
        if not nodes:
            return
        code = time_code(when)
        columns = self._columns
        for node in nodes:
            node.last_accessed = when
            columns.access[columns.position[node.id]] = code
        self._touched.update(node.id for node in nodes)

    def touched(self) -> set[int]:
        """Ids of the nodes touched since `saved_access` was last called (a copy)."""
        return set(self._touched)

    def saved_access(self, node_ids: Iterable[int]) -> None:
        """The access times of these nodes are saved: they are no longer `touched` (until
        touched again)."""
        self._touched.difference_update(node_ids)

    def expire(self, now: datetime) -> list[MemoryNode]:
        """Hide the nodes whose expiration is at or before `now`; return them.

        Expired nodes leave every view (kind, recency, keywords, retrieval candidates)
        but stay reachable through `get`, so thoughts citing them keep their evidence.
        """
        expired: list[MemoryNode] = []
        heap = self._expiry_heap
        while heap and heap[0][0] <= now:
            _, node_id = heapq.heappop(heap)
            if node_id in self._expired:
                continue
            node = self._nodes[node_id]
            self._hide(node)
            expired.append(node)
        return expired

    def _hide(self, node: MemoryNode) -> None:
        """Take an expired node out of every active view (O(keywords))."""
        self._expired.add(node.id)
        del self._active[node.kind][node.id]
        columns = self._columns
        columns.active[columns.position[node.id]] = False
        columns.version += 1
        keyword_index = self._by_keyword[node.kind]
        for keyword in node.keywords:
            ids = keyword_index.get(keyword)
            if ids is not None:
                ids.pop(node.id, None)
                if not ids:
                    del keyword_index[keyword]

    # -- persistence ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state: every node (expired too) and which ones expired."""
        return {
            "version": SERIAL_VERSION,
            "next_id": self._next_id,
            "nodes": [node.to_dict() for node in self._nodes.values()],
            "expired": sorted(self._expired),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], index: VectorIndex | None = None) -> MemoryStream:
        """Rebuild a stream from `to_dict` output. `index` is used as is (embeddings
        are not part of the dict); pass the persona's index, already loaded."""
        version = data.get("version", SERIAL_VERSION)
        if version != SERIAL_VERSION:
            raise ValueError(f"unsupported memory stream version {version!r} (this code reads {SERIAL_VERSION})")
        stream = cls(index)
        nodes = sorted((MemoryNode.from_dict(d) for d in data.get("nodes", ())), key=lambda n: n.id)
        for node in nodes:
            _check_kind(node.kind)
            _check_poignancy(node.poignancy)
            if node.id in stream._nodes:
                raise ValueError(f"duplicate memory id {node.id}")
            missing = [i for i in node.evidence if i not in stream._nodes]
            if missing:
                raise ValueError(f"memory {node.id} cites unknown or later evidence ids {missing}")
            stream._insert(node)
        stream._next_id = max(stream._next_id, int(data.get("next_id", 1)))
        expired = [int(i) for i in data.get("expired", ())]
        unknown = [i for i in expired if i not in stream._nodes]
        if unknown:
            raise ValueError(f"expired ids {unknown} are not in the stream")
        for node_id in dict.fromkeys(expired):
            stream._hide(stream._nodes[node_id])
        return stream


def _chat_line(item: Sequence[str]) -> tuple[str, str]:
    if isinstance(item, str) or len(item) != 2:
        raise ValueError(f"chat lines are (speaker, line) pairs, got {item!r}")
    speaker, line = item
    return (str(speaker), str(line))


def _check_poignancy(poignancy: int) -> None:
    if isinstance(poignancy, bool) or not isinstance(poignancy, (int, np.integer)) or not 1 <= poignancy <= 10:
        raise ValueError(f"poignancy must be an integer from 1 to 10, got {poignancy!r}")


def _check_kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise ValueError(f"unknown memory kind {kind!r}; kinds are {', '.join(KINDS)}")
    return kind  # type: ignore[return-value]


def _check_kinds(kinds: Iterable[Kind] | None) -> tuple[Kind, ...]:
    if kinds is None:
        return KINDS
    if isinstance(kinds, str):
        kinds = (kinds,)  # type: ignore[assignment]
    return tuple(dict.fromkeys(_check_kind(k) for k in kinds))


# --- reflection trigger --------------------------------------------------------------


def should_reflect(counter: int, threshold: int = REFLECTION_THRESHOLD) -> bool:
    """Whether accumulated poignancy `counter` has reached `threshold` (and threshold > 0)."""
    return threshold > 0 and counter >= threshold


@dataclass
class ReflectionTrigger:
    """The poignancy counter that decides when a persona reflects.

    Rules:
    - `record` adds the poignancy of each new *event* or *chat* memory. Thoughts do
      not count: reflection writes thoughts, and counting them would let reflection
      feed itself.
    - `should_reflect()` is true once the sum reaches the threshold (150 in the paper,
      about two or three reflections per game day). The world passes its config's
      `reflection.threshold` to the check; the trigger's own `threshold` is the
      default when none is passed (and what older stored triggers carry).
    - The reflect step calls `reset()` after it has run, whether it produced thoughts
      or fell back to none; otherwise a failing reflection would fire on every step.
      The sum starts again from 0 (overshoot is not carried over).

    The original counted down from the threshold to 0; counting up is equivalent and
    keeps the threshold changeable mid-run.
    """

    threshold: int = REFLECTION_THRESHOLD
    accumulated: int = 0
    recorded: int = 0  # memories counted since the last reset
    reflections: int = field(default=0)  # resets so far, for inspection

    def record(self, item: MemoryNode | int) -> bool:
        """Count a new memory (a node or a bare poignancy); return `should_reflect()`."""
        if isinstance(item, MemoryNode):
            if item.kind == "thought":
                return self.should_reflect()
            poignancy = item.poignancy
        else:
            _check_poignancy(item)
            poignancy = int(item)
        self.accumulated += poignancy
        self.recorded += 1
        return self.should_reflect()

    def should_reflect(self, threshold: int | None = None) -> bool:
        """Whether to reflect now, against `threshold` (default: the trigger's own)."""
        limit = self.threshold if threshold is None else threshold
        return self.recorded > 0 and should_reflect(self.accumulated, limit)

    def reset(self) -> None:
        self.accumulated = 0
        self.recorded = 0
        self.reflections += 1

    def to_dict(self) -> dict[str, int]:
        return {
            "threshold": self.threshold,
            "accumulated": self.accumulated,
            "recorded": self.recorded,
            "reflections": self.reflections,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReflectionTrigger:
        return cls(
            threshold=int(data.get("threshold", REFLECTION_THRESHOLD)),
            accumulated=int(data.get("accumulated", 0)),
            recorded=int(data.get("recorded", 0)),
            reflections=int(data.get("reflections", 0)),
        )
