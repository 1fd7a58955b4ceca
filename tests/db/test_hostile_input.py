"""Hostile input to the importers and the store (issue 13): each case failed before its fix."""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from db_helpers import utt, write_jsonl

from db.errors import WorkbenchError
from db.hypfiles import import_hypotheses
from db.importers import ImportConfig, ImportError_, import_file
from db.store import Store, StoreError
from db.tasks import PROMPTS

WSWU = {
    "key": "WU_1", "wav": "/abs/WU_1.wav", "duration": 2.0, "transcription": "侬好",
    "translation": "你好", "confidence": 0.9, "audio-quality": {"DNSMOS": 3.0, "SNR": 20.0},
    "paralinguistic": {"emotion": "happy", "age": 30, "gender": "Female"},
    "meta-info": {"domain": "Vlog", "sub-dialect": "Taihu_Shanghai"},
}


def swift(task: str, answer: str, audio: str) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": PROMPTS[task]},
                         {"role": "assistant", "content": answer}], "audios": [audio]}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- 13.4 keys with whitespace ------------------------------------------------------------


def test_keys_with_whitespace_are_bad_lines_naming_the_rule(tmp_path: Path, store: Store,
                                                            do_import):
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"key": "u 3", "wav": "a.wav", "txt": "x"},
        {"key": "  ", "wav": "b.wav", "txt": "x"},
        {"key": "t\tab", "wav": "c.wav", "txt": "x"},
        {"key": "wide\u3000space", "wav": "d.wav", "txt": "x"},
        {"key": "fine", "wav": "e.wav", "txt": "x"},
    ])
    summary, bad = do_import(data, probe=False)
    assert [b.split(": ", 1)[0] for b in bad] == [f"{data}:{n}" for n in (1, 2, 3, 4)]
    assert all("whitespace" in b and "first space" in b for b in bad)
    assert summary.inserted == 1 and store.count() == 1


def test_swift_audio_stem_with_a_space_is_a_bad_line(tmp_path: Path, store: Store, do_import):
    data = write_jsonl(tmp_path / "s.jsonl", [swift("asr", "侬好", "/x/sp ace.wav"),
                                              swift("asr", "侬好", "/x/ok.wav")])
    summary, bad = do_import(data, probe=False)
    assert len(bad) == 1 and bad[0].startswith(f"{data}:1: ") and "whitespace" in bad[0]
    assert summary.inserted == 1


# --- 14.9 a swift audio path ending in / ---------------------------------------------------


def test_swift_audio_path_naming_a_folder_is_a_bad_line(tmp_path: Path, store: Store,
                                                        do_import):
    data = write_jsonl(tmp_path / "s.jsonl", [swift("asr", "侬好", "/x/clips/")])
    _, bad = do_import(data, probe=False)
    assert len(bad) == 1 and "/x/clips/" in bad[0] and "no file name" in bad[0]
    assert store.count() == 0 and store.utterance_id("") is None


# --- 13.5 WenetSpeech-Wu labels out of the set --------------------------------------------


def test_corpus_labels_out_of_the_set_keep_the_line(tmp_path: Path, store: Store, do_import):
    data = write_jsonl(tmp_path / "c.jsonl", [
        {**WSWU, "key": "a", "paralinguistic": {"emotion": "happy", "age": "unknown",
                                                "gender": "M"}},
        {**WSWU, "key": "b", "paralinguistic": {"emotion": "bored", "age": 150,
                                                "gender": "Male"}},
        {**WSWU, "key": "c", "paralinguistic": {"emotion": "sad", "age": -3, "gender": "M"}},
    ])
    summary, bad = do_import(data, probe=False)
    assert bad == [] and summary.inserted == 3
    a, b, c = (utt(store, k) for k in "abc")
    assert (a["draft"], a["age"], a["gender"], a["emotion"]) == ("侬好", None, None, "高兴")
    assert (b["age"], b["gender"], b["emotion"]) == (None, "男性", None)
    assert (c["age"], c["gender"], c["emotion"]) == (None, None, "难过")
    # What did not map is kept, so nothing of the line is lost.
    assert json.loads(a["extra"])["unmapped-labels"] == {"age": "unknown", "gender": "M"}
    assert json.loads(b["extra"])["unmapped-labels"] == {"age": 150, "emotion": "bored"}
    assert summary.unmapped == {"gender 'M'": 2, "emotion 'bored'": 1, "age 'unknown'": 1,
                                "age outside 0-120": 2}
    line = summary.line()
    assert "labels left empty" in line and "gender 'M' ×2" in line
    assert "age outside 0-120 ×2" in line


# --- 13.6 required fields of a format ------------------------------------------------------


def test_wswu_format_on_wenet_rows_makes_bad_lines(tmp_path: Path, store: Store, do_import):
    data = write_jsonl(tmp_path / "d.jsonl", [{"key": "a", "wav": "a.wav", "txt": "侬好"}])
    summary, bad = do_import(data, format="wswu", probe=False)
    assert len(bad) == 1 and "missing 'transcription'" in bad[0]
    assert summary.bad == 1 and store.count() == 0


# --- 13.8 honest counts under --on-duplicate update -----------------------------------------


def test_update_run_twice_reports_and_logs_only_real_changes(tmp_path: Path, store: Store,
                                                             do_import):
    rows = [swift(t, a, "/x/u1.wav") for t, a in
            (("asr", "侬好"), ("ast", "你好"), ("gender", "男性"))]
    data = write_jsonl(tmp_path / "s.jsonl", rows)
    first, _ = do_import(data, probe=False, on_duplicate="update")
    assert (first.inserted, first.updated, first.merged) == (1, 0, 2)
    again, _ = do_import(data, probe=False, on_duplicate="update")
    assert (again.inserted, again.updated, again.unchanged, again.merged) == (0, 0, 1, 2)
    u = utt(store, "u1")
    assert store.edit_log(u["id"]) == [] and u["version"] == 0
    changed = write_jsonl(tmp_path / "s2.jsonl", [swift("asr", "侬好呀", "/x/u1.wav"), *rows[1:]])
    third, _ = do_import(changed, probe=False, on_duplicate="update")
    assert third.updated == 1 and len(store.edit_log(u["id"])) == 1


# --- 13.9 a UTF-8 byte order mark ---------------------------------------------------------


def test_a_bom_at_the_start_keeps_line_1(tmp_path: Path, store: Store, do_import):
    data = tmp_path / "bom.jsonl"
    data.write_bytes(codecs.BOM_UTF8 + b'{"key": "a", "wav": "a.wav", "txt": "x"}\n'
                     b'{"key": "b", "wav": "b.wav", "txt": "y"}\n')
    summary, bad = do_import(data, probe=False)
    assert bad == [] and summary.inserted == 2
    for name, body in (("text", "a 侬好\nb 今朝\n"), ("h.tsv", "a\t侬好\nb\t今朝\n")):
        hyp = tmp_path / name
        hyp.write_bytes(codecs.BOM_UTF8 + body.encode())
        (result,) = import_hypotheses(store, hyp, f"sys-{name}")
        assert result.unknown == 0 and result.written == {"asr": 2}, name


# --- 13.10 wrong reasons, one exit code for an empty file ----------------------------------


@pytest.mark.parametrize("fmt", ["auto", "wenet", "swift", "wswu"])
def test_an_empty_file_is_the_same_error_in_every_format(tmp_path: Path, store: Store, fmt):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(ImportError_, match="empty: no JSON lines"):
        import_file(store, empty, ImportConfig(format=fmt))


@pytest.mark.parametrize(("make", "kind"), [
    (lambda p: p.mkdir(), "a folder"),
    (lambda p: os.mkfifo(p), "a named pipe"),
    (lambda p: None, "no such file"),
])
def test_input_that_is_not_a_file_says_what_it_is(tmp_path: Path, store: Store, make, kind):
    path = tmp_path / "input"
    make(path)
    with pytest.raises(ImportError_, match=f"input: {kind}"):
        import_file(store, path, ImportConfig())


def test_a_character_device_is_named_as_such(store: Store):
    with pytest.raises(ImportError_, match="/dev/null: a character device"):
        import_file(store, "/dev/null", ImportConfig())


# --- 13.2 foreign SQLite files ------------------------------------------------------------


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('not ours')")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("opts", [{"create": False}, {"create": True}, {"readonly": True}])
def test_a_foreign_sqlite_file_is_refused_and_left_untouched(foreign: Path, opts):
    before = sha(foreign)
    with pytest.raises(StoreError, match="not a wu-workbench project"):
        Store.open(foreign, **opts)
    assert sha(foreign) == before
    assert sorted(os.listdir(foreign.parent)) == ["other.sqlite"]


def test_project_tables_without_a_schema_version_get_the_same_message(tmp_path: Path):
    path = tmp_path / "p.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.close()
    for opts in ({"create": True}, {"create": False}):
        with pytest.raises(StoreError, match=r"not a wu-workbench project.*user_version 0"):
            Store.open(path, **opts)


def test_only_a_new_or_empty_file_becomes_a_project(tmp_path: Path):
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(StoreError, match=r"empty\.db: an empty file, not a wu-workbench project"):
        Store.open(empty, create=False)
    assert empty.stat().st_size == 0
    Store.open(empty, create=True).close()
    blank = tmp_path / "blank.db"  # a SQLite database with no tables yet
    sqlite3.connect(blank).execute("PRAGMA user_version").fetchone()
    Store.open(blank, create=True).close()
    with Store.open(blank, create=False) as store:
        assert store.count() == 0


# --- 13.3 read-only projects ---------------------------------------------------------------


def test_a_read_only_store_reads_and_refuses_writes_clearly(tmp_path: Path, store: Store,
                                                          do_import):
    from db.store import ReadOnlyError  # (here: the old store had none)

    do_import(write_jsonl(tmp_path / "d.jsonl", [{"key": "a", "wav": "a.wav", "txt": "x"}]),
              probe=False)
    store.close()
    before = sha(store.path)
    with Store.open(store.path, readonly=True) as ro:
        a = ro.utterance(ro.utterance_id("a") or 0)
        assert a.draft == "x" and ro.count() == 1 and ro.readonly
        with pytest.raises(ReadOnlyError, match="read-only: saves are off") as exc:
            ro.save(a.id, a.version, {"draft": "y"}, "ann")
        assert isinstance(exc.value, WorkbenchError)
        with pytest.raises(ReadOnlyError):
            import_file(ro, tmp_path / "d.jsonl", ImportConfig(probe=False))
        ro.refresh_search()  # searching a read-only project uses the index as it stands
    assert sha(store.path) == before


def test_import_hyps_names_a_pipe_without_waiting_on_it(tmp_path: Path, store: Store):
    from db.hypfiles import HypFileError

    fifo = tmp_path / "results"
    os.mkfifo(fifo)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            import_hypotheses(store, fifo, "s")
        except BaseException as exc:  # handed to the test thread
            raised.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "import-hyps waited for a writer on the named pipe"
    assert isinstance(raised[0], HypFileError) and "a named pipe" in str(raised[0])
