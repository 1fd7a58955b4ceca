"""Consensus of several systems' transcripts: a ROVER-style confusion network and a vote.

As NIST ROVER does, the hypotheses are aligned one after another to a growing network of
slots (a word transition network over characters). Each slot holds one arc per system: the
token that system put there, or an empty arc. A hypothesis is aligned to the network's pivot
string (each slot's token from the highest-ranked system that has one there) with the
project's own edit distance over the scoring tokens (rapidfuzz Levenshtein over
`db.metrics.tokenize`, FORMATS.md §5), so punctuation never splits a vote:
- a matched or substituted token joins its slot,
- a token the network lacks opens a new slot in which every earlier system has an empty arc,
- a slot the hypothesis skips gets its empty arc.

Systems are ranked by weight (heaviest first, then by name): the heaviest is the backbone.
Each slot's arcs then vote with the systems' weights, empty arcs too. A tie goes to the arc
of the highest-ranked system among those tied. Weights are summed as integers (millionths),
so ties are exact and the result never depends on float rounding.

The result keeps a readable form: the backbone's punctuation and spacing stay after its
tokens, and where the backbone's token wins its original spelling (case) is kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import and_, eq, not_
from typing import cast

from rapidfuzz.distance import Levenshtein

from db import metrics

EMPTY = ""  # the empty arc
SCALE = 1_000_000  # weights are voted as integer millionths: exact sums, exact ties
UNVOTED = 255  # agreement byte of a character no vote covers (punctuation, spaces)
LOW_AGREEMENT = 2 / 3  # a character with less of the weight behind it is shown as doubtful
# Weights learnt from gold: the log-odds of a character being right (the optimal weights of
# a majority vote of independent voters), with the error rate held inside these bounds so
# that no system gets an infinite or a negative say.
MIN_RATE, MAX_RATE = 0.01, 0.45


@dataclass(frozen=True)
class Consensus:
    """The vote's outcome for one utterance."""

    text: str  # readable: the winning tokens with the backbone's punctuation
    tokens: tuple[str, ...]  # the winning tokens (scoring form)
    shares: tuple[float, ...]  # per winning token: the fraction of the weight behind it
    expected_errors: float  # sum over every slot of 1 - the winner's share
    agreement: bytes  # per character of `text`: round(share * 254), UNVOTED where no vote
    unanimous: bool  # at least two voters and all identical after normalisation
    voters: int
    matches: tuple[int, ...]  # per voter: slots where its arc is the winning one
    slots: int


def rank(weights: Mapping[str, float]) -> list[str]:
    """Systems in voting order: heaviest first, ties by name (the first is the backbone)."""
    return sorted(weights, key=lambda s: (-weights[s], s))


def scaled(weights: Sequence[float]) -> list[int]:
    """Weights as integer millionths of their sum (each at least 1)."""
    total = sum(weights)
    if total <= 0:
        return [1] * len(weights)
    return [max(1, round(SCALE * w / total)) for w in weights]


def log_odds_weight(errors: int, tokens: int) -> float:
    """A system's weight from its errors over `tokens` gold characters."""
    rate = min(max(errors / tokens, MIN_RATE), MAX_RATE) if tokens else MAX_RATE
    return math.log((1 - rate) / rate)


def arcs(hyps: Sequence[Sequence[str]]) -> list[list[str]]:
    """The confusion network by system: arcs[j][i] is system j's arc in slot i (EMPTY for
    none). Kept by system so that aligned runs are copied as slices, not one by one."""
    pivots = list(hyps[0])
    out = [list(hyps[0])]
    # Single characters (the common, all-Han case) align fastest as strings.
    single = all(sum(map(len, h)) == len(h) for h in hyps)
    for hyp in hyps[1:]:
        mine = [EMPTY] * len(pivots)  # a slot this hypothesis skips keeps its empty arc
        if hyp:
            if single:
                ops = Levenshtein.opcodes("".join(pivots), "".join(hyp)).as_list()
            else:
                ops = Levenshtein.opcodes(pivots, hyp).as_list()
            spans = cast(list[tuple[str, int, int, int, int]], ops)
            # From the end, so that slots opened by an insertion never move those still to do.
            for tag, i1, i2, j1, j2 in reversed(spans):
                if tag == "insert":  # new slots: every earlier system has an empty arc there
                    for other in out:
                        other[i1:i1] = [EMPTY] * (j2 - j1)
                    mine[i1:i1] = hyp[j1:j2]
                    pivots[i1:i1] = hyp[j1:j2]
                elif tag != "delete":  # equal or replace: one token per slot, in order
                    mine[i1:i2] = hyp[j1:j2]
        out.append(mine)
    return out


def vote(by_system: Sequence[Sequence[str]], weights: Sequence[int]) -> tuple[
    list[str], list[float], float
]:
    """The winning arc of every slot, from the network by system (see `arcs`):
    (winners, their shares, expected errors).

    A slot whose empty arc wins produces no character but still adds 1 - share to the
    expected errors (the chance a character is missing). A tie goes to the arc seen first,
    i.e. the one of the highest-ranked system among the tied.
    """
    first = by_system[0]
    winners = list(first)
    shares = [1.0] * len(first)
    # Slots where every system agrees are found column by column (in C); only the others
    # are tallied one by one.
    same: list[bool] = [True] * len(first)
    for other in by_system[1:]:
        same = list(map(and_, same, map(eq, first, other)))
    total = sum(weights)
    expected = 0.0
    for i in compress(range(len(first)), map(not_, same)):
        tally: dict[str, int] = {}
        for column, w in zip(by_system, weights):  # noqa: B905 (one column per weight)
            tok = column[i]
            tally[tok] = tally.get(tok, 0) + w
        best = max(tally, key=tally.__getitem__)  # max keeps the first of equal maxima
        share = tally[best] / total
        expected += 1.0 - share
        winners[i] = best
        shares[i] = share
    return winners, shares, expected


def pieces(text: str, tokens: Sequence[str]) -> list[tuple[str, str]] | None:
    """Each token's spelling in `text` and what follows it up to the next token
    (punctuation, spaces, tags); None when the tokens cannot be found in order."""
    upper = text.upper()
    if len(upper) != len(text):
        return None
    starts: list[int] = []
    pos = 0
    for tok in tokens:
        at = upper.find(tok, pos)
        if at < 0:
            return None
        starts.append(at)
        pos = at + len(tok)
    out = []
    for n, (tok, at) in enumerate(zip(tokens, starts, strict=True)):
        end = at + len(tok)
        following = starts[n + 1] if n + 1 < len(starts) else len(text)
        out.append((text[at:end], text[end:following]))
    return out


def _share_byte(share: float) -> int:
    return round(share * (UNVOTED - 1))


def combine(texts: Sequence[str], weights: Sequence[int]) -> Consensus:
    """The consensus of `texts` (in voting order, see `rank`) with integer `weights`."""
    hyps = [metrics.tokenize(t) for t in texts]
    k = len(hyps)
    first = hyps[0]
    if all(h == first for h in hyps[1:]):
        # Every voter agrees (or there is one): nothing to align; the backbone's text stands.
        text = texts[0].strip()
        agreement = bytes([_share_byte(1.0)]) * len(text)
        return Consensus(
            text, tuple(first), (1.0,) * len(first), 0.0,
            _mark_unvoted(text, first, agreement), k >= 2, k, (len(first),) * k, len(first),
        )
    by_system = arcs(hyps)
    winners, shares, expected = vote(by_system, weights)
    # Per system, the slots where its arc won (its agreement with the consensus).
    matches = [sum(map(eq, column, winners)) for column in by_system]
    if max(map(len, winners), default=0) <= 1 and "".join(first) == texts[0]:
        # The backbone is plain single characters (no punctuation, no spaces): nothing to
        # carry over, and every character is one token.
        text = "".join(winners)  # empty arcs join as nothing
        agreement = bytes([round(s * (UNVOTED - 1)) for s in compress(shares, winners)])
    else:
        text, agreement = _readable(texts[0], first, by_system[0], winners, shares)
    # compress() keeps what a non-empty winner selects: EMPTY is the only false token.
    return Consensus(
        text, tuple(filter(None, winners)), tuple(compress(shares, winners)), expected,
        agreement, False, k, tuple(matches), len(winners),
    )


def _mark_unvoted(text: str, tokens: Sequence[str], agreement: bytes) -> bytes:
    """`agreement` with the characters of `text` that are no token marked UNVOTED."""
    found = pieces(text, tokens)
    if found is None:
        return agreement
    out = bytearray()
    lead = len(text) - sum(len(a) + len(b) for a, b in found)
    out += bytes([UNVOTED]) * lead
    for spelled, following in found:
        out += agreement[len(out) : len(out) + len(spelled)]
        out += bytes([UNVOTED]) * len(following)
    return bytes(out)


def _readable(
    backbone: str, own: Sequence[str], arcs0: Sequence[str],
    winners: Sequence[str], shares: Sequence[float],
) -> tuple[str, bytes]:
    """The winning tokens with the backbone's punctuation, and per-character agreement."""
    found = pieces(backbone, own)
    parts: list[str] = []
    agreement = bytearray()
    t = 0  # the backbone's next token
    for arc, best, share in zip(arcs0, winners, shares, strict=True):
        spelled, following = None, ""
        if arc != EMPTY:
            if found is not None:
                spelled, following = found[t]
            t += 1
        if best != EMPTY:
            word = spelled if spelled is not None and arc == best else best
            parts.append(word)
            agreement += bytes([_share_byte(share)]) * len(word)
        if following:
            parts.append(following)
            agreement += bytes([UNVOTED]) * len(following)
    text = "".join(parts)
    trimmed = text.rstrip()
    return trimmed, bytes(agreement[: len(trimmed)])


def decode_agreement(blob: bytes | None) -> list[float | None] | None:
    """Per character: the share of the weight behind it, None where nothing was voted."""
    if blob is None:
        return None
    return [None if b == UNVOTED else b / (UNVOTED - 1) for b in blob]
