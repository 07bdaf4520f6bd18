"""Churn model: its features, its training, and the rule that it ships only if it beats BG/NBD."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from services.analytics import churn, clv
from services.analytics.features import summarise

IDS = [f"customer-{i:03d}" for i in range(300)]
EXPECTED = churn.FEATURES.index("expected_purchases")
UNSUBSCRIBES = churn.FEATURES.index("unsubscribes")


def noise(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(len(IDS), len(churn.FEATURES)))


def test_context_features_from_a_360() -> None:
    doc = {
        "support": {
            "tickets": {
                "t1": {"priority": "P1", "status": "open"},
                "t2": {"priority": "P1", "status": "resolved"},
                "t3": {"priority": "P3", "status": "open"},
            },
            "csat_average": 1.5,
        },
        "social": {"by_sentiment": {"negative": 2, "positive": 5}},
        "marketing": {"unsubscribed_channels": ["email", "sms"]},
    }
    assert churn.context_features(doc) == (1.0, 1.0, 2.0, 2.0)
    assert churn.context_features(None) == (0.0, 0.0, 0.0, 0.0)
    assert churn.context_features({"support": {"csat_average": 4.2}})[1] == 0.0


def test_feature_matrix_by_hand() -> None:
    history = {date(1997, 1, 1): Decimal(10), date(1997, 3, 1): Decimal(30), date(1997, 5, 1): Decimal(50)}
    summary = summarise({"a": history}, date(1997, 5, 31), 7.0)
    params = clv.BgNbdParams(0.243, 4.414, 0.793, 2.426)
    row = churn.feature_matrix(summary, params, {"a": history}, {}, 13.0)[0]
    named = dict(zip(churn.FEATURES, row.tolist(), strict=True))
    assert named["recency_days"] == pytest.approx(30)
    assert named["frequency"] == 2
    assert named["tenure_days"] == pytest.approx(150)
    assert named["spend_trend"] == pytest.approx(50 - (10 + 30))  # (Mar 2, May 31] minus (Dec 2, Mar 2]
    p_alive = clv.probability_alive(params, summary.x, summary.t_x, summary.big_t)[0]
    assert named["p_alive"] == pytest.approx(p_alive)


def test_a_model_that_beats_the_baseline_is_shipped() -> None:
    matrix = noise(1)
    churned = np.arange(len(IDS)) % 2 == 0
    matrix[:, UNSUBSCRIBES] = churned.astype(float)  # unsubscribing tells churn; expected purchases are noise
    model = churn.train(IDS, matrix, churned)
    assert model.shipped
    assert model.auc is not None
    assert model.baseline_auc is not None
    assert model.auc > 0.95 > 0.7 > model.baseline_auc
    assert model.n_train + model.n_test == len(IDS)
    assert 0.6 < model.n_train / len(IDS) < 0.8
    assert model.risk(matrix[:2]).tolist() == pytest.approx([1, 0], abs=0.2)


def test_a_model_that_does_not_beat_the_baseline_is_not_shipped() -> None:
    matrix = noise(2)
    churned = np.arange(len(IDS)) % 3 == 0
    matrix[:, EXPECTED] = np.where(churned, 0.1, 2.0)  # the baseline ranks perfectly: nothing to beat it by
    model = churn.train(IDS, matrix, churned)
    assert model.baseline_auc == 1.0
    assert not model.shipped
    assert "does not beat" in model.reason


def test_one_class_is_nothing_to_learn() -> None:
    model = churn.train(IDS, noise(3), np.zeros(len(IDS), dtype=bool))
    assert not model.shipped
    assert model.auc is None
    assert "one class" in model.reason


def test_training_is_deterministic_and_the_split_stable() -> None:
    matrix, churned = noise(4), np.arange(len(IDS)) % 2 == 0
    assert churn.train(IDS, matrix, churned) == churn.train(IDS, matrix, churned)
    assert [churn.in_training_set(c) for c in IDS] == [churn.in_training_set(c) for c in IDS]
