"""Synthetic backends the Ray tests send to actors (a module of its own, so Ray's worker
processes import it by name without importing pytest's test modules)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from backends.base import Backend, BackendConfigError, BackendRunError, Result, Utterance


class Keyed(Backend):
    """Answers each utterance with its key; synthetic. Options (extra):
    ``crash_marker``: the first call of any actor creates this file and kills its process
    (a dead actor, which Ray restarts and retries); ``bad``: utterances whose key contains it
    fail (isolated, recorded); ``broken``: every call raises; ``delay``: seconds per call;
    ``no_model``: load() fails, as with a wrong --model."""

    name = "keyed"
    tasks = frozenset({"asr"})
    summary = "synthetic"

    def load(self) -> None:
        if self.options.extra.get("no_model"):
            raise BackendConfigError("model not found: /nowhere")

    def run(self, batch: Sequence[Utterance]) -> list[Result]:
        extra = self.options.extra
        marker = extra.get("crash_marker")
        if marker and not Path(str(marker)).exists():
            Path(str(marker)).write_text(str(os.getpid()))
            os._exit(1)
        if extra.get("broken"):
            raise BackendRunError("synthetic model is broken")
        bad = extra.get("bad")
        if bad and any(str(bad) in u.key for u in batch):
            raise BackendRunError(f"cannot decode {[u.key for u in batch if str(bad) in u.key]}")
        time.sleep(float(str(extra.get("delay", 0))))
        return [Result(u.id, u.key) for u in batch]
