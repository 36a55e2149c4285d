"""The pure measures: density, attendance windows and the invited split, the
hallucination rule, TrueSkill updates, t-intervals, questions and the estimate."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from reverie.engine.config import ABLATIONS
from reverie.evaluation import attendance, believability, judging, network, stats, trueskill
from reverie.evaluation.estimate import Estimate
from reverie.evaluation.schemas import Judgement

START = datetime(2023, 2, 13, 7, 0)


def test_density_counts_distinct_directed_edges_between_different_agents():
    assert network.density(3, []) == 0.0
    assert network.density(3, [("a", "b"), ("a", "b"), ("b", "a"), ("c", "c")]) == pytest.approx(2 / 6)
    everyone = [(a, b) for a in "abcd" for b in "abcd" if a != b]
    assert network.density(4, everyone) == 1.0
    assert network.density(1, []) == 0.0
    # The paper's 25-agent start: 0.167 is about 100 of 600 directed pairs.
    assert network.density(25, [(str(i), str(j)) for i in range(25) for j in range(5) if i != j][:100]) == 100 / 600


def test_the_graph_escapes_names_and_draws_mutual_pairs_once():
    svg = network.graph_svg(["<b>Ann Lee", "Bo Wu", "Cy Ng"], [("<b>Ann Lee", "Bo Wu"), ("Bo Wu", "<b>Ann Lee"),
                                                               ("Cy Ng", "Bo Wu")], title="t & u")  # fmt: skip
    assert "<b>" not in svg and "&lt;b&gt;Ann Lee" in svg and "t &amp; u" in svg
    assert svg.count("<line") == 2 and svg.count('stroke-width="2.2"') == 1


def test_attendance_window_steps_and_sector():
    window = attendance.Window("Hobbs Cafe", datetime(2023, 2, 13, 7, 1), datetime(2023, 2, 13, 7, 2))
    assert window.steps(START, 10) == range(6, 12)  # 07:01:00 .. 07:01:50
    assert window.steps(datetime(2023, 2, 13, 7, 0, 5), 10) == range(6, 12)  # steps at :05, :15 ...: 07:01:05 first
    assert attendance.sector_of("eating cake @ the Ville:Hobbs Cafe:cafe:counter") == "Hobbs Cafe"
    assert attendance.sector_of("chatting @ <persona> Maria Lopez") == ""
    assert attendance.sector_of("sleeping") == ""
    scenario = {"place": "Hobbs Cafe", "starts": "2023-02-14T17:00:00", "ends": "2023-02-14T19:00:00"}
    assert attendance.window_of(scenario) == attendance.Window(
        "Hobbs Cafe", datetime(2023, 2, 14, 17), datetime(2023, 2, 14, 19)
    )
    assert attendance.window_of({"place": "x"}) is None


def test_invited_means_heard_before_the_party_began_and_the_host_is_apart():
    starts = datetime(2023, 2, 14, 17)
    found = attendance.attendance(
        ["Isabella", "Maria", "Klaus", "Sam", "Tom"], host="Isabella",
        steps_at_place={"Isabella": 720, "Maria": 6, "Sam": 30, "Klaus": 0},
        sec_per_step=10,
        first_heard={"Isabella": START, "Maria": datetime(2023, 2, 14, 9), "Klaus": datetime(2023, 2, 14, 12),
                     "Sam": datetime(2023, 2, 14, 17, 30)},  # Sam heard only at the party
        starts=starts,
    )  # fmt: skip
    assert found.invited == ["Maria", "Klaus"]
    assert found.attended == {"Maria": 1, "Sam": 5}
    assert found.invited_attended == ["Maria"] and found.uninvited_attended == ["Sam"]
    assert found.host_minutes == 120


@pytest.mark.parametrize(
    ("aware", "backed", "counts", "hallucinated"),
    [(True, True, True, False), (True, False, False, True), (False, True, False, False), (False, False, False, False)],
)
def test_a_yes_without_a_memory_is_a_hallucination_not_awareness(aware, backed, counts, hallucinated):
    verdict = judging.classify(aware, " said so ", backed=backed)
    assert verdict.counts is counts and verdict.hallucinated is hallucinated
    assert verdict.evidence == ("said so" if aware else "")


def test_memories_mention_a_fact_by_whole_keywords():
    assert judging.mentions(["Isabella is planning a Valentine's Day Party!"], ["party"])
    assert not judging.mentions(["They were partying all night"], ["party"])
    assert judging.mentions(["Klaus Mueller is reading"], ["Klaus Mueller"])
    assert not judging.mentions(["anything"], [])


def test_the_judge_schema_takes_yes_and_no_words():
    assert Judgement.model_validate({"aware": "yes", "evidence": "a party"}).aware is True
    assert Judgement.model_validate({"aware": "No."}).aware is False
    assert Judgement.model_validate({"aware": True}).aware is True


def test_trueskill_winner_gains_loser_loses_and_both_grow_surer():
    a, b = trueskill.rate_1vs1(trueskill.Rating(), trueskill.Rating())
    # Known values for two new players (mu 25, sigma 25/3, 10% draws): 29.396 / 20.604, sigma 7.171.
    assert a.mu == pytest.approx(29.396, abs=1e-3) and b.mu == pytest.approx(20.604, abs=1e-3)
    assert a.sigma == pytest.approx(7.171, abs=1e-3) and b.sigma == pytest.approx(7.171, abs=1e-3)
    d1, d2 = trueskill.rate_1vs1(trueskill.Rating(), trueskill.Rating(), drawn=True)
    assert d1.mu == pytest.approx(25.0) and d2.mu == pytest.approx(25.0) and d1.sigma < trueskill.SIGMA
    # An upset moves ratings more than an expected win.
    strong, weak = trueskill.Rating(30, 4), trueskill.Rating(20, 4)
    up_weak, _ = trueskill.rate_1vs1(weak, strong)
    exp_strong, _ = trueskill.rate_1vs1(strong, weak)
    assert up_weak.mu - weak.mu > exp_strong.mu - strong.mu > 0


def test_trueskill_ranks_the_condition_that_keeps_winning_first():
    matches = [(a, b, "A") for _ in range(5) for a, b in believability.pairs()]  # earlier in ABLATIONS wins
    rows = believability.standings(believability.trueskill_rank(matches))
    assert [r["condition"] for r in rows] == list(ABLATIONS)
    assert rows[0]["paper_mu"] == believability.PAPER_MU["full"]


def test_t_interval():
    assert stats.t975(1) == 12.706 and stats.t975(30) == 2.042
    assert stats.t975(1000) == pytest.approx(1.962, abs=1e-3)
    m, interval = stats.mean_interval([1.0, 2.0, 3.0])
    assert m == 2.0 and interval == pytest.approx((2 - 4.303 / math.sqrt(3), 2 + 4.303 / math.sqrt(3)))
    assert stats.mean_interval([5.0]) == (5.0, None)
    with pytest.raises(ValueError):
        stats.mean_interval([])


def test_the_questions_are_five_per_category_and_fill_their_fields():
    questions = believability.load_questions()
    assert len(questions) == 25
    assert {q.category for q in questions} == set(believability.CATEGORIES)
    fields = {"first_name": "Klaus", "other": "Maria Lopez", "workplace": "Oak Hill College"}
    texts = [believability.fill(q, fields) for q in questions]
    assert all("{" not in t for t in texts) and any("Maria Lopez" in t for t in texts)
    assert len(believability.pairs()) == 6


def test_the_estimate_adds_interviews_judges_and_runs():
    e = Estimate(
        interviews=10, calls_per_interview=2, prompt_tokens_per_interview=100, completion_tokens_per_interview=50,
        judge_calls=10, judge_prompt_tokens=30, judge_completion_tokens=10, run_steps=4, agents=3,
        tokens_per_agent_step=5.0, step_source="x",
    )  # fmt: skip
    assert e.calls == 30 and e.tokens == 1500 + 400 + 60
    assert "30 model calls" in e.lines()[0] and any("runs: 4 steps x 3 agents" in line for line in e.lines())
