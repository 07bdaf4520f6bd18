"""BG/NBD purchase model and Gamma-Gamma spend model: published likelihoods, fits and predictions.

Implemented with scipy rather than taken from a library: `lifetimes` (last release 2020)
and `btyd` (a 2022 beta) are unmaintained against numpy 2 / scipy 1.17, and
`pymc-marketing` pulls PyMC and PyTensor (C compilation at import) for what is a
four-parameter maximum-likelihood fit. The formulas are those of Fader, Hardie & Lee,
"Counting your customers the easy way" (2005) and "RFM and CLV" (2005), in the
numerically stable form the `lifetimes` package uses. Fits start from a fixed point and
use no randomness, so the same data give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

Array = NDArray[np.float64]
P = TypeVar("P")


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD: purchase rates ~ Gamma(r, alpha); drop-out probabilities ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma: spend per transaction ~ Gamma(p, nu) with nu ~ Gamma(q, gamma)."""

    p: float
    q: float
    gamma: float


@dataclass(frozen=True)
class Fit(Generic[P]):
    """Fitted parameters, the total log-likelihood at them, and the number of customers fitted."""

    params: P
    log_likelihood: float
    n_customers: int
    converged: bool


def bgnbd_log_likelihood(params: BgNbdParams, x: Array, t_x: Array, big_t: Array) -> Array:
    """Per-customer log-likelihood of (x repeat purchases, last at t_x, observed for T) under BG/NBD."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
    result: Array = a1 + a2 + np.logaddexp(a3, a4)
    return result


def gamma_gamma_log_likelihood(params: GammaGammaParams, x: Array, m: Array) -> Array:
    """Per-customer log-likelihood of x repeat transactions of average value m under Gamma-Gamma."""
    p, q, v = params.p, params.q, params.gamma
    result: Array = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + (p * x) * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )
    return result


def fit_bgnbd(x: Array, t_x: Array, big_t: Array) -> Fit[BgNbdParams]:
    """Maximum-likelihood BG/NBD parameters (optimised on their logs, from (1, 1, 1, 1))."""

    def loss(log_params: Array) -> float:
        params = BgNbdParams(*(float(v) for v in np.exp(log_params)))
        return -float(np.mean(bgnbd_log_likelihood(params, x, t_x, big_t)))

    result = minimize(loss, np.zeros(4), method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 8000})
    params = BgNbdParams(*(float(v) for v in np.exp(result.x)))
    return Fit(params, -float(result.fun) * len(x), len(x), bool(result.success))


def fit_gamma_gamma(x: Array, m: Array) -> Fit[GammaGammaParams]:
    """Maximum-likelihood Gamma-Gamma parameters over customers with x ≥ 1 and m > 0."""

    def loss(log_params: Array) -> float:
        params = GammaGammaParams(*(float(v) for v in np.exp(log_params)))
        return -float(np.mean(gamma_gamma_log_likelihood(params, x, m)))

    result = minimize(loss, np.zeros(3), method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 8000})
    params = GammaGammaParams(*(float(v) for v in np.exp(result.x)))
    return Fit(params, -float(result.fun) * len(x), len(x), bool(result.success))


def _dropout_odds(params: BgNbdParams, x: Array, t_x: Array, big_t: Array) -> Array:
    """a/(b+x-1) · ((α+T)/(α+t_x))^(r+x) for repeat buyers, 0 for others: the odds of having dropped out."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (a / (b + x - 1)) * ((alpha + big_t) / (alpha + t_x)) ** (r + x)
    result: Array = np.where(x > 0, odds, 0.0)
    return result


def probability_alive(params: BgNbdParams, x: Array, t_x: Array, big_t: Array) -> Array:
    """P(still active at T | x, t_x, T)."""
    result: Array = 1.0 / (1.0 + _dropout_odds(params, x, t_x, big_t))
    return result


def expected_purchases(params: BgNbdParams, t: float | Array, x: Array, t_x: Array, big_t: Array) -> Array:
    """E[purchases in (T, T+t] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    ha, hb, hc = r + x, b + x, a + b + x - 1
    z = t / (alpha + big_t + t)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ln_hyp = np.log(hyp2f1(ha, hb, hc, z))
        # Euler's transformation where the series overflows: the same value, computed stably.
        ln_hyp_alt = np.log(hyp2f1(hc - ha, hc - hb, hc, z)) + (hc - ha - hb) * np.log(1 - z)
    ln_hyp = np.where(np.isfinite(ln_hyp), ln_hyp, ln_hyp_alt)
    numerator = (hc / (a - 1)) * (1 - np.exp(ln_hyp + (r + x) * np.log((alpha + big_t) / (alpha + big_t + t))))
    result: Array = numerator / (1.0 + _dropout_odds(params, x, t_x, big_t))
    return result


def expected_order_value(params: GammaGammaParams, x: Array, m: Array) -> Array:
    """E[spend per transaction | x, m]: a weighted mean of the population's and the customer's average."""
    p, q, v = params.p, params.q, params.gamma
    population = p * v / (q - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        individual = p * (v + x * m) / (p * x + q - 1)
    result: Array = np.where(x > 0, individual, population)
    return result


def discounted_expected_purchases(
    params: BgNbdParams, x: Array, t_x: Array, big_t: Array, *, horizon: float, step: float, rate_per_unit: float
) -> Array:
    """Expected purchases over `horizon`, each `step` discounted at `(1+rate_per_unit)^-t` (end of step)."""
    edges = np.append(np.arange(step, horizon, step), horizon)
    total = np.zeros_like(x)
    previous = np.zeros_like(x)
    for edge in edges:
        cumulative = expected_purchases(params, float(edge), x, t_x, big_t)
        total += (cumulative - previous) / (1.0 + rate_per_unit) ** edge
        previous = cumulative
    return total
