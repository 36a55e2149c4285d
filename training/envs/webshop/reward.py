"""WebShop's reward for a purchase (Yao et al. 2022, "WebShop", section 3.1 and appendix).

    r = r_type * (|U_att ∩ Y_att| + |U_opt ∩ Y_opt| + 1[y_price <= u_price]) / (|U_att| + |U_opt| + 1)

U is the goal (the instruction's attributes, options and price bound), Y the product
bought with the options chosen on its page.

- Attributes: a goal attribute counts when one of the product's attributes is a fuzzy
  match (token-set ratio above 85, WebShop's threshold), or else when the attribute's
  text appears in the product's title, features or description (WebShop does both).
- Options: a goal option value counts when one of the chosen values is the same text
  (case and spacing aside). WebShop used the fuzzy ratio here too, which credits
  "x-large" for "large" and "navy blue" for "blue" (a token subset scores 100); the
  values on a page are a fixed list, so an exact match is the fair test. Options not
  clicked were not chosen, and score nothing.
- Price: 1 when the product's price is at most the goal's bound.
- r_type, the product-type match (WebShop's rule): 1.0 to start; 0.5 when neither the
  search query the product belongs to (its type) nor the category path (two or more
  shared levels) nor the title (noun overlap above 0.2) matches the target's; then 0.1
  when the title overlap is below 0.1, and 0.0 when it is zero. The title overlap is the
  share of the target title's nouns found in the bought one's. WebShop took nouns from
  spaCy's tagger; our titles are generated ("Brand Adjective Type - Attr, Attr"), so
  nouns are the title's words less stop words, numbers, the generator's adjectives and
  the product's own attribute words: the brand and the type ("stridewell running shoes").
  So a different product type in the same category still scores 1.0 when the titles
  share a type word ("hiking boots" for "rain boots"), and 0.0 when they share none.

won is reward == 1.0: every attribute, every option and the price right, of the right type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from training.envs.webshop.catalogue import PATH_SEP, Product
from training.envs.webshop.words import ADJECTIVES

FUZZY_THRESHOLD = 85  # WebShop's token_set_ratio threshold
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a an and are as at be by for from in into is it of on or the to with without your you".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Goal:
    asin: str  # the product the task was made from
    attributes: tuple[str, ...]
    options: tuple[str, ...]  # the option values asked for
    price_upper: float


@dataclass(frozen=True)
class Score:
    reward: float
    r_type: float
    attributes: tuple[str, ...]  # the goal attributes matched
    options: tuple[str, ...]  # the goal option values matched
    price_ok: bool
    title_score: float

    def to_json(self) -> dict[str, object]:
        return {
            "reward": self.reward,
            "r_type": self.r_type,
            "attributes": list(self.attributes),
            "options": list(self.options),
            "price_ok": self.price_ok,
            "title_score": self.title_score,
        }


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def token_set_ratio(a: str, b: str) -> float:
    """0-100 similarity of two phrases as word sets (the token-set ratio WebShop used).

    The shared words, sorted, are compared with each side's full sorted words; the best
    of the three pairings counts, so a phrase whose words all appear in the other scores 100.
    """
    sa, sb = set(words(a)), set(words(b))
    if not sa or not sb:
        return 0.0
    common = " ".join(sorted(sa & sb))
    left = " ".join(x for x in (common, " ".join(sorted(sa - sb))) if x)
    right = " ".join(x for x in (common, " ".join(sorted(sb - sa))) if x)
    pairs = [(left, right)]
    if common:
        pairs += [(common, left), (common, right)]
    return 100.0 * max(SequenceMatcher(None, x, y).ratio() for x, y in pairs)


def attribute_matches(product: Product, wanted: Sequence[str]) -> tuple[str, ...]:
    text = " ".join((product.title, *product.features, product.description)).lower()
    matched = []
    for attr in wanted:
        fuzzy = any(token_set_ratio(have, attr) > FUZZY_THRESHOLD for have in product.attributes)
        if fuzzy or attr.lower() in text:
            matched.append(attr)
    return tuple(matched)


def _norm(value: str) -> str:
    return " ".join(value.lower().split())


def option_matches(chosen: Mapping[str, str], wanted: Sequence[str]) -> tuple[str, ...]:
    have = {_norm(v) for v in chosen.values()}
    return tuple(v for v in wanted if _norm(v) in have)


def title_nouns(product: Product) -> set[str]:
    drop = STOPWORDS | ADJECTIVES | {w for a in product.attributes for w in words(a)}
    return {w for w in words(product.title) if w not in drop and not w.isdigit() and len(w) > 1}


def title_score(bought: Product, target: Product) -> float:
    want = title_nouns(target)
    if not want:
        return 0.2  # WebShop's value when the target title has no nouns
    return len(title_nouns(bought) & want) / len(want)


def type_reward(*, query_match: bool, category_match: bool, title_overlap: float) -> float:
    """WebShop's r_type from its three signals (see the module doc)."""
    r_type = 1.0
    if not (query_match or category_match or title_overlap > 0.2):
        r_type = 0.5
    if title_overlap < 0.1:
        r_type = 0.1
    if title_overlap == 0.0:
        r_type = 0.0
    return r_type


def category_match(a: Product, b: Product) -> bool:
    levels_a = {x.strip().lower() for x in a.category.split(PATH_SEP.strip())}
    levels_b = {x.strip().lower() for x in b.category.split(PATH_SEP.strip())}
    return len(levels_a & levels_b) >= 2


def score(goal: Goal, target: Product, bought: Product, chosen: Mapping[str, str]) -> Score:
    """The reward for buying `bought` with options `chosen` when the goal came from `target`."""
    overlap = title_score(bought, target)
    r_type = type_reward(
        query_match=bought.query.lower() == target.query.lower(),
        category_match=category_match(bought, target),
        title_overlap=overlap,
    )
    attrs = attribute_matches(bought, goal.attributes)
    opts = option_matches(chosen, goal.options)
    price_ok = bought.price <= goal.price_upper
    total = (len(attrs) + len(opts) + int(price_ok)) / (len(goal.attributes) + len(goal.options) + 1)
    return Score(
        reward=r_type * total,
        r_type=r_type,
        attributes=attrs,
        options=opts,
        price_ok=price_ok,
        title_score=overlap,
    )
