"""Export targets that are not plain new files: links, pipes, kept modes, stale temp files.

Issue 13.7 and 14.6; each test failed before the fix. A character device is not exercised
here (the old code replaced one, and /dev/null is the machine's); it takes the FIFO's path.
"""

from __future__ import annotations

import fcntl
import os
import stat
import threading
from pathlib import Path

import pytest
from db_helpers import write_jsonl

from db.exporters import export
from db.importers import ImportConfig, import_file
from db.row_formats import Options
from db.store import Store

EXPECTED = '{"key": "a", "wav": "/d/a.wav", "txt": "侬好", "provenance": "import-gold"}\n'


@pytest.fixture
def project(tmp_path: Path, store: Store) -> Store:
    import_file(store, write_jsonl(tmp_path / "in.jsonl", [
        {"key": "a", "wav": "/d/a.wav", "txt": "侬好"}]),
        ImportConfig(options=Options(gold=True), probe=False))
    return store


def test_a_symlink_target_is_written_through_and_stays_a_link(tmp_path: Path, project: Store):
    real = tmp_path / "data" / "gold.jsonl"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "gold-link.jsonl"
    link.symlink_to(real)
    assert export(project, link, "wenet") == 1
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text("utf-8") == EXPECTED
    dangling = tmp_path / "new-link.jsonl"
    dangling.symlink_to(tmp_path / "data" / "fresh.jsonl")
    export(project, dangling, "wenet")
    assert dangling.is_symlink() and (tmp_path / "data" / "fresh.jsonl").read_text() == EXPECTED


def test_an_existing_target_keeps_its_mode(tmp_path: Path, project: Store):
    out = tmp_path / "secret.jsonl"
    out.write_text("old\n")
    out.chmod(0o600)
    export(project, out, "wenet")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_text("utf-8") == EXPECTED


def test_a_new_target_gets_the_umask_mode(tmp_path: Path, project: Store):
    old = os.umask(0o027)
    try:
        export(project, tmp_path / "new.jsonl", "wenet")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.jsonl").stat().st_mode) == 0o640


def test_a_pipe_target_is_streamed_to_not_replaced(tmp_path: Path, project: Store):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as f:  # blocks until the export opens the pipe
            got.append(f.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert export(project, fifo, "wenet") == 1
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    reader.join(30)
    assert got == [EXPECTED.encode("utf-8")]
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


def test_stale_temp_files_of_a_killed_export_are_cleaned(tmp_path: Path, project: Store):
    out = tmp_path / "out.jsonl"
    stale = tmp_path / ".out.jsonl.k1ll3d.tmp"  # what a killed export leaves
    stale.write_text('{"key": "half')
    other = tmp_path / ".other.jsonl.abc.tmp"  # another target's: not ours to remove
    other.write_text("x")
    live = tmp_path / ".out.jsonl.running.tmp"  # an export still writing holds its lock
    with open(live, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        export(project, out, "wenet")
        assert live.exists()
    assert not stale.exists() and other.exists()
    assert out.read_text("utf-8") == EXPECTED
