"""Shared fixtures: the real test clips and small project files built per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import soundfile as sf

from db.store import Store

# The real clips ship once, with their attribution, in the demo data.
AUDIO = Path(__file__).resolve().parents[2] / "workbench" / "demo_data" / "audio"
CLIPS = sorted(AUDIO.glob("*.wav"))


@pytest.fixture
def clips() -> list[Path]:
    return CLIPS


@pytest.fixture
def corrupt_wav(tmp_path: Path) -> Path:
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x10\x00\x00\x00WAVEnot really audio")
    return path


Row = tuple[str, Path, float | None]


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[[Sequence[Row]], Path]:
    """A project file holding the given (key, audio, duration) utterances."""

    def make(rows: Sequence[Row]) -> Path:
        path = tmp_path / "project.db"
        store = Store.open(path)
        with store.transaction() as conn:
            conn.executemany(
                "INSERT INTO utterances (key, audio, duration) VALUES (?, ?, ?)",
                [(key, str(audio), duration) for key, audio, duration in rows],
            )
        store.close()
        return path

    return make


@pytest.fixture
def clip_rows(tmp_path: Path) -> Callable[[int], list[Row]]:
    """``count`` utterances cycling over copies of the real clips, with their true duration."""

    def rows(count: int) -> list[Row]:
        out: list[Row] = []
        for i in range(count):
            clip = CLIPS[i % len(CLIPS)]
            copy = tmp_path / f"utt{i:04d}.wav"
            shutil.copyfile(clip, copy)
            out.append((f"utt{i:04d}", copy, sf.info(str(clip)).duration))
        return out

    return rows
