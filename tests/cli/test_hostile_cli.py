"""Hostile input through the real `wuwb` in a subprocess (issue 13): escapes in names, foreign
SQLite files, read-only projects, and what a failed import leaves. Each failed before its fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.store import HypothesisIn, Store

ESC_NAME = "attn\x1b[2J\x1b]0;pwned\x07"
# Everything a terminal could act on: ESC, BEL, a C1 CSI, a bidi override.
HOSTILE = ("\x1b", "\x07", "\x9b", "\u202e")


def wuwb(*args: str, check_rc: int | None = None) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr.decode("utf-8", "replace")
    return proc


def shows_nothing_hostile(raw: bytes) -> bool:
    text = raw.decode("utf-8")
    return not any(c in text for c in HOSTILE)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def hostile_project(tmp_path: Path) -> Path:
    """Gold with hypotheses of systems and subsets whose names hold escapes (as older imports
    or other tools could have stored them)."""
    path = tmp_path / "p.db"
    with Store.open(path) as store:
        with store.transaction() as conn:
            conn.executemany(
                "INSERT INTO utterances (key, audio, subset, draft, gold, status, age) "
                "VALUES (?, ?, ?, ?, ?, 'accepted', ?)",
                [("k\x1b[1m1", "/a/1.wav", "s\x9b2J", "侬好", "侬好", "中年"),
                 ("k2", "/a/2.wav", "sub\u202eset", "今朝", "今朝", "青年")],
            )
        ids = store.ids_for_keys(["k\x1b[1m1", "k2"])
        store.add_hypotheses([
            HypothesisIn(ids["k\x1b[1m1"], ESC_NAME, "asr", "侬好"),
            HypothesisIn(ids["k2"], ESC_NAME, "asr", "今天"),
            HypothesisIn(ids["k2"], "bidi\u202emetsys", "age", "青年"),
            HypothesisIn(ids["k2"], "c1\x9b31m", "ast", "今天"),
        ])
    return path


# --- 13.1 escapes --------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [[], ["--by", "subset"], ["--json"], ["--wu-norm"]])
def test_report_piped_through_cat_v_shows_no_escape_from_data(hostile_project: Path, extra):
    cmd = shlex.join([sys.executable, "-m", "workbench.cli", "report", str(hostile_project),
                      *extra])
    proc = subprocess.run(f"{cmd} | cat -v", shell=True, capture_output=True, check=True)
    # cat -v writes ESC as ^[ and BEL as ^G; after M- they are bytes of UTF-8 (box lines).
    # U+009B (a one-character CSI) is the pair M-BM-^[.
    assert not re.search(rb"(?<!M-)\^[\[G]", proc.stdout) and b"M-BM-^[" not in proc.stdout
    raw = wuwb("report", str(hostile_project), *extra, check_rc=0)
    assert shows_nothing_hostile(raw.stdout) and raw.stderr == b""
    if extra == ["--json"]:  # escaped in JSON, so the data itself is unchanged
        systems = {r["system"] for r in json.loads(raw.stdout)["cer"]}
        assert systems == {ESC_NAME}
    else:
        assert "attn␛[2J␛]0;pwned␇".encode() in raw.stdout


def test_import_hyps_refuses_control_characters_in_system_names(tmp_path: Path,
                                                                hostile_project: Path):
    text = tmp_path / "text"
    text.write_text("k2 今朝\n", encoding="utf-8")
    proc = wuwb("import-hyps", str(hostile_project), str(text), "--system", "\x1b[2J", check_rc=2)
    assert shows_nothing_hostile(proc.stderr) and b"control character" in proc.stderr
    result_dir = tmp_path / "R"
    (result_dir / ESC_NAME).mkdir(parents=True)
    (result_dir / ESC_NAME / "text").write_text("k2 今朝\n", encoding="utf-8")
    proc = wuwb("import-hyps", str(hostile_project), str(result_dir), "--system", "u2",
                check_rc=2)
    assert shows_nothing_hostile(proc.stderr) and "attn␛[2J".encode() in proc.stderr


def test_import_hyps_messages_show_file_names_and_keys_safely(tmp_path: Path,
                                                              hostile_project: Path):
    folder = tmp_path / "d\x1b]0;t\x07"
    folder.mkdir()
    results = folder / "r\x1b[2J.jsonl"
    results.write_text('not json\n{"key": "x"}\n', encoding="utf-8")
    proc = wuwb("import-hyps", str(hostile_project), str(results), "--system", "s", check_rc=1)
    assert shows_nothing_hostile(proc.stdout + proc.stderr)
    assert b":1: not JSON" in proc.stderr and "r␛[2J.jsonl".encode() in proc.stdout
    tsv = folder / "h.tsv"
    tsv.write_text("ghost\x1b[5m\tx\n", encoding="utf-8")
    proc = wuwb("import-hyps", str(hostile_project), str(tsv), "--system", "t", check_rc=0)
    assert shows_nothing_hostile(proc.stdout + proc.stderr) and b"unknown key" in proc.stderr


def test_import_messages_show_file_names_safely(tmp_path: Path):
    data = tmp_path / "in\x1b[2J.jsonl"
    data.write_text('{"key": "a", "wav": "a.wav"}\n{"key": 1}\n', encoding="utf-8")
    proc = wuwb("import", str(tmp_path / "p.db"), str(data), "--no-probe", check_rc=1)
    assert shows_nothing_hostile(proc.stdout + proc.stderr)
    assert "in␛[2J.jsonl:2: ".encode() in proc.stderr
    out = tmp_path / "o\x1b[2J.jsonl"
    proc = wuwb("export", str(tmp_path / "p.db"), str(out), "--format", "wenet",
                "--status", "all", check_rc=0)
    assert shows_nothing_hostile(proc.stdout) and out.exists()


# --- 13.2 foreign SQLite files -------------------------------------------------------------


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('not ours')")
    conn.commit()
    conn.close()
    return path


def test_every_command_refuses_a_foreign_sqlite_file_untouched(tmp_path: Path, foreign: Path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"key": "a", "wav": "a.wav", "txt": "x"}\n', encoding="utf-8")
    text = tmp_path / "text"
    text.write_text("a x\n", encoding="utf-8")
    before = sha(foreign)
    for args in (["report", str(foreign)], ["report", str(foreign), "--json"],
                 ["export", str(foreign), str(tmp_path / "o.jsonl"), "--format", "wenet"],
                 ["import-hyps", str(foreign), str(text), "--system", "s"],
                 ["import", str(foreign), str(data)]):
        proc = wuwb(*args, check_rc=2)
        assert b"not a wu-workbench project" in proc.stderr, args
        assert sha(foreign) == before, args
    assert sorted(os.listdir(tmp_path)) == ["d.jsonl", "other.sqlite", "text"]


# --- 13.3 read-only projects ---------------------------------------------------------------


def lock(paths: list[Path]) -> list[Path]:
    """Make files and folders read-only, for root too (the immutable attribute); returns
    what must be unlocked afterwards."""
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    if os.geteuid() != 0:
        return []
    locked = []
    for path in paths:
        if subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
            unlock(locked)
            pytest.skip("running as root without chattr: nothing can be made read-only")
        locked.append(path)
    return locked


def unlock(paths: list[Path]) -> None:
    for path in reversed(paths):
        subprocess.run(["chattr", "-i", str(path)], check=True)
    for path in paths:
        path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture(params=["file", "file and folder"])
def read_only(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A project nobody may write: the file alone, or its folder too (then SQLite cannot
    make the WAL index beside it)."""
    folder = tmp_path / "projects"
    folder.mkdir()
    path = folder / "ro.db"
    data = tmp_path / "d.jsonl"
    data.write_text('{"key": "a", "wav": "a.wav", "txt": "侬好"}\n', encoding="utf-8")
    wuwb("import", str(path), str(data), "--gold", "--no-probe", check_rc=0)
    locked = lock([path, folder] if request.param == "file and folder" else [path])
    try:
        yield path
    finally:
        unlock(locked)


def test_reading_commands_work_on_a_read_only_project(tmp_path: Path, read_only: Path):
    before = sha(read_only)
    proc = wuwb("report", str(read_only), "--json", check_rc=0)
    assert json.loads(proc.stdout)["gold_utterances"] == 1
    out = tmp_path / "gold.jsonl"
    wuwb("export", str(read_only), str(out), "--format", "wenet", check_rc=0)
    assert json.loads(out.read_text("utf-8"))["txt"] == "侬好"
    text = tmp_path / "text"
    text.write_text("a 侬好\n", encoding="utf-8")
    proc = wuwb("import-hyps", str(read_only), str(text), "--system", "s", check_rc=2)
    assert b"read-only" in proc.stderr and b"Traceback" not in proc.stderr
    assert sha(read_only) == before


# --- 13.10 what a failed import says and leaves ----------------------------------------------


@pytest.mark.parametrize("fmt", ["auto", "wenet"])
@pytest.mark.parametrize(("name", "reason"), [
    ("empty.jsonl", "empty: no JSON lines"),
    ("folder", "a folder"),
    ("/dev/null", "a character device"),
])
def test_a_failed_import_exits_2_and_creates_nothing(tmp_path: Path, name, reason, fmt):
    source = Path(name) if name.startswith("/") else tmp_path / name
    if name == "folder":
        source.mkdir()
    elif name == "empty.jsonl":
        source.write_text("")
    db = tmp_path / "new.db"
    proc = wuwb("import", str(db), str(source), "--format", fmt, check_rc=2)
    assert reason.encode() in proc.stderr and b"no such file" not in proc.stderr
    assert not any(p.name.startswith("new.db") for p in tmp_path.iterdir())


def test_a_failed_import_into_an_empty_file_leaves_it_empty(tmp_path: Path):
    db = tmp_path / "given.db"
    db.touch()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    wuwb("import", str(db), str(empty), check_rc=2)
    assert db.exists() and db.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.jsonl", "given.db"]


def test_prefill_messages_show_paths_safely(tmp_path: Path):
    missing = tmp_path / "x\x1b[2J.db"
    proc = wuwb("prefill", str(missing), "--backend", "sherpa-onnx", "--system", "s",
                check_rc=2)
    assert shows_nothing_hostile(proc.stdout + proc.stderr)
    assert "x␛[2J.db".encode() in proc.stderr and b"no such" in proc.stderr
