"""The shop's products: what one is, the generator that writes the catalogue, and loading it.

The catalogue (training/envs/data/webshop_products.json) is the output of
`generate_catalogue()`, written by `python -m training.envs.webshop.generate`; a test
checks the shipped file still equals the generator's output.

Randomness comes from `random.Random(seed).random()` only: Python guarantees that
method's sequence for a given seed across versions, while `choice`/`sample`/`shuffle`
may change, so the picks below are built on it (`Picker`).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from training.envs.base import BadData
from training.envs.data import SAMPLES
from training.envs.webshop.words import CATEGORIES, CategoryWords

CATALOGUE_PATH = SAMPLES / "webshop_products.json"
CATALOGUE_SEED = 12  # issue 12
PRODUCT_COUNT = 200
PATH_SEP = " › "  # WebShop's category paths use this separator

T = TypeVar("T")


@dataclass(frozen=True)
class Product:
    asin: str  # "B0" + 8 letters/digits, like an Amazon ASIN
    title: str
    category: str  # department › category › product type
    query: str  # the product type, as a shopper would search it (WebShop's scrape query)
    price: float
    attributes: tuple[str, ...]
    options: tuple[tuple[str, tuple[str, ...]], ...]  # (group, values) in display order
    description: str
    features: tuple[str, ...]  # the bullet points

    def option_group(self, value: str) -> str | None:
        """The group an option value belongs to (values are unique within a product)."""
        for group, values in self.options:
            if value in values:
                return group
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "asin": self.asin,
            "title": self.title,
            "category": self.category,
            "query": self.query,
            "price": self.price,
            "attributes": list(self.attributes),
            "options": {group: list(values) for group, values in self.options},
            "description": self.description,
            "features": list(self.features),
        }

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Product:
        """A product from its JSON object; ValueError says what is wrong."""
        for key in ("asin", "title", "category", "query", "description"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise ValueError(f"{key!r} must be a non-empty string")
        price = row.get("price")
        if isinstance(price, bool) or not isinstance(price, int | float) or not math.isfinite(price) or price < 0:
            raise ValueError("'price' must be a number of dollars, 0 or more")
        attributes = _strings(row.get("attributes"), "attributes")
        features = _strings(row.get("features"), "features")
        options = row.get("options")
        if not isinstance(options, dict):
            raise ValueError("'options' must be an object of group -> list of values")
        groups = tuple((str(group), _strings(values, f"options.{group}")) for group, values in options.items())
        seen: set[str] = set()
        for _, values in groups:
            for value in values:
                if value.lower() in seen:
                    raise ValueError(f"option value {value!r} appears twice (a click must name one value)")
                seen.add(value.lower())
        return cls(
            asin=row["asin"],
            title=row["title"],
            category=row["category"],
            query=row["query"],
            price=float(price),
            attributes=attributes,
            options=groups,
            description=row["description"],
            features=features,
        )


def _strings(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{name!r} must be a list of non-empty strings")
    return tuple(value)


class Picker:
    """Deterministic picks built on random.random(), the one stable method (see the module doc)."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def below(self, n: int) -> int:
        return min(int(self._rng.random() * n), n - 1)

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def chance(self, p: float) -> bool:
        return self._rng.random() < p

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        """k distinct items, in the order they come in `items` (a partial Fisher-Yates)."""
        idx = list(range(len(items)))
        for i in range(k):
            j = i + self.below(len(idx) - i)
            idx[i], idx[j] = idx[j], idx[i]
        return [items[i] for i in sorted(idx[:k])]

    def shuffled(self, items: Sequence[T]) -> list[T]:
        out = list(items)
        for i in range(len(out) - 1, 0, -1):
            j = self.below(i + 1)
            out[i], out[j] = out[j], out[i]
        return out


def generate_catalogue(seed: int = CATALOGUE_SEED, count: int = PRODUCT_COUNT) -> list[Product]:
    """The shop's products: categories in turn, each product drawn from its category's words."""
    picker = Picker(seed)
    asins: set[str] = set()
    products = []
    for i in range(count):
        words = CATEGORIES[i % len(CATEGORIES)]
        products.append(_product(picker, words, _asin(picker, asins)))
    return products


def _asin(picker: Picker, taken: set[str]) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O, as ASINs avoid them
    while True:
        asin = "B0" + "".join(picker.pick(alphabet) for _ in range(8))
        if asin not in taken:
            taken.add(asin)
            return asin


def _product(picker: Picker, words: CategoryWords, asin: str) -> Product:
    brand = picker.pick(words.brands)
    kind = picker.pick(words.types)
    adjective = picker.pick(words.adjectives)
    attributes = picker.shuffled(picker.sample(words.attributes, 3 + picker.below(3)))
    options = []
    for group, pool in words.options_for(kind).items():
        # A run of neighbouring values (sizes 7-9, not 6, 9 and 12), at least three.
        k = min(len(pool), 3 + picker.below(3))
        start = picker.below(len(pool) - k + 1)
        options.append((group, tuple(pool[start : start + k])))
    low, high = words.price
    price = float(low + picker.below(high - low)) + picker.pick((0.99, 0.49, 0.95, 0.0))
    title = f"{brand} {_title_case(adjective)} {_title_case(kind)} - " + ", ".join(
        _title_case(a) for a in attributes[:3]
    )
    use = picker.pick(words.uses)
    description = (
        f"The {brand} {adjective} {kind} is made for {use}. "
        f"Highlights: {', '.join(attributes[:-1])} and {attributes[-1]}. "
        f"Choose the {' and '.join(group for group, _ in options)} that suits you."
    )
    tails = picker.shuffled(words.tails)
    features = tuple(f"{a.upper()}: {tails[i % len(tails)]}" for i, a in enumerate(attributes))
    return Product(
        asin=asin,
        title=title,
        category=PATH_SEP.join((*words.path, _title_case(kind))),
        query=kind,
        price=round(price, 2),
        attributes=tuple(attributes),
        options=tuple(options),
        description=description,
        features=features,
    )


def _title_case(text: str) -> str:
    # str.title() would write "100% Cotton" fine but "Usb C" and "T-Shirt" oddly; capitalise
    # each space-separated word's first letter and leave the rest as written.
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def catalogue_json(products: Sequence[Product]) -> str:
    """The catalogue file's text: one product per line inside a JSON list, for readable diffs."""
    lines = ",\n".join("  " + json.dumps(p.to_json(), ensure_ascii=False) for p in products)
    return "[\n" + lines + "\n]\n"


def load_catalogue(path: str | Path = CATALOGUE_PATH) -> list[Product]:
    """Products from a catalogue file; BadData names the file and the product's line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise BadData(f"{path}: cannot read the catalogue ({e})") from None
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadData(f"{path} line {e.lineno}: not JSON ({e.msg})") from None
    if not isinstance(rows, list):
        raise BadData(f"{path}: a catalogue is a JSON list of products")
    products: list[Product] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        where = f"{path} line {i + 2}"  # catalogue_json writes product i on line i + 2
        if not isinstance(row, dict):
            raise BadData(f"{where}: a product is a JSON object")
        try:
            product = Product.from_json(row)
        except ValueError as e:
            raise BadData(f"{where}: {e}") from None
        if product.asin.upper() in seen:
            raise BadData(f"{where}: asin {product.asin} appears twice")
        seen.add(product.asin.upper())
        products.append(product)
    if not products:
        raise BadData(f"{path}: the catalogue has no products")
    return products
