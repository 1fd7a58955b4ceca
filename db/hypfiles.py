"""Hypotheses written by other tools (shared/FORMATS.md §4), read and attached to utterances.

Readers (reused by the backends): `read_wenet_text` for recognize.py's `R/<mode>/text` and for
`key<TAB>text` files, `read_swift_results` for `swift infer` result JSONL. `import_hypotheses`
ties answers to the project's utterances: unknown keys are reported, not inserted; a
re-import replaces that system's answer for that task on the utterances the file names.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db.errors import WorkbenchError
from db.jsonl import BadLine, OnBad, raise_bad, read_jsonl
from db.store import HypothesisIn, Store
from db.tasks import LABEL_TASKS, TASKS, match_label, task_of_prompt

HYP_FORMATS: tuple[str, ...] = ("wenet-text", "swift-results", "tsv")
NOT_A_LABEL = "not a label"
_BATCH = 5000
_SHOW_UNKNOWN = 10  # unknown keys listed one by one; the rest are counted


class HypFileError(WorkbenchError, ValueError):
    """A hypothesis file or folder that cannot be read as asked."""


@dataclass(frozen=True)
class SwiftResult:
    audio: str
    task: str
    response: str
    line_no: int
    labels: str | None = None  # the reference, when the input row had one


def read_wenet_text(path: str | Path, *, sep: str = " ") -> Iterator[tuple[str, str]]:
    """(key, text) per line, split at the first `sep`.

    `key ` (or a bare `key`) is an empty hypothesis, not a missing one; tags stay in the text.
    Blank lines are skipped.
    """
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            key, _, text = line.partition(sep)
            yield key.strip(), text


def read_swift_results(path: str | Path, on_bad: OnBad = raise_bad) -> Iterator[SwiftResult]:
    """Answers of a `swift infer --result_path` file; unusable lines go to on_bad."""
    for line_no, obj, _ in read_jsonl(path, on_bad):
        try:
            yield _swift_result(obj, line_no)
        except ValueError as exc:
            on_bad(BadLine(path, line_no, str(exc)))


def _swift_result(obj: dict[str, Any], line_no: int) -> SwiftResult:
    audios = obj.get("audios")
    if type(audios) is not list or len(audios) != 1 or type(audios[0]) is not str:
        raise ValueError("'audios' must be a list of one path")
    messages = obj.get("messages")
    if type(messages) is not list:
        raise ValueError("'messages' must be a list")
    prompt = next(
        (m.get("content") for m in messages if type(m) is dict and m.get("role") == "user"), None
    )
    if type(prompt) is not str:
        raise ValueError("no user prompt")
    task = task_of_prompt(prompt)
    if task is None:
        raise ValueError(f"unknown prompt {prompt[:60]!r}")
    response = obj.get("response")
    if type(response) is not str:
        raise ValueError("no 'response'" if response is None else "'response' must be a string")
    labels = obj.get("labels")
    return SwiftResult(audios[0], task, response, line_no, labels if type(labels) is str else None)


@dataclass
class HypImport:
    """What one import-hyps run did for one system."""

    path: str
    system: str
    format: str
    written: dict[str, int] = field(default_factory=dict)  # task → answers stored
    unknown: int = 0
    unknown_keys: list[str] = field(default_factory=list)
    not_labels: int = 0
    bad: list[BadLine] = field(default_factory=list)

    def unknown_lines(self) -> list[str]:
        shown = [f"{self.path}: unknown key {k!r} (not in the project, not imported)"
                 for k in self.unknown_keys]
        if self.unknown > len(self.unknown_keys):
            shown.append(f"{self.path}: … and {self.unknown - len(self.unknown_keys)} more "
                         "unknown keys")
        return shown

    def line(self) -> str:
        tasks = ", ".join(f"{n} {t}" for t, n in sorted(self.written.items())) or "nothing"
        parts = [f"{self.path}: {self.system}: {tasks} written", f"{self.unknown} unknown keys"]
        if self.not_labels:
            parts.append(f"{self.not_labels} answers not a label (kept raw)")
        if self.bad:
            parts.append(f"{len(self.bad)} bad lines")
        return ", ".join(parts)


def sniff_format(path: str | Path) -> str:
    p = Path(path)
    if p.is_dir() or p.name == "text":
        return "wenet-text"
    if p.suffix == ".jsonl" or p.name.endswith(".jsonl.txt"):
        return "swift-results"
    with open(p, encoding="utf-8", errors="replace") as f:
        first = next((line for line in f if line.strip()), "")
    return "tsv" if "\t" in first else "wenet-text"


def import_hypotheses(
    store: Store, path: str | Path, system: str, task: str | None = None, fmt: str = "auto",
) -> list[HypImport]:
    """Import a hypothesis file (or a recognize.py result dir: one system per mode)."""
    if not system.strip():
        raise HypFileError("the system needs a name")
    if task is not None and task not in TASKS:
        raise HypFileError(f"unknown task {task!r}; use one of {', '.join(TASKS)}")
    if fmt == "auto":
        fmt = sniff_format(path)
    if fmt not in HYP_FORMATS:
        raise HypFileError(f"unknown format {fmt!r}; use one of auto, {', '.join(HYP_FORMATS)}")
    p = Path(path)
    if p.is_dir():
        if fmt != "wenet-text":
            raise HypFileError(f"{p}: a folder is read only as a recognize.py result dir")
        modes = sorted(d for d in p.iterdir() if (d / "text").is_file())
        if not modes:
            raise HypFileError(f"{p}: no <mode>/text files (recognize.py --result_dir layout)")
        return [
            _import_keyed(store, m / "text", f"{system}-{m.name}", task or "asr", " ")
            for m in modes
        ]
    if not p.is_file():
        raise HypFileError(f"{p}: no such file")
    if fmt == "swift-results":
        return [_import_swift(store, p, system, task)]
    return [_import_keyed(store, p, system, task or "asr", "\t" if fmt == "tsv" else " ")]


def _hypothesis(utt_id: int, system: str, task: str, text: str, result: HypImport) -> HypothesisIn:
    if task in LABEL_TASKS:
        label = match_label(task, text)
        if label is None:
            result.not_labels += 1
            return HypothesisIn(utt_id, system, task, text, error=NOT_A_LABEL)
        text = label
    result.written[task] = result.written.get(task, 0) + 1
    return HypothesisIn(utt_id, system, task, text)


def _note_unknown(result: HypImport, key: str) -> None:
    result.unknown += 1
    if len(result.unknown_keys) < _SHOW_UNKNOWN:
        result.unknown_keys.append(key)


def _import_keyed(store: Store, path: Path, system: str, task: str, sep: str) -> HypImport:
    result = HypImport(str(path), system, "tsv" if sep == "\t" else "wenet-text")
    batch: list[tuple[str, str]] = []

    def flush() -> None:
        ids = store.ids_for_keys([k for k, _ in batch])
        hyps = []
        for key, text in batch:
            utt_id = ids.get(key)
            if utt_id is None:
                _note_unknown(result, key)
            else:
                hyps.append(_hypothesis(utt_id, system, task, text, result))
        store.add_hypotheses(hyps)
        batch.clear()

    try:
        for key, text in read_wenet_text(path, sep=sep):
            batch.append((key, text))
            if len(batch) >= _BATCH:
                flush()
    except UnicodeDecodeError as exc:
        raise HypFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    flush()
    return result


def _import_swift(store: Store, path: Path, system: str, task: str | None) -> HypImport:
    """Answers tied to utterances by audio: the file's stem is the key, else the stored path."""
    result = HypImport(str(path), system, "swift-results")
    batch: list[SwiftResult] = []
    by_path: dict[str, list[SwiftResult]] = {}  # answers whose stem named no utterance

    def flush() -> None:
        stems = [_stem(r.audio) for r in batch]
        ids = store.ids_for_keys(stems)
        hyps = []
        for r, stem in zip(batch, stems, strict=True):
            utt_id = ids.get(stem)
            if utt_id is None:
                audio = os.path.join(os.path.dirname(os.path.abspath(path)), r.audio)
                by_path.setdefault(os.path.normpath(audio), []).append(r)
            else:
                hyps.append(_hypothesis(utt_id, system, r.task, r.response, result))
        store.add_hypotheses(hyps)
        batch.clear()

    for r in read_swift_results(path, on_bad=result.bad.append):
        if task is not None and r.task != task:
            continue
        batch.append(r)
        if len(batch) >= _BATCH:
            flush()
    flush()
    if by_path:
        _match_by_path(store, by_path, system, result)
    return result


def _match_by_path(
    store: Store, by_path: dict[str, list[SwiftResult]], system: str, result: HypImport
) -> None:
    # One streamed scan of the audio column (not indexed) instead of a lookup per answer,
    # on a connection of its own so the store stays free for the writes.
    hyps = []
    conn = store.reader()
    try:
        for utt_id, audio in conn.execute("SELECT id, audio FROM utterances"):
            for r in by_path.pop(os.path.normpath(audio), []):
                hyps.append(_hypothesis(utt_id, system, r.task, r.response, result))
    finally:
        conn.close()
    store.add_hypotheses(hyps)
    for answers in by_path.values():
        for r in answers:
            _note_unknown(result, _stem(r.audio))


def _stem(audio: str) -> str:
    return os.path.splitext(os.path.basename(audio))[0]
