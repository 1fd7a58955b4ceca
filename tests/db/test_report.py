"""The report on hand-worked data: CER sums, unanswered counts, groups, labels, BLEU, wu_norm."""

from __future__ import annotations

from pathlib import Path

import pytest
from db_helpers import utt, write_jsonl

from db.hypfiles import NOT_A_LABEL
from db.importers import ImportConfig, import_file
from db.report import Cer, build_report
from db.report_table import render
from db.row_formats import Options
from db.store import HypothesisIn, Store


@pytest.fixture
def project(tmp_path: Path, store: Store) -> Store:
    gold = [("u1", "侬好伐", "A"), ("u2", "今朝去", "A"), ("u3", "HELLO", "B")]
    for key, txt, subset in gold:
        import_file(store, write_jsonl(tmp_path / f"{key}.jsonl", [
            {"key": key, "wav": f"/d/{key}.wav", "txt": txt}]),
            ImportConfig(options=Options(gold=True, subset=subset), probe=False))
    import_file(store, write_jsonl(tmp_path / "todo.jsonl", [
        {"key": "u4", "wav": "/d/u4.wav", "txt": "没审过"}]), ImportConfig(probe=False))
    ids = {k: utt(store, k)["id"] for k in ("u1", "u2", "u3", "u4")}
    u1 = utt(store, "u1")
    store.save(ids["u1"], u1["version"],
               {"age": "中年", "translation": "最少的时候我们是做什么呢"}, "ann")
    store.save(ids["u2"], utt(store, "u2")["version"], {"age": "青年"}, "ann")
    h = HypothesisIn
    store.add_hypotheses([
        # X: u1 one deletion, u2 one insertion, u3 exact → 2 errors over 3 + 3 + 5 tokens.
        h(ids["u1"], "X", "asr", "侬好"), h(ids["u2"], "X", "asr", "今朝去啊"),
        h(ids["u3"], "X", "asr", "hello"), h(ids["u4"], "X", "asr", "完全不对的"),
        # Y: u1 exact, u2 not answered (a recorded failure), u3 one substitution.
        h(ids["u1"], "Y", "asr", "侬好伐"), h(ids["u2"], "Y", "asr", None, error="timeout"),
        h(ids["u3"], "Y", "asr", "HALLO"),
        # Z: an ASCII full stop, one insertion unless the Wu normalisation drops it.
        h(ids["u1"], "Z", "asr", "侬好伐."),
        h(ids["u1"], "X", "age", "中年"), h(ids["u2"], "X", "age", "说不准", error=NOT_A_LABEL),
        h(ids["u1"], "Y", "age", "老年"),
        h(ids["u1"], "X", "ast", "最少的时候我们是做什么呢"),
    ])
    return store


def test_cer_per_system_with_unanswered(project: Store):
    report = build_report(project)
    assert report.gold == 3
    by = {r.system: r.overall for r in report.cer}
    assert by["X"] == Cer(n=11, s=0, d=1, i=1, scored=3, unanswered=0)
    assert by["Y"] == Cer(n=8, s=1, d=0, i=0, scored=2, unanswered=1)
    assert by["Z"] == Cer(n=3, s=0, d=0, i=1, scored=1, unanswered=2)
    assert by["X"].cer == pytest.approx(2 / 11)
    # Leaderboard order: best CER first.
    assert [r.system for r in report.cer] == ["Y", "X", "Z"]


def test_cer_by_group(project: Store):
    report = build_report(project, group_by="subset")
    assert report.groups == [("A", 2), ("B", 1)]
    y = next(r for r in report.cer if r.system == "Y")
    assert y.groups["A"] == Cer(n=3, scored=1, unanswered=1)
    assert y.groups["B"] == Cer(n=5, s=1, scored=1)
    z = next(r for r in report.cer if r.system == "Z")
    assert z.groups["B"] == Cer(unanswered=1) and z.groups["B"].cer is None


def test_labels_and_bleu(project: Store):
    report = build_report(project)
    labels = {(s.system, s.task): s for s in report.labels}
    x = labels[("X", "age")]
    assert (x.correct, x.answered, x.off_label, x.unanswered) == (1, 2, 1, 0)
    assert x.accuracy == 0.5
    y = labels[("Y", "age")]
    assert (y.correct, y.answered, y.unanswered, y.accuracy) == (0, 1, 1, 0.0)
    (bleu,) = report.bleu
    assert (bleu.system, bleu.scored, bleu.unanswered) == ("X", 1, 0)
    assert bleu.bleu == pytest.approx(100.0)


def test_wu_norm_rescores(project: Store):
    report = build_report(project, wu_norm=True)
    assert report.wu_norm is not None
    z = next(r for r in report.wu_norm if r.system == "Z")
    assert z.overall == Cer(n=3, scored=1, unanswered=2)


def test_json_and_tables(project: Store):
    report = build_report(project, group_by="subset", wu_norm=True)
    data = report.to_json()
    assert data["cer"][0]["system"] == "Y" and data["cer"][0]["overall"]["cer"] == 1 / 8
    assert data["groups"] == [{"group": "A", "gold": 2}, {"group": "B", "gold": 1}]
    assert len(render(report)) == 4


def test_empty_project(store: Store):
    report = build_report(store)
    assert (report.gold, report.cer, report.labels, report.bleu) == (0, [], [], [])
