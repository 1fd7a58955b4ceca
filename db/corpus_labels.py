"""WenetSpeech-Wu's English labels and ages mapped onto the tasks' Chinese label sets."""

from __future__ import annotations

from collections.abc import Sequence

from db.errors import WorkbenchError

EMOTIONS: dict[str, str] = {
    "neutral": "中立",
    "happy": "高兴",
    "sad": "难过",
    "surprised": "惊讶",
    "angry": "生气",
}
GENDERS: dict[str, str] = {"male": "男性", "female": "女性"}
UNKNOWN = "unknown"

# The corpus publishes ages in years but no bands of its own. Default upper bounds (years,
# exclusive) for 儿童 / 少年 / 青年 / 中年; 老年 is everything from the last bound up:
# child under 12, teenager 12-17, young adult 18-39, middle-aged 40-59, elderly 60 and over.
AGE_BOUNDS: tuple[float, float, float, float] = (12.0, 18.0, 40.0, 60.0)
AGE_BANDS: tuple[str, ...] = ("儿童", "少年", "青年", "中年", "老年")
# Ages outside these years are taken as errors in the data, not as children or the elderly.
AGE_MIN, AGE_MAX = 0, 120


class LabelError(WorkbenchError, ValueError):
    """A corpus value that names no label of the task."""


def parse_age_bounds(text: str) -> tuple[float, float, float, float]:
    """`12,18,40,60` → the four increasing bounds between the five age bands."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError as exc:
        raise LabelError(f"age bounds {text!r} are not numbers") from exc
    if len(values) != 4 or list(values) != sorted(set(values)):
        raise LabelError(f"age bounds {text!r} must be four increasing numbers, e.g. 12,18,40,60")
    return values


def emotion_label(value: str) -> str | None:
    """中立… for a corpus emotion, None for `unknown`; anything else is an error."""
    name = value.strip().lower()
    if name == UNKNOWN:
        return None
    if name not in EMOTIONS:
        raise LabelError(f"unknown emotion {value!r}")
    return EMOTIONS[name]


def gender_label(value: str) -> str | None:
    name = value.strip().lower()
    if name == UNKNOWN:
        return None
    if name not in GENDERS:
        raise LabelError(f"unknown gender {value!r}")
    return GENDERS[name]


def age_label(years: float, bounds: Sequence[float] = AGE_BOUNDS) -> str:
    for band, bound in zip(AGE_BANDS, bounds, strict=False):
        if years < bound:
            return band
    return AGE_BANDS[-1]
