"""Sentiment on the labelled sets, in English and Chinese: accuracy must not fall below the README's numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.social.sentiment import score

HERE = Path(__file__).parent
LABELLED_ACCURACY = 0.95
"""Reported: 68/68 on `sentiment_labelled.tsv` (the set the lexicon was written against)."""
HOLDOUT_ACCURACY = 0.55
"""Reported: 17/30 (57%) on `sentiment_holdout.tsv`, written after the lexicon was frozen."""


def rows(name: str) -> list[tuple[str, str]]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return [
        (label, text) for label, text in (line.split("\t", 1) for line in lines if line and not line.startswith("#"))
    ]


def accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(score(text).label == label for label, text in pairs) / len(pairs)


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_the_labelled_set_is_big_enough_in_both_languages() -> None:
    pairs = rows("sentiment_labelled.tsv")
    chinese = [p for p in pairs if is_chinese(p[1])]
    assert len(pairs) >= 60
    assert len(chinese) >= 30
    assert len(pairs) - len(chinese) >= 30
    assert {label for label, _ in pairs} == {"positive", "neutral", "negative"}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_accuracy_on_the_labelled_set(language: str) -> None:
    pairs = [p for p in rows("sentiment_labelled.tsv") if is_chinese(p[1]) == (language == "zh")]
    assert accuracy(pairs) >= LABELLED_ACCURACY


def test_accuracy_on_the_holdout_set() -> None:
    assert accuracy(rows("sentiment_holdout.tsv")) >= HOLDOUT_ACCURACY


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("not good", "negative"),
        ("not bad at all", "positive"),
        ("不满意", "negative"),
        ("不喜欢", "negative"),
        ("没有问题", "positive"),
        ("great, but the box was broken and late", "negative"),
        ("Nobody helps 😡", "negative"),
        ("", "neutral"),
    ],
)
def test_negation_contrast_and_emoji(text: str, label: str) -> None:
    assert score(text).label == label


def test_scoring_is_deterministic() -> None:
    assert score("服务一流，点赞👍") == score("服务一流，点赞👍")
