"""WebShop offline: catalogue and tasks, pages and actions, the reward, the step cap, bad data."""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from training.envs import get_text_env
from training.envs.base import BadData
from training.envs.data import SAMPLES
from training.envs.interactive import StepResult, Task
from training.envs.webshop import WebShopEnv, WebShopSession
from training.envs.webshop.catalogue import CATALOGUE_PATH, Picker, Product, generate_catalogue, load_catalogue
from training.envs.webshop.generate import generated_files
from training.envs.webshop.reward import token_set_ratio, type_reward
from training.envs.webshop.tasks import SAMPLE_PATH

ENV = WebShopEnv()
EXAMPLE_PRODUCTS = SAMPLES / "webshop_example_products.json"
EXAMPLE_TASKS = SAMPLES / "webshop_example_tasks.jsonl"


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def solve(env: WebShopEnv, task: Task, *, options: dict[str, str] | None = None) -> list[StepResult]:
    """A scripted shopper: search the instruction, page to the task's product, choose options, buy."""
    session = env.start(task)
    results = [session.step(f"search[{task.goal}]")]
    asin = task.data["asin"]
    while asin not in results[-1].info["clickables"]:
        assert "Next >" in results[-1].info["clickables"], f"{asin} not found for {task.goal!r}"
        results.append(session.step("click[Next >]"))
    results.append(session.step(f"click[{asin}]"))
    for value in (task.data["options"] if options is None else options).values():
        results.append(session.step(f"click[{value}]"))
    results.append(session.step("click[Buy Now]"))
    return results


# --- the catalogue and the sample tasks ----------------------------------------------


def test_shipped_catalogue_and_tasks_equal_the_generators_output() -> None:
    for path, text in generated_files().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is stale: python -m training.envs.webshop.generate"
        )


def test_the_generator_is_deterministic_and_seeded() -> None:
    assert generate_catalogue() == generate_catalogue()
    assert generate_catalogue(seed=1)[0] != generate_catalogue(seed=2)[0]
    picked = Picker(5).sample(range(10), 4)
    assert len(set(picked)) == 4 and picked == sorted(picked)  # distinct, in the input's order
    assert Picker(3).shuffled(range(20)) == Picker(3).shuffled(range(20)) != list(range(20))


def test_catalogue_has_about_200_varied_products() -> None:
    products = load_catalogue()
    assert len(products) == 200
    assert len({p.asin for p in products}) == 200
    assert all(re.fullmatch(r"B0[0-9A-Z]{8}", p.asin) for p in products)
    categories = {p.category.split(" › ")[1] for p in products}
    assert {"Shoes", "Shirts", "Headphones", "Coffee", "Skin Care", "Furniture"} <= categories
    for p in products:
        assert p.title and p.description and p.features and p.price > 0
        assert len(p.attributes) >= 3 and p.options
        assert all(len(values) >= 2 for _, values in p.options)


def test_sample_tasks_load_as_webshop_tasks() -> None:
    tasks = ENV.load(None)
    assert len(tasks) == 50 and ENV.sample_path() == SAMPLE_PATH
    assert len({t.id for t in tasks}) == 50
    t = tasks[0]
    assert t.id == "webshop-1" and t.env == "webshop" and t.goal == t.data["instruction"]
    assert t.goal.endswith(f"and price lower than {t.data['price_upper']:.2f} dollars")
    assert ENV.load(None, limit=3) == tasks[:3]
    assert ENV.load(None, limit=0) == []
    assert get_text_env("WebShop").name == "webshop"


# --- scripted wins and losses ----------------------------------------------------------


def test_every_sample_task_is_won_by_the_scripted_shopper() -> None:
    for task in ENV.load(None):
        results = solve(ENV, task)
        last = results[-1]
        assert last.done and last.won and last.reward == 1.0, (task.id, last.info)
        assert last.info["reason"] == "finished" and last.info["asin"] == task.data["asin"]
        assert all(not r.done for r in results[:-1])
        assert all(r.reward == 0.0 for r in results[:-1])  # nothing is earned before buying
        assert not any(r.info["invalid"] for r in results)
        assert "Your score (min 0.0, max 1.0) [SEP] 1.0" in last.observation


def test_a_wrong_option_loses_with_the_hand_computed_reward() -> None:
    task = ENV.load(None)[0]
    product = ENV.product(task.data["asin"])
    group, wanted = next(iter(task.data["options"].items()))
    wrong = next(v for g, values in product.options if g == group for v in values if v != wanted)
    last = solve(ENV, task, options={**task.data["options"], group: wrong})[-1]
    n_att, n_opt = len(task.data["attributes"]), len(task.data["options"])
    # every attribute, every option but one, and the price: (A + O - 1 + 1) / (A + O + 1)
    assert last.done and not last.won
    assert last.reward == pytest.approx((n_att + n_opt) / (n_att + n_opt + 1))
    assert last.reward < 1.0


def test_buying_a_product_of_another_category_scores_zero() -> None:
    task = ENV.load(None)[0]  # hiking boots
    session = ENV.start(task)
    r = session.step("search[whole bean coffee]")
    coffee = r.info["clickables"][2]  # the first product after Back to Search and Next >
    assert "coffee" in ENV.product(coffee).query
    session.step(f"click[{coffee}]")
    last = session.step("click[Buy Now]")
    assert last.done and not last.won and last.reward == 0.0
    assert last.info["score"]["r_type"] == 0.0


# --- the reward, against hand computations on a hand-written shop --------------------


def product(**fields: Any) -> Product:
    base: dict[str, Any] = {"description": "A product.", "features": ["GOOD: yes"], "options": {}}
    return Product.from_json({**base, **fields})


TARGET = product(
    asin="B0TEST0001",
    title="Acme Trail Running Shoes Men - Non Slip, Memory Foam",
    category="Clothing › Shoes › Running Shoes",
    query="running shoes",
    price=50.0,
    attributes=["non slip", "breathable", "memory foam"],
    options={"size": ["8", "9", "10"], "color": ["black", "white"]},
)
OTHER_BRAND = product(  # same type, lacks "non slip", says "breathable" only in its description, too dear
    asin="B0TEST0002",
    title="Bolt Running Shoes - Lightweight",
    category="Clothing › Shoes › Running Shoes",
    query="running shoes",
    price=70.0,
    attributes=["lightweight"],
    description="Breathable mesh upper.",
    options={"size": ["9", "10"], "color": ["red", "black"]},
)
COFFEE = product(  # another category: title shares no noun, so r_type 0 whatever else matches
    asin="B0TEST0003",
    title="Bean Co Ground Coffee - Organic",
    category="Grocery › Coffee › Ground Coffee",
    query="ground coffee",
    price=10.0,
    attributes=["non slip", "breathable"],
    options={"size": ["9", "12"]},
)
RACK = product(  # another category, one title noun of the target's five: overlap 0.2 -> r_type 0.5
    asin="B0TEST0004",
    title="Zed Shoes Rack - Non Slip",
    category="Home & Kitchen › Storage › Shoe Racks",
    query="shoe rack",
    price=30.0,
    attributes=["non slip"],
    options={"color": ["black", "walnut"]},
)
SHOP = WebShopEnv([TARGET, OTHER_BRAND, COFFEE, RACK])
GOAL = {"attributes": ["non slip", "breathable"], "options": {"size": "9", "color": "black"}, "price_upper": 60.0}


def goal_task(**changes: Any) -> Task:
    data = {"instruction": "i need non slip breathable running shoes", "asin": TARGET.asin, **GOAL, **changes}
    return Task(id="webshop-t", env="webshop", goal=data["instruction"], data=data)


def buy(shop: WebShopEnv, task: Task, asin: str, clicks: list[str]) -> StepResult:
    session = shop.start(task)
    r = session.step(f"search[{shop.product(asin).title}]")
    assert asin in r.info["clickables"]
    for action in [f"click[{asin}]", *(f"click[{c}]" for c in clicks), "click[Buy Now]"]:
        r = session.step(action)
        assert not r.info["invalid"], r.observation
    return r


@pytest.mark.parametrize(
    ("asin", "clicks", "reward", "r_type"),
    [
        # attributes 2/2, options 2/2, price ok: 5/5
        (TARGET.asin, ["9", "black"], 1.0, 1.0),
        # the wrong color: (2 + 1 + 1) / 5
        (TARGET.asin, ["9", "white"], 0.8, 1.0),
        # no option chosen scores none: (2 + 0 + 1) / 5
        (TARGET.asin, [], 0.6, 1.0),
        # a later click replaces the earlier one in its group: size 9, color black
        (TARGET.asin, ["8", "white", "9", "black"], 1.0, 1.0),
        # breathable found in the description, non slip missing, both options, over the price: (1 + 2 + 0) / 5
        (OTHER_BRAND.asin, ["9", "black"], 0.6, 1.0),
        # every attribute and the price, but no shared title noun: r_type 0
        (COFFEE.asin, ["9"], 0.0, 0.0),
        # r_type 0.5 * (non slip + black + price) / 5 = 0.5 * 3 / 5
        (RACK.asin, ["black"], 0.3, 0.5),
    ],
)
def test_reward_against_hand_computations(asin: str, clicks: list[str], reward: float, r_type: float) -> None:
    r = buy(SHOP, goal_task(), asin, clicks)
    assert r.done and r.reward == pytest.approx(reward)
    assert r.won == (reward == 1.0)
    assert r.info["score"]["r_type"] == r_type


def test_price_over_the_bound_loses_the_price_point() -> None:
    r = buy(SHOP, goal_task(price_upper=49.99), TARGET.asin, ["9", "black"])
    assert r.reward == pytest.approx(4 / 5) and not r.won and r.info["score"]["price_ok"] is False
    assert buy(SHOP, goal_task(price_upper=50.0), TARGET.asin, ["9", "black"]).won  # at the bound is fine


def test_attributes_match_fuzzily_on_words() -> None:
    # "memory-foam" and "foam memory" are the same words as the product's "memory foam"
    r = buy(SHOP, goal_task(attributes=["memory-foam", "foam memory", "arch support"]), TARGET.asin, ["9", "black"])
    assert r.info["score"]["attributes"] == ["memory-foam", "foam memory"]
    assert r.reward == pytest.approx((2 + 2 + 1) / 6)
    assert token_set_ratio("long lasting", "Long-Lasting") == 100.0
    assert token_set_ratio("lasting", "long lasting") == 100.0  # all its words are in the other
    assert token_set_ratio("machine wash", "hand wash") < 85
    assert token_set_ratio("gluten free", "sugar free") < 85
    assert token_set_ratio("", "x") == 0.0


def test_options_match_exactly_not_by_word_subset() -> None:
    shirt = product(
        asin="B0TEST0005",
        title="Acme Polo Shirt",
        category="Clothing › Shirts › Polo Shirt",
        query="polo shirt",
        price=20.0,
        attributes=["machine wash"],
        options={"size": ["large", "x-large"]},
    )
    shop = WebShopEnv([shirt])
    data = {"instruction": "polo shirt", "asin": shirt.asin, "attributes": [], "options": {"size": "large"}}
    task = Task(id="webshop-s", env="webshop", goal="polo shirt", data={**data, "price_upper": 30.0})
    assert buy(shop, task, shirt.asin, ["x-large"]).reward == pytest.approx(1 / 2)  # only the price
    assert buy(shop, task, shirt.asin, ["large"]).reward == 1.0


@pytest.mark.parametrize(
    ("query", "category", "overlap", "r_type"),
    [
        (True, True, 1.0, 1.0),
        (True, False, 0.15, 1.0),  # the query matches: no 0.5
        (False, True, 0.15, 1.0),  # two category levels match
        (False, False, 0.25, 1.0),  # title overlap above 0.2
        (False, False, 0.2, 0.5),
        (False, False, 0.1, 0.5),
        (True, True, 0.05, 0.1),  # overlap under 0.1 overrides every match
        (False, False, 0.05, 0.1),
        (True, True, 0.0, 0.0),  # no shared title noun at all
    ],
)
def test_type_reward_follows_webshops_rule(query: bool, category: bool, overlap: float, r_type: float) -> None:
    assert type_reward(query_match=query, category_match=category, title_overlap=overlap) == r_type


# --- pages and actions -----------------------------------------------------------------


def test_start_page_and_results_page_are_in_webshop_text_format() -> None:
    task = ENV.load(None)[0]
    session = ENV.start(task)
    assert session.observation == f"WebShop [SEP] Instruction: [SEP] {task.goal} [SEP] Search"
    assert session.steps == 0
    r = session.step(f"search[{task.goal}]")
    parts = r.observation.split(" [SEP] ")
    assert parts[:3] == ["Back to Search", "Page 1 (Total results: 50)", "Next >"]
    listed = parts[3:]
    assert len(listed) == 30  # 10 products: asin, title, price
    for asin, title, price in zip(listed[::3], listed[1::3], listed[2::3], strict=True):
        p = ENV.product(asin)
        assert (title, price) == (p.title, f"${p.price:.2f}")
    assert session.steps == 1 and r.info["page"] == "results"


def test_item_page_sub_pages_and_navigation() -> None:
    task = ENV.load(None)[0]
    p = ENV.product(task.data["asin"])
    session = ENV.start(task)
    results_page = session.step(f"search[{task.goal}]").observation
    item = session.step(f"click[{p.asin.lower()}]")  # asins click in any case
    expected = ["Back to Search", "< Prev"]
    for group, values in p.options:
        expected += [group, *values]
    expected += [p.title, f"Price: ${p.price:.2f}", "Rating: N.A.", "Description", "Features", "Reviews", "Buy Now"]
    assert item.observation.split(" [SEP] ") == expected
    assert session.step("click[Description]").observation == f"Back to Search [SEP] < Prev [SEP] {p.description}"
    assert session.step("click[< Prev]").observation == item.observation
    assert session.step("click[features]").observation.split(" [SEP] ")[2:] == list(p.features)
    assert session.step("click[< prev]").observation == item.observation
    assert session.step("click[Reviews]").observation == (
        "Back to Search [SEP] < Prev [SEP] There are no reviews for this product yet."
    )
    session.step("click[< Prev]")
    assert session.step("click[< Prev]").observation == results_page  # back to the same results
    again = session.step("click[Back to Search]")
    assert again.observation == session.observation and again.info["page"] == "search"
    assert not again.info["invalid"]
    assert session.step("search[coffee]").info["page"] == "results"  # searching works again


def test_paging_through_results() -> None:
    session = ENV.start(ENV.load(None)[0])
    r = session.step("search[gluten free]")
    total = int(re.search(r"Total results: (\d+)", r.observation).group(1))  # type: ignore[union-attr]
    assert total > 10
    first_page = r.info["clickables"]
    r = session.step("click[Next >]")
    assert "Page 2 (Total results" in r.observation
    assert r.observation.split(" [SEP] ")[:2] == ["Back to Search", f"Page 2 (Total results: {total})"]
    assert "< Prev" in r.info["clickables"]
    assert not set(r.info["clickables"][3:]) & set(first_page)  # other products
    r = session.step("click[next>]")  # spaces and case do not matter
    assert f"Page 3 (Total results: {total})" in r.observation
    r = session.step("click[< Prev]")
    assert "Page 2 " in r.observation
    r = session.step("click[< Prev]")
    assert r.info["clickables"] == first_page and "< Prev" not in r.info["clickables"]
    bad = session.step("click[< Prev]")  # no previous page on page 1
    assert bad.info["invalid"]
    last_page = (total - 1) // 10 + 1
    for _ in range(last_page - 1):
        r = session.step("click[Next >]")
    assert f"Page {last_page} " in r.observation and "Next >" not in r.info["clickables"]
    assert len(r.info["clickables"]) - 2 == total - 10 * (last_page - 1)
    assert session.step("click[Next >]").info["invalid"]


def test_search_with_no_match_shows_an_empty_results_page() -> None:
    session = ENV.start(ENV.load(None)[0])
    r = session.step("search[zzzqqq xylophone]")
    assert r.observation == "Back to Search [SEP] Page 1 (Total results: 0)"
    assert not r.info["invalid"] and r.info["clickables"] == ["Back to Search"]


@pytest.mark.parametrize(
    ("setup", "action", "says"),
    [
        ([], "buy the shoes", "is not an action"),
        ([], "search shoes", "is not an action"),
        ([], "purchase[B0DEN3KUTQ]", "unknown action 'purchase'"),
        ([], "search[]", "needs a query"),
        ([], "click[Buy Now]", "this page has no buttons"),
        (["search[boots]"], "click[B000000000]", "there is no button 'B000000000'"),
        (["search[boots]"], "search[shoes]", "works only on the search page"),
        (["search[boots]"], "click[Buy Now]", "there is no button"),
        (["search[hiking boots]", "click[B0DEN3KUTQ]"], "click[purple]", "there is no button 'purple'"),
        (["search[hiking boots]", "click[B0DEN3KUTQ]"], "search[shoes]", "works only on the search page"),
        (["search[hiking boots]", "click[B0DEN3KUTQ]", "click[Description]"], "click[Buy Now]", "no button"),
    ],
)
def test_invalid_actions_answer_an_error_and_change_nothing(setup: list[str], action: str, says: str) -> None:
    session = ENV.start(ENV.load(None)[0])  # its product, B0DEN3KUTQ, is the top hit for "hiking boots"
    page, buttons = "search", []
    for a in setup:
        r = session.step(a)
        assert not r.info["invalid"], (a, r.observation)
        page, buttons = r.info["page"], r.info["clickables"]
    r = session.step(action)
    assert r.info["invalid"] and r.observation.startswith("Invalid action! ") and says in r.observation
    assert not r.done and r.reward == 0.0 and session.steps == len(setup) + 1
    assert (r.info["page"], r.info["clickables"]) == (page, buttons)  # the page is as it was


def test_buttons_match_without_case_and_an_invalid_click_lists_the_buttons() -> None:
    session = ENV.start(ENV.load(None)[0])
    session.step("search[hiking boots]")
    session.step("CLICK[b0den3kutq]")
    r = session.step("click[nope]")
    assert "Buttons: [Back to Search] [< Prev]" in r.observation and "[Buy Now]" in r.observation
    assert session.step("  click [ BUY NOW ]  ").done


def test_think_answers_ok() -> None:
    session = ENV.start(ENV.load(None)[0])
    r = session.step("think[I should search for boots.]")
    assert r.observation == "OK." and not r.info["invalid"] and session.steps == 1


def test_a_huge_action_is_an_invalid_action_not_a_crash() -> None:
    session = ENV.start(ENV.load(None)[0])
    start = time.perf_counter()
    r = session.step("x" * 100_000)
    assert r.info["invalid"] and len(r.observation) < 200
    r = session.step("search[" + "hiking boots " * 8_000 + "]")  # 100 KB of query still searches
    assert r.info["page"] == "results" and not r.info["invalid"]
    assert time.perf_counter() - start < 2


# --- the step cap and the end of an episode ------------------------------------------


def test_step_cap_ends_the_episode_with_reward_zero() -> None:
    assert ENV.max_steps == 15
    task = ENV.load(None)[0]
    session = ENV.start(task)
    session.step(f"search[{task.goal}]")
    session.step(f"click[{task.data['asin']}]")
    for value in task.data["options"].values():
        r = session.step(f"click[{value}]")
    while session.steps < 14:
        r = session.step("click[Description]" if r.info["page"] == "item" else "click[< Prev]")
        assert not r.done and not r.info["invalid"]
    r = session.step("click[Reviews]" if r.info["page"] == "item" else "click[< Prev]")  # the 15th action
    assert r.done and r.info["reason"] == "step cap" and r.reward == 0.0 and not r.won
    after = session.step("click[Buy Now]")  # nothing more happens
    assert after.done and after.info["invalid"] and after.reward == 0.0 and not after.won
    assert session.steps == 15


def test_buying_on_the_last_step_counts() -> None:
    task = ENV.load(None)[0]
    session = ENV.start(task)
    for _ in range(15 - 2 - len(task.data["options"]) - 1):
        assert not session.step("think[waste a step]").done
    session.step(f"search[{task.goal}]")  # its product is the top hit
    session.step(f"click[{task.data['asin']}]")
    for value in task.data["options"].values():
        session.step(f"click[{value}]")
    r = session.step("click[Buy Now]")
    assert session.steps == 15 and r.done and r.info["reason"] == "finished"
    assert r.won and r.reward == 1.0


def test_close_ends_the_session_and_is_safe_twice() -> None:
    session = ENV.start(ENV.load(None)[0])
    session.close()
    session.close()
    assert session.step("search[boots]").info["invalid"]


# --- sessions are independent ----------------------------------------------------------


def test_sessions_of_one_task_do_not_share_state() -> None:
    task = ENV.load(None)[0]
    a, b = ENV.start(task), ENV.start(task)
    a.step(f"search[{task.goal}]")
    assert b.step("click[Next >]").info["invalid"]  # b is still on the search page
    a.step(f"click[{task.data['asin']}]")
    assert b.step(f"search[{task.goal}]").info["page"] == "results"
    assert (a.steps, b.steps) == (2, 2)


def test_concurrent_sessions_play_as_they_do_alone() -> None:
    tasks = ENV.load(None, limit=16)
    alone = {t.id: [(r.observation, r.reward, r.won) for r in solve(ENV, t)] for t in tasks}
    barrier = threading.Barrier(8)

    def play(task: Task) -> tuple[str, list[tuple[str, float, bool]]]:
        barrier.wait(timeout=10)
        out = []
        for r in solve(ENV, task):
            out.append((r.observation, r.reward, r.won))
            time.sleep(0)  # let the other threads step in between
        return task.id, out

    with ThreadPoolExecutor(max_workers=8) as pool:
        together = dict(pool.map(play, tasks[:8]))
        together.update(pool.map(play, tasks[8:]))
    assert together == alone


# --- bad data --------------------------------------------------------------------------

ROW = {
    "id": "1",
    "instruction": "i need non slip running shoes",
    "asin": TARGET.asin,
    "attributes": ["non slip"],
    "options": {"size": "9"},
    "price_upper": 60.0,
}


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({k: v for k, v in ROW.items() if k != "asin"}), "no 'asin' field"),
        (json.dumps({**ROW, "id": 7}), "'id' is int, not a string"),
        (json.dumps({**ROW, "instruction": "  "}), "'instruction' is empty"),
        (json.dumps({**ROW, "asin": "B0NOTTHERE"}), "asin 'B0NOTTHERE' is not in the catalogue"),
        (json.dumps({**ROW, "attributes": "non slip"}), "'attributes' must be a list"),
        (json.dumps({**ROW, "attributes": ["waterproof"]}), "does not have the attribute(s) ['waterproof']"),
        (json.dumps({**ROW, "options": ["9"]}), "'options' must be an object"),
        (json.dumps({**ROW, "options": {"flavor": "mocha"}}), "has no option group 'flavor'"),
        (json.dumps({**ROW, "options": {"size": "13"}}), "offers no size '13'"),
        (json.dumps({**ROW, "price_upper": "60"}), "'price_upper' must be a positive number"),
        (json.dumps({**ROW, "price_upper": 0}), "'price_upper' must be a positive number"),
        (json.dumps({**ROW, "price_upper": 40.0}), "costs 50.00, over the bound 40.00"),
    ],
)
def test_bad_task_lines_name_the_file_and_line(tmp_path: Path, line: str, says: str) -> None:
    path = write_jsonl(tmp_path / "tasks.jsonl", [ROW, "", {**ROW, "id": "2"}, line])
    with pytest.raises(BadData) as e:
        SHOP.load(path)
    message = str(e.value)
    assert message.startswith(f"{path} line 4: ") and says in message and "\n" not in message


def test_other_bad_task_files(tmp_path: Path) -> None:
    with pytest.raises(BadData, match="line 2: task id '1' appears twice"):
        SHOP.load(write_jsonl(tmp_path / "dup.jsonl", [ROW, ROW]))
    with pytest.raises(BadData, match="no tasks"):
        SHOP.load(write_jsonl(tmp_path / "empty.jsonl", [""]))
    with pytest.raises(BadData, match="no such file"):
        SHOP.load(tmp_path / "missing.jsonl")
    with pytest.raises(BadData, match="must be 0 or more"):
        SHOP.load(None, limit=-1)
    with pytest.raises(BadData, match="not a task of this shop"):
        SHOP.start(ENV.load(None)[0])
    tasks = SHOP.load(write_jsonl(tmp_path / "ok.jsonl", [ROW]))
    assert tasks[0].id == "webshop-1" and tasks[0].data["options"] == {"size": "9"}


def test_a_bad_catalogue_names_the_file_and_product_line(tmp_path: Path) -> None:
    rows = [TARGET.to_json(), {**OTHER_BRAND.to_json(), "price": "cheap"}]
    path = tmp_path / "products.json"
    path.write_text("[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]\n", encoding="utf-8")
    with pytest.raises(BadData, match=r"products.json line 3: 'price' must be a number"):
        WebShopEnv(path)
    path.write_text('[\n{"asin": \n', encoding="utf-8")
    with pytest.raises(BadData, match=r"products.json line 3: not JSON"):
        load_catalogue(path)
    clash = {**TARGET.to_json(), "options": {"size": ["9"], "color": ["9"]}}
    path.write_text(json.dumps([clash]), encoding="utf-8")
    with pytest.raises(BadData, match="option value '9' appears twice"):
        load_catalogue(path)
    assert load_catalogue(CATALOGUE_PATH)[0].asin == generate_catalogue()[0].asin


# --- the actor's prompt pieces ---------------------------------------------------------


def parse_examples(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each example's first observation and its (action, observation) pairs."""
    examples = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        assert lines[0].startswith("WebShop [SEP] Instruction: [SEP] ")  # as the loop shows it: unlabelled
        first, steps, action = lines[0], [], None
        for line in lines[1:]:
            label, _, rest = line.partition(": ")
            assert label in ("Thought", "Action", "Observation"), line
            if label == "Action":
                action = rest
            elif label == "Observation":
                assert action is not None
                steps.append((action, rest))
                action = None
        examples.append((first, steps))
    return examples


def test_examples_replay_exactly_on_their_invented_shop() -> None:
    shop = WebShopEnv(EXAMPLE_PRODUCTS)
    tasks = shop.load(EXAMPLE_TASKS)
    examples = parse_examples(ENV.examples())
    assert len(examples) == len(tasks) == 2
    for task, (first, steps) in zip(tasks, examples, strict=True):
        session: WebShopSession = shop.start(task)
        assert session.observation == first
        for action, observation in steps:
            r = session.step(action)
            assert r.observation == observation, action
        assert r.done and r.won
    # the example products are invented: none is in the shop's catalogue
    catalogue = {p.asin for p in ENV.products} | {p.title for p in ENV.products}
    assert not any(p.asin in catalogue or p.title in catalogue for p in shop.products)


def test_instructions_name_the_actions_and_the_step_cap() -> None:
    text = ENV.instructions()
    assert "search[" in text and "click[" in text and "Buy Now" in text and "[SEP]" in text
    assert f"at most {ENV.max_steps} actions" in text and "{{" not in text
