"""Per-annotator figures on a real project file, against numbers worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from team_helpers import make_project

from db import second_pass
from db.second_pass import Verdict
from db.store import HypothesisIn, Store
from db.team_report import build_team_report, cohen_kappa, work_times

# id: (duration s, ann's gold, gender, emotion, accepted at, bob's verdict or None)
ANN = {
    1: (6.0, "侬好伐", "男性", "中立", "2026-01-05T09:00:00Z", ("侬好伐", "男性", "中立")),
    2: (
        3.0, "今朝天气好", "男性", "高兴", "2026-01-05T09:00:40Z", ("今朝天气老好", "女性", "高兴")
    ),
    3: (12.0, "侬吃饭了伐", "女性", "中立", "2026-01-05T09:01:40Z", ("侬吃饭了哦", "女性", "难过")),
    4: (30.0, "再会", "女性", None, "2026-01-05T09:20:00Z", ("再会", "女性", "中立")),
    5: (9.0, "勿晓得", None, None, "2026-01-05T09:20:30Z", None),
}
BOB_AT = ["2026-01-06T10:00:00Z", "2026-01-06T10:00:20Z", "2026-01-06T10:00:50Z",
          "2026-01-06T10:02:00Z"]


def _stamp(store: Store, utt_id: int, field: str, at: str) -> None:
    """Put a save at a chosen time (the edit log is where throughput is read from)."""
    with store.transaction() as conn:
        conn.execute("UPDATE edits SET at = ? WHERE utt_id = ? AND field = ?", (at, utt_id, field))


@pytest.fixture
def team(tmp_path: Path) -> Store:
    store = make_project(tmp_path / "team.db", 8)
    second_pass.set_policy(store, "all")
    store.add_hypotheses([
        HypothesisIn(1, "sys-A", "asr", "侬好伐"),
        HypothesisIn(2, "sys-B", "asr", "今朝天气好"),
        HypothesisIn(3, "sys-A", "asr", "侬吃饭了"),
        HypothesisIn(5, "sys-B", "asr", "勿晓得"),
    ])
    for utt_id, (duration, gold, gender, emotion, at, _) in ANN.items():
        with store.transaction() as conn:
            conn.execute("UPDATE utterances SET duration = ? WHERE id = ?", (duration, utt_id))
        utt = store.utterance(utt_id)
        store.accept(utt_id, utt.version, draft=gold, annotator="ann", gender=gender,
                     emotion=emotion)
        _stamp(store, utt_id, "status", at)
    for at, (utt_id, entry) in zip(BOB_AT, list(ANN.items())[:4], strict=True):
        gold, gender, emotion = entry[5]  # type: ignore[misc]
        utt = store.utterance(utt_id)
        second_pass.review(store, utt_id, utt.version, "bob",
                           Verdict(gold, gender=gender, emotion=emotion))
        _stamp(store, utt_id, "second_pass", at)
    return store


def test_kappa_matches_the_textbook_example() -> None:
    # 50 items: both yes 20, yes/no 5, no/yes 10, both no 15: po 0.7, pe 0.5, kappa 0.4.
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    assert cohen_kappa([]) is None
    assert cohen_kappa([("a", "a"), ("a", "a")]) is None  # chance agreement is certain


def test_work_times_cut_breaks() -> None:
    stamps = ["2026-01-05T09:00:00Z", "2026-01-05T09:00:40Z", "2026-01-05T09:06:41Z"]
    assert work_times(stamps) == [None, 40.0, None]


def test_per_annotator_figures_match_the_hand_worked_numbers(team: Store) -> None:
    report = build_team_report(team)
    ann, bob = report.annotators
    assert (ann.name, bob.name) == ("ann", "bob")
    assert ann.accepted == 5 and ann.audio_minutes == pytest.approx(1.0)  # 60 s of audio
    # Gaps 40, 60, (1100: a break), 30 s: median 40; 3 + 12 + 9 s of audio in 130 s of work.
    assert ann.median_s == 40.0
    assert ann.audio_minutes_per_hour == pytest.approx(0.4 / (130 / 3600))
    # Bob's gold is the reference: 1 deletion (老) + 1 substitution (伐/哦) over 3+6+5+2 chars.
    assert ann.second_pass_counts == (16, 1, 1, 0)
    assert ann.second_pass_cer == pytest.approx(2 / 16)
    assert (ann.reviewed, ann.approved) == (4, 1)  # bob added an emotion to utt 4
    # gender: ann 男男女女, bob 男女女女: po 3/4, pe 1/2·1/4 + 1/2·3/4 = 1/2, kappa 1/2.
    assert ann.kappa["gender"] == pytest.approx(0.5)
    # emotion (utt 4 unlabelled by ann): ann 中高中, bob 中高难: po 2/3, pe 3/9, kappa 1/2.
    assert ann.kappa["emotion"] == pytest.approx(0.5) and ann.kappa_pairs["emotion"] == 3
    assert ann.kappa["age"] is None and ann.kappa_pairs["age"] == 0
    # Taken as is: sys-A on utt 1, sys-B on 2 (her gold, later corrected) and 5.
    assert ann.took_unchanged == 3 and ann.took_by_system == {"sys-B": 2, "sys-A": 1}
    assert (bob.accepted, bob.second_passes, bob.median_s) == (0, 4, 30.0)
    assert bob.audio_minutes_per_hour == pytest.approx(0.75 / (120 / 3600))
    pace = report.pace
    assert pace.per_day == [("2026-01-05", 5, 0), ("2026-01-06", 0, 4)]
    assert (pace.todo, pace.second_pass_due, pace.per_day_recent) == (3, 1, 5.0)
    assert pace.days_left == pytest.approx(0.6)
    assert report.to_json()["annotators"][0]["second_pass_cer"] == pytest.approx(0.125)
