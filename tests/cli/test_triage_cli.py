"""`wuwb consensus` and `wuwb bulk-accept` end to end through the CLI on real project files:
audit, estimate, commit, export with provenance, and a kill during the commit."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db.store import Filter, Sort, Store
from workbench.cli import main

ROWS = 60
# Four systems: B and C disagree with A on every fifth utterance, D on every seventh.
TRUTH = ["侬今朝去伐", "阿拉上海人", "伊拉讲苏州话", "覅客气", "明朝会"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _text(n: int) -> str:
    return TRUTH[n % len(TRUTH)] + f"{n % 10}"


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    data = tmp_path / "data.jsonl"
    rows = [{"key": f"u{n:03d}", "wav": f"/x/{n}.wav", "txt": ""} for n in range(ROWS)]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    db = tmp_path / "p.db"
    assert run(capsys, "import", str(db), str(data), "--no-probe")[0] == 0
    for system in ("A", "B", "C", "D"):
        lines = []
        for n in range(ROWS):
            text = _text(n)
            if (system in "BC" and n % 5 == 0) or (system == "D" and n % 7 == 0):
                text = text[:-1] + "错"
            lines.append(f"u{n:03d}\t{text}\n")
        hyps = tmp_path / f"{system}.tsv"
        hyps.write_text("".join(lines), "utf-8")
        assert run(capsys, "import-hyps", str(db), str(hyps), "--system", system)[0] == 0
    return db


def _accept_audit(db: Path, wrong: int = 0) -> None:
    """A person accepts every audited utterance: the truth, except `wrong` of them."""
    with Store.open(db) as store:
        for row in store.page(Filter(audit=True, status="todo"), Sort(), limit=500):
            utt = store.utterance(row.id)
            n = int(utt.key[1:])
            gold = _text(n) + ("啊" if wrong > 0 else "")
            wrong -= 1
            store.accept(utt.id, utt.version, draft=gold, annotator="person")


def test_consensus_audit_estimate_commit_export(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    db = str(project)
    code, out, _ = run(capsys, "consensus", db, "--weights", "equal", "--jobs", "1")
    assert code == 0, out
    # Every fifth utterance B and C differ from A (2:2, A ranks first), every seventh D does;
    # the rest (41) agree.
    assert "consensus: 60 utterances voted; tiers: agree 41, high 19, low 0" in out
    code, out, _ = run(capsys, "bulk-accept", db, "--tier", "agree", "--audit", "10",
                       "--seed", "4")
    assert code == 0 and "drew 10 of 41 unseen agree utterances" in out
    code, _, err = run(capsys, "bulk-accept", db, "--tier", "agree", "--commit")
    assert code == 2 and "0 of 10 utterances accepted by a person" in err
    _accept_audit(project, wrong=1)
    code, out, _ = run(capsys, "bulk-accept", db, "--tier", "agree", "--status")
    assert code == 0 and "10 / 10 accepted by a person" in out
    assert "residual CER" in out and "unseen in the tier: 31 utterances" in out
    # One character wrong in ten audited utterances: the upper bound is far above 0.1 %.
    code, _, err = run(capsys, "bulk-accept", db, "--tier", "agree", "--commit",
                       "--max-cer", "0.1%")
    assert code == 2 and "nothing accepted" in err
    with Store.open(project) as store:
        assert store.count(Filter(status="accepted")) == 10
    code, out, _ = run(capsys, "bulk-accept", db, "--tier", "agree", "--commit",
                       "--max-cer", "50%", "--annotator", "lead")
    assert code == 0 and "accepted 31 utterances of tier agree" in out
    with Store.open(project) as store:
        assert store.count(Filter(status="accepted")) == 41
        bulk = store.execute(
            "SELECT count(*) FROM utterances WHERE provenance = 'bulk:consensus'"
        )[0][0]
        assert bulk == 31
        one = store.execute(
            "SELECT id FROM utterances WHERE provenance = 'bulk:consensus' LIMIT 1"
        )[0][0]
        log = {f: (new, who) for f, _, new, who, _ in store.edit_log(one)}
        assert log["provenance"] == ("bulk:consensus", "lead")
        assert log["status"] == ("accepted", "lead")
    out_all = tmp_path / "all.jsonl"
    out_human = tmp_path / "human.jsonl"
    assert run(capsys, "export", db, str(out_all), "--format", "wenet")[0] == 0
    assert run(capsys, "export", db, str(out_human), "--format", "wenet",
               "--provenance", "human")[0] == 0
    rows = [json.loads(line) for line in out_all.read_text("utf-8").splitlines()]
    made = [r["provenance"] for r in rows]
    assert made.count("human") == 10 and made.count("bulk:consensus") == 31
    human = [json.loads(line) for line in out_human.read_text("utf-8").splitlines()]
    assert {r["provenance"] for r in human} == {"human"} and len(human) == 10
    code, out, _ = run(capsys, "report", db, "--json")
    report = json.loads(out)
    assert report["gold_utterances"] == 10  # machine-accepted gold scores nobody
    assert {p["provenance"]: p["utterances"] for p in report["provenance"]} == {
        "bulk:consensus": 31, "human": 10,
    }
    assert report["triage"]["tiers"]["agree"] == 41
    assert report["triage"]["audits"][0]["accepted"] == 31
    # CER per tier, on the human gold: the one audit correction is in tier agree.
    code, out, _ = run(capsys, "report", db, "--by", "tier", "--json")
    by_tier = json.loads(out)
    assert by_tier["groups"] == [{"group": "agree", "gold": 10}]
    consensus = next(r for r in by_tier["cer"] if r["system"] == "consensus")
    assert consensus["groups"]["agree"]["d"] == 1  # the auditor heard one more character


def test_help_names_every_flag():
    for command, flags in {
        "consensus": ["--systems", "--task", "--name", "--weights", "--min-gold", "--high-max",
                      "--agree-max", "--draft", "--jobs", "--restart"],
        "bulk-accept": ["--tier", "--audit", "--seed", "--status", "--commit", "--max-cer",
                        "--annotator"],
        "export": ["--provenance", "--tier"],
    }.items():
        proc = subprocess.run([sys.executable, "-m", "workbench.cli", command, "--help"],
                              capture_output=True, text=True, check=True)
        for flag in flags:
            assert flag in proc.stdout, (command, flag)


def test_a_kill_during_commit_accepts_none_then_a_rerun_accepts_all(tmp_path: Path):
    rows = 20_000  # four steps of the commit: the kill lands after the first
    db = tmp_path / "big.db"
    with Store.open(db) as store, store.transaction() as conn:
        conn.executemany(
            "INSERT INTO utterances (id, key, audio, draft) VALUES (?, ?, ?, '')",
            [(n + 1, f"k{n:06d}", f"/x/{n}.wav") for n in range(rows)],
        )
        conn.executemany(
            "INSERT INTO hypotheses (utt_id, task, system, text, created_at) "
            "VALUES (?, 'asr', ?, '侬好', 'now')",
            [(n + 1, s) for n in range(rows) for s in ("A", "B")],
        )
    cli = [sys.executable, "-m", "workbench.cli"]
    subprocess.run([*cli, "consensus", str(db), "--jobs", "1"], check=True, capture_output=True)
    subprocess.run([*cli, "bulk-accept", str(db), "--tier", "agree", "--audit", "3"],
                   check=True, capture_output=True)
    _accept_audit(db)
    commit = [*cli, "bulk-accept", str(db), "--tier", "agree", "--commit"]
    proc = subprocess.Popen(commit, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("bulk-accepting"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    def accepted() -> int:
        with sqlite3.connect(db) as conn:
            return conn.execute(
                "SELECT count(*) FROM utterances WHERE provenance LIKE 'bulk:%'"
            ).fetchone()[0]

    assert accepted() == 0
    done = subprocess.run(commit, check=True, capture_output=True, text=True)
    assert f"accepted {rows - 3:,} utterances" in done.stdout
    assert accepted() == rows - 3
