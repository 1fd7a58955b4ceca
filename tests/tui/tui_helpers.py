"""Shared helpers for the review TUI tests: a small real project, settling, screen text.

Imported by the test modules as `tui_helpers` (pytest puts this folder on sys.path); the
conftest beside it only sets up the silent ALSA device and the fixtures.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot

from db.store import HypothesisIn, Store, Utterance

# The real clips ship once, with their attribution, in the demo data.
DATA = Path(__file__).resolve().parents[2] / "workbench" / "demo_data" / "audio"
WU = "wu_A0002_S0003_0_G0003_G0004_33.wav"
FLOAT = "mandarin_zero_shot_prompt_24k_float.wav"

# key, audio, duration, rate, sub-dialect, domain, confidence, draft, translation, age, gender
UTTERANCES = [
    (
        "utt_001",
        WU,
        6.86,
        16000,
        "Taihu_Shanghai",
        "Podcast",
        0.87,
        "最少辰光阿拉是做撒呃喃，有钞票就是到银行里保本保息。",
        "最少的时候我们是做什么呢，有钱就是到银行里保本保息。",
        "中年",
        "男性",
    ),
    (
        "utt_002",
        FLOAT,
        3.48,
        24000,
        "Taihu_Suzhou",
        "Vlog",
        0.62,
        "希望你以后能够做的比我还好呦。",
        None,
        None,
        "女性",
    ),
    ("utt_003", WU, 6.86, 16000, "Taihu_Shanghai", "News", 0.95, "侬今朝去伐", None, None, None),
    ("utt_004", "missing.wav", 2.0, 16000, "Unknown", "Music", 0.40, "㑚好", None, None, None),
]
SYSTEMS = {
    "utt_001": {
        "Tele-CTC-FT": "最少辰光阿拉是做啥呃喃有钞票就是到银行里保本保息",
        "Step-Audio2-FT": "最少辰光阿拉是做撒呃喃有钞票就是到银行里保本保息",
        "wswu-corpus": "最少辰光阿拉伊是做撒呃喃有钞票就是到银行里保本",
    },
    "utt_002": {
        "Tele-CTC-FT": "希望你以后能够做得比我还好",
        "Step-Audio2-FT": "希望你以后能做的比我还好呦",
    },
    "utt_003": {"Tele-CTC-FT": "侬今朝去伐", "Step-Audio2-FT": "侬今朝去勿"},
    "utt_004": {"Tele-CTC-FT": None},
}
LABELS = {
    "utt_001": {"age": "青年", "gender": "男性", "emotion": "中立", "ast": "最少的时候我们做什么呢"}
}


def build_project(path: Path, utterances: list[tuple] | None = None) -> Path:
    """A project file with real clips beside it, four utterances and three systems."""
    for clip in (WU, FLOAT):
        shutil.copy(DATA / clip, path.parent / clip)
    store = Store.open(path)
    rows = utterances or UTTERANCES
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO utterances (key, audio, duration, sample_rate, sub_dialect, domain, "
            "confidence, draft, translation, age, gender) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    ids = store.ids_for_keys([r[0] for r in rows])
    hyps = [
        HypothesisIn(ids[key], system, "asr", text, error=None if text else "decode failed")
        for key, systems in SYSTEMS.items()
        if key in ids
        for system, text in systems.items()
    ]
    hyps += [
        HypothesisIn(ids[key], "Step-Audio2-Und", task, text)
        for key, answers in LABELS.items()
        if key in ids
        for task, text in answers.items()
    ]
    store.add_hypotheses(hyps)
    store.close()
    return path


async def settle(app: App[None], pilot: Pilot[None]) -> None:
    """Wait until the workers have answered, the saves landed and the screen has redrawn."""
    for _ in range(4):
        await pilot.pause(0.01)
        await app.workers.wait_for_complete()
        for screen in app.screen_stack:  # the review session saves on a thread of its own
            session = getattr(screen, "session", None)
            if session is not None:
                session.wait_idle(10)
    app.player.wait_idle()
    await pilot.pause()


def screen_text(app: App[None]) -> str:
    """What the terminal shows, as plain text."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def row(path: Path, key: str) -> Utterance:
    with Store.open(path) as store:
        utt_id = store.utterance_id(key)
        assert utt_id is not None
        return store.utterance(utt_id)


def edits(path: Path, key: str) -> list[tuple[str, str | None, str | None, str, str]]:
    with Store.open(path) as store:
        utt_id = store.utterance_id(key)
        assert utt_id is not None
        return store.edit_log(utt_id)
