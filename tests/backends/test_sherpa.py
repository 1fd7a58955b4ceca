"""sherpa-onnx on synthetic ONNX models the test exports: a telespeech_ctc model mapping
(1, T, 40) features to (T, 1, V) logits with sherpa-onnx's metadata, and a wenet_ctc model
(x, x_lens) -> (log_probs, log_probs_lens). Their output is a fixed pattern over frames, so
the test checks wiring, features and decoding, never accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
pytest.importorskip("sherpa_onnx")

from synthetic_models import CHARS, build_telespeech, build_wenet_ctc  # noqa: E402

from backends.audio import load_audio  # noqa: E402
from backends.base import BackendConfigError, BackendOptions  # noqa: E402
from backends.sherpa import MODEL_TYPES, SherpaOnnxBackend, resolve_files  # noqa: E402


@pytest.fixture(scope="module")
def telespeech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_telespeech(tmp_path_factory.mktemp("synthetic_telespeech_ctc"))


@pytest.fixture(scope="module")
def wenet_ctc_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wenet_ctc(tmp_path_factory.mktemp("synthetic_wenet_ctc"))


def run(folder: Path, model_type: str, clips: list[Path]) -> list[str]:
    backend = SherpaOnnxBackend(BackendOptions(
        system="syn", model=folder, extra={"model_type": model_type, "num_threads": 1}))
    backend.load()
    return [text for text, _ in backend.infer([load_audio(str(c)) for c in clips])]


def is_pattern(text: str) -> bool:
    return len(text) > 0 and all(ch == CHARS[i % len(CHARS)] for i, ch in enumerate(text))


def test_synthetic_telespeech_ctc_decodes_every_clip_in_one_call(
        telespeech_dir: Path, clips: list[Path]) -> None:
    texts = run(telespeech_dir, "telespeech_ctc", clips)
    for clip, text in zip(clips, texts, strict=True):
        assert is_pattern(text), text
        # one character per 4 feature frames (10 ms each)
        seconds = len(load_audio(str(clip))) / 16000
        assert abs(len(text) - seconds * 100 / 4) <= 3


def test_synthetic_wenet_ctc_decodes(wenet_ctc_dir: Path, clips: list[Path]) -> None:
    texts = run(wenet_ctc_dir, "wenet_ctc", clips[:2])
    assert all(is_pattern(t) for t in texts)


def test_each_model_type_names_the_files_it_needs(tmp_path: Path) -> None:
    for name in ("encoder.int8.onnx", "decoder.int8.onnx", "tokens.txt", "conv_frontend.onnx"):
        (tmp_path / name).write_bytes(b"")
    files = resolve_files(MODEL_TYPES["whisper"], tmp_path, {})
    assert set(files) == {"encoder", "decoder", "tokens"}
    assert files["encoder"].endswith("encoder.int8.onnx")
    qwen = resolve_files(MODEL_TYPES["qwen3_asr"], tmp_path, {})
    assert qwen["tokenizer"] == str(tmp_path)
    with pytest.raises(BackendConfigError, match="--onnx model=PATH"):
        resolve_files(MODEL_TYPES["paraformer"], tmp_path, {})
    chosen = str(tmp_path / "encoder.int8.onnx")
    files = resolve_files(MODEL_TYPES["paraformer"], tmp_path, {"model": chosen})
    assert files == {"paraformer": chosen, "tokens": str(tmp_path / "tokens.txt")}
