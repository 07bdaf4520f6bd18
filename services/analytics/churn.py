"""Churn risk: a logistic regression over purchase-model outputs and behaviour, shipped only if it beats BG/NBD.

The model is trained on features as of a cut date and the label "no purchase in the
holdout" (the `holdout_days` after the cut). Customers are split deterministically by a
hash of their id: 70 % train, 30 % test. On the test customers it reports its ROC AUC next
to the AUC of the baseline ranking "fewer BG/NBD expected purchases in the holdout = more
at risk". It is shipped (its probability becomes `churn.risk`) only if its AUC is higher;
otherwise `churn.risk` is 1 − P(alive) of the purchase model. Features are standardised,
the regression is L2-regularised (C = 1) and solved by lbfgs: no randomness.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from services.analytics import clv
from services.analytics.features import History, Summary, spend_between

FEATURES = (
    "recency_days",
    "frequency",
    "tenure_days",
    "spend_trend",
    "p_alive",
    "expected_purchases",
    "open_urgent_tickets",
    "low_csat",
    "negative_sentiment",
    "unsubscribes",
)
TREND_WINDOW = timedelta(days=90)
"""Spend trend = spend in the last 90 days before the cut − spend in the 90 days before those."""
URGENT = "P1"
LOW_CSAT = 2.0
"""An average CSAT (1–5) at or below this counts as low."""
CLOSED = ("resolved", "closed")
TRAIN_SHARE = 0.7


def context_features(doc: Mapping[str, Any] | None) -> tuple[float, float, float, float]:
    """(open urgent tickets, low CSAT 0/1, negative social interactions, unsubscribed channels) from a 360."""
    doc = doc or {}
    support, social, marketing = doc.get("support") or {}, doc.get("social") or {}, doc.get("marketing") or {}
    tickets = (support.get("tickets") or {}).values()
    urgent = sum(1 for t in tickets if t.get("priority") == URGENT and t.get("status") not in CLOSED)
    csat = support.get("csat_average")
    low_csat = 1.0 if csat is not None and float(csat) <= LOW_CSAT else 0.0
    negative = float((social.get("by_sentiment") or {}).get("negative", 0))
    return float(urgent), low_csat, negative, float(len(marketing.get("unsubscribed_channels") or []))


def feature_matrix(
    summary: Summary,
    params: clv.BgNbdParams,
    histories: Mapping[str, History],
    contexts: Mapping[str, Mapping[str, Any]],
    horizon_units: float,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """One row per customer of `summary`, columns in the order of FEATURES."""
    s, cut = summary, summary.cut
    p_alive = clv.probability_alive(params, s.x, s.t_x, s.big_t)
    expected = clv.expected_purchases(params, horizon_units, s.x, s.t_x, s.big_t)
    rows = []
    for i, customer_id in enumerate(s.customer_ids):
        history = histories[customer_id]
        recent = spend_between(history, cut - TREND_WINDOW, cut)
        before = spend_between(history, cut - 2 * TREND_WINDOW, cut - TREND_WINDOW)
        recency = (s.big_t[i] - s.t_x[i]) * s.unit_days
        behaviour = (recency, s.x[i], s.big_t[i] * s.unit_days, float(recent - before), p_alive[i], expected[i])
        rows.append(behaviour + context_features(contexts.get(customer_id)))
    return np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES))


def in_training_set(customer_id: str) -> bool:
    """A stable 70/30 split: the same customer is always on the same side."""
    return hashlib.sha256(customer_id.encode()).digest()[0] < int(256 * TRAIN_SHARE)


@dataclass
class ChurnModel:
    """The trained model, its evaluation, and whether it is shipped."""

    features: tuple[str, ...] = FEATURES
    shipped: bool = False
    reason: str = ""
    auc: float | None = None
    baseline_auc: float | None = None
    n_train: int = 0
    n_test: int = 0
    churn_rate: float | None = None
    means: list[float] = field(default_factory=list)
    scales: list[float] = field(default_factory=list)
    coefficients: list[float] = field(default_factory=list)
    intercept: float = 0.0

    def risk(self, matrix: np.ndarray[Any, np.dtype[np.float64]]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """P(churn) of each row under the stored coefficients."""
        z = ((matrix - np.array(self.means)) / np.array(self.scales)) @ np.array(self.coefficients) + self.intercept
        result: np.ndarray[Any, np.dtype[np.float64]] = 1.0 / (1.0 + np.exp(-z))
        return result


def train(
    ids: Sequence[str],
    matrix: np.ndarray[Any, np.dtype[np.float64]],
    churned: np.ndarray[Any, np.dtype[np.bool_]],
) -> ChurnModel:
    """Fit on the training customers, evaluate against the expected-purchases baseline on the others."""
    # scikit-learn loads in seconds; imported here so the API process starts without it.
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

    in_train = np.array([in_training_set(c) for c in ids], dtype=bool)
    model = ChurnModel(n_train=int(in_train.sum()), n_test=int((~in_train).sum()))
    model.churn_rate = float(churned.mean()) if len(churned) else None
    for name, part in (("training", in_train), ("test", ~in_train)):
        if len(set(churned[part].tolist())) < 2:
            model.reason = f"the {name} customers are all of one class: nothing to learn or evaluate"
            return model
    scaler = StandardScaler().fit(matrix[in_train])
    scales = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    regression = LogisticRegression(C=1.0, max_iter=2000).fit(
        (matrix[in_train] - scaler.mean_) / scales, churned[in_train]
    )
    model.means, model.scales = [float(v) for v in scaler.mean_], [float(v) for v in scales]
    model.coefficients, model.intercept = [float(v) for v in regression.coef_[0]], float(regression.intercept_[0])
    test = ~in_train
    model.auc = float(roc_auc_score(churned[test], model.risk(matrix[test])))
    expected = matrix[test][:, FEATURES.index("expected_purchases")]
    model.baseline_auc = float(roc_auc_score(churned[test], -expected))
    model.shipped = model.auc > model.baseline_auc
    model.reason = "beats the baseline" if model.shipped else "does not beat the baseline: risk = 1 − P(alive)"
    return model
