"""The import's fast lane (ranges parsed ahead, in worker processes for big files) gives the
same project, counts and FILE:LINE reports as the line-by-line lane."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from db_helpers import dump, write_jsonl

from db.import_chunks import CHUNK, Job, parse_range, ranges
from db.importers import ImportConfig, import_file
from db.jsonl import BadLine
from db.row_formats import Options
from db.store import Store


def big_file(path: Path, n: int) -> Path:
    """Enough plain lines for several ranges, with a bad line, a blank line, a relative path,
    an extra field and a repeated key placed in the later ranges."""
    rows: list[dict[str, object] | str] = [
        {"key": f"k{i:06d}", "wav": f"/abs/{i}.wav", "txt": f"侬好{i}"} for i in range(n)
    ]
    rows[60_000] = '{"key": "broken"'
    rows[60_001] = ""
    rows[70_000] = {"key": "rel", "wav": "clips/r.wav", "txt": "x", "spk": "S1"}
    rows[72_000] = {"key": "k000001", "wav": "/abs/1.wav", "txt": "侬好1"}  # as stored
    return write_jsonl(path, rows)


def run(store: Store, data: Path, **config: object) -> tuple[object, list[str]]:
    bad: list[str] = []

    def on_bad(b: BadLine) -> None:
        bad.append(str(b))

    summary = import_file(store, data, ImportConfig(probe=False, **config), on_bad=on_bad)
    return summary, bad


def test_ranges_cover_the_file_on_line_boundaries(tmp_path: Path):
    data = big_file(tmp_path / "d.jsonl", 80_000)
    spans = list(ranges(str(data)))
    assert len(spans) > 2 and spans[0][0] == 0 and spans[-1][1] == data.stat().st_size
    raw = data.read_bytes()
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end == start and raw[end - 1 : end] == b"\n"
    assert all(end - start <= CHUNK + 200 for start, end in spans)
    # Plain ranges are parsed ahead; the second holds the bad line. (The third is plain too:
    # its repeat of k000001 is met only when inserting, which sends it line by line.)
    lanes = [parse_range(Job(str(data), start, end, "wenet", Options(), str(tmp_path), None,
                             False)).shapes is not None for start, end in spans]
    assert lanes == [True, False, True]


def test_workers_and_one_process_give_the_same_project(tmp_path: Path):
    data = big_file(tmp_path / "d.jsonl", 80_000)
    results = {}
    for workers in (0, 1):
        store = Store.open(tmp_path / f"p{workers}.db")
        try:
            summary, bad = run(store, data, workers=workers)
            results[workers] = (summary, bad, dump(store))
        finally:
            store.close()
    (s0, bad0, rows0), (s1, bad1, rows1) = results[0], results[1]
    assert rows0 == rows1 and bad0 == bad1
    assert len(bad0) == 1 and bad0[0].startswith(f"{data}:60001: not JSON")
    assert (s0.lines, s0.inserted, s0.bad, s0.unchanged) == (79_999, 79_997, 1, 1)
    assert (s1.lines, s1.inserted, s1.bad, s1.unchanged) == (79_999, 79_997, 1, 1)
    extra = next(r for r in rows0["utterances"] if r[1] == "rel")
    assert extra[2] == str(tmp_path / "clips" / "r.wav") and json.loads(extra[12]) == {"spk": "S1"}


def test_a_rerun_takes_the_line_by_line_lane_and_changes_nothing(tmp_path: Path, store: Store):
    data = big_file(tmp_path / "d.jsonl", 80_000)
    run(store, data, workers=1)
    before = dump(store)
    again, bad = run(store, data, workers=1)
    assert dump(store) == before and len(bad) == 1
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 79_998)


@pytest.mark.parametrize(("nul", "fast"), [(False, True), (True, False)])
def test_the_fast_lane_stores_text_exactly(tmp_path: Path, store: Store, nul: bool, fast: bool):
    """SQLite reads the fast lane's rows as JSON: escapes, quotes, astral characters and
    numbers come back exactly as the line-by-line lane binds them. SQLite's JSON would end a
    text at a NUL, so a range holding one goes line by line."""
    texts = ["侬好", 'say "hi"\\n', "\x1b[2J\x07", "𠀀𪚥🎉", "\u202eevil", "", "\t x \n"]
    if nul:
        texts.append("a\x00b")
    rows = [{"key": f"k{i}\x1b", "wav": f"/abs/{i}.wav", "txt": t} for i, t in enumerate(texts)]
    rows.append({"key": "extra", "wav": "/abs/e.wav", "txt": "x", "n": 1.1, "big": 2**53 + 1})
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    span = next(ranges(str(data)))
    lane = parse_range(Job(str(data), *span, "wenet", Options(), str(tmp_path), None, False))
    assert (lane.shapes is not None) == fast
    summary, bad = run(store, data, workers=0)
    assert bad == [] and summary.inserted == len(rows)
    stored = {r[1]: r for r in dump(store)["utterances"]}
    for i, text in enumerate(texts):
        assert stored[f"k{i}\x1b"][13] == (text or None)  # the draft
    assert json.loads(stored["extra"][12]) == {"n": 1.1, "big": 2**53 + 1}
