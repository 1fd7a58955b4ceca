"""Feeding pending utterances from the store to a backend and writing its answers back.

Each batch's results are written in one transaction as soon as the batch finishes, and the
work list is "utterances lacking this system's answer", so a run killed at any point resumes
where it stopped and never writes an utterance twice. ``shard=(i, n)`` takes the utterances
whose id % n == i, so n machines share a corpus without talking to each other.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from backends.base import Backend, BackendError, BackendRunError, Result, Utterance
from db.store import Filter, HypothesisIn, PendingItem, Store
from db.tasks import LABEL_SETS, match_label
from db.timings import TimesError, check

NOT_A_LABEL = "not a label"


@dataclass
class Summary:
    system: str
    task: str
    pending: int = 0
    written: int = 0
    failed: int = 0
    off_label: int = 0
    audio_seconds: float = 0.0
    model_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def utt_per_second(self) -> float:
        return self.written / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def rtf(self) -> float:
        """Wall time per second of audio (below 1 is faster than real time)."""
        return self.wall_seconds / self.audio_seconds if self.audio_seconds else 0.0

    def lines(self) -> list[str]:
        ok = self.written - self.failed
        return [
            f"{self.system} · {self.task}: {self.written} of {self.pending} written "
            f"({ok} answered, {self.failed} failed, {self.off_label} off-label)",
            f"{self.audio_seconds:.1f} s of audio in {self.wall_seconds:.1f} s: "
            f"{self.utt_per_second:.2f} utt/s, RTF {self.rtf:.3f}",
        ]


def batches(items: Sequence[PendingItem], size: int,
            max_seconds: float | None = None) -> Iterator[list[PendingItem]]:
    """Consecutive runs of the duration-sorted work list, so each batch pads little."""
    batch: list[PendingItem] = []
    seconds = 0.0
    for item in items:
        length = item.duration or 0.0
        if batch and (len(batch) >= size
                      or (max_seconds is not None and seconds + length > max_seconds)):
            yield batch
            batch, seconds = [], 0.0
        batch.append(item)
        seconds += length
    if batch:
        yield batch


def _finish(result: Result, task: str) -> Result:
    """Label answers are normalised to the label; an answer naming none is kept and flagged."""
    if task not in LABEL_SETS or result.text is None or result.error is not None:
        return result
    label = match_label(task, result.text)
    if label is None:
        return replace(result, error=NOT_A_LABEL, times=None)
    return replace(result, text=label, times=None)


def _checked_times(result: Result) -> Result:
    """A backend's character times kept only when they fit its text (else dropped, not
    stored wrong: a misaligned highlight is worse than none)."""
    if result.times is None:
        return result
    try:
        times = check(result.text, result.times)
    except TimesError:
        times = None
    return replace(result, times=times)


class BatchRunner:
    """Runs batches through a loaded backend. It never touches a store, so the plain runner,
    ``--out`` files and Ray actors all run a batch the same way."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.system = backend.options.system
        self.task = backend.options.task
        self.systems = backend.systems()

    def run_batch(self, batch: Sequence[PendingItem]) -> list[Result]:
        """Results for every utterance of the batch, failures included, ready to write."""
        results = [Result(i.id, None, error=f"audio: {i.audio_error}")
                   for i in batch if i.audio_error]
        todo = [Utterance(i.id, i.key, i.audio, i.duration) for i in batch if not i.audio_error]
        if todo:
            results += self._run_isolating(todo)
        return [_checked_times(_finish(r, self.task)) for r in results]

    def _run_isolating(self, todo: list[Utterance]) -> list[Result]:
        try:
            answered = self.backend.run(todo)
        except BackendError as exc:
            if len(todo) == 1:
                raise
            # One bad utterance must not sink its batch: retry each alone, record the ones
            # that still fail. If every one fails the model itself is broken: stop.
            answered = []
            for utt in todo:
                try:
                    answered += self.backend.run([utt])
                except BackendError as single:
                    answered.append(Result(utt.id, None, error=f"backend: {single}"))
            if all(r.text is None for r in answered):
                raise BackendRunError(f"every utterance of a batch failed: {exc}") from exc
        by_id: dict[tuple[int, str], Result] = {}
        for r in answered:
            by_id[(r.utt_id, r.system or self.system)] = r
        out: list[Result] = []
        for utt in todo:
            for system in self.systems:
                found = by_id.get((utt.id, system))
                out.append(found if found is not None else
                           Result(utt.id, None, error="no answer from the backend", system=system))
        return out


class Runner(BatchRunner):
    """One prefill run: a loaded backend and the store its answers go to."""

    def __init__(self, store: Store, backend: Backend) -> None:
        super().__init__(backend)
        self.store = store

    def work(self, *, filt: Filter | None = None, shard: tuple[int, int] = (0, 1),
             only_missing: bool = True, limit: int | None = None) -> list[PendingItem]:
        # Every system of a run is written in the same transaction, so the first one tells
        # what is still to do for all of them.
        return list(self.store.pending(self.systems[0], self.task, filt=filt, shard=shard,
                                       only_missing=only_missing, limit=limit))

    def write(self, results: Sequence[Result]) -> int:
        return self.store.add_hypotheses(
            HypothesisIn(r.utt_id, r.system or self.system, self.task, r.text, r.score, r.error,
                         r.times)
            for r in results
        )


Done = tuple[Sequence[PendingItem], list[Result]]  # a finished batch and its results


def drive(summary: Summary, done: Iterable[Done], write: Callable[[list[Result]], object], *,
          console: Console | None = None, progress: bool = True) -> Summary:
    """Write each finished batch as it arrives, counting it into ``summary`` and the bar."""
    console = console or Console(stderr=True)
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[speed]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=console, disable=not progress, transient=False,
    )
    start = time.perf_counter()
    with bar:
        job = bar.add_task(f"{summary.system} {summary.task}", total=summary.pending, speed="")
        for batch, results in done:
            write(results)
            summary.written += len(batch)
            summary.failed += len({r.utt_id for r in results if r.text is None})
            summary.off_label += len({r.utt_id for r in results if r.error == NOT_A_LABEL})
            summary.audio_seconds += sum(i.duration or 0.0 for i in batch)
            summary.wall_seconds = time.perf_counter() - start
            bar.update(job, advance=len(batch),
                       speed=f"{summary.utt_per_second:.1f} utt/s · RTF {summary.rtf:.3f}")
    summary.wall_seconds = time.perf_counter() - start
    return summary


def run_in_process(runner: BatchRunner, items: Sequence[PendingItem], size: int,
                   max_seconds: float | None, summary: Summary) -> Iterator[Done]:
    """Batches run here, one after another; model time is counted into ``summary``."""
    for batch in batches(items, size, max_seconds):
        tick = time.perf_counter()
        results = runner.run_batch(batch)
        summary.model_seconds += time.perf_counter() - tick
        yield batch, results


def prefill(
    store: Store,
    backend: Backend,
    *,
    filt: Filter | None = None,
    shard: tuple[int, int] = (0, 1),
    only_missing: bool = True,
    batch_size: int | None = None,
    max_batch_seconds: float | None = None,
    limit: int | None = None,
    console: Console | None = None,
    progress: bool = True,
) -> Summary:
    """Run ``backend`` (already loaded) over what is pending and write every batch as it ends."""
    runner = Runner(store, backend)
    items = runner.work(filt=filt, shard=shard, only_missing=only_missing, limit=limit)
    summary = Summary(runner.system, runner.task, pending=len(items))
    size = batch_size or backend.default_batch_size
    done = run_in_process(runner, items, size, max_batch_seconds, summary)
    return drive(summary, done, runner.write, console=console, progress=progress)
