"""TrueSkill for two-player matches (Herbrich, Minka and Graepel 2006), written out.

The paper ranked its ablations with TrueSkill from people's rankings; here a judge
model compares two conditions' answers to the same question, and each comparison is
a match: A wins, B wins, or a draw. Each condition has a Gaussian skill N(mu, sigma^2),
starting at mu = 25, sigma = 25/3. For a match between winner w and loser l:

    sigma^2 += tau^2                        (dynamics, for both players)
    c   = sqrt(2 beta^2 + sigma_w^2 + sigma_l^2)
    t   = (mu_w - mu_l) / c,   e = epsilon / c   (epsilon: the draw margin)
    win:  v = pdf(t - e) / cdf(t - e),            w = v (v + t - e)
    draw: v = (pdf(-e - t) - pdf(e - t)) / (cdf(e - t) - cdf(-e - t)),
          w = v^2 + ((e - t) pdf(e - t) + (e + t) pdf(e + t)) / (cdf(e - t) - cdf(-e - t))
    mu_w += sigma_w^2 / c * v,   mu_l -= sigma_l^2 / c * v
    sigma^2 *= 1 - sigma^2 / c^2 * w          (each player with its own sigma)

with beta = sigma0 / 2, tau = sigma0 / 100 and epsilon from a 10% draw probability:
epsilon = sqrt(2) beta * inv_cdf((p_draw + 1) / 2). These are the usual defaults.
A conservative rank uses mu - 3 sigma.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

MU = 25.0
SIGMA = MU / 3
BETA = SIGMA / 2
TAU = SIGMA / 100
DRAW_PROBABILITY = 0.10
_N = NormalDist()


@dataclass(frozen=True)
class Rating:
    mu: float = MU
    sigma: float = SIGMA

    @property
    def conservative(self) -> float:
        return self.mu - 3 * self.sigma


def draw_margin(p_draw: float = DRAW_PROBABILITY, beta: float = BETA) -> float:
    return math.sqrt(2) * beta * _N.inv_cdf((p_draw + 1) / 2)


def _v_w_win(t: float, e: float) -> tuple[float, float]:
    x = t - e
    denom = _N.cdf(x)
    v = -x if denom < 1e-12 else _N.pdf(x) / denom  # a huge upset: the limit of v is -x
    return v, v * (v + x)


def _v_w_draw(t: float, e: float) -> tuple[float, float]:
    denom = _N.cdf(e - t) - _N.cdf(-e - t)
    if denom < 1e-12:
        v = -t  # far apart and yet a draw: pull towards each other
        return v, 1.0
    v = (_N.pdf(-e - t) - _N.pdf(e - t)) / denom
    w = v * v + ((e - t) * _N.pdf(e - t) + (e + t) * _N.pdf(e + t)) / denom
    return v, w


def rate_1vs1(winner: Rating, loser: Rating, *, drawn: bool = False) -> tuple[Rating, Rating]:
    """New ratings after one match ("winner" and "loser" are just A and B on a draw)."""
    var_w = winner.sigma**2 + TAU**2
    var_l = loser.sigma**2 + TAU**2
    c = math.sqrt(2 * BETA**2 + var_w + var_l)
    t = (winner.mu - loser.mu) / c
    e = draw_margin() / c
    v, w = _v_w_draw(t, e) if drawn else _v_w_win(t, e)
    w = min(max(w, 0.0), 1.0 - 1e-9)  # keep variances positive
    new_w = Rating(winner.mu + var_w / c * v, math.sqrt(var_w * (1 - var_w / c**2 * w)))
    new_l = Rating(loser.mu - var_l / c * v, math.sqrt(var_l * (1 - var_l / c**2 * w)))
    return new_w, new_l


def rank(players: list[str], matches: list[tuple[str, str, str]]) -> dict[str, Rating]:
    """Ratings after `matches` in order; each is (a, b, "A" | "B" | "tie")."""
    ratings = {p: Rating() for p in players}
    for a, b, outcome in matches:
        if outcome == "B":
            ratings[b], ratings[a] = rate_1vs1(ratings[b], ratings[a])
        else:
            ratings[a], ratings[b] = rate_1vs1(ratings[a], ratings[b], drawn=outcome == "tie")
    return ratings
