"""The actor's answer parser (one action per turn) and its prompt."""

from __future__ import annotations

import pytest

from training.retroformer.actor import (
    MAX_RAW_CHARS,
    ParsedTurn,
    actor_messages,
    clean_action,
    memory_text,
    parse_turn,
    render_trajectory,
)
from training.retroformer.records import Step
from training.retroformer.settings import RetroSettings


def test_several_actions_keep_only_the_first() -> None:
    raw = (
        "Thought: I need the film first.\nAction: Search[Inception]\nObservation: Inception is a 2010 film.\n"
        "Thought: Now the director.\nAction: Lookup[director]\n"
    )
    turn = parse_turn(raw)
    assert turn.action == "Search[Inception]"
    assert turn.thought == "I need the film first."


def test_numbered_steps_as_reflexion_wrote_them() -> None:
    turn = parse_turn("Thought 3: The answer is in the second paragraph.\nAction 3: Finish[Paris]\nObservation 3: ...")
    assert turn == parse_turn("Thought: The answer is in the second paragraph.\nAction: Finish[Paris]")
    assert turn.action == "Finish[Paris]" and turn.thought == "The answer is in the second paragraph."


@pytest.mark.parametrize(
    ("raw", "action"),
    [
        ("Action: go to desk 1", "go to desk 1"),  # no thought at all
        ("Action: go to desk 1.", "go to desk 1"),  # a plain command does not end with a period
        ("**Action:** click[Buy Now]", "click[Buy Now]"),  # markdown
        ("1. Action: press red", "press red"),
        ("Thought: easy.\nAction:\n  press blue\n", "press blue"),  # the action on the next line
        ("Action: Search[Nolan] and then Lookup[born]", "Search[Nolan]"),  # junk after the bracket
        ("Action: Search[Nolan] Observation: made up", "Search[Nolan]"),
        ("Action: Finish[the [bracketed] title] extra", "Finish[the [bracketed] title]"),
        ("Thought: I know it. Action: Finish[yes]", "Finish[yes]"),  # label inside the line
        ("Action: `search[red shoes]`", "search[red shoes]"),
        ("action: take apple 1 from table 1", "take apple 1 from table 1"),
    ],
)
def test_one_action_is_cut_out_of_the_line(raw: str, action: str) -> None:
    assert parse_turn(raw).action == action


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "I think the answer is Paris.",
        "Thought: let me think about what to do next.",
        "My next action: search for it",  # lower-case label inside a sentence is prose
        "Actions available: press red",
        "Action:   \n\n",
        "go to desk 1",  # a plain command needs its label: prose looks the same
        "The answer is [Paris], I think.",  # brackets inside prose are not an action
        "Search[Paris] and then I will look up the river",
    ],
)
def test_no_action_line_means_no_action(raw: str) -> None:
    assert parse_turn(raw).action is None


@pytest.mark.parametrize(
    ("raw", "thought", "action"),
    [
        ("1. Search[Paris]", "", "Search[Paris]"),  # what the bundled 270M model writes
        ("I should look it up.\n2. Lookup[river]\n3. Finish[Seine]", "I should look it up.", "Lookup[river]"),
        ("Thought: buy it\n- **click[Buy Now]**", "buy it", "click[Buy Now]"),
    ],
)
def test_a_bracketed_action_alone_on_its_line_needs_no_label(raw: str, thought: str, action: str) -> None:
    assert parse_turn(raw) == ParsedTurn(thought, action)


def test_the_thought_is_kept_when_there_is_no_action() -> None:
    assert parse_turn("Thought: I am not sure yet.").thought == "I am not sure yet."


def test_an_answer_of_100_kb_is_cut_before_parsing() -> None:
    huge = "Thought: " + "very long " * 10_000 + "\nAction: press red"
    assert len(huge) > 100_000
    turn = parse_turn(huge)
    assert turn.action is None  # the action lay beyond the bounded text
    assert len(turn.thought) <= 1_000
    early = "Thought: short.\nAction: press red\n" + "x" * 100_000
    assert parse_turn(early).action == "press red"
    assert MAX_RAW_CHARS <= 4_000


def test_clean_action_bounds_length() -> None:
    assert len(clean_action("go to " + "desk " * 1000)) <= 500


def step(i: int, obs: str = "ok") -> Step:
    return Step(thought=f"thinking {i}", action=f"press red {i}", observation=obs, raw="", invalid=False)


def test_the_trajectory_keeps_the_first_observation_and_the_latest_steps() -> None:
    steps = [step(i, "o" * 100) for i in range(50)]
    text = render_trajectory("THE START", steps, max_chars=1_000, observation_chars=3_000)
    assert text.startswith("THE START")
    assert len(text) <= 1_000 + 100
    assert "press red 49" in text and "press red 0\n" not in text
    kept = text.count("Action:")
    assert f"({50 - kept} earlier steps left out)" in text
    # Everything fits: nothing is left out, steps in order.
    small = render_trajectory("S", steps[:2], max_chars=10_000, observation_chars=3_000)
    assert small == (
        "S\nThought: thinking 0\nAction: press red 0\nObservation: ok".replace("ok", "o" * 100)
        + "\nThought: thinking 1\nAction: press red 1\nObservation: "
        + "o" * 100
    )


def test_a_step_without_an_action_shows_only_its_thought_and_observation() -> None:
    bad = Step(thought="hmm", action="", observation="Invalid format", raw="hmm", invalid=True)
    assert render_trajectory("S", [bad], max_chars=1_000, observation_chars=100) == (
        "S\nThought: hmm\nObservation: Invalid format"
    )


def test_memory_holds_at_most_the_last_three_reflections() -> None:
    text = memory_text(["lesson 1", "", "lesson 2", "lesson 3", "lesson 4"], 3)
    assert "lesson 1" not in text
    assert text.index("lesson 2") < text.index("lesson 3") < text.index("lesson 4")
    assert "Your memory from earlier attempts" in text
    assert memory_text([], 3) == "" and memory_text(["", ""], 3) == "" and memory_text(["x"], 0) == ""


def test_the_prompt_has_instructions_examples_memory_and_trajectory_in_order() -> None:
    [message] = actor_messages(
        "INSTRUCTIONS", "EXAMPLES", "FIRST OBS", [step(1)], ["a lesson"], settings=RetroSettings()
    )
    text = message["content"]
    order = [text.index(part) for part in ("INSTRUCTIONS", "EXAMPLES", "a lesson", "FIRST OBS", "press red 1")]
    assert order == sorted(order)
    assert message["role"] == "user" and text.rstrip().endswith("Action: <one action>")
    without = actor_messages("I", "E", "O", [], [], settings=RetroSettings())[0]["content"]
    assert "memory" not in without.lower()
