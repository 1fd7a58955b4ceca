"""sherpa-onnx on synthetic ONNX models the test exports, one per model type the backend
supports: a telespeech_ctc model mapping (1, T, 40) features to (T, 1, V)
logits with sherpa-onnx's metadata, a wenet_ctc model (x, x_lens) -> (log_probs,
log_probs_lens), and the synthetic exports in synthetic_sherpa.py for dolphin_ctc,
sense_voice, paraformer, whisper and fire_red_asr, and synthetic_qwen3_asr.py for
qwen3_asr. Their output is a fixed pattern over
frames, so the tests check loading, features, lengths and decoding, never accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
pytest.importorskip("sherpa_onnx")

import numpy as np  # noqa: E402
import synthetic_sherpa  # noqa: E402
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


# Characters a second each synthetic export emits: a character every 4 frames after
# subsampling 4 (dolphin, fire_red_asr), one per 2 low-frame-rate frames of 60 ms (sense_voice,
# paraformer), and for whisper sherpa-onnx's own cap of 6 tokens a second.
CHARS_PER_SECOND = {"dolphin_ctc": 100 / 16, "sense_voice": 100 / 12, "paraformer": 100 / 12,
                    "whisper": 6.0, "fire_red_asr": 100 / 16}


@pytest.fixture(scope="module", params=sorted(CHARS_PER_SECOND))
def synthetic_export(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    kind: str = request.param
    build = getattr(synthetic_sherpa, f"build_{kind}")
    return kind, build(tmp_path_factory.mktemp(f"synthetic_{kind}"))


def load(folder: Path, model_type: str) -> SherpaOnnxBackend:
    backend = SherpaOnnxBackend(BackendOptions(
        system="syn", model=folder, extra={"model_type": model_type, "num_threads": 1}))
    backend.load()
    return backend


def run(folder: Path, model_type: str, clips: list[Path]) -> list[str]:
    backend = load(folder, model_type)
    return [out[0] for out in backend.infer([load_audio(str(c)) for c in clips])]


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


def test_telespeech_token_timestamps_become_character_times(
        telespeech_dir: Path, clips: list[Path]) -> None:
    """sherpa-onnx's CTC ``timestamps`` (synthetic model: a character every 4 output frames,
    which sherpa-onnx counts as 40 ms each) become one start per character."""
    backend = load(telespeech_dir, "telespeech_ctc")
    (text, _, times), = backend.infer([load_audio(str(clips[0]))])
    assert is_pattern(text)
    assert times == pytest.approx([0.16 * k for k in range(len(text))], abs=1e-4)


def test_synthetic_wenet_ctc_decodes(wenet_ctc_dir: Path, clips: list[Path]) -> None:
    texts = run(wenet_ctc_dir, "wenet_ctc", clips[:2])
    assert all(is_pattern(t) for t in texts)


def test_synthetic_export_of_each_model_type_decodes_every_clip(
        synthetic_export: tuple[str, Path], clips: list[Path]) -> None:
    """All clips in one call (batched where the model type batches, padded to the longest),
    each giving the synthetic pattern at the export's rate: features, lengths, the decoding
    loop and the token table line up."""
    kind, folder = synthetic_export
    texts = run(folder, kind, clips)
    for clip, text in zip(clips, texts, strict=True):
        assert is_pattern(text), (kind, text)
        seconds = len(load_audio(str(clip))) / 16000
        assert abs(len(text) - seconds * CHARS_PER_SECOND[kind]) <= 3, (kind, clip, text)


def test_synthetic_whisper_splits_audio_over_30_seconds(
        tmp_path: Path, clips: list[Path]) -> None:
    """Whisper takes 30 s at a time: a 37 s recording is two windows, joined by a space."""
    folder = synthetic_sherpa.build_whisper(tmp_path)
    wave = np.concatenate([load_audio(str(c)) for c in clips])
    assert 30 < len(wave) / 16000 < 60
    [(text, *_)] = load(folder, "whisper").infer([wave])
    first, second = text.split(" ")
    assert is_pattern(first) and is_pattern(second)
    # sherpa-onnx decodes at most 29.5 s of a window, at most 6 tokens a second
    assert len(first) == int(2950 / 100 * 6)
    assert abs(len(second) - (len(wave) / 16000 - 30) * 6) <= 2


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


def test_synthetic_qwen3_asr_decodes_every_clip(tmp_path: Path, clips: list[Path]) -> None:
    """Conv frontend, encoder and the KV-cache decoder in turn on each clip: the synthetic
    decoder writes ``language Wu<asr_text>`` (which sherpa-onnx strips), then a character every
    4 audio tokens, and those only when the prompt holds one <|audio_pad|> per audio token:
    the tokenizer files, the chat prompt, the encoder mask and the cache line up."""
    from synthetic_qwen3_asr import build_qwen3_asr, text_length

    texts = run(build_qwen3_asr(tmp_path), "qwen3_asr", clips)
    for clip, text in zip(clips, texts, strict=True):
        assert is_pattern(text), (clip, text)
        frames = len(load_audio(str(clip))) // 160  # 10 ms feature frames
        assert len(text) == text_length(frames), (clip, text)
