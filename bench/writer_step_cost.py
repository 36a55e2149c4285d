#!/usr/bin/env python
"""Writer: the cost of one RecurrentGPT step against the length of the story.

For each story length N (paragraphs) it builds a `StoryState` of N synthetic
paragraphs (varied sentences from a seeded generator, the preset's paragraph length)
and N long-term entries whose vectors are already there, as in a loaded project: every
entry was embedded once, through the gateway's `embed`, when the state was built. The
states of all sizes are prefixes of one story, so the largest size is embedded once.

Two designs are timed on the same gateway and the same embedder:

  ours      `writer.engine.step()` as it is: retrieval embeds only the plan (the
            query) and scores the stored vectors through a long-lived `EntryIndex`;
            the new paragraph's entry is embedded once. Two texts per step, whatever N.
            The first step on a fresh index is timed apart: it fills the index from
            the stored vectors (and must embed nothing more than a later step).
  original  the original RecurrentGPT design: the whole long-term memory is encoded
            again every step (`memory_index = embedder.encode(long_memory)`), then
            the plan is embedded and the top-k taken by cosine. It runs as the same
            `step()` with its retrieval replaced by that function, which calls the
            embedder directly: the gateway's in-process embedding cache (an LRU of
            50,000 texts this design never had) would otherwise answer every old
            entry. What that cache would make of a naive `gw.embed` over every entry
            is timed too ("orig. via gw cache"), to show why it is not the baseline.

The text model is a scripted backend answering at once with valid answers for every
structured call (memory update, plans) and a streamed paragraph of the preset's
length, so no fallback fires and model generation time is left out: what is timed is
the engine and its embeddings. Embedding work is counted where texts reach the
embedder (after the gateway's cache): texts and characters per step.

The embedder is the bundled all-MiniLM-L6-v2 (sentence-transformers, on CPU) when it
loads, else a fake one that returns hashed 384-d vectors and sleeps `--fake-embed-ms`
per text so the re-embedding baseline is not free.

    python bench/writer_step_cost.py
    python bench/writer_step_cost.py --quick
    python bench/writer_step_cost.py --sizes 10 100 1000 --repeats 5 --baseline-budget 60 --json out.json
    python bench/writer_step_cost.py --embedder fake --fake-embed-ms 0 --repeats 20   # the engine alone

Repetitions of the original design are cut for large N to fit --baseline-budget
seconds per size (at least one); the table says how many ran. Writes
bench/results/writer_step_cost.json (--quick: writer_step_cost_quick.json) and --json PATH.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine, median, percentile, write_result

import writer.engine.recurrence as recurrence
from llm.backends.base import Backend
from llm.gateway import Gateway
from llm.types import Generation, GenParams, Message
from reverie.engine.ports import InMemoryVectorIndex
from writer.engine.config import WriterConfig
from writer.engine.memory import Retrieved
from writer.engine.state import LongTermEntry, LoreEntry, StoryState

DIM_FAKE = 384
TIMEOUT = 3600.0  # one whole-memory encode at 10,000 paragraphs takes minutes on 2 cores

# ---------------------------------------------------------------- synthetic text
NAMES = ["Mara", "Ilya", "Teodor", "Wen", "Agnes", "Rafael", "Sunniva", "Okoro", "Lucia", "Bram", "Hollis", "Yara"]
PLACES = ["the harbour", "the drowned library", "the lighthouse", "the salt market", "the glass tower",
          "the old quay", "the reef gate", "the archive vault", "the customs house", "the chapel of tides",
          "the diving school", "the fish auction", "the signal station", "the ferry landing"]  # fmt: skip
OBJECTS = ["a brass key", "a torn map", "the captain's log", "a sealed letter", "a lantern", "a coil of rope",
           "a cracked compass", "a silver coin", "the harbour ledger", "a diving helmet", "a bundle of charts",
           "a music box", "a glass bead", "a rusted anchor chain"]  # fmt: skip
VERBS = ["carries", "hides", "studies", "drops", "recovers", "examines", "buries", "trades", "guards", "repairs",
         "steals", "returns", "questions", "follows", "remembers", "ignores"]  # fmt: skip
ADJECTIVES = ["cold", "quiet", "bright", "restless", "ancient", "narrow", "salt-stained", "humming", "crowded",
              "empty", "flooded", "silent", "windy", "golden", "rotten", "patient"]  # fmt: skip
FEELINGS = ["fear", "hope", "anger", "relief", "doubt", "curiosity", "grief", "resolve", "suspicion", "joy"]
TEMPLATES = [
    "{a} {verb} {obj} near {place}.",
    "At {place}, {a} meets {b} and they argue about {obj}.",
    "The air in {place} is {adj}, and {a} feels a sudden {feeling}.",
    "{a} remembers the day {b} first spoke of {obj}.",
    "Nobody in {place} has seen {obj} since the {adj} winter.",
    "{b} watches {a} from the shadows of {place}, saying nothing.",
    "When the bell rings, {a} {verb} {obj} and runs toward {place}.",
    "{a} tells {b} that {place} was never as {adj} as the stories claimed.",
    "A {adj} wind crosses {place} while {a} counts the hours.",
    "{b} laughs, but {a} only feels {feeling} when {obj} is mentioned.",
    "Far below {place}, something {adj} moves in the dark water.",
    "{a} writes a note about {obj} and leaves it for {b} at {place}.",
]


class TextMaker:
    """Deterministic, varied English sentences (one `random.Random(seed)` stream)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def sentence(self) -> str:
        r = self.rng
        a, b = r.sample(NAMES, 2)
        slots = {"place": r.choice(PLACES), "obj": r.choice(OBJECTS), "verb": r.choice(VERBS),
                 "adj": r.choice(ADJECTIVES), "feeling": r.choice(FEELINGS)}  # fmt: skip
        text = r.choice(TEMPLATES).format(a=a, b=b, **slots)
        return text[0].upper() + text[1:]

    def paragraph(self, words: int, number: int) -> str:
        """About `words` words of sentences; `number` makes every paragraph distinct."""
        sentences = [f"It was the {number}th day since the flood."]
        count = len(sentences[0].split())
        while count < words:
            sentences.append(self.sentence())
            count += len(sentences[-1].split())
        return " ".join(sentences)

    def summary(self, max_chars: int, number: int) -> str:
        text = f"Day {number}: {self.sentence()} {self.sentence()}"
        return text[:max_chars].rsplit(" ", 1)[0] if len(text) > max_chars else text

    def plan(self, max_chars: int, number: int) -> str:
        text = f"Next ({number}): {self.sentence()}"
        return text[:max_chars].rsplit(" ", 1)[0] if len(text) > max_chars else text

    def fact(self, max_chars: int, number: int) -> str:
        text = f"Fact {number}: {self.sentence()}"
        return text[:max_chars].rsplit(" ", 1)[0] if len(text) > max_chars else text


# ----------------------------------------------------------------------- the model
class StoryBackend(Backend):
    """A text model that answers at once: valid JSON for the writer's structured calls
    (recognised by their schema's fields), a streamed paragraph, word by word, and for a
    plain completion (the compact preset's plans) a numbered list."""

    kind = "bench"
    model_id = "story-script"
    default_concurrency = 1

    def __init__(self, config: WriterConfig, seed: int) -> None:
        self.config = config
        self.text = TextMaker(seed + 1)
        self.count = 0
        self.structured_calls = 0

    def _next(self) -> int:
        self.count += 1
        return self.count

    def _answer(self, schema: dict[str, Any] | None) -> str:
        c = self.config
        props = (schema or {}).get("properties", {})
        if "plans" in props:
            self.structured_calls += 1
            return json.dumps({"plans": [self.text.plan(c.plan_max_chars, self._next()) for _ in range(c.plans)]})
        if "summary" in props:
            self.structured_calls += 1
            n = self._next()
            return json.dumps({"summary": self.text.summary(c.summary_max_chars, n), "drop": [],
                               "add": [self.text.fact(c.fact_max_chars, n)]})  # fmt: skip
        return self.text.paragraph(self.config.paragraph_words, 100_000 + self._next())

    def _plan_list(self) -> str:
        """The compact preset asks for plans as a numbered list to continue after "1."."""
        c = self.config
        plans = [self.text.plan(c.plan_max_chars, self._next()) for _ in range(c.plans)]
        return " " + "\n".join(p if i == 0 else f"{i + 1}. {p}" for i, p in enumerate(plans))

    def complete(self, prompt: str, *, params: GenParams, n: int, schema: Any, timeout: float) -> list[Generation]:
        text = self._answer(schema) if schema is not None else self._plan_list()
        return [Generation(text, 100, 50) for _ in range(n)]

    def chat(
        self, messages: list[Message], *, params: GenParams, n: int, schema: Any, timeout: float
    ) -> list[Generation]:
        return [Generation(self._answer(schema), 100, 50) for _ in range(n)]

    def stream(self, kind: str, payload: Any, *, params: GenParams, timeout: float) -> Any:
        text = self._answer(None)
        words = text.split(" ")
        for i, word in enumerate(words):
            yield word if i == len(words) - 1 else word + " "
        return Generation(text=text, prompt_tokens=100, completion_tokens=len(words))


# -------------------------------------------------------------------- embedders
class FakeEmbedder:
    """Hashed unit vectors; sleeps `per_text_s` per text to stand for a model's cost."""

    remote = False

    def __init__(self, per_text_s: float, dim: int = DIM_FAKE) -> None:
        self.model_id = f"bench-fake-{dim}"
        self.dim = dim
        self.per_text_s = per_text_s

    def encode(self, texts: list[str], *, timeout: float) -> np.ndarray:
        rows = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
            rows[i] = np.random.default_rng(seed).standard_normal(self.dim, dtype=np.float32)
        if self.per_text_s:
            time.sleep(self.per_text_s * len(texts))
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@dataclass
class CountingEmbedder:
    """Counts what reaches the real embedder (the gateway's cache hits never do)."""

    inner: Any
    texts: int = 0
    chars: int = 0
    seconds: float = 0.0
    remote: bool = False

    @property
    def model_id(self) -> str:
        return str(self.inner.model_id)

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    def encode(self, texts: list[str], *, timeout: float) -> np.ndarray:
        start = time.perf_counter()
        try:
            return np.asarray(self.inner.encode(texts, timeout=timeout))
        finally:
            self.seconds += time.perf_counter() - start
            self.texts += len(texts)
            self.chars += sum(len(t) for t in texts)

    def snapshot(self) -> tuple[int, int, float]:
        return self.texts, self.chars, self.seconds


def make_embedder(choice: str, fake_ms: float) -> tuple[Any, str]:
    if choice in ("bundled", "auto"):
        try:
            from llm.embeddings import SentenceTransformerEmbedder
            from llm.spec import parse_embedding_spec

            return SentenceTransformerEmbedder(parse_embedding_spec("sentence_transformers:bundled")), "bundled"
        except Exception as exc:
            if choice == "bundled":
                raise
            print(f"bundled embedder not available ({exc}); using the fake one", file=sys.stderr)
    return FakeEmbedder(fake_ms / 1000), "fake"


# ------------------------------------------------------------ the original design
def original_retrieve(
    gw: Gateway,
    state: StoryState,
    query: str,
    *,
    k: int,
    index: Any = None,
    exclude: Sequence[int] = (),
    through_gateway: bool = False,
) -> list[Retrieved]:
    """RecurrentGPT's retrieval: encode every long-term entry again, embed the plan,
    rank by cosine. The embedder is called directly (no cache, as in the original)
    unless `through_gateway`, which asks `gw.embed` and so gets its in-process cache."""
    entries = list(state.long_term)  # the original's index covers the whole long-term memory
    if not entries or k <= 0 or not query.strip():
        return []
    texts = [e.embedded_text for e in entries]
    if through_gateway:
        matrix = gw.embed(texts, purpose="writer.embed")
        q = gw.embed([query], purpose="writer.query")[0]
    else:
        matrix = np.asarray(gw.embedder.encode(texts, timeout=TIMEOUT), dtype=np.float32)
        q = np.asarray(gw.embedder.encode([query], timeout=TIMEOUT), dtype=np.float32)[0]
    scores = matrix @ q
    skip = set(exclude)
    order = [i for i in np.argsort(-scores, kind="stable") if entries[i].id not in skip][:k]
    return [Retrieved(entry=entries[i], score=float(scores[i])) for i in order]


class Timer:
    """Wraps recurrence.retrieve to time the retrieval part of each step."""

    def __init__(self, fn: Callable[..., list[Retrieved]]) -> None:
        self.fn = fn
        self.seconds = 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> list[Retrieved]:
        start = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


@contextlib.contextmanager
def retrieval(fn: Callable[..., list[Retrieved]]) -> Iterator[Timer]:
    """`step()` with its retrieval replaced by `fn` (timed)."""
    saved = recurrence.retrieve
    timer = Timer(fn)
    recurrence.retrieve = timer  # type: ignore[assignment]
    try:
        yield timer
    finally:
        recurrence.retrieve = saved


# ------------------------------------------------------------------ building a story
def build_story(gw: Gateway, n: int, config: WriterConfig, seed: int) -> tuple[StoryState, float]:
    """A state of `n` synthetic paragraphs, each with its entry embedded once (timed)."""
    maker = TextMaker(seed)
    ids = random.Random(seed + 2)
    paragraphs = [maker.paragraph(config.paragraph_words, i + 1) for i in range(n)]
    entries = [
        LongTermEntry(id=ids.getrandbits(62) or 1, paragraph=i, summary=maker.summary(config.summary_max_chars, i + 1),
                      text=p)
        for i, p in enumerate(paragraphs)
    ]  # fmt: skip
    start = time.perf_counter()
    vectors = gw.embed([e.embedded_text for e in entries], purpose="writer.embed", timeout=TIMEOUT)
    embed_s = time.perf_counter() - start
    entries = [replace(e, vector=_readonly(v)) for e, v in zip(entries, vectors, strict=True)]
    memory = "\n".join(maker.fact(config.fact_max_chars, i) for i in range(4))
    lore = tuple(
        LoreEntry(id=i + 1, name=name, kind="character", text=f"{name} is {maker.sentence()}", keywords=(name,))
        for i, name in enumerate(NAMES[:6])
    )
    state = StoryState(
        novel_type="mystery",
        topic="a flooded harbour town and the secrets under its water",
        title="The Glass Harbour",
        outline="Mara, a diver, finds a sunken city that is still lit, and the town's old families want it hidden.",
        paragraphs=tuple(paragraphs),
        memory=memory,
        plans=(maker.plan(config.plan_max_chars, 0),),
        long_term=tuple(entries),
        lore=lore,
        steps=n,
    )
    return state, embed_s


def _readonly(vector: np.ndarray) -> np.ndarray:
    array = np.array(vector, dtype=np.float32)
    array.flags.writeable = False
    return array


def prefix(state: StoryState, n: int) -> StoryState:
    return replace(state, paragraphs=state.paragraphs[:n], long_term=state.long_term[:n], steps=n)


# --------------------------------------------------------------------- measuring
@dataclass
class Sample:
    seconds: float
    cpu_s: float  # this process's CPU time (all threads): steadier than wall time on a shared machine
    retrieval_s: float
    texts: int
    chars: int
    embed_s: float


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        s = [x.seconds for x in self.samples]
        if not s:
            return {"repeats": 0}
        return {
            "repeats": len(s),
            "median_s": median(s),
            "p90_s": percentile(s, 90),
            "cpu_median_s": median([x.cpu_s for x in self.samples]),
            "retrieval_median_s": median([x.retrieval_s for x in self.samples]),
            "embedded_texts_per_step": median([float(x.texts) for x in self.samples]),
            "embedded_chars_per_step": median([float(x.chars) for x in self.samples]),
            "embed_s_per_step": median([x.embed_s for x in self.samples]),
            "embed_ms_per_text": 1000
            * sum(x.embed_s for x in self.samples)
            / max(1, sum(x.texts for x in self.samples)),
            "samples_s": s,
        }


class Stepper:
    def __init__(self, gw: Gateway, counter: CountingEmbedder, config: WriterConfig, seed: int) -> None:
        self.gw, self.counter, self.config = gw, counter, config
        self.plans = TextMaker(seed + 3)
        self.number = 0
        self.fallbacks: list[str] = []

    def plan(self) -> str:
        self.number += 1  # a new plan every step: the query is never a cache hit
        return self.plans.plan(self.config.plan_max_chars, 10_000_000 + self.number)

    def one(self, state: StoryState, index: Any, timer: Timer) -> tuple[StoryState, Sample]:
        plan = self.plan()
        texts0, chars0, embed0 = self.counter.snapshot()
        retrieval0 = timer.seconds
        start, cpu = time.perf_counter(), time.process_time()
        result = recurrence.step(self.gw, state, plan, config=self.config, index=index)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        texts1, chars1, embed1 = self.counter.snapshot()
        self.fallbacks.extend(result.fallbacks)
        if not result.retrieved:
            raise RuntimeError("a step retrieved nothing: the benchmark is not measuring retrieval")
        sample = Sample(seconds, cpu, timer.seconds - retrieval0, texts1 - texts0, chars1 - chars0, embed1 - embed0)
        return result.state, sample


def bench_size(stepper: Stepper, state: StoryState, repeats: int, baseline_repeats: int, dim: int) -> dict[str, Any]:
    """Every step starts from `state` (a branch: a step never changes its state), so each
    one sees exactly N paragraphs; the new entries still go into the long-lived index."""
    n = len(state.long_term)
    row: dict[str, Any] = {"paragraphs": n}
    # Ours: the first step fills a fresh index from the stored vectors, later steps reuse it.
    index = InMemoryVectorIndex(dim)
    with retrieval(recurrence.retrieve) as timer:
        _, first = stepper.one(state, index, timer)
        ours = Series()
        for _ in range(repeats):
            ours.samples.append(stepper.one(state, index, timer)[1])
    if first.texts != 2:
        raise RuntimeError(f"the first step on a fresh index embedded {first.texts} texts, not 2")
    row["first_step"] = {"seconds": first.seconds, "cpu_s": first.cpu_s, "retrieval_s": first.retrieval_s,
                         "embedded_texts": first.texts, "embedded_chars": first.chars}  # fmt: skip
    row["ours"] = ours.summary()
    # The original design, same step, whole memory re-encoded without the cache.
    original = Series()
    with retrieval(original_retrieve) as timer:
        for _ in range(baseline_repeats):
            original.samples.append(stepper.one(state, None, timer)[1])
    row["original"] = original.summary()
    # The same through gw.embed: every old entry is an in-process cache hit here.
    cached = Series()

    def via_gateway(*args: Any, **kwargs: Any) -> list[Retrieved]:
        return original_retrieve(*args, through_gateway=True, **kwargs)

    with retrieval(via_gateway) as timer:
        for _ in range(repeats):
            cached.samples.append(stepper.one(state, None, timer)[1])
    row["original_via_gateway_cache"] = cached.summary()
    row["ratio_original_to_ours"] = row["original"]["median_s"] / row["ours"]["median_s"]
    row["cpu_ratio_original_to_ours"] = row["original"]["cpu_median_s"] / row["ours"]["cpu_median_s"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000], help="story lengths")
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes 10 and 50, 3 repeats")
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per size and design")
    parser.add_argument("--baseline-budget", type=float, default=100.0,
                        help="seconds per size for the original design's steps (at least one runs)")  # fmt: skip
    parser.add_argument("--embedder", choices=["auto", "bundled", "fake"], default="auto",
                        help="auto: the bundled MiniLM when it loads, else fake")  # fmt: skip
    parser.add_argument("--fake-embed-ms", type=float, default=25.0, help="the fake embedder's cost per text")
    parser.add_argument("--preset", choices=["paper", "compact"], default="paper")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeats = [10, 50], 3
    sizes = sorted(set(args.sizes))
    config = WriterConfig.paper() if args.preset == "paper" else WriterConfig.compact()

    inner, embedder_name = make_embedder(args.embedder, args.fake_embed_ms)
    counter = CountingEmbedder(inner)
    backend = StoryBackend(config, args.seed)
    gw = Gateway(backend, embedder=counter, cache_policy="off", timeout=TIMEOUT)  # type: ignore[arg-type]
    stepper = Stepper(gw, counter, config, args.seed)
    try:
        # Warm up (prompt files, schemas, the embedder's first batch) on a throwaway story.
        warm, _ = build_story(gw, 5, config, args.seed + 100)
        with retrieval(recurrence.retrieve) as timer:
            stepper.one(warm, InMemoryVectorIndex(counter.dim), timer)
        print(f"building a story of {sizes[-1]:,} paragraphs ({config.paragraph_words} words each) and embedding "
              f"every entry once with {embedder_name} ({counter.model_id}) ...", flush=True)  # fmt: skip
        texts0, chars0, _ = counter.snapshot()
        build_load = {"before": os.getloadavg()}
        story, build_embed_s = build_story(gw, sizes[-1], config, args.seed)
        build_load["after"] = os.getloadavg()
        built_texts, built_chars = counter.texts - texts0, counter.chars - chars0
        per_text_s = build_embed_s / max(1, built_texts)
        print(f"  {built_texts:,} texts ({built_chars / max(1, built_texts):.0f} chars each) in {build_embed_s:.1f} s:"
              f" {per_text_s * 1000:.1f} ms per text", flush=True)  # fmt: skip
        rows = []
        for n in sizes:
            estimate = per_text_s * n
            baseline_repeats = max(1, min(args.repeats, int(args.baseline_budget // max(estimate, 1e-9))))
            print(f"N={n:,}: ours x{args.repeats}, original x{baseline_repeats} (~{estimate:.1f} s each) ...",
                  flush=True)  # fmt: skip
            load_before = os.getloadavg()
            rows.append(bench_size(stepper, prefix(story, n), args.repeats, baseline_repeats, counter.dim))
            rows[-1]["loadavg_1_5_15"] = {"before": load_before, "after": os.getloadavg()}
    finally:
        gw.close()
    if stepper.fallbacks:
        raise RuntimeError(f"structured calls fell back: {sorted(set(stepper.fallbacks))}")

    print()
    print(f"one writer.engine.step() ({args.preset} preset, {config.paragraph_words}-word paragraphs, top_k="
          f"{config.top_k}), text model scripted (instant), embedder {embedder_name}; seconds")  # fmt: skip
    header = (f"{'paragraphs':>10} | {'ours med':>8} {'p90':>6} {'cpu':>6} {'1st':>6} {'emb':>3} | "
              f"{'orig. med':>9} {'p90':>7} {'cpu':>7} {'runs':>4} {'emb':>6} {'ms/emb':>6} | "
              f"{'ratio':>7} {'cpu ratio':>9} | {'orig. via gw cache':>18}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for row in rows:
        o, b, c, f = row["ours"], row["original"], row["original_via_gateway_cache"], row["first_step"]
        print(f"{row['paragraphs']:>10,} | {o['median_s']:>8.3f} {o['p90_s']:>6.3f} {o['cpu_median_s']:>6.3f} "
              f"{f['seconds']:>6.3f} {o['embedded_texts_per_step']:>3.0f} | {b['median_s']:>9.2f} {b['p90_s']:>7.2f} "
              f"{b['cpu_median_s']:>7.2f} {b['repeats']:>4} {b['embedded_texts_per_step']:>6,.0f} "
              f"{b['embed_ms_per_text']:>6.1f} | {row['ratio_original_to_ours']:>6.0f}x "
              f"{row['cpu_ratio_original_to_ours']:>8.0f}x | {c['median_s']:>18.3f}")  # fmt: skip
    print("seconds; emb: texts embedded per step; ms/emb: the original step's embedding time per text; "
          "cpu: this process's CPU seconds")  # fmt: skip
    if embedder_name == "fake":
        print("(the fake embedder's cost is a sleep, not CPU: the cpu columns leave it out)")
    last = rows[-1]
    print(f"\nat {last['paragraphs']:,} paragraphs the original design's step takes "
          f"{last['ratio_original_to_ours']:.0f}x ours ({last['original']['median_s']:.2f} s vs "
          f"{last['ours']['median_s']:.3f} s; CPU time {last['cpu_ratio_original_to_ours']:.0f}x)")  # fmt: skip
    result = {
        "embedder": embedder_name,
        "embedder_model": counter.model_id,
        "dim": counter.dim,
        "preset": args.preset,
        "config": config.to_dict(),
        "repeats": args.repeats,
        "baseline_budget_s": args.baseline_budget,
        "build": {
            "texts": built_texts,
            "chars": built_chars,
            "embed_s": build_embed_s,
            "per_text_s": per_text_s,
            "loadavg_1_5_15": build_load,
        },
        "results": rows,
    }
    path = write_result("writer_step_cost" + ("_quick" if args.quick else ""), result)
    print(f"wrote {path}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine(), **result}, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
