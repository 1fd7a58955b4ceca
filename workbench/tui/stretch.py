"""Slowing speech down (or speeding it up) without moving its pitch: Wu is tonal.

Rubber Band through `pedalboard` (`pip install 'wu-workbench[audio]'`) when it is installed,
else WSOLA written here with numpy: frames of the input are overlap-added at a fixed output
hop while the input is read at `speed` times that hop, each frame shifted (within a small
tolerance) to where it best continues the one before, so the waveform stays periodic and the
pitch stays where it was. Neither resamples.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import numpy as np

FRAME_S = 0.04  # WSOLA's frame: a few pitch periods of speech
Stretch = Callable[[np.ndarray, int, float], np.ndarray]


def wsola(samples: np.ndarray, rate: int, speed: float) -> np.ndarray:
    """`samples` played at `speed` (0.5: half as fast, twice as long), pitch unchanged."""
    x = np.asarray(samples, dtype=np.float32)
    if speed == 1.0 or len(x) == 0:
        return x.copy()
    frame = max(int(rate * FRAME_S) // 2 * 2, 64)
    hop = frame // 2  # output hop: Hann windows at half overlap sum to one
    tolerance = hop // 2
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / frame)).astype(np.float32)
    out_len = round(len(x) / speed)
    frames = out_len // hop + 2
    last = round((frames - 1) * hop * speed) + tolerance
    # Input padded so that every frame and every search window lies inside it; input sample
    # i sits at tolerance + hop + i, output frame k is centred where input k*hop*speed is.
    padded = np.zeros(last + 2 * tolerance + frame + hop + 1, dtype=np.float32)
    padded[tolerance + hop : tolerance + hop + len(x)] = x
    out = np.zeros(frames * hop + frame, dtype=np.float32)
    previous: int | None = None
    for k in range(frames):
        nominal = round(k * hop * speed) + tolerance
        start = nominal
        if previous is not None:
            follow = padded[previous + hop : previous + hop + frame]  # what would come next
            region = padded[nominal - tolerance : nominal + tolerance + frame]
            start = nominal - tolerance + int(np.argmax(np.correlate(region, follow, "valid")))
        out[k * hop : k * hop + frame] += window * padded[start : start + frame]
        previous = start
    return out[hop : hop + out_len]


def _rubber_band(samples: np.ndarray, rate: int, speed: float) -> np.ndarray:
    import pedalboard

    if speed == 1.0 or len(samples) == 0:
        return np.asarray(samples, dtype=np.float32).copy()
    stretched = pedalboard.time_stretch(
        np.asarray(samples, dtype=np.float32)[np.newaxis, :], float(rate), stretch_factor=speed
    )
    return np.ascontiguousarray(stretched[0], dtype=np.float32)


RUBBER_BAND = "slow-down by Rubber Band (pitch kept)"
BUILT_IN = (
    "slow-down by the built-in WSOLA (pitch kept): install wu-workbench[audio] "
    "for Rubber Band's cleaner sound"
)


def stretch_note() -> str:
    """Which stretch `stretcher()` will pick, without importing it (cheap, any thread)."""
    return RUBBER_BAND if importlib.util.find_spec("pedalboard") else BUILT_IN


def stretcher() -> tuple[Stretch, str]:
    """The best time-stretch installed, and its note for the status line."""
    try:
        import pedalboard  # noqa: F401
    except (ImportError, OSError):  # absent, or its library would not load
        return wsola, BUILT_IN
    return _rubber_band, RUBBER_BAND
