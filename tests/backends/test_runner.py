"""The runner against a real project file: resume after a kill, sharding, per-utterance
failures, label matching. Backends here are synthetic and instant."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from backends.base import (
    Backend,
    BackendOptions,
    BackendRunError,
    InProcessBackend,
    Result,
    Utterance,
)
from backends.runner import NOT_A_LABEL, batches, prefill
from db.store import PendingItem, Store

MakeProject = Callable[[Sequence[tuple[str, Path, float | None]]], Path]


class Echo(Backend):
    """Answers each utterance with its key at once; remembers what it was given."""

    name = "echo"
    tasks = frozenset({"asr", "age"})
    summary = "synthetic"

    def __init__(self, options: BackendOptions, answer: str | None = None,
                 fail_key: str | None = None) -> None:
        super().__init__(options)
        self.answer = answer
        self.fail_key = fail_key
        self.seen: list[int] = []

    def run(self, batch: Sequence[Utterance]) -> list[Result]:
        if self.fail_key and any(u.key == self.fail_key for u in batch):
            raise BackendRunError(f"cannot do {self.fail_key}")
        self.seen += [u.id for u in batch]
        return [Result(u.id, self.answer or u.key) for u in batch]


class WaveLength(InProcessBackend):
    """Reads audio the shared way and answers with the sample count."""

    name = "wave-length"
    tasks = frozenset({"asr"})
    summary = "synthetic"

    def infer(self, waves: list[np.ndarray]) -> list[tuple[str, float | None]]:
        return [(str(len(w)), None) for w in waves]


def hyps(path: Path, system: str, task: str = "asr") -> dict[str, tuple[str | None, str | None]]:
    store = Store.open(path)
    rows = store.execute(
        "SELECT u.key, h.text, h.error FROM hypotheses h JOIN utterances u ON u.id = h.utt_id "
        "WHERE h.system = ? AND h.task = ?", (system, task))
    store.close()
    return {key: (text, error) for key, text, error in rows}


def synthetic_rows(count: int) -> list[tuple[str, Path, float | None]]:
    return [(f"k{i:04d}", Path(f"/nowhere/k{i:04d}.wav"), float(count - i)) for i in range(count)]


def test_batches_follow_duration_order_and_caps() -> None:
    items = [PendingItem(i, f"k{i}", "a", float(i), None) for i in range(10)]
    assert [len(b) for b in batches(items, 4)] == [4, 4, 2]
    capped = list(batches(items, 100, max_seconds=10.0))
    assert all(sum(i.duration or 0 for i in b) <= 10.0 or len(b) == 1 for b in capped)
    assert [i.id for b in capped for i in b] == list(range(10))


def test_everything_answered_once_shortest_first(make_project: MakeProject) -> None:
    path = make_project(synthetic_rows(25))
    store = Store.open(path)
    backend = Echo(BackendOptions(system="echo"))
    summary = prefill(store, backend, batch_size=4, progress=False)
    store.close()
    assert (summary.pending, summary.written, summary.failed) == (25, 25, 0)
    got = hyps(path, "echo")
    assert got == {f"k{i:04d}": (f"k{i:04d}", None) for i in range(25)}
    # pending is ordered by duration: the last rows (shortest) went first
    assert backend.seen[:2] == [25, 24]


def test_rerun_after_interrupt_resumes_without_rewriting(make_project: MakeProject) -> None:
    path = make_project(synthetic_rows(20))

    class Interrupted(Echo):
        def run(self, batch: Sequence[Utterance]) -> list[Result]:
            if len(self.seen) >= 8:
                raise KeyboardInterrupt
            return super().run(batch)

    store = Store.open(path)
    first = Interrupted(BackendOptions(system="echo"))
    with pytest.raises(KeyboardInterrupt):
        prefill(store, first, batch_size=4, progress=False)
    assert len(hyps(path, "echo")) == 8
    second = Echo(BackendOptions(system="echo"))
    summary = prefill(store, second, batch_size=4, progress=False)
    store.close()
    assert summary.pending == 12
    assert not set(first.seen) & set(second.seen)
    assert len(hyps(path, "echo")) == 20


KILLED_RUN = """
import sys, time
from backends.base import BackendOptions
from backends.runner import prefill
from db.store import Store
from test_runner import Echo

class Slow(Echo):
    def run(self, batch):
        time.sleep(0.05)
        return super().run(batch)

prefill(Store.open(sys.argv[1]), Slow(BackendOptions(system="echo")), batch_size=5,
        progress=False)
"""


def test_resume_after_sigkill_mid_run(make_project: MakeProject) -> None:
    path = make_project(synthetic_rows(400))
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(path)], cwd=root,
                            env={**os.environ,
                                 "PYTHONPATH": f"{root}{os.pathsep}{Path(__file__).parent}"})
    deadline = time.monotonic() + 60
    while len(hyps(path, "echo")) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(hyps(path, "echo"))
    assert 20 <= done < 400, "the kill must land mid-run"
    assert done % 5 == 0, "a batch is written whole or not at all"
    store = Store.open(path)
    summary = prefill(store, Echo(BackendOptions(system="echo")), batch_size=5, progress=False)
    rows = store.execute("SELECT count(*) FROM hypotheses WHERE system = 'echo'")[0]
    store.close()
    assert summary.pending == 400 - done
    assert rows[0] == 400


def test_shards_cover_every_utterance_exactly_once(make_project: MakeProject) -> None:
    path = make_project(synthetic_rows(50))
    store = Store.open(path)
    seen: list[int] = []
    for index in range(3):
        backend = Echo(BackendOptions(system="echo"))
        prefill(store, backend, shard=(index, 3), batch_size=4, progress=False)
        assert all(i % 3 == index for i in backend.seen)
        seen += backend.seen
    store.close()
    assert sorted(seen) == list(range(1, 51))


def test_corrupt_and_unreadable_audio_fail_alone(
        make_project: MakeProject, tmp_path: Path, corrupt_wav: Path,
        clip_rows: Callable[[int], list[tuple[str, Path, float | None]]]) -> None:
    rows = clip_rows(3)
    rows.insert(1, ("corrupt", corrupt_wav, 1.0))
    rows.append(("missing", tmp_path / "missing.wav", 2.0))
    path = make_project(rows)
    store = Store.open(path)
    store.execute("UPDATE utterances SET audio_error = 'file not found' "
                       "WHERE key = 'missing'")
    summary = prefill(store, WaveLength(BackendOptions(system="len")), batch_size=8,
                      progress=False)
    store.close()
    got = hyps(path, "len")
    assert summary.failed == 2 and summary.written == 5
    assert got["corrupt"][0] is None and "cannot read audio" in (got["corrupt"][1] or "")
    assert got["missing"] == (None, "audio: file not found")
    assert all(got[k][0] and got[k][0].isdigit() for k, *_ in rows[:1] + rows[2:4])


def test_a_batch_error_is_isolated_to_its_utterance(make_project: MakeProject) -> None:
    path = make_project(synthetic_rows(10))
    store = Store.open(path)
    summary = prefill(store, Echo(BackendOptions(system="echo"), fail_key="k0003"),
                      batch_size=4, progress=False)
    store.close()
    got = hyps(path, "echo")
    assert summary.failed == 1 and len(got) == 10
    assert got["k0003"] == (None, "backend: cannot do k0003")


def test_a_backend_that_fails_everything_stops_the_run(make_project: MakeProject) -> None:
    path = make_project(synthetic_rows(6))

    class Broken(Echo):
        def run(self, batch: Sequence[Utterance]) -> list[Result]:
            raise BackendRunError("model crashed")

    store = Store.open(path)
    with pytest.raises(BackendRunError, match="model crashed"):
        prefill(store, Broken(BackendOptions(system="echo")), batch_size=3, progress=False)
    store.close()
    assert hyps(path, "echo") == {}


def test_label_answers_are_matched_and_off_label_kept_flagged(
        make_project: MakeProject) -> None:
    path = make_project(synthetic_rows(2))
    store = Store.open(path)
    prefill(store, Echo(BackendOptions(system="und", task="age"), answer="标签：中年。"),
            progress=False)
    summary = prefill(store, Echo(BackendOptions(system="odd", task="age"), answer="不知道"),
                      progress=False)
    store.close()
    assert set(hyps(path, "und", "age").values()) == {("中年", None)}
    assert set(hyps(path, "odd", "age").values()) == {("不知道", NOT_A_LABEL)}
    assert summary.off_label == 2 and summary.failed == 0
