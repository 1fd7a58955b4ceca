"""CTC decoding on log-probability matrices: greedy, prefix beam search, attention rescoring.

Plain numpy, written from the algorithms WeNet uses (wenet/transformer/search.py), so an
exported model decodes the same way without a WeNet install. Matrices are (T, V) log-probs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NEG_INF = -math.inf


def _log_add(*values: float) -> float:
    top = max(values)
    if top == NEG_INF:
        return NEG_INF
    return top + math.log(sum(math.exp(v - top) for v in values))


def greedy(log_probs: np.ndarray, blank: int = 0) -> tuple[list[int], float]:
    """Best token per frame, repeats merged, blanks dropped; score = the best path's log-prob."""
    best = log_probs.argmax(axis=1)
    score = float(log_probs[np.arange(len(best)), best].sum())
    tokens: list[int] = []
    prev = -1
    for token in best.tolist():
        if token != prev and token != blank:
            tokens.append(token)
        prev = token
    return tokens, score


@dataclass(frozen=True, slots=True)
class Hypothesis:
    tokens: tuple[int, ...]
    score: float  # log of the summed probability of every alignment of these tokens


def prefix_beam_search(log_probs: np.ndarray, beam: int, blank: int = 0) -> list[Hypothesis]:
    """The ``beam`` most probable label sequences, summing over alignments.

    Each prefix keeps two scores, ending in blank and ending in its last token, so that "a a"
    (two tokens, a blank between) and "aa" (one token held) stay apart. Per frame only the
    ``beam`` most likely tokens are extended, as WeNet does.
    """
    hyps: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}
    for frame in log_probs:
        top = np.argsort(frame)[::-1][:beam]
        nxt: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [NEG_INF, NEG_INF])
        for token in top.tolist():
            p = float(frame[token])
            for prefix, (pb, pnb) in hyps.items():
                last = prefix[-1] if prefix else None
                if token == blank:
                    entry = nxt[prefix]
                    entry[0] = _log_add(entry[0], pb + p, pnb + p)
                elif token == last:
                    # Held token: stays the same prefix; after a blank it is a new token.
                    entry = nxt[prefix]
                    entry[1] = _log_add(entry[1], pnb + p)
                    entry = nxt[(*prefix, token)]
                    entry[1] = _log_add(entry[1], pb + p)
                else:
                    entry = nxt[(*prefix, token)]
                    entry[1] = _log_add(entry[1], pb + p, pnb + p)
        ranked = sorted(nxt.items(), key=lambda item: _log_add(*item[1]), reverse=True)
        hyps = {prefix: (scores[0], scores[1]) for prefix, scores in ranked[:beam]}
    return [Hypothesis(prefix, _log_add(pb, pnb)) for prefix, (pb, pnb) in hyps.items()]


def decoder_score(log_probs: np.ndarray, tokens: Sequence[int], eos: int) -> float:
    """Sum of an attention decoder's log-probs for ``tokens`` then eos.

    ``log_probs`` is (L, V): row j is the distribution after sos + tokens[:j].
    """
    score = sum(float(log_probs[j, t]) for j, t in enumerate(tokens))
    return score + float(log_probs[len(tokens), eos])


def rescore(
    hyps: Sequence[Hypothesis],
    decoder_log_probs: np.ndarray,
    reverse_log_probs: np.ndarray | None,
    eos: int,
    ctc_weight: float,
    reverse_weight: float,
) -> list[float]:
    """WeNet's attention rescoring score of each hypothesis (the best is the largest).

    ``decoder_log_probs`` is (N, L, V), one row block per hypothesis fed sos + tokens; the
    reverse decoder saw the tokens reversed. score = left * (1 - rw) + right * rw + ctc * cw.
    """
    scores: list[float] = []
    for i, hyp in enumerate(hyps):
        left = decoder_score(decoder_log_probs[i], hyp.tokens, eos)
        right = 0.0
        if reverse_log_probs is not None and reverse_weight > 0.0:
            right = decoder_score(reverse_log_probs[i], hyp.tokens[::-1], eos)
        scores.append(left * (1.0 - reverse_weight) + right * reverse_weight
                      + hyp.score * ctc_weight)
    return scores


def align(log_probs: np.ndarray, tokens: Sequence[int], blank: int = 0) -> list[int] | None:
    """The first frame of each token on the most probable CTC path that spells ``tokens``
    (Viterbi over the blank-interleaved labels, as CTC forced alignment is done); None if the
    frames are too few to spell them."""
    if not tokens:
        return []
    labels = np.array([blank, *[x for t in tokens for x in (t, blank)]])
    states = len(labels)
    emit = log_probs[:, labels]  # (T, S)
    # A state may be entered from two back when it is a token unlike the one two back.
    skip = np.zeros(states, dtype=bool)
    skip[2:] = (labels[2:] != blank) & (labels[2:] != labels[:-2])
    score = np.full(states, NEG_INF)
    score[: min(2, states)] = emit[0, : min(2, states)]
    back = np.zeros((len(emit), states), dtype=np.int8)  # states moved: 0, 1 or 2
    for t in range(1, len(emit)):
        one = np.concatenate(([NEG_INF], score[:-1]))
        two = np.where(skip, np.concatenate(([NEG_INF, NEG_INF], score[:-2])), NEG_INF)
        moves = np.stack([score, one, two])
        back[t] = moves.argmax(axis=0)
        score = moves[back[t], np.arange(states)] + emit[t]
    last = states - 1 if states == 1 or score[-1] >= score[-2] else states - 2
    if score[last] == NEG_INF:
        return None
    path = [0] * len(emit)
    state = last
    for t in range(len(emit) - 1, -1, -1):
        path[t] = state
        state -= int(back[t, state])
    first: dict[int, int] = {}
    for t, state in enumerate(path):
        if state % 2 == 1:
            first.setdefault(state // 2, t)
    return [first[k] for k in range(len(tokens))]
