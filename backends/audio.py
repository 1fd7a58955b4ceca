"""The one audio path every in-process backend uses: soundfile + soxr to 16 kHz mono float32.

Files are read in blocks and resampled with a streaming resampler, so an hour-long recording
never needs its whole original-rate, multi-channel copy in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import soundfile as sf
import soxr

from db.errors import WorkbenchError

SAMPLE_RATE = 16000
_BLOCK = 1 << 18  # frames per read: ~16 s at 16 kHz, large enough that the loop costs nothing


class AudioError(WorkbenchError):
    """The file is missing, unreadable, empty or not audio; the message says which."""


def load_audio(path: str) -> np.ndarray:
    """The file as 16 kHz mono float32 in [-1, 1]."""
    try:
        info = sf.info(path)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioError(f"cannot read audio {path}: {exc}") from exc
    if info.frames == 0:
        raise AudioError(f"empty audio: {path}")
    out: list[np.ndarray] = []
    try:
        if info.samplerate == SAMPLE_RATE:
            for block in sf.blocks(path, blocksize=_BLOCK, dtype="float32", always_2d=True):
                out.append(block.mean(axis=1, dtype=np.float32))
        else:
            stream = soxr.ResampleStream(info.samplerate, SAMPLE_RATE, 1, dtype="float32")
            blocks = sf.blocks(path, blocksize=_BLOCK, dtype="float32", always_2d=True)
            for block in blocks:
                out.append(stream.resample_chunk(block.mean(axis=1, dtype=np.float32)))
            out.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"cannot decode audio {path}: {exc}") from exc
    wave = np.concatenate(out) if len(out) > 1 else out[0]
    return np.ascontiguousarray(wave, dtype=np.float32)


def windows(wave: np.ndarray, seconds: float) -> Iterator[np.ndarray]:
    """Consecutive pieces of at most ``seconds`` (for models with a fixed input window)."""
    step = int(seconds * SAMPLE_RATE)
    for start in range(0, max(len(wave), 1), step):
        yield wave[start : start + step]
