"""WebShop, offline: a small shop of our own with WebShop's pages, actions and reward.

    env = WebShopEnv()                       # the shipped catalogue (~200 generated products)
    tasks = env.load(None, limit=5)          # the sample tasks (training/envs/data/webshop_sample.jsonl)
    s = env.start(tasks[0])
    s.observation  # "WebShop [SEP] Instruction: [SEP] i need ... dollars [SEP] Search"
    s.step("search[non slip running shoes]")
    s.step("click[B0...]"); s.step("click[9]"); s.step("click[Buy Now]")  # reward, won

The pieces: words.py (the generator's word lists), catalogue.py (products, the
generator, loading), tasks.py (instructions and goals), search.py (BM25), session.py
(pages and actions), reward.py (WebShop's score). `python -m training.envs.webshop.generate`
rewrites the shipped catalogue and sample tasks. See docs/retroformer_envs.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from llm.prompts import render_prompt
from training.envs.base import BadData
from training.envs.data import PROMPTS, prompt_text
from training.envs.interactive import Task
from training.envs.webshop.catalogue import CATALOGUE_PATH, Product, load_catalogue
from training.envs.webshop.search import SearchIndex
from training.envs.webshop.session import WebShopSession
from training.envs.webshop.tasks import SAMPLE_PATH, load_tasks


class WebShopEnv:
    name = "webshop"
    max_steps = 15  # Reflexion's WebShop step cap

    def __init__(self, catalogue: Sequence[Product] | str | Path | None = None) -> None:
        """The shop over the shipped catalogue, a catalogue file, or products given directly (tests)."""
        if catalogue is None or isinstance(catalogue, str | Path):
            products = load_catalogue(CATALOGUE_PATH if catalogue is None else catalogue)
        else:
            products = list(catalogue)
        self.products = tuple(products)
        self._by_asin = {p.asin.upper(): p for p in self.products}
        if len(self._by_asin) != len(self.products):
            raise BadData("the catalogue has two products with one asin")
        self.index = SearchIndex(self.products)

    def product(self, asin: str) -> Product:
        return self._by_asin[asin.upper()]

    def sample_path(self) -> Path:
        return SAMPLE_PATH

    def load(self, path: str | Path | None, *, limit: int | None = None) -> list[Task]:
        return load_tasks(self.sample_path() if path is None else path, self._by_asin, limit=limit)

    def start(self, task: Task) -> WebShopSession:
        if task.env != self.name or task.data.get("asin", "").upper() not in self._by_asin:
            raise BadData(f"task {task.id}: not a task of this shop (its product is not in the catalogue)")
        return WebShopSession(self, task)

    def instructions(self) -> str:
        return render_prompt(PROMPTS / "webshop_instructions.txt", max_steps=self.max_steps)

    def examples(self) -> str:
        return prompt_text("webshop_examples")


__all__ = ["Product", "WebShopEnv", "WebShopSession"]
