"""Sentiment of short social texts, English and Chinese: a small documented lexicon with negation.

Why a lexicon of our own: the offline libraries on PyPI are unmaintained (vaderSentiment,
English only, last release 2020; SnowNLP, Chinese only, 2015) and would need two
different models. A rule-based lexicon is deterministic (replaying events gives the same
score), explainable to the community team, and extended by editing the tables below.

Rules:
- English is split into words; Chinese into the longest lexicon entries found in each
  run of CJK characters (forward maximum matching), the rest skipped character by character.
- Each lexicon hit adds its weight (±1, ±2 for strong words); emoji count too.
- A negator up to three tokens before a word hit, in the same clause (punctuation ends
  it), flips it and halves it ("not bad" is mildly positive, "不满意" negative); an
  intensifier just before a hit multiplies it by 1.5. Emoji are never negated.
- After "but" / "但是" the clause counts double: it usually carries the verdict.
- The score is normalised by the square root of the number of hits; at or above
  `THRESHOLD` it is positive, at or below `-THRESHOLD` negative, otherwise neutral.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Label = Literal["positive", "neutral", "negative"]
THRESHOLD = 0.5
NEGATION_WINDOW = 3


def _words(listing: str) -> list[str]:
    """The words of a whitespace-separated listing (keeps the tables below readable)."""
    return listing.split()


EN_POSITIVE = _words("""
    good nice great like likes liked loved happy glad thanks thank recommend impressed friendly helpful
    fast quick quickly early wonderful pleased satisfied smooth solved works working beautiful cool fun
    enjoy enjoyed brilliant
""")
EN_STRONG_POSITIVE = _words("love amazing excellent awesome best perfect delighted fantastic")
EN_NEGATIVE = _words("""
    bad poor slow late broken broke disappointed disappointing crashing crash crashes confusing rude
    angry annoying refund charged waiting wrong damaged missing never fail failed failure problem issue
    complaint
""")
EN_STRONG_NEGATIVE = _words("worst terrible awful horrible hate useless scam")

ZH_POSITIVE = _words("""
    好 满意 很快 喜欢 谢谢 感谢 不错 推荐 值得 棒 开心 精美 点赞 赞 好用 性价比高 解决 热情 专业
    优秀 漂亮 方便 快 舒服 好吃 靠谱 贴心 惊喜
""")
ZH_STRONG_POSITIVE = _words("太棒了 完美 一流 好极了")
ZH_NEGATIVE = _words("""
    差 慢 太慢 坑 坏 坏了 浪费 闪退 烦 退货 退款 投诉 没人理 难用 生气 问题 故障 不一样 破 丢 错
""")
ZH_STRONG_NEGATIVE = _words("垃圾 恶劣 差评 失望 糟糕 骗")


def _weights(*groups: tuple[list[str], float]) -> dict[str, float]:
    return {word: weight for words, weight in groups for word in words}


EN_WEIGHTS = _weights((EN_POSITIVE, 1.0), (EN_STRONG_POSITIVE, 2.0), (EN_NEGATIVE, -1.0), (EN_STRONG_NEGATIVE, -2.0))
ZH_WEIGHTS = _weights((ZH_POSITIVE, 1.0), (ZH_STRONG_POSITIVE, 2.0), (ZH_NEGATIVE, -1.0), (ZH_STRONG_NEGATIVE, -2.0))
EMOJI_WEIGHTS: dict[str, float] = {
    "👍": 1.0, "😀": 1.0, "😊": 1.0, "😍": 2.0, "❤": 1.0, "🎉": 1.0,
    "👎": -1.0, "😡": -2.0, "😠": -2.0, "😞": -1.0, "💔": -1.0, "😤": -1.0,
}  # fmt: skip

EN_NEGATORS = frozenset(_words("not no never nobody nothing none cannot cant dont doesnt didnt isnt wasnt arent wont"))
ZH_NEGATORS = frozenset(_words("不 没 没有 别 未 无 非 不太 不是 不要 再也不"))
INTENSIFIERS = frozenset(_words("very really so super totally extremely 很 非常 太 特别 超 真 极 十分"))
CONTRAST = frozenset(_words("but however 但是 可是 不过 但"))
# Entries that already contain their negation or intensity must not be flipped again.
LEXICALISED = frozenset(_words("不错 太慢 太棒了 没人理 不一样 好极了"))
BOUNDARY = "|"

_ZH_VOCAB = {*ZH_WEIGHTS, *ZH_NEGATORS, *INTENSIFIERS, *CONTRAST}
_ZH_LONGEST = max(len(w) for w in _ZH_VOCAB)
_TOKEN = re.compile(
    r"[a-z]+(?:'[a-z]+)?|[\u3400-\u9fff]+|[\U0001F300-\U0001FAFF\u2764]|[,.!?;:，。！？；：]", re.IGNORECASE
)


@dataclass(frozen=True)
class Score:
    """A text's sentiment label and the normalised score it came from."""

    label: Label
    score: float


def tokens(text: str) -> list[str]:
    """English words (apostrophes dropped, lower case), Chinese lexicon words, emoji, clause boundaries."""
    found: list[str] = []
    for match in _TOKEN.finditer(text):
        piece = match.group()
        if "\u3400" <= piece[0] <= "\u9fff":
            found.extend(_segment(piece))
        elif piece in ",.!?;:，。！？；：":
            found.append(BOUNDARY)
        else:
            found.append(piece.lower().replace("'", ""))
    return found


def _segment(run: str) -> list[str]:
    """Forward maximum matching of a CJK run against the lexicon."""
    out: list[str] = []
    i = 0
    while i < len(run):
        for size in range(min(_ZH_LONGEST, len(run) - i), 0, -1):
            word = run[i : i + size]
            if size == 1 or word in _ZH_VOCAB:
                out.append(word)
                i += size
                break
    return out


def _weight(token: str) -> float:
    return EN_WEIGHTS.get(token) or ZH_WEIGHTS.get(token) or EMOJI_WEIGHTS.get(token) or 0.0


def score(text: str) -> Score:
    """The sentiment of `text` (see the module docstring for the rules)."""
    words = tokens(text)
    total, hits, factor = 0.0, 0, 1.0
    for i, word in enumerate(words):
        if word in CONTRAST:
            total, factor = total * 0.5, 2.0
            continue
        weight = _weight(word)
        if not weight:
            continue
        window = words[max(0, i - NEGATION_WINDOW) : i]
        window = window[len(window) - window[::-1].index(BOUNDARY) :] if BOUNDARY in window else window
        if (
            word not in LEXICALISED
            and word not in EMOJI_WEIGHTS
            and any(w in EN_NEGATORS or w in ZH_NEGATORS for w in window)
        ):
            weight = -weight * 0.5
        if window and window[-1] in INTENSIFIERS:
            weight *= 1.5
        total += weight * factor
        hits += 1
    value = total / math.sqrt(hits) if hits else 0.0
    label: Label = "positive" if value >= THRESHOLD else "negative" if value <= -THRESHOLD else "neutral"
    return Score(label=label, score=round(value, 4))
