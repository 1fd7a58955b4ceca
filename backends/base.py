"""What every backend is: a name, the tasks it can do, ``load()`` and ``run(batch)``.

Backends never touch the store: the runner hands them ``Utterance`` batches and writes the
``Result`` rows they return. Heavy imports (torch, sherpa_onnx, transformers) belong in
``load()`` so that listing or choosing a backend stays instant.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from backends.audio import AudioError, load_audio
from db.errors import WorkbenchError


class ArgumentAdder(Protocol):
    """The part of an argparse parser or group a backend uses to declare its options."""

    def add_argument(self, *names: str, **kwargs: Any) -> Any: ...


class BackendError(WorkbenchError):
    """Base of every error a backend raises on purpose."""


class BackendUnavailable(BackendError):
    """The backend's extra (a Python package or an external program) is not installed."""


class BackendConfigError(BackendError):
    """The options do not describe a model this backend can run (missing file, bad value)."""


class BackendRunError(BackendError):
    """The model failed for the whole batch (an external program exited non-zero, ...)."""


@dataclass(frozen=True, slots=True)
class Utterance:
    """One pending utterance as the runner hands it to a backend."""

    id: int
    key: str
    audio: str
    duration: float | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """A backend's answer for one utterance.

    ``text`` None with an ``error`` is a failure; a label task's off-label answer keeps its raw
    text and carries the error "not a label". ``system`` overrides the run's system name for
    backends that produce several systems at once (wenet-cli with several modes). ``times``
    is the start second of each non-space character of ``text``, from backends that align.
    """

    utt_id: int
    text: str | None
    score: float | None = None
    error: str | None = None
    system: str | None = None
    times: tuple[float, ...] | None = None


# What ``InProcessBackend.infer`` gives per waveform: text and score, and character start
# times from the backends that can align.
Decoded = tuple[str, float | None] | tuple[str, float | None, tuple[float, ...] | None]


@dataclass(slots=True)
class BackendOptions:
    """The options ``wuwb prefill`` passes to every backend, plus its own (``extra``)."""

    system: str = ""  # the name the answers are stored under
    task: str = "asr"
    model: Path | None = None
    adapters: Path | None = None
    device: str = "cpu"
    batch_size: int = 8
    extra: dict[str, object] = field(default_factory=dict)

    def get_str(self, name: str, default: str) -> str:
        value = self.extra.get(name)
        return default if value is None else str(value)

    def get_int(self, name: str, default: int) -> int:
        value = self.extra.get(name)
        return default if value is None else int(str(value))

    def get_float(self, name: str, default: float) -> float:
        value = self.extra.get(name)
        return default if value is None else float(str(value))

    def get_list(self, name: str) -> list[str]:
        value = self.extra.get(name)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]

    def require_model(self) -> Path:
        if self.model is None:
            raise BackendConfigError("--model is required for this backend")
        if not self.model.exists():
            raise BackendConfigError(f"model not found: {self.model}")
        return self.model


class Backend(ABC):
    """A model runner. Subclasses set the class attributes and implement ``run``."""

    name: ClassVar[str]
    tasks: ClassVar[frozenset[str]]
    summary: ClassVar[str]
    # The pip extra that installs what ``load()`` imports, and the modules it imports.
    extra: ClassVar[str | None] = None
    modules: ClassVar[tuple[str, ...]] = ()
    # What else it needs that pip cannot install (an external program, a checkout).
    needs: ClassVar[str] = ""
    # External-program backends start a model per call, so they want large batches.
    default_batch_size: ClassVar[int] = 8

    def __init__(self, options: BackendOptions) -> None:
        if options.task not in self.tasks:
            raise BackendConfigError(
                f"backend {self.name} cannot do task {options.task!r} "
                f"(it does {', '.join(sorted(self.tasks))})"
            )
        self.options = options

    @classmethod  # noqa: B027 - optional hook: most backends have options, some none
    def add_arguments(cls, parser: ArgumentAdder) -> None:
        """Declare this backend's own options; defaults must be None (the backend's own
        default applies), and their dest names become ``BackendOptions.extra`` keys."""

    def systems(self) -> list[str]:
        """The system names one run writes; the first decides what is pending."""
        return [self.options.system]

    def load(self) -> None:  # noqa: B027 - optional hook: external-program backends need none
        """Import the heavy stack and load the model; called once before the first batch."""

    @abstractmethod
    def run(self, batch: Sequence[Utterance]) -> list[Result]:
        """One result per utterance (any order); a per-utterance failure is a Result too."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the model (GPU memory, temporary folders)."""


class InProcessBackend(Backend):
    """A backend that decodes waveforms itself: audio is read here, once, the shared way."""

    def run(self, batch: Sequence[Utterance]) -> list[Result]:
        results: list[Result] = []
        loaded: list[tuple[Utterance, np.ndarray]] = []
        for utt in batch:
            try:
                loaded.append((utt, load_audio(utt.audio)))
            except AudioError as exc:
                results.append(Result(utt.id, None, error=str(exc)))
        if loaded:
            outputs = self.infer([wave for _, wave in loaded])
            for (utt, _), (text, score, *times) in zip(loaded, outputs, strict=True):
                results.append(Result(utt.id, text, score, times=times[0] if times else None))
        return results

    @abstractmethod
    def infer(self, waves: list[np.ndarray]) -> Sequence[Decoded]:
        """Text, optional score (and optionally character times) for each 16 kHz mono
        float32 waveform."""
