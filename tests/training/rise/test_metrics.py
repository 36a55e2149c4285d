"""The paper's metrics on hand-made episodes (definitions in training/rise/metrics.py)."""

from __future__ import annotations

from types import SimpleNamespace

from tests.training.rise.toy_env import ToyEnv
from training.rise.metrics import compute, vote, vote_index

ENV = ToyEnv()


def episode(answers: list[str | None], gold: str, samples: list[list[dict]] | None = None) -> SimpleNamespace:
    rewards = [-1 if a is None else int(a == gold) for a in answers]
    return SimpleNamespace(answers=answers, rewards=rewards, samples=samples or [[{}] for _ in answers])


def test_vote_counts_equivalent_answers_and_breaks_ties_by_the_latest() -> None:
    assert vote(ENV, ["3", "4", "3", None, None]) == "3"
    assert vote(ENV, ["3", "4"]) == "4"  # a tie: the most recent answer wins
    assert vote(ENV, ["3", "4", "4", "3"]) == "3"
    assert vote_index(ENV, ["3", "4", "4", "3"]) == 3
    assert vote(ENV, [None, None]) is None


def test_majority_vote_and_oracle_differ_when_one_turn_was_right() -> None:
    # gold 7: right only at turn 3, then the model drifts back to 5.
    episodes = [
        episode(["5", "6", "7", "5", "5"], "7"),  # p1@t5 right (turn 3), m1@t5 wrong (5 wins 3 votes)
        episode(["7", "7", "7", "7", "7"], "7"),  # right throughout
        episode(["1", "2", "3", "4", None], "7"),  # never right
        episode(["7", "2", "2", "7", "2"], "7"),  # right at 1 and 4, vote goes to 2
    ]
    m = compute(ENV, episodes)
    assert m.problems == 4 and m.turns == 5
    assert m.accuracy == [0.5, 0.25, 0.5, 0.5, 0.25]
    assert m.p1 == [0.5, 0.5, 0.75, 0.75, 0.75]
    # m1@t1..t5: t1 [5|7|1|7] -> 2/4; t2 ties go to the latest: [6|7|2|2] -> 1/4;
    # t3 [7(latest of 5,6,7)|7|3|2] -> 2/4; t4 [5 (5:2 votes)|7|4|7 (7:2,2:2 -> latest 7)] -> 2/4;
    # t5 [5|7|4|2] -> 1/4
    assert m.m1 == [0.5, 0.25, 0.5, 0.5, 0.25]
    assert m.headline() == {"m1@t1": 0.5, "m1@t5": 0.25, "p1@t5": 0.75}
    assert m.fixed == [0, 0, 1, 1, 0] and m.broke == [0, 1, 0, 1, 1]
    assert m.unreadable == [0, 0, 0, 0, 1]
    table = m.table()
    assert "m1@t" in table and "75.0%" in table


def test_parallel_mode_votes_over_the_samples_of_turn_one() -> None:
    def sample(answer: str | None, gold: str) -> dict:
        return {"answer": answer, "reward": -1 if answer is None else int(answer == gold)}

    episodes = [
        episode(["3"], "3", [[sample(a, "3") for a in ["3", "4", "3", "5", None]]]),  # vote 3: right
        episode(["4"], "3", [[sample(a, "3") for a in ["4", "4", "3", "5", "4"]]]),  # vote 4: wrong, any: right
        episode(["1"], "3", [[sample(a, "3") for a in ["1", "2", "1", "2", "1"]]]),  # wrong either way
    ]
    m = compute(ENV, episodes)
    assert m.samples_at_t1 == 5
    assert m.mn_t1 == 1 / 3 and m.pn_t1 == 2 / 3
    assert m.headline()["m5@t1"] == 1 / 3 and m.headline()["p5@t1"] == 2 / 3


def test_no_episodes_give_empty_metrics() -> None:
    m = compute(ENV, [])
    assert m.problems == 0 and m.headline() == {}
