"""One game of the shop: the pages, the actions and the purchase.

Pages and actions follow WebShop's text ("simple") mode, so prompts written for WebShop
read the same: a page is its visible texts joined by " [SEP] ", and the actor acts with
`search[query]` on the search page and `click[button]` on a button shown on the page
(buttons match without regard to case or spaces: `click[buy now]`, `click[b09abc1234]`).
`think[...]` (ReAct's WebShop prompts use it) answers "OK.".

    search:      WebShop [SEP] Instruction: [SEP] <instruction> [SEP] Search
    results:     Back to Search [SEP] Page 1 (Total results: 50) [SEP] Next > [SEP]
                 <asin> [SEP] <title> [SEP] $<price> [SEP] ...          (10 products a page)
    item:        Back to Search [SEP] < Prev [SEP] <group> [SEP] <value> [SEP] ... [SEP]
                 <title> [SEP] Price: $<price> [SEP] Rating: N.A. [SEP] Description [SEP]
                 Features [SEP] Reviews [SEP] Buy Now
    sub-page:    Back to Search [SEP] < Prev [SEP] <the description / the features / reviews>
    bought:      Thank you for shopping with us! [SEP] ... [SEP] Your score (min 0.0, max 1.0) [SEP] <reward>

Like ReAct's and Reflexion's WebShop, only the search page repeats the instruction.
A bad action (unknown verb, no brackets, a button not on the page, a search away from
the search page) leaves the page as it was and answers "Invalid action! <why>" with
info["invalid"] = True. Every action counts towards the step cap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from training.envs.interactive import StepResult, Task
from training.envs.webshop.catalogue import Product
from training.envs.webshop.reward import Score, score
from training.envs.webshop.tasks import goal_of

if TYPE_CHECKING:
    from training.envs.webshop import WebShopEnv

SEP = " [SEP] "
PAGE_SIZE = 10
BACK, PREV, NEXT, BUY = "Back to Search", "< Prev", "Next >", "Buy Now"
SUBPAGES = ("Description", "Features", "Reviews")
NO_REVIEWS = "There are no reviews for this product yet."
_ACTION = re.compile(r"^\s*([A-Za-z_]+)\s*\[(.*)\]\s*$", re.DOTALL)


def _key(button: str) -> str:
    """How a clicked name is compared with the buttons: no case, no spaces ("next>" is "Next >")."""
    return "".join(button.lower().split())


def _clip(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


@dataclass
class _State:
    page: str = "search"  # search | results | item | Description | Features | Reviews | bought
    query: str = ""
    results: list[Product] = field(default_factory=list)
    page_no: int = 1
    item: Product | None = None
    chosen: dict[str, str] = field(default_factory=dict)  # option group -> value clicked


class WebShopSession:
    def __init__(self, env: WebShopEnv, task: Task) -> None:
        self.task = task
        self.steps = 0
        self._env = env
        self._goal = goal_of(task)
        self._target = env.product(self._goal.asin)
        self._instruction = task.data["instruction"]
        self._state = _State()
        self._done = False
        self._reward = 0.0
        self._score: Score | None = None
        self._thought = False  # the last action was think[...]
        self.observation = self._render()

    # --- acting --------------------------------------------------------------------

    def step(self, action: str) -> StepResult:
        if self._done:
            return self._result("Invalid action! The episode is over.", invalid=True)
        self.steps += 1
        error = self._act(action)
        if error is not None:
            observation, invalid = f"Invalid action! {error}", True
        else:
            observation, invalid = ("OK." if self._thought else self._render()), False
        if not self._done and self.steps >= self._env.max_steps:
            self._done = True
            self._reward = 0.0
            return self._result(observation, invalid=invalid, reason="step cap")
        return self._result(observation, invalid=invalid, reason="finished" if self._done else None)

    def close(self) -> None:
        self._done = True

    def _act(self, action: str) -> str | None:
        """Carry out one action; the reason it is invalid, or None."""
        self._thought = False
        m = _ACTION.match(action)
        if m is None:
            return f"{_clip(action)!r} is not an action: write search[query] or click[button]."
        verb, arg = m.group(1).lower(), m.group(2).strip()
        if verb == "think":
            self._thought = True
            return None
        if verb == "search":
            if self._state.page != "search":
                return f"search[...] works only on the search page: click[{BACK}] first."
            if not arg:
                return "search[] needs a query, e.g. search[red running shoes]."
            self._search(arg)
            return None
        if verb != "click":
            return f"unknown action {verb!r}: write search[query] or click[button]."
        buttons = {_key(b): b for b in self._buttons()}
        button = buttons.get(_key(arg))
        if button is None:
            if self._state.page == "search":
                return "this page has no buttons: write search[query]."
            shown = " ".join(f"[{b}]" for b in self._buttons())
            return f"there is no button {_clip(arg)!r} on this page. Buttons: {shown}"
        self._click(button)
        return None

    def _search(self, query: str) -> None:
        self._state.query = query
        self._state.results = self._env.index.search(query)
        self._state.page_no = 1
        self._state.page = "results"

    def _click(self, button: str) -> None:
        s = self._state
        if button == BACK:
            self._state = _State()
        elif button == NEXT:
            s.page_no += 1
        elif button == PREV and s.page == "results":
            s.page_no -= 1
        elif button == PREV and s.page == "item":
            s.page, s.item, s.chosen = "results", None, {}
        elif button == PREV:  # from a sub-page back to the item, options kept
            s.page = "item"
        elif s.page == "results":  # a product's asin
            s.item, s.chosen, s.page = self._env.product(button), {}, "item"
        elif button in SUBPAGES:
            s.page = button
        elif button == BUY:
            self._buy()
        else:  # an option value
            assert s.item is not None
            group = s.item.option_group(button)
            assert group is not None
            s.chosen[group] = button

    def _buy(self) -> None:
        item = self._state.item
        assert item is not None
        self._score = score(self._goal, self._target, item, self._state.chosen)
        self._reward = self._score.reward
        self._state.page = "bought"
        self._done = True

    # --- pages ---------------------------------------------------------------------

    def _page_products(self) -> list[Product]:
        start = (self._state.page_no - 1) * PAGE_SIZE
        return self._state.results[start : start + PAGE_SIZE]

    def _buttons(self) -> list[str]:
        s = self._state
        if s.page == "results":
            nav = [BACK] + ([PREV] if s.page_no > 1 else [])
            nav += [NEXT] if s.page_no * PAGE_SIZE < len(s.results) else []
            return nav + [p.asin for p in self._page_products()]
        if s.page == "item":
            assert s.item is not None
            values = [v for _, values in s.item.options for v in values]
            return [BACK, PREV, *values, *SUBPAGES, BUY]
        if s.page in SUBPAGES:
            return [BACK, PREV]
        return []  # the search page (search[...] only) and the bought page

    def _render(self) -> str:
        s = self._state
        if s.page == "search":
            parts = ["WebShop", "Instruction:", self._instruction, "Search"]
        elif s.page == "results":
            parts = [p for p in self._buttons() if p in (BACK, PREV, NEXT)]
            parts.insert(1, f"Page {s.page_no} (Total results: {len(s.results)})")
            for p in self._page_products():
                parts += [p.asin, p.title, f"${p.price:.2f}"]
        elif s.page == "item":
            assert s.item is not None
            parts = [BACK, PREV]
            for group, values in s.item.options:
                parts += [group, *values]
            parts += [s.item.title, f"Price: ${s.item.price:.2f}", "Rating: N.A.", *SUBPAGES, BUY]
        elif s.page in SUBPAGES:
            assert s.item is not None
            body = {
                "Description": [s.item.description],
                "Features": list(s.item.features),
                "Reviews": [NO_REVIEWS],
            }[s.page]
            parts = [BACK, PREV, *body]
        else:
            assert s.item is not None and self._score is not None
            chosen = ", ".join(f"{g}: {v}" for g, v in s.chosen.items()) or "none"
            parts = [
                "Thank you for shopping with us!",
                "Purchased",
                s.item.asin,
                s.item.title,
                f"Options: {chosen}",
                "Your score (min 0.0, max 1.0)",
                f"{round(self._reward, 4)}",
            ]
        return SEP.join(parts)

    def _result(self, observation: str, *, invalid: bool, reason: str | None = None) -> StepResult:
        info: dict[str, Any] = {"invalid": invalid, "page": self._state.page, "clickables": self._buttons()}
        if reason is not None:
            info["reason"] = reason
        if self._score is not None:
            assert self._state.item is not None
            info["asin"] = self._state.item.asin
            info["options"] = dict(self._state.chosen)
            info["score"] = self._score.to_json()
        won = self._score is not None and self._reward == 1.0
        return StepResult(observation=observation, reward=self._reward, done=self._done, won=won, info=info)
