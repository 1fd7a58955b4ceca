"""`wuwb claims`, `wuwb second-pass`, `report --by annotator`, `export --status reviewed` and
the team flags of `wuwb review`, run as the CLI on a real project file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from db import claims, second_pass
from db.store import Filter, Sort, Store
from workbench.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    data = tmp_path / "data.jsonl"
    rows = [{"key": f"k{i}", "wav": f"k{i}.wav", "txt": f"侬好{i}"} for i in range(6)]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    db = str(tmp_path / "p.db")
    assert run(capsys, "import", db, str(data), "--no-probe")[0] == 0
    return db


def test_claims_lists_and_releases(project: str, capsys: pytest.CaptureFixture[str]) -> None:
    with Store.open(project) as store:
        claims.claim_batch(store, "ann", Filter(status="todo"), Sort(), size=4)
    code, out, _ = run(capsys, "claims", project, "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert (row["annotator"], row["pass"], row["utterances"]) == ("ann", 1, 4)
    code, out, _ = run(capsys, "claims", project)
    assert code == 0 and "ann" in out
    code, out, _ = run(capsys, "claims", project, "--release", "ann")
    assert (code, out.strip()) == (0, "released 4 claims of ann")
    assert json.loads(run(capsys, "claims", project, "--json")[1]) == []


def test_second_pass_policy_report_and_reviewed_export(
    project: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "second-pass", project)
    assert (code, out.strip()) == (0, "second pass: none; waiting 0; reviewed 0")
    with Store.open(project) as store:
        for utt_id in (1, 2, 3):
            utt = store.utterance(utt_id)
            store.accept(utt_id, utt.version, draft=utt.draft or "", annotator="ann")
    code, out, _ = run(capsys, "second-pass", project, "--set", "all")
    assert (code, out.strip()) == (0, "second pass: all; waiting 3; reviewed 0")
    with Store.open(project) as store:
        utt = store.utterance(2)
        second_pass.review(store, 2, utt.version, "bob", second_pass.Verdict("侬好呀"))
    code, out, _ = run(capsys, "report", project, "--by", "annotator", "--json")
    assert code == 0
    report = json.loads(out)
    ann = next(a for a in report["annotators"] if a["name"] == "ann")
    assert (ann["accepted"], ann["reviewed"], ann["second_pass_counts"]) == (3, 1, [3, 1, 0, 0])
    assert report["second_pass_policy"] == "all" and report["pace"]["second_pass_due"] == 2
    code, out, _ = run(capsys, "report", project, "--by", "annotator")
    assert code == 0 and "Throughput per annotator" in out and "Progress per day" in out
    out_file = tmp_path / "reviewed.list"
    code, out, _ = run(capsys, "export", project, str(out_file), "--format", "wenet",
                       "--status", "reviewed")
    assert code == 0 and out.strip() == f"wrote 1 rows to {out_file}"
    assert json.loads(out_file.read_text("utf-8"))["txt"] == "侬好呀"
    code, _, err = run(capsys, "second-pass", project, "--set", "lots")
    assert code == 2 and "second-pass policy 'lots'" in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--batch", "0"], "--batch must be at least 1"), (["--lease", "soon"], "--lease: lease")],
)
def test_review_team_flags_are_checked(
    project: str, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "review", project, *flags)
    assert code == 2 and message in err


def test_team_help_explains_every_flag() -> None:
    for command, flags in {
        "review": ["--annotator", "--batch", "--lease", "--all", "--pass"],
        "claims": ["--release", "--json"],
        "second-pass": ["--set"],
        "report": ["annotator"],
        "export": ["reviewed"],
    }.items():
        proc = subprocess.run([sys.executable, "-m", "workbench.cli", command, "--help"],
                              capture_output=True, text=True, check=True)
        for flag in flags:
            assert flag in proc.stdout, (command, flag)
