"""ALFWorld: our household problems played by ALFWorld's TextWorld PDDL engine."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from pathlib import Path

import pytest

from training.envs import get_text_env
from training.envs.alfworld_env import ENDED, MAX_STEPS, AlfworldEnv, to_command
from training.envs.alfworld_games import build, engine, layouts, problem
from training.envs.base import BadData
from training.envs.interactive import Task

# A winning command list for every sample task (written by hand: the engine decides).
SOLUTIONS = {
    "kitchen_a-clean-mug": [
        "go to countertop 1",
        "go to cabinet 4",
        "open cabinet 4",
        "take mug 1 from cabinet 4",
        "go to sinkbasin 1",
        "clean mug 1 with sinkbasin 1",
        "go to coffeemachine 1",
        "move mug 1 to coffeemachine 1",
    ],
    "kitchen_a-heat-egg": [
        "go to fridge 1",
        "open fridge 1",
        "take egg 1 from fridge 1",
        "go to microwave 1",
        "heat egg 1 with microwave 1",
        "go to diningtable 1",
        "move egg 1 to diningtable 1",
    ],
    "kitchen_a-cool-bread": [
        "go to diningtable 1",
        "take bread 1 from diningtable 1",
        "go to fridge 1",
        "cool bread 1 with fridge 1",
        "go to countertop 2",
        "move bread 1 to countertop 2",
    ],
    "kitchen_b-cool-pan": [
        "go to cabinet 3",
        "open cabinet 3",
        "take pan 1 from cabinet 3",
        "go to fridge 1",
        "cool pan 1 with fridge 1",
        "go to stoveburner 1",
        "move pan 1 to stoveburner 1",
    ],
    "kitchen_b-heat-mug": [
        "go to countertop 1",
        "take mug 1 from countertop 1",
        "go to microwave 1",
        "heat mug 1 with microwave 1",
        "go to cabinet 1",
        "open cabinet 1",
        "move mug 1 to cabinet 1",
    ],
    "kitchen_b-place-peppershaker": [
        "go to cabinet 6",
        "open cabinet 6",
        "take peppershaker 1 from cabinet 6",
        "go to drawer 2",
        "open drawer 2",
        "move peppershaker 1 to drawer 2",
    ],
    "bedroom_a-look-alarmclock": [
        "go to shelf 3",
        "take alarmclock 1 from shelf 3",
        "go to desk 1",
        "use desklamp 1",
    ],
    "bedroom_a-two-cd": [
        "go to drawer 1",
        "open drawer 1",
        "take cd 1 from drawer 1",
        "go to safe 1",
        "open safe 1",
        "move cd 1 to safe 1",
        "go to shelf 2",
        "take cd 2 from shelf 2",
        "go to safe 1",
        "move cd 2 to safe 1",
    ],
    "livingroom_a-place-remotecontrol": [
        "go to coffeetable 1",
        "take remotecontrol 1 from coffeetable 1",
        "go to armchair 1",
        "move remotecontrol 1 to armchair 1",
    ],
    "livingroom_a-look-statue": [
        "go to shelf 2",
        "take statue 1 from shelf 2",
        "go to sidetable 2",
        "use desklamp 1",
    ],
    "livingroom_a-two-keychain": [
        "go to coffeetable 1",
        "take keychain 1 from coffeetable 1",
        "go to sofa 1",
        "move keychain 1 to sofa 1",
        "go to drawer 3",
        "open drawer 3",
        "take keychain 2 from drawer 3",
        "go to sofa 1",
        "move keychain 2 to sofa 1",
    ],
    "bathroom_a-clean-cloth": [
        "go to cabinet 3",
        "open cabinet 3",
        "take cloth 1 from cabinet 3",
        "go to sinkbasin 1",
        "clean cloth 1 with sinkbasin 1",
        "go to countertop 1",
        "move cloth 1 to countertop 1",
    ],
    "bathroom_a-two-soapbar": [
        "go to bathtubbasin 1",
        "take soapbar 1 from bathtubbasin 1",
        "go to cabinet 1",
        "open cabinet 1",
        "move soapbar 1 to cabinet 1",
        "go to countertop 1",
        "take soapbar 2 from countertop 1",
        "go to cabinet 1",
        "move soapbar 2 to cabinet 1",
    ],
    "bathroom_a-place-spraybottle": [
        "go to cabinet 2",
        "open cabinet 2",
        "take spraybottle 1 from cabinet 2",
        "go to toilet 1",
        "move spraybottle 1 to toilet 1",
    ],
}

# One plausible wrong play per task type: every command works, the goal is never met.
WRONG = {
    "pick_and_place_simple": (
        "kitchen_b-place-peppershaker",
        [
            "go to cabinet 6",
            "open cabinet 6",
            "take peppershaker 1 from cabinet 6",
            "go to shelf 1",
            "move peppershaker 1 to shelf 1",
        ],
    ),
    "look_at_obj_in_light": (  # the wrong object under the lamp
        "bedroom_a-look-alarmclock",
        ["go to shelf 3", "take keychain 1 from shelf 3", "go to desk 1", "use desklamp 1"],
    ),
    "pick_clean_then_place_in_recep": (  # not cleaned
        "kitchen_a-clean-mug",
        [
            "go to cabinet 4",
            "open cabinet 4",
            "take mug 1 from cabinet 4",
            "go to coffeemachine 1",
            "move mug 1 to coffeemachine 1",
        ],
    ),
    "pick_heat_then_place_in_recep": (  # cooled instead of heated
        "kitchen_a-heat-egg",
        [
            "go to fridge 1",
            "open fridge 1",
            "take egg 1 from fridge 1",
            "cool egg 1 with fridge 1",
            "go to diningtable 1",
            "move egg 1 to diningtable 1",
        ],
    ),
    "pick_cool_then_place_in_recep": (  # cleaned instead of cooled
        "kitchen_b-cool-pan",
        [
            "go to cabinet 3",
            "open cabinet 3",
            "take pan 1 from cabinet 3",
            "go to sinkbasin 1",
            "clean pan 1 with sinkbasin 1",
            "go to stoveburner 1",
            "move pan 1 to stoveburner 1",
        ],
    ),
    "pick_two_obj_and_place": (  # one cd in the safe, the other left elsewhere
        "bedroom_a-two-cd",
        [
            "go to shelf 2",
            "take cd 2 from shelf 2",
            "go to safe 1",
            "open safe 1",
            "move cd 2 to safe 1",
            "go to drawer 1",
            "open drawer 1",
            "take cd 1 from drawer 1",
            "go to desk 1",
            "move cd 1 to desk 1",
        ],
    ),
}


@pytest.fixture(autouse=True)
def no_real_data(tmp_path_factory, monkeypatch):
    # An empty ALFWORLD_DATA, so load(None) gives the sample set even on a machine that
    # has downloaded ALFWorld's data to ~/.cache/alfworld.
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path_factory.mktemp("no_alfworld_data")))


@pytest.fixture(scope="module")
def env() -> AlfworldEnv:
    return AlfworldEnv()


@pytest.fixture(scope="module")
def tasks(env) -> dict[str, Task]:
    return {t.id.removeprefix("alfworld-"): t for t in env.load(env.sample_path())}


def play(env, task, commands):
    session = env.start(task)
    try:
        results = [session.step(c) for c in commands]
    finally:
        session.close()
    return session, results


def test_the_registry_gives_this_env():
    assert isinstance(get_text_env("ALFWorld"), AlfworldEnv)
    assert get_text_env("alfworld").max_steps == 50


def test_the_sample_set_covers_the_six_task_types(env):
    tasks = env.load(None)
    assert len(tasks) >= 12
    assert {t.data["type"] for t in tasks} == set(layouts.TASK_TYPES)
    assert len({t.id for t in tasks}) == len(tasks)
    assert all(t.env == "alfworld" and t.id.startswith("alfworld-") for t in tasks)
    assert [t.id for t in env.load(None, limit=3)] == [t.id for t in tasks[:3]]
    assert env.load(None, limit=0) == []
    assert set(SOLUTIONS) == {t.id.removeprefix("alfworld-") for t in tasks}


def test_the_checked_in_problems_are_what_the_generator_writes():
    for rel, text in build.sample_files().items():
        assert (build.SAMPLE_DIR / rel).read_text(encoding="utf-8") == text, f"rerun the build for {rel}"
    # and none of them is one of the prompt's examples
    assert not {t.id for t in layouts.EXAMPLE_TASKS} & {t.id for t in layouts.SAMPLE_TASKS}


def test_the_first_observation_is_the_room_and_the_task(env, tasks):
    session = env.start(tasks["kitchen_a-clean-mug"])
    try:
        room, task_line = session.observation.split("\n")
        assert room.startswith("You are in the middle of a room. Looking quickly around you, you see a cabinet 6,")
        assert "a coffeemachine 1," in room and "a sinkbasin 1," in room
        assert task_line == "Your task is to: put a clean mug in coffeemachine."
        assert "Welcome to TextWorld" not in session.observation
        assert tasks["kitchen_a-clean-mug"].goal == "put a clean mug in coffeemachine"
        assert session.steps == 0
    finally:
        session.close()


@pytest.mark.parametrize("task_id", sorted(SOLUTIONS))
def test_a_scripted_solution_wins(env, tasks, task_id):
    session, results = play(env, tasks[task_id], SOLUTIONS[task_id])
    assert [r.info["invalid"] for r in results] == [False] * len(results)
    *before, last = results
    assert not any(r.won or r.done or r.reward for r in before)  # won only when the goal holds
    assert (last.won, last.reward, last.done, last.info["reason"]) == (True, 1.0, True, "finished")
    assert last.info["won"] is True
    assert session.steps == len(results)


@pytest.mark.parametrize("task_type", sorted(WRONG))
def test_a_wrong_solution_loses(env, tasks, task_type):
    task_id, commands = WRONG[task_type]
    assert tasks[task_id].data["type"] == task_type
    _, results = play(env, tasks[task_id], commands)
    assert not any(r.info["invalid"] for r in results), [r.observation for r in results]
    assert not any(r.won or r.done for r in results)
    assert results[-1].reward == 0.0 and "reason" not in results[-1].info


def test_observations_invalid_commands_and_think(env, tasks):
    commands = ["take mug 1 from cabinet 4", "fly to the moon", "", "think: the mug may be in a cabinet."]
    commands += ["go to cabinet 4", "take mug 1 from cabinet 4", "Think: it is closed", "open cabinet 4"]
    commands += ["take mug 1 from cabinet 4", "inventory", "examine mug 1", "look"]
    session, results = play(env, tasks["kitchen_a-clean-mug"], commands)
    assert [(r.observation, r.info["invalid"]) for r in results] == [
        ("Nothing happens.", True),  # not there yet
        ("Nothing happens.", True),
        ("Nothing happens.", True),
        ("OK.", False),  # think is not played
        ("You arrive at cabinet 4. The cabinet 4 is closed.", False),
        ("Nothing happens.", True),  # still closed
        ("OK.", False),
        ("You open the cabinet 4. The cabinet 4 is open. In it, you see a mug 1.", False),
        ("You pick up the mug 1 from the cabinet 4.", False),
        ("You are carrying: a mug 1.", False),
        ("There's nothing special about mug 1.", False),
        ("You are facing the cabinet 4. Next to it, you see nothing.", False),
    ]
    assert session.steps == len(commands)  # every action counts, thinking and invalid ones too
    assert not any(r.done or r.won for r in results)
    assert "go to sinkbasin 1" in results[-1].info["admissible_commands"]
    assert "clean mug 1 with sinkbasin 1" not in results[-1].info["admissible_commands"]  # not at the sink


def test_forgiven_spellings_and_older_wordings(env, tasks):
    _, results = play(
        env,
        tasks["bedroom_a-two-cd"],
        [
            "> Go to  drawer 1.",
            "OPEN DRAWER 1",
            "take cd 1 from drawer 1",
            "go to safe 1",
            "open safe 1",
            "put cd 1 in/on safe 1",
            "go to shelf 2",
            "take cd 2 from shelf 2",
            "go to safe 1",
            "put cd 2 in safe 1",
        ],
    )
    assert not any(r.info["invalid"] for r in results)
    assert results[5].observation == "You move the cd 1 to the safe 1."
    assert results[-1].won
    _, results = play(
        env, tasks["bedroom_a-look-alarmclock"], [*SOLUTIONS["bedroom_a-look-alarmclock"][:3], "toggle desklamp 1"]
    )
    assert results[-1].observation == "You turn on the desklamp 1." and results[-1].won
    assert to_command("put cd 1 in safe 1", ["look"]) == "put cd 1 in safe 1"  # no such move: left to the engine
    # a game file made with the older grammar, whose command is "put X in/on Y"
    assert to_command("move cd 1 to safe 1", ["put cd 1 in/on safe 1"]) == "put cd 1 in/on safe 1"
    assert to_command("put cd 1 in safe 1", ["put cd 1 in/on safe 1"]) == "put cd 1 in/on safe 1"


def test_a_huge_action_is_just_invalid(env, tasks):
    start = time.monotonic()
    _, [result] = play(env, tasks["kitchen_a-clean-mug"], ["put " + "mug 1 in " * 12_000 + "cabinet 1"])
    assert (result.observation, result.info["invalid"]) == ("Nothing happens.", True)
    assert time.monotonic() - start < 10


def test_the_step_cap_ends_a_lost_episode(env, tasks):
    session = env.start(tasks["kitchen_a-clean-mug"])
    try:
        # thinking mostly, so that the test is quick: the cap counts every action
        actions = ["go to countertop 1", *(["think: where is the mug?"] * (MAX_STEPS - 3)), "look", "go to cabinet 4"]
        results = [session.step(a) for a in actions]
        assert results[-1].observation == "You arrive at cabinet 4. The cabinet 4 is closed."
        assert not any(r.done for r in results[:-1])
        last = results[-1]
        assert (last.done, last.won, last.reward, last.info["reason"]) == (True, False, 0.0, "step cap")
        after = session.step("go to cabinet 4")
        assert (after.observation, after.done, after.info["invalid"]) == (ENDED, True, True)
        assert session.steps == MAX_STEPS
    finally:
        session.close()


def test_a_won_episode_is_over(env, tasks):
    session = env.start(tasks["livingroom_a-place-remotecontrol"])
    try:
        for command in SOLUTIONS["livingroom_a-place-remotecontrol"]:
            session.step(command)
        after = session.step("take remotecontrol 1 from armchair 1")
        assert (after.observation, after.won, after.reward, after.done) == (ENDED, True, 1.0, True)
        assert after.info["reason"] == "finished"
    finally:
        session.close()
    session.close()  # twice is fine
    with pytest.raises(RuntimeError):
        session.step("look")


# --- bad data ---------------------------------------------------------------------------


def _task_file(tmp_path: Path, problem_text: str, **row: str) -> Path:
    (tmp_path / "p.pddl").write_text(problem_text, encoding="utf-8")
    line = {"id": "t1", "type": "pick_and_place_simple", "goal": "put a mug in cabinet", "problem": "p.pddl"} | row
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    return path


GOOD = (build.SAMPLE_DIR / "problems" / "kitchen_a-clean-mug.pddl").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (GOOD[: GOOD.rindex(")")], "does not parse"),  # a missing parenthesis
        ("hello world", "does not parse"),
        ("", "does not parse"),
        (GOOD.replace("(:domain alfred)", "(:domain kitchen)"), "does not parse"),
        (GOOD.replace("(pickupable Mug_bar_00)", "(flyable Mug_bar_00)"), "unknown predicate 'flyable'"),
        (GOOD.replace("(pickupable Mug_bar_00)", "(pickupable Mug_bar_99)"), "'mug_bar_99' is used in :init"),
        (GOOD.replace("(isClean ?o)", "(isClean ?x)"), "'?x' in :goal"),
        (GOOD.replace("(atLocation agent1 loc_bar_0)", ""), "where the agent is"),
    ],
)
def test_a_problem_that_does_not_parse_is_bad_data(env, tmp_path, broken, message):
    path = _task_file(tmp_path, broken)
    with pytest.raises(BadData) as e:
        env.load(path)
    text = str(e.value)
    assert "\n" not in text and str(tmp_path / "p.pddl") in text and message in text
    assert sys.argv[0] != "translate.py"  # Fast Downward's argv is not left behind


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"type": "pick_and_fly"}, "line 1: type 'pick_and_fly'"),
        ({"problem": "missing.pddl"}, "line 1: cannot read problem"),
        ({"goal": "  "}, "line 1: empty goal"),
    ],
)
def test_bad_task_rows_are_bad_data(env, tmp_path, row, message):
    with pytest.raises(BadData, match=re.escape(message)):
        env.load(_task_file(tmp_path, GOOD, **row))


def test_bad_paths_are_bad_data(env, tmp_path):
    with pytest.raises(BadData, match="no such file"):
        env.load(tmp_path / "nothing.jsonl")
    (tmp_path / "tasks.csv").write_text("x", encoding="utf-8")
    with pytest.raises(BadData, match=re.escape("expected a .jsonl")):
        env.load(tmp_path / "tasks.csv")
    (tmp_path / "bad.jsonl").write_text('{"id": "x"\n', encoding="utf-8")
    with pytest.raises(BadData, match="line 1: not JSON"):
        env.load(tmp_path / "bad.jsonl")
    with pytest.raises(BadData, match="no playable ALFWorld games"):
        env.load(tmp_path)


def test_a_problem_broken_after_loading_fails_to_start_with_bad_data(env, tmp_path):
    path = _task_file(tmp_path, GOOD)
    [task] = env.load(path)
    (tmp_path / "p.pddl").write_text("(define (problem broken", encoding="utf-8")
    with pytest.raises(BadData, match=re.escape(f"{tmp_path / 'p.pddl'}: the engine cannot load this game")):
        env.start(task)


# --- ALFWORLD_DATA ------------------------------------------------------------------------


def _fake_alfworld_data(root: Path) -> None:
    """A tiny tree laid out like the downloaded data: three playable games, and decoys
    ALFWorld's evaluation skips."""
    by_id = {t.id: t for t in layouts.SAMPLE_TASKS}
    playable = ["bathroom_a-place-spraybottle", "livingroom_a-look-statue", "kitchen_a-heat-egg"]
    build.write_game_tree(root, [by_id[i] for i in playable], walkthroughs=SOLUTIONS)
    # not the evaluation split
    build.write_game_tree(root, [by_id["bedroom_a-two-cd"]], split="valid_seen", walkthroughs=SOLUTIONS)
    # not known to be solvable
    unsolved = build.write_game_tree(root / "x", [by_id["kitchen_b-heat-mug"]], walkthroughs=SOLUTIONS)[0]
    data = json.loads(unsolved.read_text())
    data["solvable"] = False
    split = root / "json_2.1.1" / "valid_unseen"
    (split / "pick_heat-unsolved" / "trial_1").mkdir(parents=True)
    (split / "pick_heat-unsolved" / "trial_1" / "game.tw-pddl").write_text(json.dumps(data))
    (split / "pick_heat-unsolved" / "trial_1" / "traj_data.json").write_text(
        unsolved.with_name("traj_data.json").read_text()
    )
    # a movable-receptacle task, and a folder without a game file
    movable = split / "pick_and_place_with_movable_recep-Mug-Bowl-Cabinet-1" / "trial_1"
    movable.mkdir(parents=True)
    (movable / "game.tw-pddl").write_text(json.dumps(data | {"solvable": True}))
    (movable / "traj_data.json").write_text(json.dumps({"task_type": "pick_and_place_with_movable_recep"}))
    (split / "no_game" / "trial_1").mkdir(parents=True)
    (split / "no_game" / "trial_1" / "traj_data.json").write_text(json.dumps({"task_type": "pick_and_place_simple"}))


def test_alfworld_data_holds_the_games_played(env, tmp_path, monkeypatch):
    _fake_alfworld_data(tmp_path)
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path))
    tasks = env.load(None)
    assert [t.id for t in tasks] == [
        "alfworld-look_at_obj_in_light-Statue-None-DeskLamp-livingroom_a-trial_livingroom_a-look-statue",
        "alfworld-pick_and_place_simple-SprayBottle-None-Toilet-bathroom_a-trial_bathroom_a-place-spraybottle",
        "alfworld-pick_heat_then_place_in_recep-Egg-None-DiningTable-kitchen_a-trial_kitchen_a-heat-egg",
    ]
    assert [t.goal for t in tasks] == [
        "examine the statue with the desklamp",
        "put some spraybottle on toilet",
        "heat some egg and put it in diningtable",
    ]
    assert [t.data["type"] for t in tasks] == [
        "look_at_obj_in_light",
        "pick_and_place_simple",
        "pick_heat_then_place_in_recep",
    ]
    assert [t.id for t in env.load(tmp_path)] == [t.id for t in tasks]  # the same folder as --data
    assert len(env.load(None, limit=1)) == 1

    session, results = play(env, tasks[1], SOLUTIONS["bathroom_a-place-spraybottle"])
    assert session.observation.endswith("Your task is to: put some spraybottle on toilet.")
    assert results[-1].won and results[-1].reward == 1.0

    [single] = env.load(Path(tasks[0].data["game_file"]))
    assert single.goal == "examine the statue with the desklamp" and single.data["type"] == "look_at_obj_in_light"


def test_a_broken_game_file_is_bad_data(env, tmp_path):
    [game_file] = build.write_game_tree(tmp_path, layouts.SAMPLE_TASKS[:1], walkthroughs=SOLUTIONS)
    data = json.loads(game_file.read_text())
    game_file.write_text(json.dumps(data | {"pddl_problem": "(define (problem"}))
    with pytest.raises(BadData, match=re.escape(f"{game_file}: the PDDL problem does not parse")):
        env.load(tmp_path)
    game_file.write_text("{not json")
    with pytest.raises(BadData, match=re.escape(f"{game_file}: not JSON")):
        env.load(tmp_path)


# --- sessions -------------------------------------------------------------------------------


def test_concurrent_sessions_are_independent(env, tasks):
    # Four sessions in four threads, two of them of the same game, started and stepped in
    # lockstep: each wins its own game, and what one does is not seen by another.
    plays = [
        ("kitchen_a-clean-mug", SOLUTIONS["kitchen_a-clean-mug"]),
        ("kitchen_a-clean-mug", ["go to cabinet 4", "look", "look", "look"]),
        ("bedroom_a-two-cd", SOLUTIONS["bedroom_a-two-cd"]),
        ("livingroom_a-look-statue", SOLUTIONS["livingroom_a-look-statue"]),
    ]
    barrier = threading.Barrier(len(plays))
    outcomes: dict[int, list] = {}
    errors: list[BaseException] = []
    stdout = sys.stdout

    def run(i: int, task_id: str, commands: list[str]) -> None:
        try:
            barrier.wait(timeout=30)
            session = env.start(tasks[task_id])
            try:
                results = []
                for command in commands:
                    barrier.wait(timeout=30) if len(results) < 4 else None
                    results.append(session.step(command))
                outcomes[i] = results
            finally:
                session.close()
        except BaseException as e:  # re-raised below, in the test's thread
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i, *p)) for i, p in enumerate(plays)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert all(outcomes[i][-1].won for i in (0, 2, 3))
    # session 0 opened cabinet 4 and took the mug; session 1, same game, still finds it closed
    assert outcomes[1][0].observation == "You arrive at cabinet 4. The cabinet 4 is closed."
    assert not outcomes[1][-1].won
    assert sys.stdout is stdout and sys.argv[0] != "translate.py"


def test_closed_sessions_give_their_engine_back(env, tasks):
    env.start(tasks["kitchen_a-clean-mug"]).close()
    free = len(engine._FREE_LIBS)
    for task_id in ("kitchen_a-heat-egg", "bedroom_a-two-cd"):
        env.start(tasks[task_id]).close()
    assert len(engine._FREE_LIBS) == free  # reused, not one new library copy per game


# --- prompts and the generator ---------------------------------------------------------------


def test_instructions_name_the_commands_and_the_cap(env):
    text = env.instructions()
    forms = ["go to", "take X from Y", "move X to Y", "put X in/on Y", "open X", "clean X with Y"]
    forms += ["heat X with Y", "cool X with Y", "use X", "toggle X", "examine X", "inventory", "look", "think:"]
    for form in forms:
        assert form in text, form
    assert "at most 50 actions" in text and "{{" not in text


def test_the_examples_are_real_games_played_by_the_engine(env, tmp_path):
    # Each example in the prompt file replays, observation for observation, on the engine.
    examples = env.examples().split("\n\n")
    assert len(examples) == len(layouts.EXAMPLE_TASKS) == 2
    for example, house in zip(examples, layouts.EXAMPLE_TASKS, strict=True):
        lines = example.split("\n")
        actions = [line.removeprefix("Action: ") for line in lines if line.startswith("Action: ")]
        observations = [line.removeprefix("Observation: ") for line in lines if line.startswith("Observation: ")]
        assert all(line.startswith(("Thought: ", "Action: ", "Observation: ")) for line in lines[2:])
        problem_file = tmp_path / f"{house.id}.pddl"
        problem_file.write_text(problem.problem_text(house), encoding="utf-8")
        task = Task(f"alfworld-{house.id}", "alfworld", house.goal, {"problem": str(problem_file), "type": house.type})
        session = env.start(task)
        try:
            assert "\n".join(lines[:2]) == session.observation
            results = [session.step(a) for a in actions]
        finally:
            session.close()
        assert [r.observation for r in results] == observations
        assert results[-1].won and not any(r.won for r in results[:-1])


def test_the_engines_planner_solves_a_sample_problem(env, tasks):
    house = next(t for t in layouts.SAMPLE_TASKS if t.id == "kitchen_b-place-peppershaker")
    commands = engine.plan(engine.game_data(problem.problem_text(house), house.goal), house.id)
    assert commands
    _, results = play(env, tasks[house.id], commands)
    assert results[-1].won


def test_problem_names_follow_alfworlds_demangler(env, tasks):
    # "cabinet 4" in our layout is the receptacle the player sees as "cabinet 4".
    text = problem.problem_text(next(t for t in layouts.SAMPLE_TASKS if t.id == "kitchen_a-clean-mug"))
    assert "Cabinet_bar_02 - receptacle ; cabinet 4" in text
    assert "(inReceptacle Mug_bar_00 Cabinet_bar_02)" in text
    assert "Sink_bar_00_bar_SinkBasin - receptacle ; sinkbasin 1" in text
    with pytest.raises(ValueError, match=re.escape("numbers [1, 3] must run 1..3")):
        bad = layouts.HouseTask(
            "x",
            layouts.KITCHEN_A,
            "pick_and_place_simple",
            "g",
            "mug",
            "cabinet",
            None,
            {"cabinet 1": ("mug 1", "mug 3")},
        )
        problem.problem_text(bad)
