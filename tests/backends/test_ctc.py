"""CTC search on hand-built log-probability matrices whose best paths are known by hand."""

from __future__ import annotations

import math

import numpy as np

from backends import ctc


def logp(rows: list[list[float]]) -> np.ndarray:
    return np.log(np.array(rows, dtype=np.float64))


def test_greedy_merges_repeats_and_drops_blanks() -> None:
    # best per frame: a a - a b b -  ->  a a b
    m = logp([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1],
              [0.1, 0.1, 0.8], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]])
    tokens, score = ctc.greedy(m)
    assert tokens == [1, 1, 2]
    assert math.isclose(score, math.log(0.8) * 7)


def test_prefix_beam_sums_alignments_where_greedy_picks_one_path() -> None:
    # Two frames, blank 0.6 / a 0.4 each. Greedy: "" (0.36). Summed over paths,
    # "a" = aa + a- + -a = 0.16 + 0.24 + 0.24 = 0.64, so the beam must answer "a".
    m = logp([[0.6, 0.4], [0.6, 0.4]])
    assert ctc.greedy(m)[0] == []
    hyps = ctc.prefix_beam_search(m, beam=4)
    assert hyps[0].tokens == (1,)
    assert math.isclose(math.exp(hyps[0].score), 0.64)
    assert math.isclose(math.exp(hyps[1].score), 0.36) and hyps[1].tokens == ()


def test_prefix_beam_keeps_a_blank_separated_repeat_apart() -> None:
    # a - a is "aa"; a a is "a"
    m = logp([[0.05, 0.9, 0.05], [0.9, 0.05, 0.05], [0.05, 0.9, 0.05]])
    hyps = ctc.prefix_beam_search(m, beam=3)
    assert hyps[0].tokens == (1, 1)
    probs = {h.tokens: math.exp(h.score) for h in hyps}
    assert math.isclose(sum(probs.values()), 1.0, rel_tol=0.2)


def test_prefix_beam_scores_are_exact_probabilities_for_a_full_beam() -> None:
    rng = np.random.default_rng(1)
    raw = rng.uniform(0.1, 1.0, size=(4, 3))
    m = np.log(raw / raw.sum(axis=1, keepdims=True))
    hyps = ctc.prefix_beam_search(m, beam=100)
    # With no pruning every label sequence is kept: their probabilities sum to 1.
    assert math.isclose(sum(math.exp(h.score) for h in hyps), 1.0)


def test_rescoring_with_weights_chooses_as_computed_by_hand() -> None:
    eos = 3
    hyps = [ctc.Hypothesis((1, 2), math.log(0.6)), ctc.Hypothesis((2, 1), math.log(0.4))]
    # Left decoder prefers 2 1 <eos>; right decoder (fed reversed tokens) prefers 1 2 order.
    left = np.full((2, 3, 4), math.log(0.1))
    right = np.full((2, 3, 4), math.log(0.1))
    left[1, 0, 2] = left[1, 1, 1] = left[1, 2, eos] = math.log(0.9)   # hyp 1: 2 1 eos
    right[0, 0, 2] = right[0, 1, 1] = right[0, 2, eos] = math.log(0.9)  # hyp 0 reversed: 2 1 eos
    # Left only: hyp 1 wins (3 log .9 vs 3 log .1).
    s = ctc.rescore(hyps, left, None, eos, ctc_weight=0.0, reverse_weight=0.0)
    assert int(np.argmax(s)) == 1
    assert math.isclose(s[1], 3 * math.log(0.9))
    # Mostly the reverse decoder: hyp 0 wins.
    s = ctc.rescore(hyps, left, right, eos, ctc_weight=0.0, reverse_weight=0.7)
    assert int(np.argmax(s)) == 0
    expected0 = 0.3 * 3 * math.log(0.1) + 0.7 * 3 * math.log(0.9)
    assert math.isclose(s[0], expected0)
    # A large ctc weight brings back the CTC-best hypothesis.
    s = ctc.rescore(hyps, left, None, eos, ctc_weight=50.0, reverse_weight=0.0)
    assert int(np.argmax(s)) == 0
    assert math.isclose(s[0], 3 * math.log(0.1) + 50.0 * math.log(0.6))


def test_align_finds_each_tokens_first_frame_on_the_best_path() -> None:
    # Frames: blank, a, a, blank, a, b, b -> tokens a a b start at frames 1, 4, 5.
    best = [0, 1, 1, 0, 1, 2, 2]
    log_probs = np.log(np.full((7, 3), 0.05))
    log_probs[np.arange(7), best] = np.log(0.9)
    assert ctc.align(log_probs, [1, 1, 2]) == [1, 4, 5]
    # A repeated token needs a blank between: three frames cannot spell "a a b".
    assert ctc.align(log_probs[:3], [1, 1, 2]) is None
    assert ctc.align(log_probs[:4], [1, 1, 2]) is not None
    assert ctc.align(log_probs, []) == []
