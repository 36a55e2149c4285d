"""The recurrence with a scripted model: init, step, memory bound, retrieval query,
edits, branching, embedding once, garbage answers, streaming and cancel."""

import json

import pytest

from reverie.engine.ports import InMemoryVectorIndex
from tests.writer.engine.fakes import StoryScript, encoded, prompts_of, scripted_gateway
from writer.engine import (
    Cancelled,
    LoreEntry,
    StoryState,
    WriterConfig,
    edit_long_term,
    edit_memory,
    edit_paragraph,
    init,
    memory_lines,
    step,
    text_length,
    upsert_lore,
)
from writer.engine.recurrence import FALLBACK_PLANS


def opened(gw, config, lore=()) -> StoryState:
    return init(gw, novel_type="fantasy", topic="a drowned city", premise="the lights are still on",
                config=config, lore=lore).state  # fmt: skip


def test_init_writes_title_outline_paragraphs_memory_and_plans():
    gw = scripted_gateway()
    config = WriterConfig.paper()
    result = init(gw, novel_type="fantasy", topic="a drowned city", config=config)
    state = result.state
    assert state.title == "The Glass Harbour" and "sunken city" in state.outline
    assert len(state.paragraphs) == 3 and all(p.startswith("Opening") for p in state.paragraphs)
    assert len(state.long_term) == 3 and all(e.vector is not None for e in state.long_term)
    assert memory_lines(state.memory) and len(state.plans) == 3 and all(state.plans)
    assert result.fallbacks == ()
    assert "fantasy" in prompts_of(gw, "writer.init")[0] and "English" in prompts_of(gw, "writer.init")[0]
    assert encoded(gw) == [e.embedded_text for e in state.long_term]  # one call for the opening


def test_step_returns_paragraph_memory_diff_plans_and_what_was_used():
    gw = scripted_gateway()
    config = WriterConfig.compact()
    state = opened(gw, config)
    result = step(gw, state, "Mara opens a gate.", config=config)
    new = result.state
    assert new.paragraphs[:-1] == state.paragraphs and new.paragraphs[-1] == result.paragraph
    assert result.paragraph.startswith("Paragraph")
    assert result.memory_added and result.memory_added[0] in memory_lines(new.memory)
    assert len(result.plans) == 3 and new.plans == result.plans and new.steps == 1
    assert new.long_term[-1].text == result.paragraph and new.long_term[-1].summary.startswith("Mara swims on")
    # The previous paragraph is in the prompt verbatim, so it is not retrieved as well.
    assert all(r.entry.paragraph != len(state.paragraphs) - 1 for r in result.retrieved)
    traces = [t for t in gw.recorder.traces if t.purpose.startswith("writer.") and t.kind != "embed"]
    assert {t.step for t in traces if t.purpose in ("writer.memory", "writer.plans")} >= {0, 1}


def _long_facts(lang: str):
    script = StoryScript()

    def memory(prompt: str) -> str:
        n = next(script.counter)
        if lang == "zh":
            facts = [f"第{n}条：沉没之城的灯光在深夜依然明亮，潜水员玛拉看见了古老的铜门和守城人。",
                     f"第{n}条补充：城中的钟声每到午夜就会响起，鱼群围着高塔缓缓游动。"]  # fmt: skip
        else:
            facts = [f"Fact {n}: the drowned city keeps its lights on and the bronze gate hums at night.",
                     f"Fact {n}b: the tower bells ring at midnight while fish circle slowly."]  # fmt: skip
        return json.dumps({"summary": f"Event {n} in the city.", "drop": [], "add": facts}, ensure_ascii=False)

    script.routes["writer.memory"] = memory
    return script


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_short_term_memory_stays_within_its_bound(lang):
    gw = scripted_gateway(_long_facts(lang))
    config = WriterConfig.compact(language=lang, memory_bound=70, fact_max_chars=140, memory_add_max=2)
    state = opened(gw, config)
    dropped_any = False
    for i in range(6):
        before = set(memory_lines(state.memory))
        result = step(gw, state, f"Plan {i}: Mara goes deeper.", config=config)
        state = result.state
        after = set(memory_lines(state.memory))
        assert text_length(state.memory, lang) <= config.memory_bound
        assert after == (before - set(result.memory_dropped)) | set(result.memory_added)
        dropped_any = dropped_any or bool(result.memory_dropped)
        assert "writer.memory" not in result.fallbacks
    assert dropped_any
    if lang == "zh":
        # Counted by spaces the Chinese memory would be a handful of "words" and never cut.
        assert len(state.memory.split()) < config.memory_bound < len(state.memory.replace("\n", "")) + 40


def test_model_dropping_lines_is_reported():
    script = StoryScript()
    script.routes["writer.memory"] = json.dumps({"summary": "The gate opens.", "drop": [1], "add": ["A new fact."]})
    gw = scripted_gateway(script)
    config = WriterConfig.compact()
    state = edit_memory(opened(gw, config), "Old fact one.\nOld fact two.")
    result = step(gw, state, "Mara opens a gate.", config=config)
    assert result.memory_dropped == ("Old fact one.",) and result.memory_added == ("A new fact.",)
    assert memory_lines(result.state.memory) == ["Old fact two.", "A new fact."]


def test_the_retrieval_query_is_the_plan():
    gw = scripted_gateway()
    config = WriterConfig.compact(top_k=2)
    state = opened(gw, config)
    state = step(gw, state, "Mara finds a silver key in the sand.", config=config).state
    state = step(gw, state, "Mara hides from a shark.", config=config).state
    before = len(encoded(gw))
    plan = "Mara uses the silver key on the bronze gate."
    result = step(gw, state, plan, config=config)
    assert encoded(gw)[before] == plan  # the first text embedded in the step is the plan, as written
    assert result.query == plan
    assert [t.purpose for t in gw.recorder.traces if t.kind == "embed"][-2:] == ["writer.query", "writer.embed"]
    assert 1 <= len(result.retrieved) <= 2
    scores = [r.score for r in result.retrieved]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0 for s in scores)


def test_retrieval_ranks_by_cosine_to_the_plan():
    gw = scripted_gateway()
    config = WriterConfig.compact(top_k=1)
    state = opened(gw, config)
    state = edit_paragraph(gw, state, 0, "zzzz zzzz zzzz qqqq.")  # an entry whose vector the plan will match
    state = step(gw, state, "Mara swims on.", config=config).state
    result = step(gw, state, "zzzz zzzz qqqq zzzz", config=config)
    assert result.retrieved[0].entry.text == "zzzz zzzz zzzz qqqq."


def test_edits_reach_the_next_prompt():
    gw = scripted_gateway()
    config = WriterConfig.compact(top_k=5)
    lore = LoreEntry(id=7, name="Mara", kind="character", text="Mara is afraid of the dark.", keywords=("Mara",))
    state = step(gw, opened(gw, config, lore=(lore,)), "Mara opens a gate.", config=config).state
    state = edit_paragraph(gw, state, -1, "Mara stops. A lantern fish blinks at her twice.")
    state = edit_paragraph(gw, state, 0, "Long ago, Mara lost her brother in this bay.")
    state = edit_memory(state, "Mara's brother vanished here.\nThe gate is open.")
    state = upsert_lore(state, LoreEntry(id=7, name="Mara", kind="character", text="Mara hums when she is scared.",
                                         keywords=("Mara",)))  # fmt: skip
    step(gw, state, "Mara follows the lantern fish.", config=config)
    prompt = prompts_of(gw, "writer.paragraph")[-1]
    assert "A lantern fish blinks at her twice." in prompt  # edited previous paragraph
    assert "Long ago, Mara lost her brother in this bay." in prompt  # edited earlier paragraph, retrieved
    assert "Mara's brother vanished here." in prompt and "The gate is open." in prompt  # edited short-term memory
    assert "Mara hums when she is scared." in prompt and "afraid of the dark" not in prompt  # edited lorebook
    memory_prompt = prompts_of(gw, "writer.memory")[-1]
    assert "1. Mara's brother vanished here." in memory_prompt


def test_an_edited_long_term_entry_is_what_retrieval_returns():
    gw = scripted_gateway()
    config = WriterConfig.compact(top_k=5)
    state = step(gw, opened(gw, config), "Mara opens a gate.", config=config).state
    first = state.long_term[0]
    state = edit_long_term(gw, state, first.id, summary="Mara remembers the oath she swore.")
    result = step(gw, state, "Mara keeps her oath.", config=config)
    assert "Mara remembers the oath she swore." in prompts_of(gw, "writer.paragraph")[-1]
    assert all(r.entry.id != first.id for r in result.retrieved)


def test_branching_from_an_earlier_state_leaves_the_later_one_alone():
    gw = scripted_gateway()
    config = WriterConfig.compact()
    s0 = opened(gw, config)
    s1 = step(gw, s0, "Mara opens a gate.", config=config).state
    s2 = step(gw, s1, "Mara meets the keeper.", config=config).state
    snapshot = (s0.to_dict(), s1.to_dict(), s2.to_dict())
    branch = step(gw, s1, "Mara turns back to the surface.", config=config).state
    assert (s0.to_dict(), s1.to_dict(), s2.to_dict()) == snapshot
    assert branch.paragraphs[:-1] == s1.paragraphs and branch.paragraphs[-1] != s2.paragraphs[-1]
    assert branch.steps == s2.steps == 2
    # A step on the old branch still sees the old branch's paragraph, not the new one.
    step(gw, s2, "Mara asks the keeper a question.", config=config)
    prompt = prompts_of(gw, "writer.paragraph")[-1]
    assert s2.paragraphs[-1] in prompt and branch.paragraphs[-1] not in prompt
    # Branches share nothing mutable: entries differ in id, and a JSON round trip is exact.
    assert branch.long_term[-1].id != s2.long_term[-1].id
    assert StoryState.from_dict(json.loads(json.dumps(s2.to_dict()))) == s2


@pytest.mark.parametrize("shared_index", [False, True])
def test_each_paragraph_is_embedded_once(shared_index):
    gw = scripted_gateway()
    config = WriterConfig.compact()
    index = InMemoryVectorIndex() if shared_index else None
    state = opened(gw, config)
    state = step(gw, state, "Mara dives.", config=config, index=index).state  # now there is a past to search
    for i in range(5):
        before = len(encoded(gw))
        result = step(gw, state, f"Plan {i}: Mara swims to tower {i}.", config=config, index=index)
        new = encoded(gw)[before:]
        assert new == [result.plan, result.state.long_term[-1].embedded_text]  # the query and the new entry only
        state = result.state
    before = len(encoded(gw))
    state = edit_paragraph(gw, state, 2, "Mara rests on a broken statue.", index=index)
    assert encoded(gw)[before:] == [state.long_term[2].embedded_text]  # exactly one re-embedding
    # A state loaded from JSON (vectors included) embeds nothing old either.
    loaded = StoryState.from_dict(json.loads(json.dumps(state.to_dict())))
    before = len(encoded(gw))
    step(gw, loaded, "Plan 9: Mara climbs the statue.", config=config)
    assert len(encoded(gw)) - before == 2
    # Saved without vectors, the missing ones are embedded once, in one call.
    # (a fresh gateway: this one's embedding cache would answer for the old texts)
    bare, fresh = StoryState.from_dict(state.to_dict(vectors=False)), scripted_gateway()
    step(fresh, bare, "Plan 10: Mara looks up.", config=config)
    assert len(encoded(fresh)) == len(state.long_term) + 2


@pytest.mark.parametrize("garbage", ["", "}}{{ [[ 123", "not json at all", '{"plans": []}'])
def test_garbage_from_the_model_yields_fallbacks_not_exceptions(garbage):
    gw = scripted_gateway(lambda payload: garbage)
    config = WriterConfig.compact()
    opened_result = init(gw, novel_type="fantasy", topic="a drowned city", config=config)
    state = opened_result.state
    assert state.title and state.outline and state.paragraphs and all(p.strip() for p in state.paragraphs)
    assert len(state.plans) == 3 and all(len(p) >= 8 for p in state.plans)
    usable = sum(ch.isalpha() for ch in garbage) >= 2 and len(garbage) >= 8 and not garbage.startswith("{")
    if not usable:  # nothing usable as a plan
        assert state.plans == FALLBACK_PLANS["en"][:3]
        assert {"writer.init", "writer.memory", "writer.plans"} <= set(opened_result.fallbacks)
    else:  # a base model continues a list: any line of words is a plan, the rest are fallbacks
        assert state.plans[0] == garbage and state.plans[1:] == FALLBACK_PLANS["en"][:2]
        assert {"writer.init", "writer.memory", "writer.plans"} <= set(opened_result.fallbacks)
    result = step(gw, state, "Mara opens a gate.", config=config)
    if sum(ch.isalpha() for ch in garbage) < 2:
        assert result.paragraph == "Mara opens a gate."  # no words came back: the plan stands in
        assert set(result.fallbacks) == {"writer.paragraph", "writer.memory", "writer.plans"}
    else:  # free text cannot be validated: words are a paragraph
        assert result.paragraph == garbage and set(result.fallbacks) == {"writer.memory", "writer.plans"}
    assert len(result.plans) == 3 and text_length(result.state.memory) <= config.memory_bound
    zh = WriterConfig.compact(language="zh")
    zh_plans = init(gw, novel_type="奇幻", topic="沉没之城", config=zh).state.plans
    assert zh_plans == ((garbage, *FALLBACK_PLANS["zh"][:2]) if usable else FALLBACK_PLANS["zh"][:3])


def test_the_paragraph_streams_and_can_be_cancelled():
    script = StoryScript()
    script.routes["writer.paragraph"] = "Mara swims toward the lights. The gate hums. She reaches out."
    gw = scripted_gateway(script)
    config = WriterConfig.compact()
    state = opened(gw, config)
    pieces: list[str] = []
    result = step(gw, state, "Mara opens a gate.", config=config, on_piece=pieces.append)
    assert len(pieces) > 3 and "".join(pieces) == result.paragraph
    seen: list[str] = []
    with pytest.raises(Cancelled) as stopped:
        step(gw, state, "Mara opens another gate.", config=config, on_piece=seen.append, cancel=lambda: bool(seen))
    assert stopped.value.partial == seen[0] and len(seen) == 1
    assert [t.outcome.value for t in gw.recorder.traces if t.purpose == "writer.paragraph"][-1] == "cancelled"


def test_prompts_ask_for_the_output_language():
    gw = scripted_gateway()
    config = WriterConfig.compact(language="zh")
    state = opened(gw, config)
    step(gw, state, "玛拉打开了门。", config=config)
    for purpose in ("writer.init", "writer.paragraph", "writer.memory", "writer.plans"):
        assert "Chinese" in prompts_of(gw, purpose)[-1], purpose


def test_a_paragraph_is_the_first_block_the_model_wrote():
    script = StoryScript()
    script.routes["writer.paragraph"] = (
        "\n\nMara reaches the gate.\nIt is warm.\n\nWrite the next paragraph in English."
    )
    gw = scripted_gateway(script)
    config = WriterConfig.compact()
    result = step(gw, opened(gw, config), "Mara opens a gate.", config=config)
    assert result.paragraph == "Mara reaches the gate. It is warm."


def test_plans_from_a_continued_list_and_from_json():
    from writer.engine.recurrence import parse_plan_lines

    text = " Mara opens the gate.\n2. The lights go out.\n3) A stranger calls her name.\n4. One too many."
    assert parse_plan_lines(text, 3, 80) == ["Mara opens the gate.", "The lights go out.", "A stranger calls her name."]
    assert parse_plan_lines('{"plans": ["Mara opens the gate.", "Mara opens the gate."]}', 3, 80) == [
        "Mara opens the gate."
    ]
    assert parse_plan_lines("[Note: x]\n2. ok\n3. Title: nothing", 3, 80) == []


def test_an_opening_copied_from_the_prompts_example_is_replaced_by_the_topic():
    copied = json.dumps({"title": "The Last Signal", "outline": "Keeper Ada finds letters from a ship that sank ten "
                         "years ago and follows them to a survivor who has waited for her."})  # fmt: skip
    gw = scripted_gateway(StoryScript({"writer.init": copied}))
    result = init(gw, novel_type="science fiction", topic="Aliens land in a small town", config=WriterConfig.compact())
    assert result.state.title == "Aliens land in a small town" and "Ada" not in result.state.outline
    assert "writer.init" in result.fallbacks
    own = StoryScript()  # the scripted opening is the story's own: kept
    assert init(scripted_gateway(own), novel_type="fantasy", topic="a drowned city",
                config=WriterConfig.compact()).state.title == "The Glass Harbour"  # fmt: skip


def test_a_long_plan_is_cut_at_a_sentence_or_a_word():
    from writer.engine.recurrence import parse_plan_lines

    long = "A young man with a very long beard walks up to the door of the shop and opens it slowly"
    (plan,) = parse_plan_lines(long, 1, 60)
    assert plan == "A young man with a very long beard walks up to the door of"
    (plan,) = parse_plan_lines("Mara opens the gate. Then she swims down into the dark water below", 1, 40)
    assert plan == "Mara opens the gate."


def test_a_paragraph_that_comes_back_empty_is_asked_for_once_more():
    answers = iter(["\n\n", "Mara swims down to the lit gate and knocks twice."])
    script = StoryScript({"writer.paragraph": lambda p: next(answers)})
    gw = scripted_gateway(script)
    config = WriterConfig.compact()
    result = step(gw, opened(gw, config), "Mara knocks at the gate.", config=config)
    assert result.paragraph == "Mara swims down to the lit gate and knocks twice."
    assert "writer.paragraph" not in result.fallbacks
    assert len(prompts_of(gw, "writer.paragraph")) == 3  # the opening, then two tries
