"""`wuwb prefill --engine ray`: many GPUs (or machines) through Ray Data.

The driver takes the work list (the project's pending utterances, or a data list's with
``--out``), Ray Data ``map_batches`` sends batches to a pool of actors that each load the
backend once (on their own GPU with ``--gpus-per-worker``), and the results stream back to
the driver, which alone writes them (to SQLite, in one transaction per batch, or to the
results file). Kill the driver at any time: what was written is kept and the same command
runs what is left; an utterance already written in this run is never written again.

An actor process that dies (a crash, out of memory) is restarted and its batch retried, up
to RETRIES times. A batch whose backend raises is isolated as in the plain runner; if it
still fails as a whole, its utterances are recorded as failed with the reason, and after
MAX_FAILED_BATCHES such batches in a row the run stops (the model, not the data, is broken).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from backends.base import Backend, BackendOptions, BackendRunError, Result
from backends.runner import BatchRunner, Done, Summary, drive
from db import timings
from db.store import PendingItem

RETRIES = 2  # restarts of a dead actor, and retries of the batch it was running
MAX_FAILED_BATCHES = 3


class PrefillActor:
    """One Ray actor: the backend loaded once, then a batch per call (columns in, out)."""

    def __init__(self, backend_cls: type[Backend], options: BackendOptions,
                 on_gpu: bool) -> None:
        if on_gpu:  # Ray gives the actor its GPU(s) through CUDA_VISIBLE_DEVICES
            options = replace(options, device="cuda")
        self.backend = backend_cls(options)
        self.backend.load()
        self.runner = BatchRunner(self.backend)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = [
            PendingItem(int(i), str(k), str(a), None if math.isnan(d) else float(d), e or None)
            for i, k, a, d, e in zip(batch["id"], batch["key"], batch["audio"],
                                     batch["duration"], batch["audio_error"], strict=True)
        ]
        whole_failed = False
        try:
            results = self.runner.run_batch(items)
        except Exception as exc:  # reported per utterance: the driver decides what next
            whole_failed = True
            results = [Result(i.id, None, error=f"backend: {exc}", system=system)
                       for i in items for system in self.runner.systems]
        return to_columns(results, self.runner.system, whole_failed)


def to_columns(results: Sequence[Result], system: str, whole_failed: bool) -> dict[str, Any]:
    def objects(values: list[Any]) -> np.ndarray:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out

    return {
        "utt_id": np.array([r.utt_id for r in results], dtype=np.int64),
        "system": objects([r.system or system for r in results]),
        "text": objects([r.text for r in results]),
        "score": np.array([np.nan if r.score is None else r.score for r in results]),
        "error": objects([r.error for r in results]),
        "times": objects([timings.encode(r.times) for r in results]),
        "whole_failed": np.full(len(results), whole_failed),
    }


def _text(value: object) -> str | None:
    # Arrow hands a column of nulls back as None or NaN, depending on its other values.
    return value if isinstance(value, str) else None


def from_columns(cols: dict[str, np.ndarray]) -> list[Result]:
    return [
        Result(int(u), _text(t), None if math.isnan(s) else float(s), _text(e), str(y),
               timings.decode(_text(m)))
        for u, y, t, s, e, m in zip(cols["utt_id"], cols["system"], cols["text"],
                                    cols["score"], cols["error"], cols["times"], strict=True)
    ]


def run_ray(items: Sequence[PendingItem], backend_cls: type[Backend], options: BackendOptions,
            write: Callable[[list[Result]], object], summary: Summary, *,
            workers: int, gpus_per_worker: float, batch_size: int, address: str | None,
            console: Any = None, progress: bool = True) -> Summary:
    """Run ``items`` on a Ray actor pool and write results on this process as they come."""
    import ray

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the runner's own bar shows progress
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    # The retry limits below are "remote args", deprecated from Ray 2.64 on (the extra pins
    # Ray below it); the warning is for us, not for the person running prefill.
    warnings.filterwarnings("ignore", message=".*ray_remote_args.*is deprecated")
    if not items:
        return drive(summary, [], write, console=console, progress=progress)
    import pyarrow as pa

    # Columns, not a dict per row: a million pending utterances stay a few tens of MB. About
    # one batch per block, so results stream back (and are written) batch by batch.
    table = pa.table({
        "id": [i.id for i in items], "key": [i.key for i in items],
        "audio": [i.audio for i in items],
        "duration": [math.nan if i.duration is None else i.duration for i in items],
        "audio_error": [i.audio_error or "" for i in items],
    })
    step = max(batch_size, -(-len(items) // 1000))  # at most ~1000 blocks
    blocks = [table.slice(start, step) for start in range(0, len(items), step)]
    dataset = ray.data.from_arrow(blocks).map_batches(
        PrefillActor, batch_size=batch_size, batch_format="numpy",
        fn_constructor_kwargs={"backend_cls": backend_cls, "options": options,
                               "on_gpu": gpus_per_worker > 0},
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_gpus=gpus_per_worker or None, num_cpus=None if gpus_per_worker else 1,
        max_restarts=RETRIES, max_task_retries=RETRIES)
    by_id = {i.id: i for i in items}

    def done() -> Iterator[Done]:
        written: set[int] = set()
        failed_in_row = 0
        for cols in _guarded(iter(dataset.iter_batches(batch_size=None, batch_format="numpy"))):
            results = [r for r in from_columns(cols) if r.utt_id not in written]
            ids = list(dict.fromkeys(r.utt_id for r in results))
            if not ids:
                continue
            written.update(ids)
            yield [by_id[i] for i in ids], results
            failed_in_row = failed_in_row + 1 if bool(np.all(cols["whole_failed"])) else 0
            if failed_in_row >= MAX_FAILED_BATCHES:
                raise BackendRunError(
                    f"{failed_in_row} batches in a row failed whole (last: "
                    f"{results[0].error}); stopping, what was written is kept")

    return drive(summary, done(), write, console=console, progress=progress)


def _guarded(stream: Iterator[dict[str, np.ndarray]]) -> Iterator[dict[str, np.ndarray]]:
    """Ray's own failures (an actor that cannot load the model, one that died past its
    retries) end the run as a BackendRunError: one line, not a Ray traceback."""
    while True:
        try:
            cols = next(stream)
        except StopIteration:
            return
        except Exception as exc:  # Ray wraps the actor's error in its own types
            first = str(exc).strip().splitlines()
            raise BackendRunError(
                f"Ray stopped: {type(exc).__name__}: {first[-1] if first else ''} "
                "(what was written is kept; the same command continues)") from exc
        yield cols
