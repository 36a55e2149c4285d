"""Lorebook entries fire only on their keywords/aliases, within the token budget."""

from tests.writer.engine.fakes import StoryScript, prompts_of, scripted_gateway
from tests.writer.engine.test_step import opened
from writer.engine import LoreEntry, WriterConfig, step
from writer.engine.config import approx_tokens
from writer.engine.lorebook import match_lore, render_entry

MARA = LoreEntry(id=1, name="Mara", kind="character", text="A diver with a scar on her hand.",
                 keywords=("Mara",), aliases=("the diver",))  # fmt: skip
CITY = LoreEntry(id=2, name="Ys", kind="place", text="The drowned city, lit from within.", keywords=("Ys",),
                 aliases=("drowned city",))  # fmt: skip
LUNA = LoreEntry(id=3, name="月娘", kind="character", text="守城的女人。", keywords=("月娘",))


def test_word_boundary_for_latin_script_and_case_insensitive():
    assert [h.entry.id for h in match_lore([MARA, CITY], ["THE DIVER went down."], 1000)] == [1]
    assert match_lore([MARA, CITY], ["Marathon runners and Ysolde."], 1000) == []
    assert [h.trigger for h in match_lore([CITY], ["a Drowned City rose"], 1000)] == ["drowned city"]


def test_substring_for_cjk():
    assert [h.entry.id for h in match_lore([LUNA], ["她看见月娘站在门口"], 1000)] == [3]
    assert match_lore([LUNA], ["她看见月亮"], 1000) == []


def test_budget_admits_in_order_and_reports_the_rest():
    cost = approx_tokens(render_entry(MARA))
    hits = match_lore([MARA, CITY], ["Mara reached Ys."], cost)
    assert [(h.entry.id, h.included) for h in hits] == [(1, True), (2, False)]
    assert all(h.included for h in match_lore([MARA, CITY], ["Mara reached Ys."], 1000))
    assert not any(h.included for h in match_lore([MARA, CITY], ["Mara reached Ys."], 0))


def test_fired_entries_reach_the_prompt_and_others_do_not():
    gw = scripted_gateway(StoryScript())
    config = WriterConfig.compact(lore_budget_tokens=1000)
    state = opened(gw, config, lore=(MARA, CITY, LUNA))
    result = step(gw, state, "The diver follows a fish.", config=config)  # alias of Mara; the story says Mara too
    prompt = prompts_of(gw, "writer.paragraph")[-1]
    assert "A diver with a scar on her hand." in prompt
    assert "The drowned city, lit from within." not in prompt and "守城的女人" not in prompt
    assert [h.entry.name for h in result.lore if h.included] == ["Mara"]
    result = step(gw, result.state, "She enters the drowned city of Ys.", config=config)
    assert "The drowned city, lit from within." in prompts_of(gw, "writer.paragraph")[-1]
    assert {h.entry.name for h in result.lore} == {"Mara", "Ys"}


def test_budget_keeps_entries_out_of_the_prompt():
    gw = scripted_gateway(StoryScript())
    config = WriterConfig.compact(lore_budget_tokens=approx_tokens(render_entry(MARA)))
    state = opened(gw, config, lore=(MARA, CITY))
    result = step(gw, state, "Mara enters the drowned city.", config=config)
    prompt = prompts_of(gw, "writer.paragraph")[-1]
    assert MARA.text in prompt and CITY.text not in prompt
    assert [(h.entry.name, h.included) for h in result.lore] == [("Mara", True), ("Ys", False)]
