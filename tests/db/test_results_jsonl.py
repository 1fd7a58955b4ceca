"""The results JSONL (`wuwb prefill --out`), import-hyps' timed form: character times are
checked against the text, stored, read back, and a bad line is named FILE:LINE."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from db_helpers import write_jsonl

from db.hypfiles import import_hypotheses, read_results, result_line, sniff_format
from db.importers import ImportConfig, import_file
from db.store import Store
from db.timings import TimesError, check, spread


@pytest.fixture
def project(tmp_path: Path, store: Store) -> Store:
    rows = [{"key": k, "wav": f"/d/{k}.wav", "txt": t}
            for k, t in (("u1", "侬好"), ("u2", "今朝"), ("u3", "伐"))]
    import_file(store, write_jsonl(tmp_path / "in.jsonl", rows), ImportConfig(probe=False))
    return store


def hyp(store: Store, key: str, system: str):
    utt = store.utterance(store.utterance_id(key) or 0)
    (found,) = [h for h in utt.hypotheses if h.system == system]
    return found


def test_timed_results_import_stores_times_and_names_bad_lines(
        tmp_path: Path, project: Store) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [
        {"key": "u1", "text": "侬 好", "times": [0.2, 0.5], "score": -0.5},
        {"key": "u2", "text": "今朝", "times": [0.3]},  # one time for two characters
        {"key": "u3", "text": None, "error": "decode failed"},
        {"key": "nope", "text": "x"},
        {"key": "u2", "text": "今朝", "times": [0.4, 0.1]},  # backwards
    ])
    assert sniff_format(path) == "results"
    (result,) = import_hypotheses(project, path, "m")
    assert [str(b) for b in result.bad] == [
        f"{path}:2: times: 1 times for 2 non-space characters",
        f"{path}:5: times: times go backwards (0.4 then 0.1)",
    ]
    assert (result.written, result.failed, result.unknown) == ({"asr": 1}, 1, 1)
    first = hyp(project, "u1", "m")
    assert (first.text, first.times, first.score) == ("侬 好", (0.2, 0.5), -0.5)
    failed = hyp(project, "u3", "m")
    assert (failed.text, failed.error, failed.times) == (None, "decode failed", None)


def test_a_lines_own_system_wins_and_labels_drop_times(tmp_path: Path, project: Store) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(
        result_line("u1", "asr", "m-attention", "侬好", None, None, (0.0, 0.25))
        + result_line("u1", "asr", "m-ctc", "侬", -1.0, None, (0.1,))
        + result_line("u2", "emotion", "m-und", "生气", None, None, (0.0, 0.1)))
    results = import_hypotheses(project, path, "ignored")
    assert sorted(r.system for r in results) == ["m-attention", "m-ctc", "m-und"]
    assert hyp(project, "u1", "m-attention").times == (0.0, 0.25)
    assert hyp(project, "u1", "m-ctc").score == -1.0
    assert hyp(project, "u2", "m-und").times is None  # only a transcript is timed speech
    assert [r.key for r in read_results(path)] == ["u1", "u1", "u2"]


def test_swift_results_are_still_told_apart_from_results(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"messages": [], "audios": ["a.wav"], "response": "x"}) + "\n")
    assert sniff_format(path) == "swift-results"


def test_times_must_fit_the_text() -> None:
    assert check("IT WAS", [0, 0.1, 0.5, 0.6, 0.7]) == (0.0, 0.1, 0.5, 0.6, 0.7)
    for text, times in (("ab", [0.1]), ("ab", [0.1, float("nan")]), ("ab", [-1, 0]),
                        (None, [])):
        with pytest.raises(TimesError):
            check(text, times)


def test_word_spans_are_shared_by_their_characters() -> None:
    assert spread([(" 广州市", 1.0, 1.6), ("房", 1.6, 1.8)]) == pytest.approx((1.0, 1.2, 1.4, 1.6))
