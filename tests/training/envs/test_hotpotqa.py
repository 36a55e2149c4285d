"""HotPotQA environment: scripted wins and losses, search and lookup, the step cap, loading."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from training.envs import BadData, Task, get_text_env
from training.envs.hotpotqa import (
    ENDED,
    VALID_ACTIONS,
    Action,
    ContextStore,
    HotpotQAEnv,
    HotpotQASession,
    Paragraph,
    WikipediaStore,
    exact_match,
    normalize_answer,
    parse_action,
)

env = HotpotQAEnv()
SAMPLE = {t.id: t for t in env.load(None)}


def task(qid: str) -> Task:
    return SAMPLE[f"hotpotqa-{qid}"]


def play(t: Task, actions: list[str], e: HotpotQAEnv = env) -> list[Any]:
    session = e.start(t)
    results = [session.step(a) for a in actions]
    session.close()
    return results


def make_task(context: list[list[Any]], answer: str = "x", question: str = "Q?") -> Task:
    return Task(
        id="hotpotqa-t",
        env="hotpotqa",
        goal=question,
        data={"question": question, "answer": answer, "context": context},
    )


def row(qid: str = "q1", **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "_id": qid,
        "question": "Who built the bridge?",
        "answer": "Sven Halvard",
        "context": [["Halvard Bridge", ["The Halvard Bridge was built by Sven Halvard.", " It opened in 1978."]]],
        "supporting_facts": [["Halvard Bridge", 0]],
        "type": "bridge",
        "level": "easy",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


# --- normalisation (SQuAD) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The  Beatles!", "beatles"),
        ("An apple a day", "apple day"),
        ("18,500", "18500"),
        ("  Lake   Mirel. ", "lake mirel"),
        ("the-end", "theend"),  # punctuation goes first, so no article is left to drop
        ("Anne and Theo", "anne and theo"),  # articles only as whole words
        ("U.S.A.", "usa"),
        ("Wen Arlo's", "wen arlos"),
        ("Café  Théâtre", "café théâtre"),  # only ASCII punctuation is removed, as in SQuAD
        ("The", ""),
    ],
)
def test_normalize_answer_by_hand(text: str, normal: str) -> None:
    assert normalize_answer(text) == normal


@pytest.mark.parametrize(
    ("prediction", "gold", "same"),
    [
        ("The  Beatles!", "beatles", True),
        ("castro alto.", "Castro Alto", True),
        ("Yes", "yes", True),
        ("the Salt Road", "The Salt Road", True),
        ("18500", "18,500", True),
        ("Castro", "Castro Alto", False),
        ("Castro Alto, Aldine", "Castro Alto", False),
        ("1,868", "1868", True),
        ("no", "yes", False),
    ],
)
def test_exact_match(prediction: str, gold: str, same: bool) -> None:
    assert exact_match(prediction, gold) is same


# --- action parsing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("Search[Paris]", Action("search", "Paris")),
        ("  search [ Lake   Mirel ]  ", Action("search", "Lake Mirel")),
        ("LOOKUP[born]", Action("lookup", "born")),
        ("Finish[[yes]]", Action("finish", "[yes]")),
        ("Search[Tessel (island)]", Action("search", "Tessel (island)")),
        ("Finish[Port\nLinde]", Action("finish", "Port Linde")),
    ],
)
def test_parse_valid_actions(text: str, action: Action) -> None:
    assert parse_action(text) == action


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("search Paris", "expected Name[argument]"),
        ("Search[]", "nothing inside the brackets"),
        ("Finish[   ]", "nothing inside the brackets"),
        ("Jump[Paris]", "unknown action 'Jump'"),
        ("Search[Paris", "expected Name[argument]"),
        ("", "expected Name[argument]"),
        ("Thought: I should search.", "expected Name[argument]"),
    ],
)
def test_invalid_actions_are_observations(text: str, reason: str) -> None:
    parsed = parse_action(text)
    assert isinstance(parsed, str) and reason in parsed
    session = env.start(task("s01"))
    r = session.step(text)
    assert r.observation.startswith("Invalid action: ")
    assert reason in r.observation
    assert r.observation.endswith(f"Valid actions are {VALID_ACTIONS}.")
    assert VALID_ACTIONS == "Search[<entity>], Lookup[<keyword>], Finish[<answer>]"
    assert r.info["invalid"] is True
    assert (r.done, r.reward, r.won) == (False, 0.0, False)
    assert session.steps == 1  # an invalid action still uses one of the 6
    assert session.step("Search[Odile Marchetti]").info["invalid"] is False  # the episode goes on


def test_a_100kb_action_is_clipped_and_quick() -> None:
    huge = "Search " + "x" * 100_000
    start = time.perf_counter()
    r = env.start(task("s01")).step(huge)
    assert time.perf_counter() - start < 1.0
    assert r.info["invalid"] is True
    assert len(r.observation) < 300


# --- the sample set ----------------------------------------------------------------------


def gold_titles(t: Task) -> list[str]:
    return list(dict.fromkeys(title for title, _ in t.data["supporting_facts"]))


def paragraph(t: Task, title: str) -> list[str]:
    return next(sentences for name, sentences in t.data["context"] if name == title)


def test_sample_set_shape() -> None:
    tasks = list(SAMPLE.values())
    assert len(tasks) == 30
    assert len(SAMPLE) == 30  # ids are unique
    types = [t.data["type"] for t in tasks]
    assert types.count("bridge") >= 10 and types.count("comparison") >= 10
    assert {"yes", "no"} <= {t.data["answer"] for t in tasks}
    for t in tasks:
        titles = [name for name, _ in t.data["context"]]
        assert len(titles) == len(set(titles)), t.id
        gold = gold_titles(t)
        assert len(gold) == 2 and set(gold) <= set(titles), t.id
        assert 4 <= len(titles) - 2 <= 8, t.id
        for title, i in t.data["supporting_facts"]:
            assert i < len(paragraph(t, title)), t.id
        assert len(t.data["answer"].split()) <= 4, t.id
        assert t.goal == t.data["question"]


def test_each_sample_question_is_answerable_from_its_gold_paragraphs() -> None:
    for t in SAMPLE.values():
        first, second = gold_titles(t)
        answer = normalize_answer(t.data["answer"])
        gold_text = normalize_answer(" ".join(paragraph(t, first) + paragraph(t, second)))
        if t.data["type"] == "bridge":
            # the first paragraph names the second (the bridge), which holds the answer
            assert second in " ".join(paragraph(t, first)), t.id
            assert answer in normalize_answer(" ".join(paragraph(t, second))), t.id
        elif answer not in ("yes", "no"):
            assert answer in {normalize_answer(first), normalize_answer(second)}, t.id
        assert answer in ("yes", "no") or answer in gold_text, t.id


def test_every_sample_task_is_won_by_searching_its_gold_titles_and_lost_with_a_wrong_answer() -> None:
    answers = [t.data["answer"] for t in SAMPLE.values()]
    for t in SAMPLE.values():
        first, second = gold_titles(t)
        gold = t.data["answer"]
        wrong = next(a for a in answers if not exact_match(a, gold))
        for answer, won in ((gold, True), (wrong, False)):
            r1, r2, r3 = play(t, [f"Search[{first}]", f"Search[{second}]", f"Finish[{answer}]"])
            if t.data["type"] == "bridge":
                assert second in r1.observation, t.id  # the bridge is visible after the first search
                assert normalize_answer(gold) in normalize_answer(r2.observation), t.id
            assert not r1.done and not r2.done
            assert (r3.done, r3.won, r3.reward, r3.info["reason"]) == (True, won, float(won), "finished"), t.id


SCRIPTS = [
    # (task, a winning script, the wrong final answer)
    ("s01", ["Search[The Lantern Choir]", "Lookup[singer]", "Search[Odile Marchetti]", "Lookup[born in]"], "Velmora"),
    ("s09", ["Search[Lake Orvane]", "Lookup[fed by]", "Search[tesk river]", "Lookup[kilometres]"], "84"),
    ("s05", ["Search[Lake Orvane]", "Search[Lake Mirel]"], "Lake Orvane"),
    ("s26", ["Search[Corvane Tower]", "Search[Halvard Bridge]"], "yes"),
    ("s13", ["Search[Marguerite Oslan]", "Lookup[medal]", "Search[Keller Medal]"], "Tobias Keller"),
]


@pytest.mark.parametrize(("qid", "script", "wrong"), SCRIPTS)
def test_scripted_solutions_win_and_wrong_answers_lose(qid: str, script: list[str], wrong: str) -> None:
    t = task(qid)
    won = play(t, [*script, f"Finish[{t.data['answer']}]"])
    assert all(not r.done and r.reward == 0.0 for r in won[:-1])
    assert not any(r.info["invalid"] for r in won)
    assert (won[-1].done, won[-1].won, won[-1].reward) == (True, True, 1.0)
    assert won[-1].observation == "Episode finished: the answer is correct."
    lost = play(t, [*script, f"Finish[{wrong}]"])
    assert (lost[-1].done, lost[-1].won, lost[-1].reward) == (True, False, 0.0)
    assert lost[-1].info == {"invalid": False, "reason": "finished", "answer": wrong}
    assert lost[-1].observation == "Episode finished: the answer is wrong."


def test_lookups_in_scripts_find_the_facts() -> None:
    r = play(task("s09"), ["Search[Lake Orvane]", "Lookup[fed by]", "Search[Tesk River]", "Lookup[kilometres]"])
    assert r[1].observation == "(Result 1 / 1) The lake is fed by the Tesk River and drained by the Little Tesk."
    assert r[3].observation == "(Result 1 / 1) The Tesk River is a river in Aldine, 210 kilometres long."


def test_answers_are_graded_after_normalisation() -> None:
    assert play(task("s03"), ["Finish[the copper lanterns.]"])[0].won
    assert play(task("s18"), ["Finish[18500]"])[0].won
    assert play(task("s12"), ["finish[ YES ]"])[0].won
    assert not play(task("s03"), ["Finish[Copper Lantern]"])[0].won


# --- search ----------------------------------------------------------------------------

CONTEXT = [
    ["Lake Orvane", ["Lake Orvane is a lake.", "It is fed by the Tesk."]],
    ["Orvane", ["Orvane is a village on Lake Orvane."]],
    ["The Lantern Choir", ["The Lantern Choir is a band."]],
    ["The Copper Lanterns", ["The Copper Lanterns are a band."]],
    ["Keller Medal", ["The Keller Medal is an award."]],
    ["Tobias Keller", ["Tobias Keller was a physicist."]],
    ["Long Page", [f"Sentence {i} is about the river." if i % 3 == 0 else f"Sentence {i}." for i in range(1, 9)]],
]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Orvane", "Orvane is a village"),  # exact title wins over one that contains the word
        ("lake orvane", "Lake Orvane is a lake"),  # any case
        ("  LAKE   ORVANE ", "Lake Orvane is a lake"),
        ("Lantern Choir", "The Lantern Choir is a band"),  # words in common (the article ignored)
        ("Copper Lanterns band", "The Copper Lanterns are a band"),
        ('"Tobias Keller"', "Tobias Keller was a physicist"),  # punctuation ignored
        ("Lake Orvan", "Lake Orvane is a lake"),  # a near spelling
        ("Tobias Kelller", "Tobias Keller was a physicist"),
    ],
)
def test_search_finds_the_best_title(query: str, found: str) -> None:
    r = env.start(make_task(CONTEXT)).step(f"Search[{query}]")
    assert r.observation.startswith(found)
    assert not r.info["invalid"]


def test_search_without_a_clear_match_lists_similar_titles() -> None:
    store = ContextStore.from_context(CONTEXT)
    session = env.start(make_task(CONTEXT))
    # "Keller" shares as much with "Keller Medal" as with "Tobias Keller": ambiguous, no guess
    r = session.step("Search[Keller]")
    similar = store.similar("Keller")
    assert similar[:2] == ["Keller Medal", "Tobias Keller"]
    assert r.observation == f"Could not find Keller. Similar: {similar!r}."
    assert len(similar) == 5
    r = session.step("Search[Velmora]")
    assert r.observation.startswith("Could not find Velmora. Similar: [")
    assert (r.done, r.info["invalid"]) == (False, False)
    assert session.step("Lookup[lake]").observation.startswith("There is no paragraph to look in yet")


def test_search_shows_the_first_five_sentences() -> None:
    r = env.start(make_task(CONTEXT)).step("Search[Long Page]")
    assert r.observation == "Sentence 1. Sentence 2. Sentence 3 is about the river. Sentence 4. Sentence 5."


def test_hotpotqa_sentences_are_stripped() -> None:
    store = ContextStore.from_context([["A", ["First.", " Second.", "  "]]])
    assert store.search("A") == Paragraph("A", ("First.", "Second."))


# --- lookup ----------------------------------------------------------------------------


def test_lookup_pages_through_the_matching_sentences() -> None:
    # more than 6 steps, to page on past the step cap
    session = HotpotQASession(make_task(CONTEXT), ContextStore.from_context(CONTEXT), max_steps=20)
    session.step("Search[Long Page]")
    pages = [session.step("Lookup[River]").observation for _ in range(4)]
    assert pages == [
        "(Result 1 / 2) Sentence 3 is about the river.",
        "(Result 2 / 2) Sentence 6 is about the river.",  # beyond the five Search showed
        "No more results.",
        "No more results.",
    ]
    assert session.step("Lookup[sentence 1]").observation == "(Result 1 / 1) Sentence 1."  # a new keyword restarts
    assert session.step("Lookup[river]").observation == "(Result 1 / 2) Sentence 3 is about the river."
    session.step("Search[Long Page]")  # a new search restarts too
    assert session.step("Lookup[river]").observation == "(Result 1 / 2) Sentence 3 is about the river."


def test_lookup_with_no_hit() -> None:
    session = env.start(make_task(CONTEXT))
    session.step("Search[Orvane]")
    assert session.step("Lookup[volcano]").observation == "No more results."


# --- step cap --------------------------------------------------------------------------


def test_the_sixth_action_ends_the_episode_and_a_seventh_is_not_played() -> None:
    t = task("s01")
    session = env.start(t)
    results = [session.step("Search[The Lantern Choir]") for _ in range(5)]
    assert not any(r.done for r in results)
    sixth = session.step("Jump[x]")  # invalid actions count too
    assert (sixth.done, sixth.won, sixth.reward, sixth.info["reason"]) == (True, False, 0.0, "step cap")
    seventh = session.step(f"Finish[{t.data['answer']}]")  # too late: the right answer scores nothing
    assert (seventh.done, seventh.won, seventh.reward) == (True, False, 0.0)
    assert seventh.info["reason"] == "step cap"
    assert seventh.observation == ENDED
    assert session.steps == 6
    assert env.max_steps == 6


def test_a_right_finish_as_the_sixth_action_wins() -> None:
    t = task("s01")
    results = play(t, ["Search[Velmora]"] * 5 + [f"Finish[{t.data['answer']}]"])
    assert (results[-1].won, results[-1].reward, results[-1].info["reason"]) == (True, 1.0, "finished")


def test_an_action_after_finish_is_not_played() -> None:
    t = task("s01")
    session = env.start(t)
    session.step(f"Finish[{t.data['answer']}]")
    r = session.step("Finish[Velmora]")
    assert (r.observation, r.won, r.reward, r.info["reason"]) == (ENDED, True, 1.0, "finished")
    session.close()
    session.close()  # safe twice


# --- concurrent sessions -----------------------------------------------------------------


def test_sessions_of_one_task_are_independent() -> None:
    a, b = env.start(make_task(CONTEXT, answer="Tesk")), env.start(make_task(CONTEXT, answer="Tesk"))
    a.step("Search[Long Page]")
    b.step("Search[Orvane]")
    assert a.step("Lookup[river]").observation.startswith("(Result 1 / 2)")
    assert b.step("Lookup[village]").observation == "(Result 1 / 1) Orvane is a village on Lake Orvane."
    assert a.step("Lookup[river]").observation.startswith("(Result 2 / 2)")
    assert b.step("Finish[Tesk]").done
    assert not a.step("Lookup[river]").done  # b finishing does not end a
    assert (a.steps, b.steps) == (4, 3)


def test_many_sessions_from_many_threads() -> None:
    barrier = threading.Barrier(8)

    def run(t: Task, right: bool) -> tuple[str, bool, float]:
        first, second = gold_titles(t)
        session = env.start(t)
        barrier.wait()  # all threads step at the same time
        for action in (f"Search[{first}]", f"Lookup[{first.split()[-1]}]", f"Search[{second}]"):
            session.step(action)
            time.sleep(0.001)
        r = session.step(f"Finish[{t.data['answer'] if right else 'nobody'}]")
        return t.id, r.won, r.reward

    jobs = [(t, i % 2 == 0) for i, t in enumerate(list(SAMPLE.values())[:16])]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda j: run(*j), jobs))
    assert results == [(t.id, right, float(right)) for t, right in jobs]


# --- loading ---------------------------------------------------------------------------


def test_get_text_env_and_prompts() -> None:
    e = get_text_env("HotPotQA")
    assert isinstance(e, HotpotQAEnv) and e.name == "hotpotqa"
    text = e.instructions()
    for piece in ("Search[entity]", "Lookup[keyword]", "Finish[answer]", "at most 6 actions"):
        assert piece in text
    examples = e.examples()
    actions = re.findall(r"^Action: (.*)$", examples, re.MULTILINE)
    assert len(re.findall(r"^Question: ", examples, re.MULTILINE)) == 3
    assert actions and all(isinstance(parse_action(a), Action) for a in actions)
    assert sum(a.startswith("Finish[") for a in actions) == 3
    questions = re.findall(r"^Question: (.*)$", examples, re.MULTILINE)
    assert not set(questions) & {t.data["question"] for t in SAMPLE.values()}


def test_examples_show_observations_as_the_env_writes_them() -> None:
    # The "Could not find" example must be what the store says for those titles.
    store = ContextStore.from_context(
        [["Fennick Old Bridge", ["x"]], ["Fennick New Bridge", ["y"]], ["Fennick", ["z"]]]
    )
    assert store.search("Fennick Bridge") is None
    line = f"Observation: Could not find Fennick Bridge. Similar: {store.similar('Fennick Bridge')!r}."
    assert line in env.examples()


def test_load_limit_and_ids() -> None:
    tasks = env.load(None, limit=3)
    assert [t.id for t in tasks] == ["hotpotqa-s01", "hotpotqa-s02", "hotpotqa-s03"]
    assert env.load(None, limit=0) == []
    with pytest.raises(BadData, match="limit -1"):
        env.load(None, limit=-1)


def test_limit_stops_reading_before_a_later_bad_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", [row("a"), row("b"), "not json"])
    assert [t.id for t in env.load(path, limit=2)] == ["hotpotqa-a", "hotpotqa-b"]
    with pytest.raises(BadData, match=r"q\.jsonl line 3: not JSON"):
        env.load(path)


def test_id_field_and_integer_ids(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", [row(_id=..., id=7)])
    (t,) = env.load(str(path))
    assert t.id == "hotpotqa-7"
    assert t.data["context"][0][0] == "Halvard Bridge"
    assert (t.data["type"], t.data["level"]) == ("bridge", "easy")
    json.dumps(t.data)  # JSON-able


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object but list"),
        (row(_id=...), "no '_id' or 'id' field"),
        (row(_id=""), "'_id' must be a non-empty string or an integer"),
        (row(question=...), "'question' must be a non-empty string (missing)"),
        (row(answer=5), "'answer' must be a non-empty string"),
        (row(context=...), "no 'context' field"),
        (row(context=[]), "'context' must be a non-empty list"),
        (row(context=[["T", "one sentence"]]), "context paragraph 1 is not [title, [sentences...]]"),
        (row(context=[["T", ["ok"]], ["T2"]]), "context paragraph 2 is not"),
        (row(supporting_facts=[["T", "0"]]), "'supporting_facts' must be a list of [title, sentence number] pairs"),
        (row(level=3), "'level' must be a string, not int"),
        (row("first"), "id 'first' was already used"),
    ],
)
def test_bad_rows_name_the_file_and_line(tmp_path: Path, bad: Any, message: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [row("first"), row("second"), "", bad])
    with pytest.raises(BadData) as e:
        env.load(path)
    assert str(e.value).startswith(f"{path} line 4: ")
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_empty_and_directory_files(tmp_path: Path) -> None:
    with pytest.raises(BadData, match="no such file"):
        env.load(tmp_path / "nope.jsonl")
    with pytest.raises(BadData, match="no questions"):
        env.load(write_jsonl(tmp_path / "empty.jsonl", [""]))
    with pytest.raises(BadData, match="is a directory"):
        env.load(tmp_path)


def test_official_json_array(tmp_path: Path) -> None:
    rows = [row("5a8b57f25542995d1e6f1371"), row("5a8c7595554299585d9e36b6", answer="yes", type="comparison")]
    path = tmp_path / "hotpot_dev_distractor_v1.json"
    path.write_text(json.dumps(rows), encoding="utf-8")  # the official file is one line
    tasks = env.load(path)
    assert [t.id for t in tasks] == ["hotpotqa-5a8b57f25542995d1e6f1371", "hotpotqa-5a8c7595554299585d9e36b6"]
    assert [t.id for t in env.load(path, limit=1)] == ["hotpotqa-5a8b57f25542995d1e6f1371"]
    r = play(tasks[0], ["Search[Halvard Bridge]", "Lookup[opened]", "Finish[sven halvard]"])
    assert r[0].observation == "The Halvard Bridge was built by Sven Halvard. It opened in 1978."
    assert r[1].observation == "(Result 1 / 1) It opened in 1978."
    assert r[2].won


def test_json_array_errors(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps([row("a"), row("b", context=[["T"]])]), encoding="utf-8")
    with pytest.raises(BadData, match=r"d\.json item 2: context paragraph 1 is not"):
        env.load(path)
    path.write_text(json.dumps(row("a")), encoding="utf-8")
    with pytest.raises(BadData, match="expected a JSON array of questions, found dict"):
        env.load(path)
    write_jsonl(path, [row("a"), row("b")])  # JSONL under a .json name
    with pytest.raises(BadData, match=r"d\.json line 2: not JSON \(Extra data.*\.jsonl"):
        env.load(path)


def test_start_rejects_a_task_without_paragraphs() -> None:
    with pytest.raises(BadData, match="task hotpotqa-t: no 'context' field"):
        env.start(Task(id="hotpotqa-t", env="hotpotqa", goal="Q?", data={"question": "Q?", "answer": "a"}))


# --- other stores ------------------------------------------------------------------------


class FakeStore:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def search(self, title: str) -> Paragraph | None:
        self.asked.append(title)
        return Paragraph(title, (f"{title} is everywhere.",)) if title == "Anything" else None

    def similar(self, title: str) -> list[str]:
        return ["Anything"]


def test_a_store_can_be_plugged_in() -> None:
    store = FakeStore()
    e = HotpotQAEnv(store=lambda t: store)
    session = e.start(task("s01"))
    assert session.step("Search[Anything]").observation == "Anything is everywhere."
    assert (
        session.step("Search[The Lantern Choir]").observation
        == "Could not find The Lantern Choir. Similar: ['Anything']."
    )
    assert store.asked == ["Anything", "The Lantern Choir"]


def wikipedia_reply(url: str) -> bytes:
    if "list=search" in url:
        return json.dumps({"query": {"search": [{"title": "Paris"}, {"title": "Paris, Texas"}]}}).encode()
    if "titles=Nowhere" in url:
        return json.dumps({"query": {"pages": [{"title": "Nowhere", "missing": True}]}}).encode()
    extract = (
        "Paris is the capital of France.\n\n== History ==\nIt was founded long ago. The river Seine runs through it."
    )
    return json.dumps({"query": {"pages": [{"title": "Paris", "extract": extract}]}}).encode()


def test_wikipedia_store_reads_the_mediawiki_reply_without_the_network() -> None:
    urls: list[str] = []

    def fetch(url: str) -> bytes:
        urls.append(url)
        return wikipedia_reply(url)

    e = HotpotQAEnv(store=lambda t: WikipediaStore(fetch=fetch))
    session = e.start(task("s01"))
    r = session.step("Search[paris]")
    assert r.observation == "Paris is the capital of France. It was founded long ago. The river Seine runs through it."
    assert session.step("Lookup[seine]").observation == "(Result 1 / 1) The river Seine runs through it."
    assert session.step("Search[Nowhere]").observation == "Could not find Nowhere. Similar: ['Paris', 'Paris, Texas']."
    assert all(u.startswith(WikipediaStore.API + "?") and "format=json" in u for u in urls)


def test_wikipedia_failure_is_an_observation() -> None:
    def offline(url: str) -> bytes:
        raise urllib.error.URLError("no network")

    session = HotpotQAEnv(store=lambda t: WikipediaStore(fetch=offline)).start(task("s01"))
    r = session.step("Search[Paris]")
    assert r.observation.startswith("Search failed: Wikipedia did not answer (URLError")
    assert (r.done, r.info["invalid"]) == (False, False)
    garbled = HotpotQAEnv(store=lambda t: WikipediaStore(fetch=lambda url: b"<html>")).start(task("s01"))
    assert garbled.step("Search[Paris]").observation.startswith(
        "Search failed: Wikipedia did not answer (JSONDecodeError"
    )
    refused = HotpotQAEnv(store=lambda t: WikipediaStore(fetch=lambda url: b'{"error": {"code": "x"}}')).start(
        task("s01")
    )
    assert refused.step("Search[Paris]").observation.startswith("Search failed: Wikipedia refused the request")
