"""Prefill speed: utterances/s and RTF of each in-process backend on the test clips (CPU),
and the runner's own overhead per utterance with a backend that answers at once.

Without model folders the in-process backends run the synthetic models the tests build
(tests/backends/synthetic_models.py): their figures measure our pipeline (audio loading,
resampling, features, decoding, store writes), not a real model. Give real exports to
measure those: --wenet-jit DIR, --sherpa DIR (telespeech_ctc), --whisper DIR.

    python bench/prefill.py [--utterances 2000] [--repeat 4] [--device cpu]

Target: runner overhead < 2 ms per utterance, printed last.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "backends")]

from backends.base import Backend, BackendOptions, Result, Utterance  # noqa: E402
from backends.runner import prefill  # noqa: E402
from db.store import Store  # noqa: E402

CLIPS = sorted((ROOT / "workbench" / "demo_data" / "audio").glob("*.wav"))
TARGET_MS = 2.0


class Instant(Backend):
    name = "instant"
    tasks = frozenset({"asr"})
    summary = "answers at once"

    def run(self, batch: Sequence[Utterance]) -> list[Result]:
        return [Result(u.id, "侬好阿拉") for u in batch]


def project(folder: Path, rows: list[tuple[str, str, float]]) -> Path:
    path = folder / f"bench{len(list(folder.glob('*.db')))}.db"
    store = Store.open(path)
    with store.transaction() as conn:
        conn.executemany("INSERT INTO utterances (key, audio, duration, draft) "
                         "VALUES (?, ?, ?, '侬好阿拉是')", rows)
    store.close()
    return path


def clip_rows(repeat: int) -> list[tuple[str, str, float]]:
    return [(f"{clip.stem}-{i}", str(clip), sf.info(str(clip)).duration)
            for i in range(repeat) for clip in CLIPS]


def measure(name: str, make: Callable[[], Backend], folder: Path, repeat: int) -> None:
    backend = make()
    backend.load()
    store = Store.open(project(folder, clip_rows(repeat)))
    summary = prefill(store, backend, progress=False)
    store.close()
    print(f"{name:<46} {summary.written:>4} utt  {summary.utt_per_second:8.2f} utt/s  "
          f"RTF {summary.rtf:.4f}  failed {summary.failed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=2000,
                        help="utterances for the overhead figure")
    parser.add_argument("--repeat", type=int, default=4, help="passes over the clips")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--wenet-jit", type=Path, help="a real export_jit folder")
    parser.add_argument("--sherpa", type=Path, help="a real telespeech_ctc export folder")
    parser.add_argument("--whisper", type=Path, help="a real Hugging Face Whisper folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="wuwb-bench-"))
    try:
        run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, folder: Path) -> None:
    import synthetic_models as syn

    from backends.hf import TransformersBackend
    from backends.sherpa import SherpaOnnxBackend
    from backends.wenet_jit import WenetJitBackend

    seconds = sum(sf.info(str(c)).duration for c in CLIPS)
    print(f"{len(CLIPS)} clips, {seconds:.1f} s of audio, x{args.repeat}; device {args.device}")

    def options(system: str, model: Path, **extra: object) -> BackendOptions:
        return BackendOptions(system=system, model=model, device=args.device, extra=dict(extra))

    def made(path: Path | None, build: Callable[[Path], Path], sub: str) -> tuple[Path, str]:
        if path is not None:
            return path, "real"
        target = folder / sub
        target.mkdir()
        return build(target), "synthetic"

    model, kind = made(args.wenet_jit, syn.build_wenet_export, "wenet")
    for mode in ("ctc_greedy_search", "ctc_prefix_beam_search", "attention_rescoring"):
        measure(f"wenet-jit {mode} ({kind})",
                lambda m=mode: WenetJitBackend(options("w", model, mode=m)), folder, args.repeat)
    model_s, kind_s = made(args.sherpa, syn.build_telespeech, "sherpa")
    measure(f"sherpa-onnx telespeech_ctc ({kind_s})",
            lambda: SherpaOnnxBackend(options("s", model_s)), folder, args.repeat)
    model_w, kind_w = made(args.whisper, syn.build_whisper, "whisper")
    measure(f"transformers whisper ({kind_w})",
            lambda: TransformersBackend(options("t", model_w, max_new_tokens=16)),
            folder, args.repeat)

    rows = [(f"u{i:07d}", "/nowhere.wav", 1.0 + (i % 97) / 10) for i in range(args.utterances)]
    store = Store.open(project(folder, rows))
    start = time.perf_counter()
    summary = prefill(store, Instant(BackendOptions(system="instant")), batch_size=64,
                      progress=True)
    elapsed = time.perf_counter() - start
    store.close()
    per_utt = elapsed / summary.written * 1000
    verdict = "ok" if per_utt < TARGET_MS else "OVER TARGET"
    print(f"runner overhead: {per_utt:.3f} ms per utterance over {summary.written} "
          f"(target < {TARGET_MS} ms): {verdict}")


if __name__ == "__main__":
    main()
