"""Text normalisation and error counting exactly as WeNet's tools/compute-cer.py --char=1.

shared/FORMATS.md §5 gives the rules. The totals (S + D + I) come from rapidfuzz's C edit
distance; the split into substitutions, deletions and insertions follows compute-cer.py's own
dynamic programme and tie-breaking (deletion, then insertion, then substitution), so the N, S,
D, I we print match that script's.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

_SPACES = frozenset(" \t\r\n")
_PUNCTS = frozenset("!,?、。！，；？：「」︰『』《》")
_TAG = re.compile(r"<[^>]*>?")
_ASCII_PUNCT = str.maketrans("", "", string.punctuation)
# Assigned CJK unified ideographs (category Lo throughout), the dropped punctuation and spaces.
_HAN_ONLY = re.compile(
    "[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002a6df"
    + re.escape("".join(sorted(_PUNCTS | _SPACES)))
    + "]*\\Z"
)


@dataclass(frozen=True)
class Counts:
    """Reference tokens N and the substitutions, deletions and insertions against them."""

    n: int = 0
    s: int = 0
    d: int = 0
    i: int = 0

    @property
    def errors(self) -> int:
        return self.s + self.d + self.i

    @property
    def cer(self) -> float | None:
        """Error rate, or None for a reference with no tokens (never a division by zero)."""
        return self.errors / self.n if self.n else None

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.n + other.n, self.s + other.s, self.d + other.d, self.i + other.i)


def characterize(text: str) -> list[str]:
    """Split text into compute-cer.py's raw tokens (before upper-casing and tag removal)."""
    out: list[str] = []
    i, size = 0, len(text)
    while i < size:
        char = text[i]
        if char in _PUNCTS or char in _SPACES:
            i += 1
            continue
        cat = unicodedata.category(char)
        if cat in ("Zs", "Cn"):
            i += 1
            continue
        if cat == "Lo":
            out.append(char)
            i += 1
            continue
        # Any other character opens a run over the ASCII characters that follow it; a '<'
        # runs to its '>' so that "<unk><noise>" gives two tokens.
        sep = ">" if char == "<" else " "
        j = i + 1
        while j < size:
            c = text[j]
            if ord(c) >= 128 or c in _SPACES or c == sep:
                break
            j += 1
        if j < size and text[j] == ">":
            j += 1
        out.append(text[i:j])
        i = j
    return out


def _strip_tags(token: str) -> str:
    # compute-cer.py drops from each '<' through the next '>' (or to the end of the token).
    return _TAG.sub("", token) if "<" in token else token


def tokenize(text: str | None, *, wu_norm: bool = False) -> list[str]:
    """Scoring tokens of a transcript.

    wu_norm adds the normalisation a Wu team also wants, applied first: NFKC (full-width to
    half-width) and removal of ASCII punctuation, tags excepted.
    """
    if not text:
        return []
    if wu_norm:
        text = unicodedata.normalize("NFKC", text)
        text = _TAG.sub(" ", text).translate(_ASCII_PUNCT)
    if _HAN_ONLY.match(text):
        # Common case, pure Han text: every character is its own token (all are category Lo).
        return [c for c in text if c not in _PUNCTS and c not in _SPACES]
    tokens: list[str] = []
    for raw in characterize(text):
        token = _strip_tags(raw.upper())
        if not token:
            continue
        if token.isalnum():
            tokens.extend(token)
        else:
            tokens.append(token)
    return tokens


def align_counts(ref: list[str], hyp: list[str]) -> Counts:
    """N, S, D, I of hyp against ref, with compute-cer.py's alignment choices."""
    n, m = len(ref), len(hyp)
    if ref == hyp:
        return Counts(n)
    if m == 0:
        return Counts(n, 0, n, 0)
    if n == 0:
        return Counts(0, 0, 0, m)
    dist = Levenshtein.distance(ref, hyp)
    if dist == abs(n - m):
        # Only insertions or only deletions can reach this distance: the split is forced.
        return Counts(n, 0, max(n - m, 0), max(m - n, 0))
    if dist == 1:
        return Counts(n, 1, 0, 0)  # equal lengths, one edit: a substitution
    return _trace(ref, hyp, dist)


def _trace(ref: list[str], hyp: list[str], band: int) -> Counts:
    """compute-cer.py's DP and trace-back: deletion wins ties, then insertion, then diagonal.

    Only cells with |i - j| <= band (the distance) are computed: any path through a cell
    outside costs more than the optimum, so it can neither hold nor tie the chosen path.
    """
    n, m = len(ref), len(hyp)
    far = n + m + 1
    dist = [[j if j <= band else far for j in range(m + 1)]]
    move = [[2] * (m + 1)]  # 0 diagonal, 1 del, 2 ins
    move[0][0] = -1
    for i in range(1, n + 1):
        prev = dist[i - 1]
        row = [far] * (m + 1)
        mv = [1] * (m + 1)
        if i <= band:
            row[0] = i
        token = ref[i - 1]
        for j in range(max(1, i - band), min(m, i + band) + 1):
            best, kind = prev[j] + 1, 1
            if row[j - 1] + 1 < best:
                best, kind = row[j - 1] + 1, 2
            diag = prev[j - 1] + (token != hyp[j - 1])
            if diag < best:
                best, kind = diag, 0
            row[j] = best
            mv[j] = kind
        dist.append(row)
        move.append(mv)
    s = d = ins = 0
    i, j = n, m
    while i or j:
        kind = move[i][j]
        if kind == 0:
            s += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif kind == 1:
            d += 1
            i -= 1
        else:
            ins += 1
            j -= 1
    return Counts(n, s, d, ins)


def counts(ref: str | None, hyp: str | None, *, wu_norm: bool = False) -> Counts:
    """Error counts of one hypothesis against one reference transcript."""
    return align_counts(tokenize(ref, wu_norm=wu_norm), tokenize(hyp, wu_norm=wu_norm))


def corpus_counts(
    pairs: Iterable[tuple[str | None, str | None]], *, wu_norm: bool = False
) -> Counts:
    """Summed counts: corpus CER is total errors over total reference tokens."""
    total = Counts()
    for ref, hyp in pairs:
        total = total + counts(ref, hyp, wu_norm=wu_norm)
    return total


def char_diff(ref: str, hyp: str) -> list[tuple[str, str, str]]:
    """Character-level opcodes turning ref into hyp, for colouring a diff on screen.

    Each item is (op, ref_part, hyp_part) with op one of equal, replace, delete, insert.
    """
    return [
        (op.tag, ref[op.src_start : op.src_end], hyp[op.dest_start : op.dest_end])
        for op in Levenshtein.opcodes(ref, hyp)
    ]


def bleu(refs: list[str], hyps: list[str]) -> float | None:
    """Corpus BLEU with sacreBLEU's Chinese tokenizer, or None with nothing to score."""
    if not refs:
        return None
    from sacrebleu.metrics.bleu import BLEU  # imported here: sacrebleu's import costs ~0.3 s

    return float(BLEU(tokenize="zh").corpus_score(hyps, [refs]).score)
