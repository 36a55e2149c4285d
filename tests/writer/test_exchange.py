"""Story exports (Markdown, text, EPUB) and the project document (build, parse, validate)."""

from __future__ import annotations

import base64
import copy
import html
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from ebooklib import epub

from writer.engine.state import LongTermEntry, LoreEntry, StoryState
from writer.exchange import (
    MAX_UPLOAD_BYTES,
    BadImport,
    build_document,
    decode_vector,
    dump_document,
    encode_vector,
    export_filename,
    load_document,
    parse_document,
    story_epub,
    story_markdown,
    story_text,
)

HOSTILE = [
    "<script>alert(1)</script>",
    "# heading",
    "* not a list, **not bold**, _not em_",
    "> not a quote",
    "1. not a list\n2) nor this",
    "- dash\n+ plus\n===",
    "```\nnot code\n```",
    "    four spaces are not code",
    "[a link](https://example.com) ![img](x.png) `code` ~~struck~~",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "&amp; stays &amp; and a trailing backslash \\",
    "[ref]: https://example.com",
    "***",
]


# --------------------------------------------------------------------------- story exports


def test_markdown_escapes_hostile_text() -> None:
    md = story_markdown("A <b>Title</b> # one", HOSTILE, meta={"Type": "*fantasy*", "Topic": "<i>sea</i>"})
    assert md.startswith("# A &lt;b&gt;Title&lt;/b&gt; \\# one\n\n*Type: \\*fantasy\\**\n\n*Topic: &lt;i&gt;sea")
    assert "<script>" not in md and "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "\n\\# heading\n" in md and "\\* not a list, \\*\\*not bold\\*\\*, \\_not em\\_" in md
    assert "&gt; not a quote" in md and "1\\. not a list\n2\\) nor this" in md
    assert "\\- dash\n\\+ plus\n\\===" in md and "\n\\*\\*\\*\n" in md
    assert "&amp;amp; stays" in md and "backslash \\\\\n" in md
    assert "\nfour spaces are not code" in md  # leading whitespace stripped: no indented code block
    assert md.endswith("\n") and "\n\n\n" not in md


def test_markdown_renders_as_the_text_that_was_written() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    renderer = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for text in HOSTILE:
        rendered = renderer.render(story_markdown("T", [text]))
        assert "<script" not in rendered
        body = rendered.split("</h1>", 1)[1]
        assert re.findall(r"<(\w+)", body) == ["p"] * len(re.findall("<p>", body)), (text, rendered)
        shown = html.unescape(re.sub(r"<[^>]+>", " ", body))
        assert " ".join(shown.split()) == " ".join(text.split()), (text, rendered)


def test_text_export() -> None:
    paragraphs = ["第一段。", "  two\r\nlines  ", "   ", "<b>kept</b>"]
    text = story_text("灯塔", paragraphs, language="zh", meta={"类型": "奇幻"})
    assert text == "灯塔\n====\n\n类型：奇幻\n\n第一段。\n\ntwo\nlines\n\n<b>kept</b>\n"
    assert story_text("", [], meta={"Empty": " "}) == "Untitled\n========\n"


def test_export_filename() -> None:
    assert export_filename("Café Déjà vu: Part 2!", ".md") == "cafe-deja-vu-part-2.md"
    assert export_filename("灯塔", "epub") == "story.epub"
    assert export_filename("../../etc/passwd\r\n", "t x t") == "etc-passwd.txt"
    assert len(export_filename("x" * 500, "epub")) <= 85


def _zip(book: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(book))


def test_epub_structure_and_escaping() -> None:
    paragraphs = [f"Paragraph {i} <script>alert({i})</script> & more" for i in range(5)]
    book = story_epub("The <Glass> Harbour", paragraphs, author="Ada", meta={"Type": "fantasy"},
                      paragraphs_per_chapter=2)  # fmt: skip
    archive = _zip(book)
    first = archive.infolist()[0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert archive.read("mimetype") == b"application/epub+zip"
    names = archive.namelist()
    assert "META-INF/container.xml" in names and "EPUB/nav.xhtml" in names and "EPUB/toc.ncx" in names
    assert archive.testzip() is None
    chapters = sorted(n for n in names if re.fullmatch(r"EPUB/chapter\d+\.xhtml", n))
    assert len(chapters) == 3  # 5 paragraphs, 2 per chapter
    xhtml = "".join(archive.read(n).decode() for n in chapters)
    assert "<script" not in xhtml
    for i in range(5):
        assert f"<p>Paragraph {i} &lt;script&gt;alert({i})&lt;/script&gt; &amp; more</p>" in xhtml
    assert "Chapter 3" in archive.read("EPUB/nav.xhtml").decode()
    title_page = archive.read("EPUB/title.xhtml").decode()
    assert "The &lt;Glass&gt; Harbour" in title_page and "by Ada" in title_page and "Type: fantasy" in title_page

    read = epub.read_epub(io.BytesIO(book))
    assert read.get_metadata("DC", "title")[0][0] == "The <Glass> Harbour"
    assert read.get_metadata("DC", "language")[0][0] == "en"
    assert read.get_metadata("DC", "creator")[0][0] == "Ada"
    assert read.get_metadata("DC", "identifier")[0][0].startswith("urn:uuid:")
    assert [item.get_name() for item in read.get_items_of_type(9)][:1]  # ITEM_DOCUMENT
    assert [link.title for link in read.toc] == ["The <Glass> Harbour", "Chapter 1", "Chapter 2", "Chapter 3"]


def test_epub_in_chinese() -> None:
    book = story_epub("灯塔守护者", ["她点亮了灯。\n海很安静。", "第二段。"], language="zh", meta={"类型": "奇幻"})
    read = epub.read_epub(io.BytesIO(book))
    assert read.get_metadata("DC", "language")[0][0] == "zh"
    assert read.get_metadata("DC", "title")[0][0] == "灯塔守护者"
    chapter = _zip(book).read("EPUB/chapter0001.xhtml").decode("utf-8")
    assert "<h2>第1章</h2>" in chapter and "<p>她点亮了灯。<br/>海很安静。</p>" in chapter and 'lang="zh"' in chapter
    assert "类型：奇幻" in _zip(book).read("EPUB/title.xhtml").decode("utf-8")


def test_empty_epub_is_still_a_book() -> None:
    book = story_epub("", [], paragraphs_per_chapter=1)
    archive = _zip(book)
    assert archive.namelist()[0] == "mimetype" and "EPUB/title.xhtml" in archive.namelist()
    assert '<a href="title.xhtml">Untitled</a>' in archive.read("EPUB/nav.xhtml").decode()
    assert epub.read_epub(io.BytesIO(book)).get_metadata("DC", "title")[0][0] == "Untitled"
    assert story_epub("T", ["x"], identifier="urn:isbn:1") and story_epub("T", ["x\x00\x0b"])  # controls dropped
    with pytest.raises(ValueError):
        story_epub("T", ["x"], paragraphs_per_chapter=0)


# --------------------------------------------------------------------------- the project document


def test_vectors_round_trip() -> None:
    vector = np.array([0.5, -1.25, 3e-8], dtype=np.float32)
    text = encode_vector(vector)
    assert text == base64.b64encode(vector.astype("<f4").tobytes()).decode()
    decoded = decode_vector(text)
    assert decoded is not None and decoded.dtype == np.float32 and not decoded.flags.writeable
    assert np.array_equal(decoded, vector)
    assert encode_vector(vector.astype("<f4").tobytes()) == text  # raw bytes, as a BinaryField holds them
    assert encode_vector(None) is None and decode_vector(None) is None
    with pytest.raises(ValueError):
        decode_vector("not base64!")


def _vector(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(4).astype(np.float32)


def _states() -> dict[int, tuple[int | None, str, StoryState]]:
    """A small tree: init -> step -> edit, and a second step from init (a branch)."""
    lore = LoreEntry(id=7, name="Mara", kind="character", text="A <diver>.", keywords=("Mara",), aliases=("M",))
    e1 = LongTermEntry(id=101, paragraph=0, summary="Mara dives.", text="Mara dives <b>deep</b>.", vector=_vector(1))
    e2 = LongTermEntry(id=102, paragraph=1, summary="A city.", text="She finds a lit city.", vector=_vector(2))
    e3 = LongTermEntry(id=103, paragraph=1, summary="A whale.", text="A whale sings.", vector=None)
    e2b = LongTermEntry(id=104, paragraph=1, summary="A city.", text="She finds a city, still lit.", vector=_vector(3))
    init = StoryState(novel_type="fantasy", topic="the sea", title="The Glass Harbour", outline="Mara & the city.",
                      premise="# not a heading", paragraphs=(e1.text,), memory="Mara is a diver.",
                      plans=("Dive", "Rest"), long_term=(e1,), lore=(lore,))  # fmt: skip
    step = replace(init, paragraphs=(e1.text, e2.text), long_term=(e1, e2), plans=("Swim",), steps=1)
    edit = replace(step, paragraphs=(e1.text, e2b.text), long_term=(e1, e2b))
    branch = replace(init, paragraphs=(e1.text, e3.text), long_term=(e1, e3), steps=1, lore=())
    return {10: (None, "init", init), 11: (10, "step", step), 12: (11, "edit", edit), 13: (10, "step", branch)}


def _document(states: dict[int, tuple[int | None, str, StoryState]] | None = None) -> dict[str, Any]:
    """What the Django layer hands build_document: texts and entries once, light states of ids."""
    states = states or _states()
    paragraph_ids: dict[str, int] = {}
    entries: dict[int, dict[str, Any]] = {}
    nodes = []
    for key, (parent, kind, state) in states.items():
        for text in state.paragraphs:
            paragraph_ids.setdefault(text, 1000 + len(paragraph_ids))
        for entry in state.long_term:
            entries[entry.id] = {**entry.to_dict(vectors=False), "vector": entry.vector}
        light = state.to_dict(vectors=False)
        light["paragraphs"] = [paragraph_ids[text] for text in state.paragraphs]
        light["long_term"] = [entry.id for entry in state.long_term]
        nodes.append({"key": key, "parent": parent, "kind": kind, "label": f"<{kind}>", "plan": "Dive",
                      "state": light, "details": {"retrieved": [{"id": 101, "score": 0.5}], "lore": ["Mara"]},
                      "tokens": 42, "seconds": 1.5, "created": "2024-05-01T12:00:00+00:00"})  # fmt: skip
    project = {"name": "Harbour", "novel_type": "fantasy", "topic": "the sea", "premise": "",
               "language": "en", "preset": "compact", "published": False}  # fmt: skip
    paragraphs = [(pid, text) for text, pid in paragraph_ids.items()]
    return build_document(project, paragraphs, entries.values(), nodes, head=12)


def _round_trip(document: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(document))


def test_document_round_trip() -> None:
    states = _states()
    document = _document(states)
    assert document["format"] == "recurrentgpt-project" and document["version"] == 1
    parsed = load_document(dump_document(document))
    assert parsed == parse_document(_round_trip(document))
    assert parsed.head == 12 and parsed.project.name == "Harbour" and parsed.project.preset == "compact"
    order = [n.key for n in parsed.nodes]
    assert order[0] == 10 and all(order.index(n.parent) < i for i, n in enumerate(parsed.nodes) if n.parent)
    for key, (parent, kind, state) in states.items():
        node = parsed.node(key)
        assert (node.parent, node.kind, node.label, node.tokens, node.seconds) == (parent, kind, f"<{kind}>", 42, 1.5)
        assert node.created is not None and node.created.year == 2024
        assert node.details == {"retrieved": [{"id": 101, "score": 0.5}], "lore": ["Mara"]}
        rebuilt = parsed.state_at(key)
        assert rebuilt == state
        for got, want in zip(rebuilt.long_term, state.long_term, strict=True):
            if want.vector is None:
                assert got.vector is None
            else:
                assert got.vector is not None and np.array_equal(got.vector, want.vector)
    assert parsed.paragraphs[1000] == "Mara dives <b>deep</b>."  # HTML is text, kept verbatim


def test_light_state_remaps_ids_for_storage() -> None:
    parsed = parse_document(_round_trip(_document()))
    pmap = {pid: pid + 1 for pid in parsed.paragraphs}
    emap = {eid: eid * 10 for eid in parsed.entries}
    light = parsed.light_state(12, pmap, emap)
    original = parsed.node(12).state
    assert light["paragraphs"] == [pmap[p] for p in original["paragraphs"]]
    assert light["long_term"] == [emap[e] for e in original["long_term"]]
    light["plans"].append("changed")
    assert parsed.node(12).state["plans"] == ["Swim"]  # a copy: the document is unchanged
    assert parsed.light_state(12) == original


def test_optional_fields_get_defaults() -> None:
    document = _round_trip(_document())
    for name in ("language", "preset", "published", "novel_type", "topic", "premise"):
        del document["project"][name]
    for node in document["nodes"]:
        for name in ("label", "plan", "details", "tokens", "seconds", "created"):
            del node[name]
        for name in ("premise", "language", "memory", "plans", "lore", "steps"):
            del node["state"][name]
    del document["exported_at"]
    parsed = parse_document(document)
    assert (parsed.project.language, parsed.project.preset, parsed.project.published) == ("en", "compact", False)
    assert parsed.state_at(10).lore == () and parsed.node(10).details == {} and parsed.exported_at is None


Mutation = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Mutation:
    """A mutation setting `path` (dots and [i]) to `value`; `...` deletes it."""

    def mutate(document: dict[str, Any]) -> None:
        parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
        target: Any = document
        for part in parts[:-1]:
            target = target[part]
        if value is ...:
            del target[parts[-1]]
        else:
            target[parts[-1]] = value

    return mutate


def _add_node(key: int, parent: int | None) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        node = copy.deepcopy(document["nodes"][0])
        node["key"], node["parent"] = key, parent
        document["nodes"].append(node)

    return mutate


def _parents(**parents: int | None) -> Mutation:
    """Set the parents of nodes by index: _parents(n1=12) makes nodes[1].parent 12."""

    def mutate(document: dict[str, Any]) -> None:
        for name, parent in parents.items():
            document["nodes"][int(name[1:])]["parent"] = parent

    return mutate


def _vector_of(values: list[float]) -> str:
    return base64.b64encode(np.array(values, dtype="<f4").tobytes()).decode()


BAD: list[tuple[str, Mutation, str]] = [
    ("not an object", lambda d: [d], "document: must be a JSON object, got a list"),
    ("format", _set("format", "something-else"), "format: must be 'recurrentgpt-project'"),
    ("version", _set("version", 2), "version: unsupported version 2 (supported: 1)"),
    ("version as text", _set("version", "1"), "version: unsupported version '1' (supported: 1)"),
    ("no project", _set("project", ...), "project: missing"),
    ("no name", _set("project.name", ...), "project.name: missing"),
    ("blank name", _set("project.name", "  "), "project.name: must not be empty"),
    ("long name", _set("project.name", "x" * 201), "project.name: has 201 characters; at most 200"),
    ("name type", _set("project.name", 5), "project.name: must be a string, got an integer"),
    ("published int", _set("project.published", 1), "project.published: must be true or false, got an integer"),
    ("language", _set("project.language", "fr"), "project.language: must be one of en, zh; got 'fr'"),
    ("preset", _set("project.preset", "huge"), "project.preset: must be one of compact, paper; got 'huge'"),
    ("no paragraphs", _set("paragraphs", ...), "paragraphs: missing"),
    ("paragraphs type", _set("paragraphs", {}), "paragraphs: must be a list, got an object"),
    ("paragraph id bool", _set("paragraphs[0].id", True), "paragraphs[0].id: must be an integer, got a boolean"),
    ("paragraph id float", _set("paragraphs[0].id", 1000.0), "paragraphs[0].id: must be an integer, got a number"),
    ("paragraph id zero", _set("paragraphs[0].id", 0), "paragraphs[0].id: must be between 1 and 9223372036854775807"),
    ("paragraph id huge", _set("paragraphs[0].id", 2**63), "paragraphs[0].id: must be between 1 and"),
    ("paragraph id dup", _set("paragraphs[1].id", 1000), "paragraphs[1].id: duplicate id 1000 (also paragraphs[0])"),
    ("paragraph text", _set("paragraphs[2].text", None), "paragraphs[2].text: must be a string, got null"),
    ("long text", _set("paragraphs[2].text", "x" * 200_001), "paragraphs[2].text: has 200,001 characters"),
    ("NUL", _set("paragraphs[0].text", "a\x00b"), "paragraphs[0].text: contains a NUL character (at character 1)"),
    ("surrogate", _set("paragraphs[0].text", "a\ud800"), "paragraphs[0].text: contains a lone surrogate"),
    ("entry id dup", _set("entries[1].id", 101), "entries[1].id: duplicate id 101 (also entries[0])"),
    ("entry paragraph", _set("entries[0].paragraph", -1), "entries[0].paragraph: must be between 0 and"),
    ("no entry text", _set("entries[0].text", ...), "entries[0].text: missing"),
    ("vector base64", _set("entries[0].vector", "@@@"), "entries[0].vector: cannot be decoded: not base64"),
    (
        "vector bytes",
        _set("entries[0].vector", base64.b64encode(b"12345").decode()),
        "entries[0].vector: cannot be decoded: 5 bytes is not a whole number of float32 values",
    ),
    ("vector empty", _set("entries[0].vector", ""), "entries[0].vector: is empty"),
    (
        "vector nan",
        _set("entries[0].vector", _vector_of([1.0, float("nan"), 0.0, 0.0])),
        "entries[0].vector: contains NaN or infinity",
    ),
    (
        "vector dimension",
        _set("entries[1].vector", _vector_of([1.0, 2.0])),
        "entries[1].vector: has dimension 2, but entries[0] has 4; all vectors must share one",
    ),
    ("vector type", _set("entries[0].vector", [1.0, 2.0]), "entries[0].vector: must be a string, got a list"),
    ("no nodes", _set("nodes", []), "nodes: a project has at least one node"),
    ("node key dup", _set("nodes[1].key", 10), "nodes[1].key: duplicate key 10 (also nodes[0])"),
    ("node key bool", _set("nodes[1].key", False), "nodes[1].key: must be an integer, got a boolean"),
    ("no parent field", _set("nodes[1].parent", ...), "nodes[1].parent: missing"),
    ("parent missing", _set("nodes[3].parent", 99), "nodes[3].parent: node 99 does not exist"),
    ("two roots", _set("nodes[2].parent", None), "nodes[2].parent: null, but nodes[0] is already the root"),
    ("cycle", _parents(n1=12), "nodes[1].parent: the parents form a cycle (11 -> 12 -> 11), not a tree"),
    ("self parent", _set("nodes[3].parent", 13), "nodes[3].parent: the parents form a cycle (13 -> 13)"),
    ("no root", _parents(n0=13), "nodes: no root (a node with parent null); the parents form a cycle (10 -> 13 -> 10)"),
    ("node kind", _set("nodes[0].kind", "jump"), "nodes[0].kind: must be one of init, step, edit; got 'jump'"),
    ("label", _set("nodes[0].label", "x" * 201), "nodes[0].label: has 201 characters; at most 200"),
    ("tokens", _set("nodes[0].tokens", -1), "nodes[0].tokens: must be between 0 and 2147483647, got -1"),
    ("seconds", _set("nodes[0].seconds", -0.5), "nodes[0].seconds: must be a finite number >= 0"),
    ("seconds type", _set("nodes[0].seconds", "1"), "nodes[0].seconds: must be a number, got a string"),
    ("created", _set("nodes[0].created", "yesterday"), "nodes[0].created: must be an ISO-8601 date and time"),
    ("details type", _set("nodes[0].details", []), "nodes[0].details: must be an object, got a list"),
    ("details nan", _set("nodes[0].details.score", float("inf")), "nodes[0].details.score: must be a finite number"),
    ("details deep", _set("nodes[0].details.x", json.loads("[" * 40 + "]" * 40)), "nested deeper than 32 levels"),
    ("no state", _set("nodes[0].state", ...), "nodes[0].state: missing"),
    ("state type", _set("nodes[0].state", "light"), "nodes[0].state: must be an object, got a string"),
    ("state field", _set("nodes[2].state.outline", ...), "nodes[2].state.outline: missing"),
    ("state ids", _set("nodes[2].state.paragraphs", ...), "nodes[2].state.paragraphs: missing"),
    (
        "missing paragraph",
        _set("nodes[1].state.paragraphs[1]", 999),
        "nodes[1].state.paragraphs[1]: paragraph 999 does not exist",
    ),
    (
        "paragraph as text",
        _set("nodes[1].state.paragraphs[0]", "Mara dives."),
        "nodes[1].state.paragraphs[0]: must be a paragraph id (an integer), got a string",
    ),
    (
        "missing entry",
        _set("nodes[1].state.long_term[1]", 999),
        "nodes[1].state.long_term[1]: entry 999 does not exist",
    ),
    ("state language", _set("nodes[0].state.language", "de"), "nodes[0].state.language: must be one of en, zh"),
    ("state steps", _set("nodes[0].state.steps", 1.5), "nodes[0].state.steps: must be an integer, got a number"),
    ("plans", _set("nodes[0].state.plans", ["ok", 3]), "nodes[0].state.plans[1]: must be a string, got an integer"),
    (
        "lore kind",
        _set("nodes[0].state.lore[0].kind", "monster"),
        "nodes[0].state.lore[0].kind: must be one of character, place, fact; got 'monster'",
    ),
    ("lore name", _set("nodes[0].state.lore[0].name", ...), "nodes[0].state.lore[0].name: missing"),
    ("lore id", _set("nodes[0].state.lore[0].id", 0), "nodes[0].state.lore[0].id: must be between 1 and"),
    (
        "lore keywords",
        _set("nodes[0].state.lore[0].keywords", "Mara"),
        "nodes[0].state.lore[0].keywords: must be a list, got a string",
    ),
    ("lore type", _set("nodes[0].state.lore", [None]), "nodes[0].state.lore[0]: must be an object, got null"),
    ("no head", _set("head", ...), "head: missing"),
    ("head missing", _set("head", 42), "head: node 42 does not exist"),
    ("head type", _set("head", "12"), "head: must be an integer, got a string"),
    ("exported_at", _set("exported_at", 5), "exported_at: must be a string, got an integer"),
]


@pytest.mark.parametrize(("mutate", "message"), [(m, msg) for _, m, msg in BAD], ids=[name for name, _, _ in BAD])
def test_invalid_documents_are_refused_with_one_clear_line(mutate: Mutation, message: str) -> None:
    document = _round_trip(_document())
    replaced = mutate(document)
    with pytest.raises(BadImport) as info:
        parse_document(document if replaced is None else replaced)
    assert message in str(info.value)
    assert str(info.value).startswith(info.value.where + ": ") and "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["paragraphs", "entries", "nodes"])
def test_too_many_items(name: str) -> None:
    document = _round_trip(_document())
    document[name] = document[name] * (100_001 // len(document[name]) + 1)
    with pytest.raises(BadImport, match=rf"^{name}: has 100,00\d items; at most 100,000 are allowed$"):
        parse_document(document)


def test_too_much_text_in_total() -> None:
    document = _round_trip(_document())
    text = "x" * 200_000  # every string within its own limit, 251 of them over 50 million
    document["paragraphs"] += [{"id": 5000 + i, "text": text} for i in range(251)]
    with pytest.raises(BadImport, match=r"^paragraphs\[\d+\]\.text: the document holds more than 50,000,000 char"):
        parse_document(document)


def test_a_document_at_the_item_limits_parses_in_linear_time() -> None:
    """100,000 nodes in one chain, each adding a paragraph: a walk per node would never end."""
    count = 100_000
    state = StoryState(novel_type="t", topic="t", title="t", outline="o").to_dict(vectors=False)
    nodes = [{"key": k, "parent": k - 1 if k > 1 else None, "kind": "step",
              "state": {**state, "paragraphs": [k, k - 1] if k > 1 else [k]}} for k in range(1, count + 1)]  # fmt: skip
    document = build_document({"name": "big"}, [(k, f"p{k}") for k in range(1, count + 1)], [], nodes, head=count)
    parsed = load_document(dump_document(document))
    assert len(parsed.nodes) == count and parsed.state_at(count).paragraphs == (f"p{count}", f"p{count - 1}")
    assert parsed.nodes[-1].key == count


def test_load_document_refuses_what_is_not_json() -> None:
    with pytest.raises(BadImport, match=r"^file: not valid JSON \(line 1, column 2"):
        load_document(b"{nope")
    with pytest.raises(BadImport, match=r"^file: not UTF-8 text \(byte 0\)$"):
        load_document(b"\xff{}")
    with pytest.raises(BadImport, match=r"^file: NaN is not a JSON number$"):
        load_document(b'{"x": NaN}')
    with pytest.raises(BadImport, match=r"^file: larger than 50 MB$"):
        load_document(b" " * (MAX_UPLOAD_BYTES + 1))
    with pytest.raises(BadImport, match=r"^document: must be a JSON object, got a list$"):
        load_document("[]")
    assert load_document(b"\xef\xbb\xbf" + dump_document(_document())).head == 12  # a BOM is fine
