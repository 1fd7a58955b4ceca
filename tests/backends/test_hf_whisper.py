"""transformers backend on a synthetic, randomly initialised tiny Whisper built from
WhisperConfig with a hand-made byte-level tokenizer, saved locally. Its words are noise;
the test checks batching, language/task forcing and long-audio windows, never accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from synthetic_models import build_whisper  # noqa: E402

from backends.audio import load_audio  # noqa: E402
from backends.base import BackendConfigError, BackendOptions  # noqa: E402
from backends.hf import TransformersBackend  # noqa: E402


@pytest.fixture(scope="module")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_whisper(tmp_path_factory.mktemp("synthetic_whisper"))


def test_synthetic_whisper_batch_forces_language_and_task(
        whisper_dir: Path, clips: list[Path]) -> None:
    backend = TransformersBackend(BackendOptions(
        system="whisper", model=whisper_dir, extra={"max_new_tokens": 6, "language": "zh"}))
    backend.load()
    calls: list[Any] = []
    generate = backend.model.generate

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = generate(*args, **kwargs)
        calls.append((args[0].shape, kwargs, out))
        return out

    backend.model.generate = spy
    waves = [load_audio(str(c)) for c in clips]
    long = np.concatenate([waves[0]] * 16)  # ~68 s: three 30 s windows
    results = backend.infer([*waves, long])
    assert len(results) == len(clips) + 1
    assert all(isinstance(text, str) for text, _ in results)
    (shape, kwargs, ids), = calls  # one generate call for the whole batch
    assert shape[0] == len(clips) + 3 and shape[1] == 80
    assert (kwargs["language"], kwargs["task"]) == ("zh", "transcribe")
    assert ids.shape[0] == shape[0]


def test_whisper_does_asr_only(whisper_dir: Path) -> None:
    with pytest.raises(BackendConfigError, match="asr only"):
        TransformersBackend(BackendOptions(task="ast", model=whisper_dir))
