"""The fast lane of an import: byte ranges of the JSONL parsed into INSERT parameters, on the
machine's other cores when the file is big.

A range qualifies only when every line in it is a new, plain utterance: a JSON object the
format's own parser accepts, with no corpus answers, no label left unmapped and no key seen
twice in the range. Then the main process only inserts (in one statement per shape, inside a
savepoint) and counts. Anything else, and any range whose insert meets a key already stored,
goes through the importer's line-by-line path with its merges, policies and FILE:LINE reports,
so both lanes give the same result by construction: they share the parser, the path
resolution and the probe (`row_params`).

Measured on 1M WeNet lines: parsing is about half of an import's CPU time, so a second core
running it takes it off the main process, which is left with SQLite's own work.
"""

from __future__ import annotations

import codecs
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import orjson

from db.audio_files import AudioInfo, Prober, resolve
from db.row_formats import PARSERS, Options, Row, RowError

CHUNK = 1 << 21  # bytes per range: ~16,000 WeNet lines
PARALLEL_FROM = 16 << 20  # smaller files are parsed in-process: a pool costs more to start
# Columns a probe adds to a row (the file's own figures win over the metadata's duration).
_PROBED = ("duration", "sample_rate")
_ERROR = ("audio_error",)
_DURATION_ERROR = ("duration", "audio_error")
_DURATION = ("duration",)


def row_params(
    row: Row, probe: Callable[[str], AudioInfo] | None, tally: dict[str, int]
) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """A new row's columns after key and audio, and its INSERT parameters.

    Binding a NULL costs as much as a value, so only the columns the row sets are named.
    """
    fields = row.fields
    params = (row.key, row.wav, *fields.values())
    if probe is not None:
        duration, rate, error = probe(row.wav)  # unpacked: cheaper than three attributes
        if error is None:
            return (*fields, *_PROBED), (*params, duration, rate)
        if error == "missing":
            tally["audio_missing"] += 1
        else:
            tally["audio_unreadable"] += 1
        if row.duration is None:
            return (*fields, *_ERROR), (*params, error)
        return (*fields, *_DURATION_ERROR), (*params, row.duration, error)
    if row.duration is not None:
        return (*fields, *_DURATION), (*params, row.duration)
    return tuple(fields), params


@dataclass(frozen=True)
class Job:
    """One byte range to parse, with everything a worker process needs to know."""

    path: str
    start: int
    end: int
    fmt: str
    options: Options
    base: str  # the JSONL's folder, for relative audio paths
    audio_root: str | None
    probe: bool


@dataclass(frozen=True)
class Parsed:
    start: int
    end: int
    lines: int  # physical lines in the range, blank ones included (for line numbers)
    # (columns after key and audio, the rows' parameters as one JSON array) per shape, or
    # None when the range is for the line-by-line lane. SQLite reads the JSON itself
    # (json_each): binding a million rows' values one by one cost the main process more.
    shapes: list[tuple[tuple[str, ...], bytes]] | None = None
    rows: int = 0
    audio_missing: int = 0
    audio_unreadable: int = 0


def ranges(path: str, size: int = CHUNK) -> Iterator[tuple[int, int]]:
    """Byte ranges of about `size` that start and end on line boundaries (after a BOM)."""
    total = os.path.getsize(path)
    with open(path, "rb") as f:
        start = 3 if f.read(3) == codecs.BOM_UTF8 else 0
        while start < total:
            f.seek(start + size)
            f.readline()
            end = min(f.tell(), total)
            yield start, end
            start = end


_PROBER = Prober()  # a worker's own: it remembers missing folders across its ranges


def parse_range(job: Job, prober: Prober | None = None) -> Parsed:
    """Parse a range; its shapes are None unless every line qualifies for the fast lane."""
    with open(job.path, "rb") as f:
        f.seek(job.start)
        data = f.read(job.end - job.start)
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    fail = Parsed(job.start, job.end, len(lines))
    if b"\\u0000" in data:  # SQLite's JSON ends a text at a NUL: such lines go one by one
        return fail
    parse = PARSERS[job.fmt]
    opts = job.options
    absolute = "/" if os.name == "posix" and job.audio_root is None else None
    probe = (prober or _PROBER) if job.probe else None
    tally = {"audio_missing": 0, "audio_unreadable": 0}
    shapes: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    seen: set[str] = set()
    loads = orjson.loads
    for raw in lines:
        try:
            obj = loads(raw)
        except orjson.JSONDecodeError:
            if raw.strip():
                return fail
            continue
        if type(obj) is not dict:
            return fail
        try:
            row = parse(obj, opts)
        except RowError:
            return fail
        if row.hyps or row.flags or row.key in seen:
            return fail
        seen.add(row.key)
        if absolute is None or not row.wav.startswith(absolute):
            row.wav = resolve(row.wav, row.key, job.base, job.audio_root)
        names, params = row_params(row, probe, tally)
        group = shapes.get(names)
        if group is None:
            group = shapes[names] = []
        group.append(params)
    return Parsed(
        job.start, job.end, len(lines),
        [(names, orjson.dumps(rows)) for names, rows in shapes.items()], len(seen),
        tally["audio_missing"], tally["audio_unreadable"],
    )


def parsed_ranges(jobs: Iterator[Job], workers: int, prober: Prober) -> Iterator[Parsed]:
    """Each job parsed, in order: in this process, or by `workers` processes with a bounded
    number of ranges in flight (memory stays flat however far the workers run ahead)."""
    if workers <= 0:
        for job in jobs:
            yield parse_range(job, prober)
        return
    # On Linux fork starts at once and the workers need nothing but this module (the parent's
    # open SQLite connection is never used in them); elsewhere fork is unsafe, spawn is used.
    context = get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_ctrl_c) as pool:
        window: list[Future[Parsed]] = []
        for job in jobs:
            window.append(pool.submit(parse_range, job))
            if len(window) > 2 * workers:
                yield window.pop(0).result()
        for future in window:
            yield future.result()


def _ignore_ctrl_c() -> None:
    # ctrl+c reaches the whole process group: the main process stops the import (and the
    # pool); a worker printing its own traceback would only bury the one line that says so.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def worker_count(size: int, requested: int | None) -> int:
    """Processes to parse with: None picks by file size and cores; 0 means in-process."""
    if requested is not None:
        return requested
    if size < PARALLEL_FROM:
        return 0
    return max(1, min(4, (os.cpu_count() or 2) - 1))
