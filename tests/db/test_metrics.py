"""CER exactly as WeNet's tools/compute-cer.py --char=1: one hand-worked case per rule."""

from __future__ import annotations

import random
import unicodedata

import pytest

from db.metrics import Counts, align_counts, bleu, corpus_counts, counts, tokenize


@pytest.mark.parametrize(("text", "tokens"), [
    # whitespace, Zs (ideographic space U+3000, no-break space) and Cn (unassigned U+0378)
    ("侬 好\u3000伐\t吗\u00a0\n", ["侬", "好", "伐", "吗"]),
    ("侬\u0378好", ["侬", "好"]),
    # the dropped punctuation list, full-width and ASCII (ASCII only where it starts a token)
    ("侬，好。伐！吗？「对」『的』《书》、；：︰", list("侬好伐吗对的书")),
    ("!,?侬", ["侬"]),
    # every CJK character (category Lo) is a token, Wu characters outside the common range too
    ("㑚好", ["㑚", "好"]),
    ("\U00020000伊", ["\U00020000", "伊"]),
    # ASCII runs: punctuation inside a run stays in the token; non-alnum tokens stay whole
    ("HELLO, world", ["HELLO,", "W", "O", "R", "L", "D"]),
    ("U.S.", ["U.S."]),
    ("don't", ["DON'T"]),
    ("a.", ["A."]),
    (".", ["."]),
    # digits are alphanumeric: split into characters; a run ends at a non-ASCII character
    ("2024年", ["2", "0", "2", "4", "年"]),
    ("ok侬", ["O", "K", "侬"]),
    # tags are removed, a '<' runs to its '>' so <unk><noise> is two tags, both dropped
    ("侬<unk>好", ["侬", "好"]),
    ("<unk><noise>", []),
    ("a<unk>b", ["A", "B"]),
    ("<unk", []),
    # upper-casing
    ("hello", ["H", "E", "L", "L", "O"]),
    ("", []),
])
def test_tokenize(text: str, tokens: list[str]):
    assert tokenize(text) == tokens


def test_tokenize_none_is_empty():
    assert tokenize(None) == []


def test_pure_han_fast_path_agrees_with_the_general_rules():
    text = "最少辰光阿拉是做撒呃喃，有钞票就是到银行里保本保息。"
    assert tokenize(text) == [c for c in text if c not in "，。"]
    assert tokenize(text + "A") == [c for c in text if c not in "，。"] + ["A"]


def test_every_character_the_fast_path_admits_is_category_lo():
    # The fast path treats its ranges as one-character tokens: that holds only if this
    # Python's Unicode tables put every one of them in category Lo.
    ranges = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x2A6DF)]
    odd = [
        hex(c) for lo, hi in ranges for c in range(lo, hi + 1)
        if unicodedata.category(chr(c)) != "Lo"
    ]
    assert odd == []
    assert tokenize("\u3400\u9fff\U0002a6df") == ["\u3400", "\u9fff", "\U0002a6df"]


@pytest.mark.parametrize(("ref", "hyp", "expected"), [
    ("侬好伐", "侬好伐", Counts(3, 0, 0, 0)),
    ("侬好伐", "侬伐", Counts(3, 0, 1, 0)),
    ("侬好", "侬好伐", Counts(2, 0, 0, 1)),
    ("侬好伐", "侬坏伐", Counts(3, 1, 0, 0)),
    # compute-cer.py's ties: deletion first, then insertion, then the diagonal. Worked by
    # hand on its DP: (2,2) prefers del (2) over ins (2) and sub (2); then cor, then ins.
    ("甲乙", "乙甲", Counts(2, 0, 1, 1)),
    ("甲乙丙", "丁", Counts(3, 1, 2, 0)),
    # an empty hypothesis deletes every reference token
    ("侬好伐", "", Counts(3, 0, 3, 0)),
    # an empty reference has N = 0: counted apart, its CER is None, never a division by zero
    ("", "侬", Counts(0, 0, 0, 1)),
    ("<unk>", "", Counts(0, 0, 0, 0)),
    # case does not count, tags do not count
    ("Hello 侬", "HELLO<unk>侬", Counts(6, 0, 0, 0)),
])
def test_counts(ref: str, hyp: str, expected: Counts):
    assert counts(ref, hyp) == expected


def test_empty_reference_has_no_cer():
    assert counts("", "侬").cer is None
    assert counts("侬", "").cer == 1.0


def test_corpus_cer_is_total_edits_over_total_reference_tokens():
    total = corpus_counts([("侬好", "侬"), ("甲乙丙丁", "甲乙丙丁")])
    assert total == Counts(6, 0, 1, 0)
    assert total.cer == pytest.approx(1 / 6)  # not the mean of 0.5 and 0.0


def test_wu_norm_option():
    # Full-width Latin is not category Lo: each letter is a token of its own, unlike ASCII.
    assert counts("ＨＥＬＬＯ侬好", "HELLO侬好") == Counts(7, 5, 0, 0)
    assert counts("ＨＥＬＬＯ侬好", "HELLO侬好", wu_norm=True) == Counts(7, 0, 0, 0)
    # ASCII punctuation starts a token of its own unless the Wu normalisation removes it.
    assert counts("侬好", "侬好.") == Counts(2, 0, 0, 1)
    assert counts("侬好", "侬好.", wu_norm=True) == Counts(2, 0, 0, 0)
    # Tags still go, even with the punctuation removal.
    assert tokenize("侬<unk>好", wu_norm=True) == ["侬", "好"]


def _compute_cer_reference(ref: list[str], hyp: list[str]) -> Counts:
    """The full DP with compute-cer.py's documented preferences, no shortcuts."""
    n, m = len(ref), len(hyp)
    dist = [[0] * (m + 1) for _ in range(n + 1)]
    move = [["non"] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        dist[i][0], move[i][0] = i, "del"
    for j in range(1, m + 1):
        dist[0][j], move[0][j] = j, "ins"
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best, kind = dist[i - 1][j] + 1, "del"
            if dist[i][j - 1] + 1 < best:
                best, kind = dist[i][j - 1] + 1, "ins"
            same = ref[i - 1] == hyp[j - 1]
            if dist[i - 1][j - 1] + (not same) < best:
                best, kind = dist[i - 1][j - 1] + (not same), "cor" if same else "sub"
            dist[i][j], move[i][j] = best, kind
    tally = {"sub": 0, "del": 0, "ins": 0, "cor": 0}
    i, j = n, m
    while move[i][j] != "non":
        kind = move[i][j]
        tally[kind] += 1
        i, j = (i - 1, j - 1) if kind in ("cor", "sub") else (i - 1, j) if kind == "del" else (
            i, j - 1)
    return Counts(n, tally["sub"], tally["del"], tally["ins"])


def test_split_matches_the_full_dp_on_random_pairs():
    rng = random.Random(7)
    for _ in range(2000):
        ref = rng.choices("甲乙丙丁", k=rng.randint(0, 12))
        hyp = rng.choices("甲乙丙丁", k=rng.randint(0, 12))
        assert align_counts(ref, hyp) == _compute_cer_reference(ref, hyp), (ref, hyp)


def test_bleu():
    text = "最少的时候我们是做什么呢"
    assert bleu([text], [text]) == pytest.approx(100.0)
    assert bleu([], []) is None
