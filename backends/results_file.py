"""`wuwb prefill DATA.jsonl --out results.jsonl`: prefill for clusters without Ray (a Slurm
array, one task per shard) that never opens a project file.

The input is a data list the importer reads (WeNet `key`/`wav`, swift rows, WenetSpeech-Wu
metadata); `--shard I/N` takes the keys whose position in the list (first appearance,
0-based) is I modulo N. Each finished batch is appended to the results file and flushed to
disk; a re-run skips the keys already answered there (a line cut short by a kill is dropped
first), so a killed task continues. The file is the results JSONL `wuwb import-hyps` reads.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from backends.base import Result
from db.audio_files import Prober, resolve
from db.hypfiles import read_results, result_line
from db.importers import sniff
from db.jsonl import BadLine, OnBad, raise_bad, read_jsonl
from db.row_formats import PARSERS, Options, RowError
from db.store import PendingItem


def read_data_list(path: str | Path, *, fmt: str = "auto", audio_root: str | None = None,
                   shard: tuple[int, int] = (0, 1), limit: int | None = None,
                   on_bad: OnBad = raise_bad) -> list[PendingItem]:
    """This shard's utterances of a data list, audio headers probed, shortest first."""
    fmt = sniff(path) if fmt == "auto" else fmt
    parse = PARSERS[fmt]
    base = os.path.dirname(os.path.abspath(path))
    root = None if audio_root is None else os.path.abspath(audio_root)
    index, count = shard
    seen: set[str] = set()
    probe = Prober()
    items: list[PendingItem] = []
    for line_no, obj, _ in read_jsonl(path, on_bad):
        try:
            row = parse(obj, Options())
        except RowError as exc:
            on_bad(BadLine(path, line_no, str(exc)))
            continue
        if row.key in seen:  # swift lists repeat an audio once per task
            continue
        position = len(seen)
        seen.add(row.key)
        if position % count != index:
            continue
        audio = resolve(row.wav, row.key, base, root)
        info = probe(audio)
        items.append(PendingItem(position, row.key, audio, info.duration, info.error))
        if limit is not None and len(items) >= limit:
            break
    return sorted(items, key=lambda i: (i.duration or -1.0, i.id))


class ResultsFile:
    """The results file of one run: what it already holds, and appending batches to it."""

    def __init__(self, path: str | Path, system: str, task: str) -> None:
        self.path = Path(path)
        self.system = system
        self.task = task
        self.done: set[str] = set()
        if self.path.exists():
            self._drop_cut_line()
            for r in read_results(self.path, on_bad=lambda bad: None):
                if (r.system or system) == system and (r.task or "asr") == task:
                    self.done.add(r.key)

    def _drop_cut_line(self) -> None:
        # A kill mid-write leaves a last line without its newline: cut it off, it is re-run.
        with open(self.path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return
            f.seek(max(size - 1, 0))
            if f.read(1) == b"\n":
                return
            tail = 0
            step = 1 << 16
            while tail < size:
                start = max(size - tail - step, 0)
                f.seek(start)
                chunk = f.read(size - tail - start)
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    f.truncate(start + cut + 1)
                    return
                tail = size - start
            f.truncate(0)

    def pending(self, items: Sequence[PendingItem]) -> list[PendingItem]:
        return [i for i in items if i.key not in self.done]

    def writer(self, items: Sequence[PendingItem]) -> ResultsWriter:
        return ResultsWriter(self, {i.id: i.key for i in items})


class ResultsWriter:
    """Appends results as lines, one flushed and fsynced write per batch."""

    def __init__(self, file: ResultsFile, keys: dict[int, str]) -> None:
        self.file = file
        self.keys = keys

    def __call__(self, results: Sequence[Result]) -> int:
        lines = b"".join(
            result_line(self.keys[r.utt_id], self.file.task, r.system or self.file.system,
                        r.text, r.score, r.error, r.times)
            for r in results)
        with open(self.file.path, "ab") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())
        return len(results)
