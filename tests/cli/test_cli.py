"""`wuwb` end to end: the contract's commands, exit statuses and one-line errors."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.cli import main

# The real clips ship once, with their attribution, in the demo data.
AUDIO = Path(__file__).resolve().parents[2] / "workbench" / "demo_data" / "audio"
WU = AUDIO / "wu_A0002_S0003_0_G0003_G0004_33.wav"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.jsonl"
    rows = [
        {"key": "wu1", "wav": str(WU), "txt": "最少辰光阿拉是做撒呃喃"},
        {"key": "gone", "wav": "gone.wav", "txt": "侬好"},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_import_hyps_export_report(tmp_path: Path, data: Path, capsys):
    db = str(tmp_path / "p.db")
    code, out, err = run(capsys, "import", db, str(data), "--gold", "--subset", "dev")
    assert code == 0 and err == ""
    assert "2 new" in out and "audio: 1 missing" in out
    hyp = tmp_path / "text"
    hyp.write_text("wu1 最少辰光阿拉是做啥呢\nghost x\n", encoding="utf-8")
    code, out, err = run(capsys, "import-hyps", db, str(hyp), "--system", "ctc")
    assert code == 0 and "1 asr written, 1 unknown keys" in out
    assert "unknown key 'ghost'" in err
    out_file = tmp_path / "out.jsonl"
    code, out, _ = run(capsys, "export", db, str(out_file), "--format", "wenet")
    assert (code, out.strip()) == (0, f"wrote 2 rows to {out_file}")
    code, out, _ = run(capsys, "export", db, str(out_file), "--format", "swift",
                       "--tasks", "asr")
    assert code == 0 and len(out_file.read_text("utf-8").splitlines()) == 2
    code, out, _ = run(capsys, "report", db, "--json", "--by", "subset")
    report = json.loads(out)
    (ctc,) = report["cer"]
    assert ctc["system"] == "ctc" and ctc["overall"]["unanswered"] == 1
    assert ctc["overall"]["s"] == 2 and ctc["groups"]["dev"]["n"] == 11
    code, out, _ = run(capsys, "report", db, "--by", "sub-dialect", "--wu-norm")
    assert code == 0 and "ctc" in out and "Wu normalisation" in out


def test_bad_lines_exit_1_with_file_and_line(tmp_path: Path, capsys):
    data = tmp_path / "d.jsonl"
    data.write_text('{"key": "a", "wav": "a.wav"}\n{"key": "b"}\n', encoding="utf-8")
    code, out, err = run(capsys, "import", str(tmp_path / "p.db"), str(data), "--no-probe")
    assert code == 1
    assert err == f"{data}:2: missing 'wav'\n"
    assert "1 new" in out and "1 bad lines" in out


def test_strict_exit_2_and_nothing_written(tmp_path: Path, capsys):
    data = tmp_path / "d.jsonl"
    data.write_text('{"key": "a", "wav": "a.wav"}\nnope\n', encoding="utf-8")
    db = tmp_path / "p.db"
    code, _, err = run(capsys, "import", str(db), str(data), "--strict")
    assert code == 2
    assert err.startswith(f"wuwb import: error: {data}:2: not JSON")
    assert err.count("\n") == 1
    assert not db.exists()  # the failed import created nothing


@pytest.mark.parametrize(("argv", "message"), [
    (["import", "{db}", "{tmp}/missing.jsonl"], "missing.jsonl: no such file"),
    (["import", "{db}", "{data}", "--audio-root", "{tmp}/nodir"], "not a folder"),
    (["import", "{db}", "{data}", "--age-bounds", "1,2,3"], "four increasing numbers"),
    (["import-hyps", "{tmp}/none.db", "{data}", "--system", "s"], "no such project file"),
    (["import-hyps", "{db}", "{tmp}/none.txt", "--system", "s"], "no such file or folder"),
    (["export", "{tmp}/none.db", "{tmp}/o.jsonl", "--format", "wenet"], "no such project file"),
    (["export", "{db}", "{tmp}/no/dir/o.jsonl", "--format", "wenet"], "no such folder"),
    (["report", "{tmp}/none.db"], "no such project file"),
    (["report", "{data}"], "not a wu-workbench project"),
])
def test_user_errors_are_one_line(tmp_path: Path, data: Path, capsys, argv, message):
    db = tmp_path / "p.db"
    assert main(["import", str(db), str(data), "--no-probe"]) == 0
    capsys.readouterr()
    args = [a.format(db=db, tmp=tmp_path, data=data) for a in argv]
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err and err.startswith(f"wuwb {args[0]}: error: ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["export", "p.db", "o.jsonl", "--format", "wenet", "--tasks", "asr,pitch"])
    assert exc.value.code == 2
    assert "unknown task pitch" in capsys.readouterr().err


def test_help_explains_every_flag():
    for command, flags in {
        "import": ["--format", "--subset", "--audio-root", "--on-duplicate", "--gold",
                   "--strict", "--no-probe", "--age-bounds"],
        "import-hyps": ["--system", "--task", "--format"],
        "export": ["--format", "--tasks", "--status", "--subset"],
        "report": ["--by", "--json", "--wu-norm"],
    }.items():
        proc = subprocess.run([sys.executable, "-m", "workbench.cli", command, "--help"],
                              capture_output=True, text=True, check=True)
        for flag in flags:
            assert flag in proc.stdout, (command, flag)


def test_import_db_does_not_import_textual():
    code = "import sys, db, db.store, db.importers, db.exporters, db.report, db.report_table, " \
           "db.hypfiles; print('textual' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == "False"


def test_killed_import_resumes(tmp_path: Path):
    data = tmp_path / "big.jsonl"
    with open(data, "w", encoding="utf-8") as f:
        for n in range(60_000):
            f.write(json.dumps({"key": f"k{n:06d}", "wav": f"/x/{n}.wav", "txt": "侬好"}) + "\n")
    db = tmp_path / "p.db"
    cmd = [sys.executable, "-m", "workbench.cli", "import", str(db), str(data), "--no-probe"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill it once the first batch is committed (or let it finish on a fast machine).
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with sqlite3.connect(db) as conn:
                if conn.execute("SELECT count(*) FROM utterances").fetchone()[0]:
                    break
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "0 bad lines" in done.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT key) FROM utterances").fetchone() \
            == (60_000, 60_000)
