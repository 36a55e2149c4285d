"""Shopping tasks: the instruction and the goal behind it, generated and loaded.

A task file is JSONL, one task a line:

    {"id": "7", "instruction": "i need ... and price lower than 60.00 dollars",
     "asin": "B0...", "attributes": ["non slip"], "options": {"size": "9", "color": "black"},
     "price_upper": 60.0}

`asin` is the product the goal was made from (it must be in the catalogue), `attributes`
and `options` what the instruction asks for, `price_upper` the price bound in dollars.
Every task is checked at load to be winnable by its own product (its attributes match,
its option values exist, its price is within the bound); a line that fails says why.

The sample set (training/envs/data/webshop_sample.jsonl) is `generate_tasks()`'s output
on the shipped catalogue, in WebShop's instruction style ("i need a long lasting ...,
and price lower than 100.00 dollars").
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from training.envs.base import BadData
from training.envs.data import SAMPLES, read_jsonl
from training.envs.interactive import Task
from training.envs.webshop.catalogue import Picker, Product
from training.envs.webshop.reward import Goal, attribute_matches
from training.envs.webshop.words import CATEGORIES, OPTION_PHRASES

SAMPLE_PATH = SAMPLES / "webshop_sample.jsonl"
TASK_SEED = 1212
TASK_COUNT = 50
ENV = "webshop"

_TEMPLATES = (
    "i need {attrs} {kind} with {opts}, and price lower than {price} dollars",
    "i am looking for {kind} that is {attrs}, with {opts}, and price lower than {price} dollars",
    "find me {attrs} {kind} in {opts}, and price lower than {price} dollars",
    "i want to buy {kind} which is {attrs}, and {opts}, and price lower than {price} dollars",
    "shopping for {attrs} {kind}, {opts}, and price lower than {price} dollars",
)


def option_phrase(group: str, value: str) -> str:
    if value.startswith("with "):  # "with charging case" needs no group name
        return value
    if group in OPTION_PHRASES:
        return OPTION_PHRASES[group].format(value=value)
    if group == "size":
        return f"size {value}" if value.replace(".", "").isdigit() else f"{value} size"
    return f"{value} {group}"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _price_bound(price: float, factor: float) -> float:
    x = price * factor
    step = 5 if x < 20 else 10 if x < 100 else 50
    return float(math.ceil(x / step) * step)


def generate_tasks(products: Sequence[Product], seed: int = TASK_SEED, count: int = TASK_COUNT) -> list[dict[str, Any]]:
    """`count` task rows: categories in turn, a random product of each, a random goal from it."""
    picker = Picker(seed)
    by_category: dict[str, list[Product]] = {}
    for p in products:
        by_category.setdefault(p.category.split(" › ")[1], []).append(p)
    pools = [picker.shuffled(by_category[c.path[1]]) for c in CATEGORIES if c.path[1] in by_category]
    chosen: list[Product] = []
    k = 0
    while len(chosen) < count and any(k < len(pool) for pool in pools):
        chosen += [pool[k] for pool in pools if k < len(pool)][: count - len(chosen)]
        k += 1
    return [_task_row(picker, str(n), p) for n, p in enumerate(chosen, start=1)]


def _task_row(picker: Picker, task_id: str, product: Product) -> dict[str, Any]:
    n_attrs = 1 if picker.chance(0.3) else 2 if picker.chance(0.75) else 3
    attrs = picker.shuffled(picker.sample(product.attributes, min(n_attrs, len(product.attributes))))
    groups = [(g, v) for g, v in product.options if picker.chance(0.75)] or [product.options[0]]
    options = {group: picker.pick(values) for group, values in groups}
    price_upper = _price_bound(product.price, picker.pick((1.1, 1.25, 1.5, 2.0)))
    instruction = picker.pick(_TEMPLATES).format(
        attrs=_and(attrs),
        kind=product.query,
        opts=_and([option_phrase(g, v) for g, v in options.items()]),
        price=f"{price_upper:.2f}",
    )
    return {
        "id": task_id,
        "instruction": instruction,
        "asin": product.asin,
        "attributes": attrs,
        "options": options,
        "price_upper": price_upper,
    }


def tasks_jsonl(rows: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def goal_of(task: Task) -> Goal:
    data = task.data
    return Goal(
        asin=data["asin"],
        attributes=tuple(data["attributes"]),
        options=tuple(data["options"].values()),
        price_upper=float(data["price_upper"]),
    )


def load_tasks(path: str | Path, catalogue: dict[str, Product], *, limit: int | None = None) -> list[Task]:
    """Tasks from a JSONL file; BadData names the file and line of a bad one."""
    if limit is not None and limit < 0:
        raise BadData(f"limit {limit}: must be 0 or more")
    path = Path(path).expanduser()
    if not path.exists():
        raise BadData(f"{path}: no such file")
    tasks: list[Task] = []
    ids: set[str] = set()
    for n, row in read_jsonl(path, ("id", "instruction", "asin")):
        if limit is not None and len(tasks) >= limit:
            break
        where = f"{path} line {n}"
        try:
            task = _task(row, catalogue)
        except ValueError as e:
            raise BadData(f"{where}: {e}") from None
        if task.id in ids:
            raise BadData(f"{where}: task id {row['id']!r} appears twice")
        ids.add(task.id)
        tasks.append(task)
    if not tasks and limit != 0:
        raise BadData(f"{path}: no tasks (the file is empty)")
    return tasks


def _task(row: dict[str, Any], catalogue: dict[str, Product]) -> Task:
    instruction = " ".join(row["instruction"].split())
    if not instruction:
        raise ValueError("'instruction' is empty")
    asin = row["asin"].strip().upper()
    product = catalogue.get(asin)
    if product is None:
        raise ValueError(f"asin {row['asin']!r} is not in the catalogue")
    attrs = row.get("attributes")
    if not isinstance(attrs, list) or not all(isinstance(a, str) and a.strip() for a in attrs):
        raise ValueError("'attributes' must be a list of non-empty strings")
    missing = [a for a in attrs if a not in attribute_matches(product, attrs)]
    if missing:
        raise ValueError(f"product {asin} does not have the attribute(s) {missing}: the task could not be won")
    options = row.get("options")
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        raise ValueError("'options' must be an object of option group -> value")
    offered = dict(product.options)
    for group, value in options.items():
        if group not in offered:
            raise ValueError(f"product {asin} has no option group {group!r} (it has {sorted(offered)})")
        if value not in offered[group]:
            raise ValueError(f"product {asin} offers no {group} {value!r} (it offers {list(offered[group])})")
    price = row.get("price_upper")
    if isinstance(price, bool) or not isinstance(price, int | float) or not math.isfinite(price) or price <= 0:
        raise ValueError("'price_upper' must be a positive number of dollars")
    if product.price > price:
        raise ValueError(f"product {asin} costs {product.price:.2f}, over the bound {price:.2f}")
    data = {
        "instruction": instruction,
        "asin": asin,
        "attributes": list(attrs),
        "options": dict(options),
        "price_upper": float(price),
    }
    return Task(id=f"{ENV}-{row['id']}", env=ENV, goal=instruction, data=data)
