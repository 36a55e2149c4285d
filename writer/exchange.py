"""Export and import of RecurrentGPT co-writing projects (pure: no Django here).

Two kinds of export.

Story exports are the text of one branch, a title and its paragraphs, for reading
elsewhere: Markdown (`story_markdown`), plain text (`story_text`) and EPUB 3
(`story_epub`, built with ebooklib). All three treat the story as *text*: a model may
write "<script>" or "# heading", and the export must show those characters, not obey
them. Every paragraph is cut into blocks at blank lines and each line is stripped, so
the three formats agree on what a paragraph is (a block is a Markdown paragraph or an
EPUB <p>; the lines of a block are joined by soft breaks in Markdown, by <br/> in the
EPUB, and blank paragraphs are left out); characters XML cannot hold (NUL and
other C0 controls, lone surrogates) are dropped everywhere, since the EPUB could not
carry them and they are never meant as text.

Markdown escaping rule (CommonMark plus the GFM table, strikethrough and autolink
extensions), applied to the title, the metadata and every line of every paragraph:

1. `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`: no raw HTML, no HTML blocks,
   no entity references, no `<...>` autolinks, and no `>` block quotes.
2. ``\\ ` * _ [ ] ~ |`` get a backslash anywhere in a line: no emphasis, code spans or
   fences, links or images, link reference definitions, footnotes, strikethrough,
   tables, `***`/`___` rules, and a trailing backslash cannot become a hard break.
3. At the start of a line (after stripping its leading whitespace, so four spaces or
   a tab cannot open an indented code block) `#`, `-`, `+` and `=` get a backslash,
   and so does the `.` or `)` after leading digits: no headings, list items, setext
   underlines or `---` rules. In the title every `#` is escaped (a closing sequence).
4. Trailing whitespace is stripped, so two trailing spaces cannot make a hard break.

Bare URLs may still be linkified by GFM renderers; they show the same text. A
backslash before any ASCII punctuation is valid CommonMark, so the result renders as
the text that was written.

The project document (JSON) is the whole project: its history tree and memories, so
it can be moved between installations or kept as a backup. Version 1:

    {"format": "recurrentgpt-project", "version": 1, "exported_at": "<ISO-8601>",
     "project": {"name", "novel_type", "topic", "premise", "language": "en"|"zh",
                 "preset": "compact"|"paper", "published": bool},
     "paragraphs": [{"id": int, "text": str}, ...],
     "entries": [{"id": int, "paragraph": int, "summary": str, "text": str,
                  "vector": base64 of little-endian float32 | null}, ...],
     "nodes": [{"key": int, "parent": int|null, "kind": "init"|"step"|"edit",
                "label": str, "plan": str, "state": <light state>, "details": {...},
                "tokens": int, "seconds": float, "created": "<ISO-8601>"|null}, ...],
     "head": <a node key>}

Each node's state is a *light* state, the form the database stores: the dict of
`StoryState.to_dict(vectors=False)` except that "paragraphs" is a list of paragraph
ids and "long_term" a list of entry ids. Every step keeps all earlier paragraphs, so
a story of n paragraphs written in n steps would repeat its text n times if states
held text (quadratic in the story's length); with ids each paragraph and each entry
(with its vector) is written once, and a node costs a list of small integers.

`parse_document` (and `load_document`, which also reads the bytes) checks an
untrusted upload completely before anything is stored, and raises `BadImport` with
one line saying what is wrong and where, e.g. `nodes[3].parent: node 99 does not
exist`. HTML in text is not an error: it is text, kept verbatim, escaped when shown.
The checks are linear in the size of the document (ids are looked up in dicts, and
paths for messages are built only when something fails).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import io
import json
import math
import re
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, Literal, NoReturn

import numpy as np
from ebooklib import epub

from writer.engine.config import LANGUAGES
from writer.engine.state import LORE_KINDS, LongTermEntry, LoreEntry, StoryState

FORMAT: Final = "recurrentgpt-project"
VERSION: Final = 1
SUPPORTED_VERSIONS: Final = (1,)

MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024  # the view refuses larger files before reading them
MAX_STRING: Final = 200_000  # characters in any one string
MAX_ITEMS: Final = 100_000  # paragraphs, entries and nodes, each
MAX_TOTAL_CHARS: Final = 50_000_000  # all strings of the document together
MAX_NAME: Final = 200  # project name, novel type and node label (CharField(max_length=200))
MAX_DETAILS_DEPTH: Final = 32

PRESETS: Final = ("compact", "paper")
NODE_KINDS: Final = ("init", "step", "edit")
_ID_MAX: Final = 2**63 - 1  # signed 64-bit database columns
_COUNT_MAX: Final = 2**31 - 1  # PositiveIntegerField

Preset = Literal["compact", "paper"]
NodeKind = Literal["init", "step", "edit"]


# --------------------------------------------------------------------------- story text

# Characters outside XML 1.0's Char production (C0 controls but tab/newline/CR, lone
# surrogates, U+FFFE/U+FFFF): lxml refuses them, and ebooklib would then silently
# write an empty chapter, so they are dropped from every export.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_LABELS: Final[dict[str, dict[str, str]]] = {
    "en": {"untitled": "Untitled", "chapter": "Chapter {n}", "by": "by {author}", "colon": ": "},
    "zh": {"untitled": "无题", "chapter": "第{n}章", "by": "{author} 著", "colon": "："},
}


def _labels(language: str) -> dict[str, str]:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {sorted(LANGUAGES)}, got {language!r}")
    return _LABELS[language]


def _one_line(text: str) -> str:
    """Titles and metadata are single lines: whitespace runs (newlines too) become one space."""
    return " ".join(_NOT_XML.sub("", text).split())


def _title(title: str, language: str) -> str:
    return _one_line(title) or _labels(language)["untitled"]


def _blocks(paragraph: str) -> list[list[str]]:
    """A paragraph as blocks (split at blank lines) of stripped, non-empty lines."""
    blocks: list[list[str]] = [[]]
    for line in _NOT_XML.sub("", paragraph).splitlines():
        line = line.strip()
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


def _story(paragraphs: Iterable[str]) -> list[list[list[str]]]:
    """Paragraphs as blocks; blank paragraphs are dropped (they would show as nothing)."""
    return [blocks for blocks in map(_blocks, paragraphs) if blocks]


def _meta(meta: Mapping[str, str] | None) -> list[tuple[str, str]]:
    items = ((_one_line(str(k)), _one_line(str(v))) for k, v in (meta or {}).items())
    return [(k, v) for k, v in items if k and v]


_MD_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_MD_INLINE = re.compile(r"([\\`*_\[\]~|])")
_MD_LINE_START = re.compile(r"^(?:([#+=-])|([0-9]+)([.)]))")


def _md_inline(text: str) -> str:
    return _MD_INLINE.sub(r"\\\1", text.translate(_MD_HTML))


def _md_line(line: str) -> str:
    """One stripped line escaped by rules 1-3 of the module docstring."""
    return _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", _md_inline(line))


def story_markdown(
    title: str, paragraphs: Sequence[str], *, language: str = "en", meta: Mapping[str, str] | None = None
) -> str:
    """`# Title`, each metadata item as an italic line, then the paragraphs, all escaped."""
    colon = _labels(language)["colon"]
    heading = _md_inline(_title(title, language)).replace("#", "\\#")
    parts = [f"# {heading}"]
    parts += [f"*{_md_inline(key)}{colon}{_md_inline(value)}*" for key, value in _meta(meta)]
    for blocks in _story(paragraphs):
        parts += ["\n".join(_md_line(line) for line in block) for block in blocks]
    return "\n\n".join(parts) + "\n"


def _display_width(text: str) -> int:
    """Columns in a monospace font: CJK (wide/fullwidth) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def story_text(
    title: str, paragraphs: Sequence[str], *, language: str = "en", meta: Mapping[str, str] | None = None
) -> str:
    """The title underlined with `=`, "Key: value" lines, then paragraphs between blank lines."""
    heading = _title(title, language)
    parts = [f"{heading}\n{'=' * _display_width(heading)}"]
    if items := _meta(meta):
        colon = _labels(language)["colon"]
        parts.append("\n".join(f"{key}{colon}{value}" for key, value in items))
    for blocks in _story(paragraphs):
        parts += ["\n".join(block) for block in blocks]
    return "\n\n".join(parts) + "\n"


_CSS = """\
body { margin: 0 5%; line-height: 1.6; }
h1.title { text-align: center; margin-top: 30%; }
p { margin: 0 0 0.8em; }
p:lang(zh) { text-indent: 2em; }
p.author, p.meta { text-align: center; text-indent: 0; }
"""


def _xhtml(title: str, body: Iterable[str]) -> bytes:
    # ebooklib re-parses this with lxml.html and keeps the body's child *elements*, so
    # every piece of text sits inside an element; bytes, so lxml reads it as UTF-8.
    return f"<html><head><title>{html.escape(title)}</title></head><body>{''.join(body)}</body></html>".encode()


def _html_paragraphs(blocks: list[list[str]]) -> Iterator[str]:
    for block in blocks:
        yield "<p>" + "<br/>".join(html.escape(line) for line in block) + "</p>"


def story_epub(
    title: str,
    paragraphs: Sequence[str],
    *,
    language: str = "en",
    author: str = "",
    meta: Mapping[str, str] | None = None,
    paragraphs_per_chapter: int = 20,
    identifier: str | None = None,
) -> bytes:
    """An EPUB 3 (with an EPUB 2 NCX for older readers): a title page, then chapters of
    `paragraphs_per_chapter` paragraphs. `identifier` defaults to a UUID derived from
    the text, so exporting the same story twice gives the same book identity."""
    if paragraphs_per_chapter < 1:
        raise ValueError(f"paragraphs_per_chapter must be at least 1, got {paragraphs_per_chapter}")
    labels = _labels(language)
    heading, author, items, story = _title(title, language), _one_line(author), _meta(meta), _story(paragraphs)
    if identifier is None:
        digest = hashlib.sha256("\0".join([heading, author, *paragraphs]).encode("utf-8", "replace")).hexdigest()
        identifier = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'recurrentgpt:{digest}')}"

    book = epub.EpubBook()
    book.set_identifier(identifier)
    book.set_title(heading)
    book.set_language(language)
    if author:
        book.add_author(author)
    style = epub.EpubItem(uid="style", file_name="style/book.css", media_type="text/css", content=_CSS.encode())
    book.add_item(style)

    front = [f'<h1 class="title">{html.escape(heading)}</h1>']
    if author:
        front.append(f'<p class="author">{html.escape(labels["by"].format(author=author))}</p>')
    front += [f'<p class="meta">{html.escape(key + labels["colon"] + value)}</p>' for key, value in items]
    title_page = epub.EpubHtml(uid="title", title=heading, file_name="title.xhtml", lang=language)
    title_page.content = _xhtml(heading, front)
    title_page.add_item(style)
    book.add_item(title_page)

    chapters = []
    for number, start in enumerate(range(0, len(story), paragraphs_per_chapter), 1):
        name = labels["chapter"].format(n=number)
        body = [f"<h2>{html.escape(name)}</h2>"]
        for blocks in story[start : start + paragraphs_per_chapter]:
            body += _html_paragraphs(blocks)
        chapter = epub.EpubHtml(uid=f"chapter{number}", title=name, file_name=f"chapter{number:04d}.xhtml",
                                lang=language)  # fmt: skip
        chapter.content = _xhtml(name, body)
        chapter.add_item(style)
        book.add_item(chapter)
        chapters.append(chapter)

    # The title page is in the table of contents too: an empty story still needs a
    # non-empty nav list (an empty <ol> is invalid EPUB 3).
    book.toc = [title_page, *chapters]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = [title_page, "nav", *chapters]

    buffer = io.BytesIO()
    # mtime: ebooklib would write local time with a "Z" suffix; raise_exceptions: it
    # would otherwise return False on an I/O error and leave a half-written book.
    epub.write_epub(buffer, book, {"mtime": datetime.now(UTC), "raise_exceptions": True})
    return buffer.getvalue()


def export_filename(title: str, ext: str) -> str:
    """A safe ASCII file name: the title's letters and digits joined by "-" (accents
    folded; "story" when nothing is left, e.g. a Chinese title), then `.ext`. For the
    Content-Disposition `filename=`; send the real title as `filename*` if wanted."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:80].rstrip("-") or "story"
    suffix = re.sub(r"[^a-z0-9]+", "", ext.lower())
    return f"{slug}.{suffix}" if suffix else slug


# --------------------------------------------------------------------------- vectors


def encode_vector(vector: np.ndarray | bytes | memoryview | None) -> str | None:
    """Base64 of the vector as little-endian float32 (bytes are taken as already so)."""
    if vector is None:
        return None
    if isinstance(vector, bytes | memoryview):
        raw = bytes(vector)
        if len(raw) % 4:
            raise ValueError(f"a float32 vector needs a multiple of 4 bytes, got {len(raw)}")
    else:
        raw = np.asarray(vector, dtype="<f4").reshape(-1).tobytes()
    return base64.b64encode(raw).decode("ascii")


def decode_vector(text: str | None) -> np.ndarray | None:
    """The float32 vector `encode_vector` wrote (read-only), or None for None.

    Raises ValueError when `text` is not base64 of a whole number of float32s."""
    if text is None:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:  # ValueError: non-ASCII characters
        raise ValueError(f"not base64 ({error})") from None
    if len(raw) % 4:
        raise ValueError(f"{len(raw)} bytes is not a whole number of float32 values")
    # frombuffer over immutable bytes is already read-only; astype gives native order.
    array = np.frombuffer(raw, dtype="<f4").astype(np.float32, copy=False)
    array.flags.writeable = False
    return array


# --------------------------------------------------------------------------- export


def _iso(value: datetime | str | None) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def build_document(
    project: Mapping[str, Any],
    paragraphs: Iterable[tuple[int, str]],
    entries: Iterable[Mapping[str, Any]],
    nodes: Iterable[Mapping[str, Any]],
    head: int,
    *,
    exported_at: datetime | None = None,
) -> dict[str, Any]:
    """The project document (see the module docstring), JSON-ready.

    `entries` are dicts with id, paragraph, summary, text and vector (ndarray, raw
    float32 bytes or None); `nodes` are dicts with key, parent, kind, label, plan,
    state (the light state), details, tokens, seconds and created (datetime, ISO string
    or None). Missing optional node fields get their defaults."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": (exported_at or datetime.now(UTC)).isoformat(),
        "project": {
            "name": str(project["name"]),
            "novel_type": str(project.get("novel_type", "")),
            "topic": str(project.get("topic", "")),
            "premise": str(project.get("premise", "")),
            "language": str(project.get("language", "en")),
            "preset": str(project.get("preset", "compact")),
            "published": bool(project.get("published", False)),
        },
        "paragraphs": [{"id": int(pid), "text": str(text)} for pid, text in paragraphs],
        "entries": [
            {
                "id": int(e["id"]),
                "paragraph": int(e["paragraph"]),
                "summary": str(e.get("summary", "")),
                "text": str(e["text"]),
                "vector": encode_vector(e.get("vector")),
            }
            for e in entries
        ],
        "nodes": [
            {
                "key": int(n["key"]),
                "parent": None if n.get("parent") is None else int(n["parent"]),
                "kind": str(n["kind"]),
                "label": str(n.get("label", "")),
                "plan": str(n.get("plan", "")),
                "state": n["state"],
                "details": n.get("details") or {},
                "tokens": int(n.get("tokens", 0)),
                "seconds": float(n.get("seconds", 0.0)),
                "created": _iso(n.get("created")),
            }
            for n in nodes
        ],
        "head": int(head),
    }


def dump_document(document: Mapping[str, Any]) -> bytes:
    """The document as compact UTF-8 JSON (NaN refused: it is not JSON)."""
    return json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------- import


class BadImport(ValueError):
    """An uploaded project document is not valid; the message is one line: where, then what."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    name: str
    novel_type: str
    topic: str
    premise: str
    language: str  # "en" or "zh"
    preset: Preset
    published: bool


@dataclass(frozen=True, slots=True)
class NodeRecord:
    key: int
    parent: int | None
    kind: NodeKind
    label: str
    plan: str
    # The light state, normalised: exactly the StoryState fields, ids as in the document.
    state: Mapping[str, Any]
    details: Mapping[str, Any]
    tokens: int
    seconds: float
    created: datetime | None


@dataclass(frozen=True, slots=True)
class ProjectDocument:
    """A validated project document. `nodes` are ordered parents before children."""

    project: ProjectInfo
    paragraphs: Mapping[int, str]
    entries: Mapping[int, LongTermEntry]
    nodes: tuple[NodeRecord, ...]
    head: int
    exported_at: datetime | None = None
    _by_key: Mapping[int, NodeRecord] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", MappingProxyType({n.key: n for n in self.nodes}))

    def node(self, key: int) -> NodeRecord:
        return self._by_key[key]

    def state_at(self, key: int) -> StoryState:
        """The full StoryState of node `key`: paragraph texts, entries with vectors."""
        light = self._by_key[key].state
        return StoryState(
            novel_type=light["novel_type"],
            topic=light["topic"],
            title=light["title"],
            outline=light["outline"],
            language=light["language"],
            premise=light["premise"],
            paragraphs=tuple(self.paragraphs[pid] for pid in light["paragraphs"]),
            memory=light["memory"],
            plans=tuple(light["plans"]),
            long_term=tuple(self.entries[eid] for eid in light["long_term"]),
            lore=tuple(LoreEntry.from_dict(lore) for lore in light["lore"]),
            steps=light["steps"],
        )

    def light_state(
        self, key: int, paragraph_ids: Mapping[int, int] | None = None, entry_ids: Mapping[int, int] | None = None
    ) -> dict[str, Any]:
        """A fresh copy of node `key`'s light state, its paragraph and entry ids
        translated through the given maps (document id -> stored id) when given."""
        light = self._by_key[key].state
        pids, eids = light["paragraphs"], light["long_term"]
        lore = [{**entry, "keywords": list(entry["keywords"]), "aliases": list(entry["aliases"])}
                for entry in light["lore"]]  # fmt: skip
        return {
            **light,
            "paragraphs": [paragraph_ids[i] for i in pids] if paragraph_ids is not None else list(pids),
            "long_term": [entry_ids[i] for i in eids] if entry_ids is not None else list(eids),
            "plans": list(light["plans"]),
            "lore": lore,
        }


def load_document(raw: bytes | str) -> ProjectDocument:
    """Read an uploaded file (UTF-8 JSON, at most MAX_UPLOAD_BYTES) and validate it."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise BadImport("file", f"larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise BadImport("file", f"not UTF-8 text (byte {error.start})") from None

    def no_constants(name: str) -> NoReturn:
        raise BadImport("file", f"{name} is not a JSON number")

    try:
        data = json.loads(raw, parse_constant=no_constants)
    except json.JSONDecodeError as error:
        raise BadImport("file", f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    except RecursionError:
        raise BadImport("file", "JSON nested too deeply") from None
    except BadImport:
        raise
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise BadImport("file", f"not valid JSON ({_short(str(error))})") from None
    return parse_document(data)


def parse_document(data: Any) -> ProjectDocument:
    """Validate a decoded project document (untrusted) and return it; BadImport if not valid."""
    return _Parser().document(data)


# Strings a database cannot store: PostgreSQL text refuses NUL, and UTF-8 cannot encode
# lone surrogates (json.loads accepts "\ud800").
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_STATE_REQUIRED: Final = ("novel_type", "topic", "title", "outline", "paragraphs", "long_term")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Parser:
    """One validation pass; counts the characters of every string it accepts."""

    def __init__(self) -> None:
        self.total_chars = 0

    # ----- primitives: `where` is the path of the value; fail() raises BadImport

    @staticmethod
    def fail(where: str, problem: str) -> NoReturn:
        raise BadImport(where, problem)

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"must be an object, got {_kind(value)}")
        return value

    def list_(self, value: Any, where: str, limit: int | None = None) -> list[Any]:
        if not isinstance(value, list):
            self.fail(where, f"must be a list, got {_kind(value)}")
        if limit is not None and len(value) > limit:
            self.fail(where, f"has {len(value):,} items; at most {limit:,} are allowed")
        return value

    def required(self, data: dict[str, Any], name: str, where: str) -> Any:
        if name not in data:
            self.fail(f"{where}.{name}" if where else name, "missing")
        return data[name]

    def text(self, value: Any, where: str, limit: int = MAX_STRING) -> str:
        if not isinstance(value, str):
            self.fail(where, f"must be a string, got {_kind(value)}")
        if len(value) > limit:
            self.fail(where, f"has {len(value):,} characters; at most {limit:,} are allowed")
        if (bad := _UNSTORABLE.search(value)) is not None:
            what = "a NUL character" if bad[0] == "\x00" else "a lone surrogate"
            self.fail(where, f"contains {what} (at character {bad.start()}), which cannot be stored")
        self.total_chars += len(value)
        if self.total_chars > MAX_TOTAL_CHARS:
            self.fail(where, f"the document holds more than {MAX_TOTAL_CHARS:,} characters of text")
        return value

    def integer(self, value: Any, where: str, low: int, high: int) -> int:
        if type(value) is not int:  # bool is an int subclass, and not an integer here
            self.fail(where, f"must be an integer, got {_kind(value)}")
        if not low <= value <= high:
            self.fail(where, f"must be between {low} and {high}, got {value}")
        return value

    def ident(self, value: Any, where: str) -> int:
        return self.integer(value, where, 1, _ID_MAX)

    def choice(self, value: Any, where: str, choices: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value not in choices:
            self.fail(where, f"must be one of {', '.join(choices)}; got {_short(repr(value))}")
        return value

    def moment(self, value: Any, where: str) -> datetime | None:
        if value is None:
            return None
        text = self.text(value, where, 64)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(where, f"must be an ISO-8601 date and time, got {_short(repr(value))}")
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def json_value(self, value: Any, where: str, depth: int = 0) -> None:
        """Free-form JSON (node details): only JSON types, finite numbers, bounded depth."""
        if depth > MAX_DETAILS_DEPTH:
            self.fail(where, f"nested deeper than {MAX_DETAILS_DEPTH} levels")
        if isinstance(value, str):
            self.text(value, where)
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if abs(value) > _ID_MAX:
                self.fail(where, "integer out of the signed 64-bit range")
        elif isinstance(value, float):
            if not math.isfinite(value):
                self.fail(where, "must be a finite number")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.json_value(item, f"{where}[{i}]", depth + 1)
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    self.fail(where, f"keys must be strings, got {_kind(key)}")
                self.text(key, where, MAX_NAME)
                self.json_value(item, f"{where}.{key}", depth + 1)
        else:
            self.fail(where, f"{_kind(value)} is not a JSON value")

    # ----- the document

    def document(self, data: Any) -> ProjectDocument:
        if not isinstance(data, dict):
            self.fail("document", f"must be a JSON object, got {_kind(data)}")
        if data.get("format") != FORMAT:
            self.fail("format", f"must be {FORMAT!r}, got {_short(repr(data.get('format')))}")
        version = self.required(data, "version", "")
        if type(version) is not int or version not in SUPPORTED_VERSIONS:
            supported = ", ".join(map(str, SUPPORTED_VERSIONS))
            self.fail("version", f"unsupported version {_short(repr(version))} (supported: {supported})")
        exported_at = self.moment(data.get("exported_at"), "exported_at")
        project = self.project(self.obj(self.required(data, "project", ""), "project"))
        paragraphs = self.paragraphs(self.list_(self.required(data, "paragraphs", ""), "paragraphs", MAX_ITEMS))
        entries = self.entries(self.list_(self.required(data, "entries", ""), "entries", MAX_ITEMS))
        raw_nodes = self.list_(self.required(data, "nodes", ""), "nodes", MAX_ITEMS)
        nodes = [self.node(item, f"nodes[{i}]", project, paragraphs, entries) for i, item in enumerate(raw_nodes)]
        ordered = self.tree(nodes)
        head = self.ident(self.required(data, "head", ""), "head")
        if not any(n.key == head for n in nodes):
            self.fail("head", f"node {head} does not exist")
        return ProjectDocument(
            project=project,
            paragraphs=MappingProxyType(paragraphs),
            entries=MappingProxyType(entries),
            nodes=ordered,
            head=head,
            exported_at=exported_at,
        )

    def project(self, data: dict[str, Any]) -> ProjectInfo:
        name = self.text(self.required(data, "name", "project"), "project.name", MAX_NAME)
        if not name.strip():
            self.fail("project.name", "must not be empty")
        published = data.get("published", False)
        if not isinstance(published, bool):
            self.fail("project.published", f"must be true or false, got {_kind(published)}")
        return ProjectInfo(
            name=name.strip(),
            novel_type=self.text(data.get("novel_type", ""), "project.novel_type", MAX_NAME),
            topic=self.text(data.get("topic", ""), "project.topic"),
            premise=self.text(data.get("premise", ""), "project.premise"),
            language=self.choice(data.get("language", "en"), "project.language", tuple(LANGUAGES)),
            preset=self.choice(data.get("preset", "compact"), "project.preset", PRESETS),  # type: ignore[arg-type]
            published=published,
        )

    def paragraphs(self, items: list[Any]) -> dict[int, str]:
        out: dict[int, str] = {}
        seen: dict[int, int] = {}
        for i, item in enumerate(items):
            where = f"paragraphs[{i}]"
            item = self.obj(item, where)
            pid = self.ident(self.required(item, "id", where), f"{where}.id")
            if pid in seen:
                self.fail(f"{where}.id", f"duplicate id {pid} (also paragraphs[{seen[pid]}])")
            seen[pid] = i
            out[pid] = self.text(self.required(item, "text", where), f"{where}.text")
        return out

    def entries(self, items: list[Any]) -> dict[int, LongTermEntry]:
        out: dict[int, LongTermEntry] = {}
        seen: dict[int, int] = {}
        dimension: tuple[int, int] | None = None  # (size, index of the first entry with a vector)
        for i, item in enumerate(items):
            where = f"entries[{i}]"
            item = self.obj(item, where)
            eid = self.ident(self.required(item, "id", where), f"{where}.id")
            if eid in seen:
                self.fail(f"{where}.id", f"duplicate id {eid} (also entries[{seen[eid]}])")
            seen[eid] = i
            vector: np.ndarray | None = None
            raw = item.get("vector")
            if raw is not None:
                text = self.text(raw, f"{where}.vector")
                try:
                    vector = decode_vector(text)
                except ValueError as error:
                    self.fail(f"{where}.vector", f"cannot be decoded: {error}")
                assert vector is not None
                if vector.size == 0:
                    self.fail(f"{where}.vector", "is empty")
                if not np.isfinite(vector).all():
                    self.fail(f"{where}.vector", "contains NaN or infinity")
                if dimension is None:
                    dimension = (vector.size, i)
                elif vector.size != dimension[0]:
                    self.fail(f"{where}.vector", f"has dimension {vector.size}, but entries[{dimension[1]}] "
                                                 f"has {dimension[0]}; all vectors must share one")  # fmt: skip
            out[eid] = LongTermEntry(
                id=eid,
                paragraph=self.integer(self.required(item, "paragraph", where), f"{where}.paragraph", 0, _COUNT_MAX),
                summary=self.text(item.get("summary", ""), f"{where}.summary"),
                text=self.text(self.required(item, "text", where), f"{where}.text"),
                vector=vector,
            )
        return out

    def node(
        self, item: Any, where: str, project: ProjectInfo, paragraphs: dict[int, str], entries: dict[int, Any]
    ) -> NodeRecord:
        item = self.obj(item, where)
        key = self.ident(self.required(item, "key", where), f"{where}.key")
        parent = self.required(item, "parent", where)
        if parent is not None:
            parent = self.ident(parent, f"{where}.parent")
        seconds = item.get("seconds", 0.0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            self.fail(f"{where}.seconds", f"must be a number, got {_kind(seconds)}")
        if not (math.isfinite(seconds) and seconds >= 0):
            self.fail(f"{where}.seconds", f"must be a finite number >= 0, got {seconds!r}")
        details = self.obj(item.get("details", {}), f"{where}.details")
        self.json_value(details, f"{where}.details")
        return NodeRecord(
            key=key,
            parent=parent,
            kind=self.choice(self.required(item, "kind", where), f"{where}.kind", NODE_KINDS),  # type: ignore[arg-type]
            label=self.text(item.get("label", ""), f"{where}.label", MAX_NAME),
            plan=self.text(item.get("plan", ""), f"{where}.plan"),
            state=self.light_state(self.required(item, "state", where), f"{where}.state", project, paragraphs, entries),
            details=details,
            tokens=self.integer(item.get("tokens", 0), f"{where}.tokens", 0, _COUNT_MAX),
            seconds=float(seconds),
            created=self.moment(item.get("created"), f"{where}.created"),
        )

    def light_state(
        self, value: Any, where: str, project: ProjectInfo, paragraphs: dict[int, str], entries: dict[int, Any]
    ) -> dict[str, Any]:
        """A light state, checked and normalised to exactly the StoryState fields
        (unknown keys are dropped; optional fields get StoryState's defaults, the
        language the project's)."""
        data = self.obj(value, where)
        for name in _STATE_REQUIRED:
            self.required(data, name, where)
        out: dict[str, Any] = {
            name: self.text(data.get(name, ""), f"{where}.{name}")
            for name in ("novel_type", "topic", "premise", "title", "outline", "memory")
        }
        out["language"] = self.choice(data.get("language", project.language), f"{where}.language", tuple(LANGUAGES))
        ids = self.list_(data["paragraphs"], f"{where}.paragraphs")
        for i, pid in enumerate(ids):  # the hot loop of a big import: no path strings unless it fails
            if type(pid) is not int or pid not in paragraphs:
                self.fail(f"{where}.paragraphs[{i}]", self.missing("paragraph", pid))
        out["paragraphs"] = list(ids)
        ids = self.list_(data["long_term"], f"{where}.long_term")
        for i, eid in enumerate(ids):
            if type(eid) is not int or eid not in entries:
                self.fail(f"{where}.long_term[{i}]", self.missing("entry", eid))
        out["long_term"] = list(ids)
        plans = self.list_(data.get("plans", []), f"{where}.plans")
        out["plans"] = [self.text(plan, f"{where}.plans[{i}]") for i, plan in enumerate(plans)]
        lore = self.list_(data.get("lore", []), f"{where}.lore")
        out["lore"] = [self.lore(entry, f"{where}.lore[{i}]") for i, entry in enumerate(lore)]
        out["steps"] = self.integer(data.get("steps", 0), f"{where}.steps", 0, _COUNT_MAX)
        return out

    @staticmethod
    def missing(what: str, value: Any) -> str:
        if type(value) is not int:
            return f"must be a {what} id (an integer), got {_kind(value)}"
        return f"{what} {value} does not exist"

    def lore(self, value: Any, where: str) -> dict[str, Any]:
        data = self.obj(value, where)
        keywords = self.list_(data.get("keywords", []), f"{where}.keywords")
        aliases = self.list_(data.get("aliases", []), f"{where}.aliases")
        kind = data.get("kind", "fact")
        if not isinstance(kind, str) or kind not in LORE_KINDS:
            self.fail(f"{where}.kind", f"must be one of {', '.join(LORE_KINDS)}; got {_short(repr(kind))}")
        try:
            entry = LoreEntry(
                id=self.ident(self.required(data, "id", where), f"{where}.id"),
                name=self.text(self.required(data, "name", where), f"{where}.name"),
                kind=kind,  # type: ignore[arg-type]
                text=self.text(data.get("text", ""), f"{where}.text"),
                keywords=tuple(self.text(k, f"{where}.keywords[{i}]") for i, k in enumerate(keywords)),
                aliases=tuple(self.text(a, f"{where}.aliases[{i}]") for i, a in enumerate(aliases)),
            )
        except BadImport:
            raise
        except ValueError as error:  # LoreEntry's own checks, whatever they grow into
            self.fail(where, _short(str(error), 200))
        return entry.to_dict()

    def tree(self, nodes: list[NodeRecord]) -> tuple[NodeRecord, ...]:
        """Check that the parent links form one tree; return it parents-first."""
        if not nodes:
            self.fail("nodes", "a project has at least one node")
        index: dict[int, int] = {}
        for i, node in enumerate(nodes):
            if node.key in index:
                self.fail(f"nodes[{i}].key", f"duplicate key {node.key} (also nodes[{index[node.key]}])")
            index[node.key] = i
        children: dict[int, list[NodeRecord]] = {}
        root: int | None = None
        for i, node in enumerate(nodes):
            if node.parent is None:
                if root is not None:
                    self.fail(f"nodes[{i}].parent", f"null, but nodes[{root}] is already the root; "
                                                    "exactly one node may have no parent")  # fmt: skip
                root = i
            elif node.parent not in index:
                self.fail(f"nodes[{i}].parent", f"node {node.parent} does not exist")
            else:
                children.setdefault(node.parent, []).append(node)
        if root is None:
            self.fail("nodes", f"no root (a node with parent null); {self.cycle(nodes, index, 0)}")
        ordered = [nodes[root]]
        for node in ordered:  # breadth-first: the list grows while it is walked
            ordered.extend(children.get(node.key, ()))
        if len(ordered) < len(nodes):
            reached = {n.key for n in ordered}
            first = next(i for i, n in enumerate(nodes) if n.key not in reached)
            self.fail(f"nodes[{first}].parent", self.cycle(nodes, index, first))
        return tuple(ordered)

    @staticmethod
    def cycle(nodes: list[NodeRecord], index: dict[int, int], start: int) -> str:
        """Follow parents from nodes[start] (which never reaches the root) to its loop."""
        path: list[int] = []
        seen: dict[int, int] = {}
        key: int | None = nodes[start].key
        while key is not None and key not in seen:
            seen[key] = len(path)
            path.append(key)
            key = nodes[index[key]].parent
        loop = [*path[seen[key] :], key] if key is not None else path
        shown = " -> ".join(map(str, loop if len(loop) <= 8 else [*loop[:7], "...", loop[-1]]))
        return f"the parents form a cycle ({shown}), not a tree"
