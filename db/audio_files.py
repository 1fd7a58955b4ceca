"""Where an utterance's audio lives, and what the file says about itself."""

from __future__ import annotations

import os
from typing import NamedTuple

import soundfile


class AudioInfo(NamedTuple):
    duration: float | None
    sample_rate: int | None
    error: str | None  # None, "missing" or "unreadable: <why>"


MISSING = AudioInfo(None, None, "missing")


def resolve(wav: str, key: str, base_dir: str, audio_root: str | None) -> str:
    """The path to store for a row's audio.

    With an audio root, `<root>/<key>.wav` wins if it exists, else the same file name under
    the root (corpus metadata names machines we do not have). Otherwise a relative path is
    taken against the JSONL's folder.
    """
    if audio_root is not None:
        by_key = os.path.join(audio_root, key + ".wav")
        if os.path.exists(by_key):
            return by_key
        return os.path.join(audio_root, os.path.basename(wav))
    if os.path.isabs(wav):
        return wav
    return os.path.normpath(os.path.join(base_dir, wav))


class Prober:
    """probe() for one import run, remembering folders that do not exist.

    Corpus metadata often names audio on another machine: then every file of a folder is
    missing, and one check of the folder answers for all of them.
    """

    def __init__(self) -> None:
        self.absent: dict[str, bool] = {}

    def __call__(self, path: str) -> AudioInfo:
        folder = path.rpartition(os.sep)[0]  # os.path.dirname, at a third of the cost
        absent = self.absent.get(folder)
        if absent is None:
            if len(self.absent) > 10_000:  # bounded: a run over very many folders
                self.absent.clear()
            absent = self.absent[folder] = not os.path.isdir(folder)
        return MISSING if absent else probe(path)


def probe(path: str) -> AudioInfo:
    """Duration and rate from the file header; a missing or broken file is flagged, not fatal."""
    # A stat first: opening through libsndfile costs ~20 us even for a file that is not there.
    if not os.path.isfile(path):
        return MISSING
    try:
        info = soundfile.info(path)
    except Exception as exc:  # soundfile raises RuntimeError/LibsndfileError/OSError variously
        return AudioInfo(None, None, f"unreadable: {_reason(exc)}")
    if info.samplerate <= 0 or info.frames < 0:
        return AudioInfo(None, None, "unreadable: no samples")
    return AudioInfo(round(info.frames / info.samplerate, 3), int(info.samplerate), None)


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
