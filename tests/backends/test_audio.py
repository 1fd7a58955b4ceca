"""The shared audio path: every clip, whatever its rate or sample format, comes out as
16 kHz mono float32 of the same duration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backends.audio import SAMPLE_RATE, AudioError, load_audio, windows


def test_every_clip_becomes_16k_mono_float32(clips: list[Path]) -> None:
    assert any(sf.info(str(c)).samplerate != SAMPLE_RATE for c in clips)
    for clip in clips:
        wave = load_audio(str(clip))
        assert wave.dtype == np.float32 and wave.ndim == 1
        assert abs(len(wave) / SAMPLE_RATE - sf.info(str(clip)).duration) < 0.01
        assert 0 < float(np.abs(wave).max()) <= 1.0


def test_long_stereo_file_read_in_blocks_matches_whole_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    stereo = rng.uniform(-0.5, 0.5, size=(44100 * 40, 2)).astype(np.float32)
    path = tmp_path / "long.wav"
    sf.write(path, stereo, 44100, subtype="FLOAT")
    wave = load_audio(str(path))
    assert abs(len(wave) - 40 * SAMPLE_RATE) <= 2


def test_corrupt_missing_and_empty_files_raise_audio_error(
        corrupt_wav: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000)
    for path in (corrupt_wav, tmp_path / "missing.wav", empty):
        with pytest.raises(AudioError):
            load_audio(str(path))


def test_windows_cover_the_wave_in_order() -> None:
    wave = np.arange(SAMPLE_RATE * 65, dtype=np.float32)
    parts = list(windows(wave, 30.0))
    assert [len(p) for p in parts] == [SAMPLE_RATE * 30, SAMPLE_RATE * 30, SAMPLE_RATE * 5]
    assert np.array_equal(np.concatenate(parts), wave)
