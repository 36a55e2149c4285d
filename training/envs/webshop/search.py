"""The shop's search engine: BM25 over each product's title, type, attributes and text.

WebShop searched with a BM25 index (Pyserini) and showed the top 50 hits, 10 a page;
this is the same ranking written out in plain Python (200 products need no more).
Ties keep catalogue order, so a query always gives the same pages.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from training.envs.webshop.catalogue import Product

MAX_RESULTS = 50  # WebShop's "Total results: 50"
K1, B = 1.5, 0.75  # the usual BM25 constants
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")  # "6.76" stays one token


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def document(product: Product) -> str:
    return " ".join((product.title, product.query, *product.attributes, product.description, *product.features))


class SearchIndex:
    """Built once per catalogue and only read afterwards, so sessions on threads can share it."""

    def __init__(self, products: Sequence[Product]) -> None:
        self.products = tuple(products)
        self._tf = [Counter(tokens(document(p))) for p in self.products]
        self._len = [sum(tf.values()) for tf in self._tf]
        self._avg = sum(self._len) / max(len(self._len), 1)
        df: Counter[str] = Counter()
        for tf in self._tf:
            df.update(tf.keys())
        n = len(self.products)
        # BM25's idf with the +1 inside the log (Lucene's), so it never goes negative.
        self._idf = {term: math.log(1 + (n - d + 0.5) / (d + 0.5)) for term, d in df.items()}

    def search(self, query: str, limit: int = MAX_RESULTS) -> list[Product]:
        """The products that share a word with the query, best first, at most `limit`."""
        terms = [t for t in dict.fromkeys(tokens(query)) if t in self._idf]
        if not terms:
            return []
        scored = []
        for i, tf in enumerate(self._tf):
            s = 0.0
            norm = K1 * (1 - B + B * self._len[i] / self._avg)
            for term in terms:
                f = tf.get(term, 0)
                if f:
                    s += self._idf[term] * f * (K1 + 1) / (f + norm)
            if s > 0:
                scored.append((-s, i))
        scored.sort()
        return [self.products[i] for _, i in scored[:limit]]
