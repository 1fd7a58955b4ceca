"""wenet-jit on a synthetic TorchScript module with the method interface WeNet's
export_jit.py gives final.zip. Its CTC output is a fixed pattern over encoder frames, so the
expected text follows from the clip's length alone; nothing here claims accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
# torch 2.13 deprecates TorchScript, but WeNet's export_jit.py still writes it.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
pytest.importorskip("kaldi_native_fbank")

from synthetic_models import CHARS, SUBSAMPLING, build_wenet_export  # noqa: E402

from backends.audio import load_audio  # noqa: E402
from backends.base import BackendOptions  # noqa: E402
from backends.wenet_jit import WenetJitBackend, fbank  # noqa: E402


def expected_text(clip: Path) -> str:
    frames = len(fbank(load_audio(str(clip)))) // SUBSAMPLING
    return "".join(CHARS[(t // 3) % len(CHARS)] for t in range(0, frames, 3))


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wenet_export(tmp_path_factory.mktemp("synthetic_wenet_export"))


def backend(folder: Path, **extra: object) -> WenetJitBackend:
    b = WenetJitBackend(BackendOptions(system="syn", model=folder, extra=dict(extra)))
    b.load()
    return b


def test_fbank_frames_as_kaldi_counts_them(clips: list[Path]) -> None:
    wave = load_audio(str(clips[0]))
    feats = fbank(wave)
    assert feats.shape == (1 + (len(wave) - 400) // 160, 80)


@pytest.mark.parametrize("mode", ["ctc_greedy_search", "ctc_prefix_beam_search"])
def test_synthetic_export_decodes_every_clip_to_its_pattern(
        export_dir: Path, clips: list[Path], mode: str) -> None:
    b = backend(export_dir, mode=mode, beam_size=4)
    waves = [load_audio(str(c)) for c in clips]
    results = b.infer(waves)
    for clip, (text, score, times) in zip(clips, results, strict=True):
        assert text == expected_text(clip)
        assert score is not None and score <= 0
        # CTC alignment: a character every third encoder frame of 4 x 10 ms.
        assert times == pytest.approx([0.12 * k for k in range(len(text))])


def test_synthetic_attention_rescoring_follows_ctc_and_reverse_weights(
        export_dir: Path, clips: list[Path]) -> None:
    wave = load_audio(str(clips[0]))
    ctc_best = expected_text(clips[0])
    # With a huge ctc weight rescoring keeps the CTC best; with none the synthetic decoder's
    # love of <eos> makes a shorter n-best entry win.
    heavy = backend(export_dir, mode="attention_rescoring", ctc_weight=1000.0, beam_size=4)
    assert heavy.infer([wave])[0][0] == ctc_best
    light = backend(export_dir, mode="attention_rescoring", ctc_weight=0.0,
                    reverse_weight=0.5, beam_size=4)
    text, _, times = light.infer([wave])[0]
    assert len(text) < len(ctc_best)
    # The rescored winner is aligned anew: its own characters, in order, inside the clip.
    assert times is not None and len(times) == len(text)
    assert list(times) == sorted(times) and times[-1] < len(wave) / 16000


def test_missing_units_file_is_a_config_error(tmp_path: Path, export_dir: Path) -> None:
    from backends.base import BackendConfigError

    (tmp_path / "final.zip").write_bytes((export_dir / "final.zip").read_bytes())
    with pytest.raises(BackendConfigError, match=r"units\.txt"):
        backend(tmp_path)
