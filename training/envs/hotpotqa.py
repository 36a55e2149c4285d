"""HotPotQA for Retroformer: answer a question by searching paragraphs, in at most 6 actions.

    env = HotpotQAEnv()
    task = env.load(None)[0]                 # our own sample set (data/hotpotqa_sample.jsonl)
    session = env.start(task)
    session.observation                      # "Question: In which town was ...?"
    session.step("Search[The Lantern Choir]").observation   # the paragraph's first sentences
    session.step("Lookup[singer]").observation              # "(Result 1 / 1) The band is fronted by ..."
    session.step("Finish[Castro Alto]")                     # done, reward 1.0, won True

Actions (Reflexion's HotPotQA environment; names are case-insensitive, whitespace around
them is ignored):

- `Search[entity]` finds the paragraph whose title best matches `entity` and shows its
  first 5 sentences. Exact title first, then the same title in any case, then the title
  sharing the most words (articles and punctuation ignored, at least half of all the
  words of both), then a near spelling; a tie between two titles is no match. No match:
  `Could not find <entity>. Similar: ['<title>', ...].` (up to 5 titles, best first).
- `Lookup[keyword]` shows the next sentence of the last searched paragraph that contains
  `keyword` (any case): `(Result i / n) <sentence>`, then `No more results.` once they
  run out. A new keyword, or a new Search, starts again from the first sentence.
- `Finish[answer]` ends the episode: reward 1.0 and won when the answer equals the gold
  answer after SQuAD normalisation (`normalize_answer`), else 0.0.

Anything else (`search Paris`, `Search[]`, `Jump[x]`) is played as an action that gets
`Invalid action: ... Valid actions are Search[<entity>], Lookup[<keyword>], Finish[<answer>].`
with `info["invalid"] = True`; it still counts towards the 6 actions. After the 6th
action the episode is over (`info["reason"] = "step cap"`, reward 0.0 unless the 6th was
a right Finish). An action sent after the end is not played: it gets
`The episode is over.` with the final reward and `info["invalid"] = True`.

Where Search looks is a `DocumentStore`: by default the task's own context paragraphs
(the distractor split gives each question about 10, 2 of them gold), so it runs
offline. `WikipediaStore` searches live English Wikipedia instead, as Reflexion did:
`HotpotQAEnv(store=lambda task: WikipediaStore())`. It needs the internet; when
Wikipedia does not answer, the Search observation says so and the episode goes on.

Data (`load`): JSONL in the HotPotQA distractor format, one question per line with `_id`
(or `id`), `question`, `answer` and `context` = [[title, [sentence, ...]], ...], optional
`supporting_facts`, `type` and `level`; or, for a path ending in `.json`, the official
file (`hotpot_dev_distractor_v1.json`): one JSON array of the same objects. Task ids are
`hotpotqa-<_id>`. A malformed row raises BadData naming the file and the line (the item
number for a JSON array) and what is wrong with it.
"""

from __future__ import annotations

import difflib
import http.client
import json
import re
import string
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from llm.prompts import render_prompt
from training.envs.base import BadData
from training.envs.data import PROMPTS, SAMPLES, prompt_text, read_jsonl
from training.envs.interactive import StepResult, Task

MAX_STEPS = 6
SEARCH_SENTENCES = 5  # Reflexion shows the first 5 sentences of a page
SIMILAR_TITLES = 5
VALID_ACTIONS = "Search[<entity>], Lookup[<keyword>], Finish[<answer>]"
ENDED = "The episode is over."

# --- answers --------------------------------------------------------------------------

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower-case, drop punctuation, drop a/an/the, collapse spaces.

    The order matters and is SQuAD's: punctuation goes before articles are matched, so
    "the-end" becomes "theend" (kept) while "the end" becomes "end"."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(gold)


# --- actions --------------------------------------------------------------------------

# Name[argument]: the argument runs to the last "]", so "Search[Tessel (island)]" and
# "Finish[[yes]]" keep their inner brackets.
_ACTION = re.compile(r"\s*([A-Za-z]+)\s*\[(.*)\]\s*", re.DOTALL)
_KINDS = ("search", "lookup", "finish")


@dataclass(frozen=True)
class Action:
    kind: str  # "search" | "lookup" | "finish"
    argument: str  # stripped, inner whitespace collapsed; never empty


def parse_action(text: str) -> Action | str:
    """The action in `text`, or why it is not one (for the Invalid action observation)."""
    m = _ACTION.fullmatch(text)
    if m is None:
        return "expected Name[argument]"
    kind = m.group(1).lower()
    if kind not in _KINDS:
        return f"unknown action {m.group(1)!r}"
    argument = " ".join(m.group(2).split())
    if not argument:
        return f"{m.group(1)}[] has nothing inside the brackets"
    return Action(kind, argument)


def invalid_observation(text: str, reason: str) -> str:
    return f"Invalid action: {_clip(text)!r} ({reason}). Valid actions are {VALID_ACTIONS}."


def _clip(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --- where Search looks -----------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    title: str
    sentences: tuple[str, ...]


class StoreUnavailable(RuntimeError):
    """A store that could not answer (Wikipedia offline); the Search observation says so."""


class DocumentStore(Protocol):
    def search(self, title: str) -> Paragraph | None:
        """The paragraph for `title`, or None when nothing matches well enough."""

    def similar(self, title: str) -> list[str]:
        """Titles to suggest when `search` found nothing, best first."""


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"\w+", text.casefold()) if w not in ("a", "an", "the"))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


class ContextStore:
    """A task's own context paragraphs (the distractor setting): offline and deterministic."""

    MIN_OVERLAP = 0.5  # shared words / all words: "Lantern Choir" finds "The Lantern Choir"
    MIN_SPELLING = 0.85  # difflib ratio: "Lake Orvan" finds "Lake Orvane"

    def __init__(self, paragraphs: Sequence[Paragraph]) -> None:
        self.paragraphs = tuple(paragraphs)

    @classmethod
    def from_context(cls, context: Sequence[Sequence[Any]]) -> ContextStore:
        """From HotPotQA's [[title, [sentence, ...]], ...]; sentences are stripped (the data
        starts every sentence after the first with a space)."""
        return cls(
            [
                Paragraph(str(title), tuple(s.strip() for s in sentences if str(s).strip()))
                for title, sentences in context
            ]
        )

    def search(self, title: str) -> Paragraph | None:
        query = " ".join(title.split())
        for p in self.paragraphs:
            if p.title == query:
                return p
        folded = query.casefold()
        for p in self.paragraphs:
            if " ".join(p.title.split()).casefold() == folded:
                return p
        words = _words(query)
        best = self._unique_best([_overlap(words, _words(p.title)) for p in self.paragraphs], self.MIN_OVERLAP)
        if best is None:
            best = self._unique_best([self._spelling(query, p.title) for p in self.paragraphs], self.MIN_SPELLING)
        return None if best is None else self.paragraphs[best]

    def similar(self, title: str) -> list[str]:
        words = _words(title)
        scored = [(_overlap(words, _words(p.title)), self._spelling(title, p.title), p.title) for p in self.paragraphs]
        ranked = sorted(scored, key=lambda s: (-s[0], -s[1]))  # stable: ties keep the context's order
        return list(dict.fromkeys(t for _, _, t in ranked))[:SIMILAR_TITLES]

    @staticmethod
    def _spelling(a: str, b: str) -> float:
        return difflib.SequenceMatcher(None, " ".join(sorted(_words(a))), " ".join(sorted(_words(b)))).ratio()

    @staticmethod
    def _unique_best(scores: list[float], minimum: float) -> int | None:
        """The index of the one best score at or above `minimum`; None when two tie:
        Search[Keller] with "Keller Medal" and "Tobias Keller" both there is ambiguous."""
        if not scores:
            return None
        top = max(scores)
        if top < minimum or scores.count(top) > 1:
            return None
        return scores.index(top)


def context_store(task: Task) -> DocumentStore:
    """The default store: the task's own paragraphs."""
    return ContextStore.from_context(task.data["context"])


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


class WikipediaStore:
    """Live English Wikipedia through the MediaWiki API (online; never used by the tests).

    Search returns the whole page's plain text as one paragraph (its first 5 sentences
    are shown, Lookup reads all of it); `similar` is Wikipedia's own search. Any network
    or reply problem raises StoreUnavailable, which the session turns into an observation.
    """

    API = "https://en.wikipedia.org/w/api.php"
    USER_AGENT = "retroformer-hotpotqa/1.0 (offline-first research environment)"
    MAX_BYTES = 5_000_000

    def __init__(self, *, api: str = API, timeout: float = 10.0, fetch: Callable[[str], bytes] | None = None) -> None:
        self.api = api
        self.timeout = timeout
        self._fetch = fetch or self._urlopen

    def search(self, title: str) -> Paragraph | None:
        reply = self._get(action="query", prop="extracts", explaintext="1", redirects="1", titles=title)
        pages = reply.get("query", {}).get("pages") or []
        page = pages[0] if pages and isinstance(pages[0], dict) else {}
        text = page.get("extract")
        if page.get("missing") or page.get("invalid") or not isinstance(text, str):
            return None
        sentences = split_sentences(text)
        return Paragraph(str(page.get("title") or title), tuple(sentences)) if sentences else None

    def similar(self, title: str) -> list[str]:
        reply = self._get(action="query", list="search", srsearch=title, srlimit=str(SIMILAR_TITLES))
        hits = reply.get("query", {}).get("search") or []
        return [str(h["title"]) for h in hits if isinstance(h, dict) and "title" in h]

    def _get(self, **params: str) -> dict[str, Any]:
        url = f"{self.api}?{urllib.parse.urlencode({**params, 'format': 'json', 'formatversion': '2'})}"
        try:
            reply = json.loads(self._fetch(url))
        except (OSError, ValueError, http.client.HTTPException) as e:  # URLError and timeouts are OSErrors
            raise StoreUnavailable(f"Wikipedia did not answer ({type(e).__name__}: {_clip(str(e), 120)})") from None
        if not isinstance(reply, dict) or "error" in reply:
            raise StoreUnavailable(f"Wikipedia refused the request ({_clip(str(reply), 120)})")
        return reply

    def _urlopen(self, url: str) -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": self.USER_AGENT})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            data: bytes = response.read(self.MAX_BYTES)
            return data


def split_sentences(text: str) -> list[str]:
    """Sentences of a plain-text page; section headings (`== History ==`) are dropped."""
    sentences: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("="):
            sentences.extend(s for s in _SENTENCE_END.split(line) if s)
    return sentences


# --- a game ------------------------------------------------------------------------------

StoreFactory = Callable[[Task], DocumentStore]


class HotpotQASession:
    """One question being played; holds its own search and lookup state (no sharing)."""

    def __init__(self, task: Task, store: DocumentStore, *, max_steps: int = MAX_STEPS) -> None:
        self.task = task
        self.observation = f"Question: {task.data['question']}"
        self.steps = 0
        self.max_steps = max_steps
        self._store = store
        self._gold: str = task.data["answer"]
        self._paragraph: Paragraph | None = None
        self._keyword = ""
        self._hits: list[str] = []
        self._next_hit = 0
        self._done = False
        self._won = False
        self._reason = ""

    @property
    def reward(self) -> float:
        return 1.0 if self._won else 0.0

    def step(self, action: str) -> StepResult:
        if self._done:
            return StepResult(ENDED, self.reward, True, self._won, {"invalid": True, "reason": self._reason})
        self.steps += 1
        info: dict[str, Any] = {"invalid": False}
        parsed = parse_action(action)
        if isinstance(parsed, str):
            observation = invalid_observation(action, parsed)
            info["invalid"] = True
        elif parsed.kind == "search":
            observation = self._search(parsed.argument)
        elif parsed.kind == "lookup":
            observation = self._lookup(parsed.argument)
        else:
            self._won = exact_match(parsed.argument, self._gold)
            self._done, self._reason = True, "finished"
            info["answer"] = parsed.argument
            observation = f"Episode finished: the answer is {'correct' if self._won else 'wrong'}."
        if not self._done and self.steps >= self.max_steps:
            self._done, self._reason = True, "step cap"
        if self._done:
            info["reason"] = self._reason
        return StepResult(observation, self.reward, self._done, self._won, info)

    def close(self) -> None:
        self._paragraph = None

    def _search(self, entity: str) -> str:
        try:
            paragraph = self._store.search(entity)
            if paragraph is None:
                return f"Could not find {entity}. Similar: {self._store.similar(entity)!r}."
        except StoreUnavailable as e:
            return f"Search failed: {e}. Try again or search for something else."
        self._paragraph, self._keyword, self._hits, self._next_hit = paragraph, "", [], 0
        if not paragraph.sentences:
            return f"The paragraph {paragraph.title} is empty."
        return " ".join(paragraph.sentences[:SEARCH_SENTENCES])

    def _lookup(self, keyword: str) -> str:
        if self._paragraph is None:
            return "There is no paragraph to look in yet: use Search[<entity>] first."
        key = keyword.casefold()
        if key != self._keyword:
            self._keyword, self._next_hit = key, 0
            self._hits = [s for s in self._paragraph.sentences if key in s.casefold()]
        if self._next_hit >= len(self._hits):
            return "No more results."
        self._next_hit += 1
        return f"(Result {self._next_hit} / {len(self._hits)}) {self._hits[self._next_hit - 1]}"


class HotpotQAEnv:
    name = "hotpotqa"
    max_steps = MAX_STEPS

    def __init__(self, store: StoreFactory | None = None) -> None:
        # One factory call per session: a store may keep per-game state, and the sessions of
        # one env are played from several threads at once.
        self._store = store or context_store

    def sample_path(self) -> Path:
        return SAMPLES / "hotpotqa_sample.jsonl"

    def load(self, path: str | Path | None, *, limit: int | None = None) -> list[Task]:
        return load_tasks(self.sample_path() if path is None else path, limit=limit)

    def start(self, task: Task) -> HotpotQASession:
        try:
            _check_row({"_id": task.id, **task.data})
        except ValueError as e:
            raise BadData(f"task {task.id}: {e}") from None
        return HotpotQASession(task, self._store(task), max_steps=self.max_steps)

    def instructions(self) -> str:
        return render_prompt(PROMPTS / "hotpotqa_instructions.txt", max_steps=self.max_steps)

    def examples(self) -> str:
        return prompt_text("hotpotqa_examples")


# --- data ----------------------------------------------------------------------------------


def load_tasks(path: str | Path, *, limit: int | None = None) -> list[Task]:
    """Tasks from a JSONL file, or a JSON array when the name ends in `.json`."""
    if limit is not None and limit < 0:
        raise BadData(f"limit {limit}: must be 0 or more")
    local = Path(path).expanduser()
    if not local.exists():
        raise BadData(f"{path}: no such file")
    if limit == 0:
        return []
    rows = _json_array(local) if local.suffix.lower() == ".json" else _jsonl(local)
    tasks: list[Task] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        try:
            qid, data = _check_row(row)
        except ValueError as e:
            raise BadData(f"{where}: {e}") from None
        if qid in seen:
            raise BadData(f"{where}: id {qid!r} was already used ({seen[qid]})")
        seen[qid] = where
        tasks.append(Task(id=f"hotpotqa-{qid}", env="hotpotqa", goal=" ".join(data["question"].split()), data=data))
        if len(tasks) == limit:
            break  # before the next line is read: a bad line after the limit is no error
    if not tasks:
        raise BadData(f"{local}: no questions (the file is empty)")
    return tasks


def _jsonl(path: Path) -> Iterator[tuple[str, Any]]:
    for n, row in read_jsonl(path, ()):  # read_jsonl names the line of a non-JSON one
        yield f"{path} line {n}", row


def _json_array(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except IsADirectoryError:
        raise BadData(f"{path}: is a directory, not a JSON file") from None
    except UnicodeDecodeError:
        raise BadData(f"{path}: not UTF-8 text") from None
    except OSError as e:
        raise BadData(f"{path}: cannot read ({e.strerror or e})") from None
    except json.JSONDecodeError as e:
        hint = "; name a JSONL file *.jsonl" if e.msg == "Extra data" else ""
        raise BadData(f"{path} line {e.lineno}: not JSON ({e.msg} at column {e.colno}){hint}") from None
    if not isinstance(rows, list):
        raise BadData(f"{path}: expected a JSON array of questions, found {type(rows).__name__}")
    for i, row in enumerate(rows, start=1):
        yield f"{path} item {i}", row


def _check_row(row: Any) -> tuple[str, dict[str, Any]]:
    """The id and the task data of one HotPotQA object; ValueError says what is wrong."""
    if not isinstance(row, dict):
        raise ValueError(f"not a JSON object but {type(row).__name__}")
    key = "_id" if "_id" in row else "id"
    qid = row.get(key)
    if qid is None:
        raise ValueError("no '_id' or 'id' field")
    if isinstance(qid, bool) or not isinstance(qid, str | int) or not str(qid).strip():
        raise ValueError(f"{key!r} must be a non-empty string or an integer, not {qid!r}")
    data: dict[str, Any] = {}
    for field in ("question", "answer"):
        value = row.get(field)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{field!r} must be a non-empty string" + ("" if field in row else " (missing)"))
        data[field] = value
    data["context"] = _check_context(row.get("context"))
    facts = row.get("supporting_facts", [])
    if not isinstance(facts, list) or not all(
        isinstance(f, list) and len(f) == 2 and isinstance(f[0], str) and type(f[1]) is int for f in facts
    ):
        raise ValueError("'supporting_facts' must be a list of [title, sentence number] pairs")
    data["supporting_facts"] = facts
    for field in ("type", "level"):
        if field in row:
            if not isinstance(row[field], str):
                raise ValueError(f"{field!r} must be a string, not {type(row[field]).__name__}")
            data[field] = row[field]
    return str(qid).strip(), data


def _check_context(context: Any) -> list[list[Any]]:
    if context is None:
        raise ValueError("no 'context' field (the paragraphs Search looks in)")
    if not isinstance(context, list) or not context:
        raise ValueError("'context' must be a non-empty list of [title, [sentences...]]")
    for i, item in enumerate(context, start=1):
        ok = (
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[0], str)
            and item[0].strip() != ""
            and isinstance(item[1], list)
            and all(isinstance(s, str) for s in item[1])
        )
        if not ok:
            raise ValueError(f"context paragraph {i} is not [title, [sentences...]]: {_clip(json.dumps(item), 60)}")
    return context
