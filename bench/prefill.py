"""Prefill speed: utterances/s and RTF of each in-process backend on the test clips (CPU),
the real Whisper base through faster-whisper (speed and CER on the clips with references),
the Ray engine with 1 and 2 workers, and the runners' own overhead per utterance with a
backend that answers at once.

Without model folders the in-process backends run the synthetic models the tests build
(tests/backends/synthetic_models.py): their figures measure our pipeline (audio loading,
resampling, features, decoding, store writes), not a real model. Give real exports to
measure those: --wenet-jit DIR, --sherpa DIR (telespeech_ctc), --whisper DIR. The
faster-whisper figures are a real model's: the Whisper base that `make .venv/.test`
assembles into .cache/models/whisper-base-ct2 (or --faster-whisper DIR).

    python bench/prefill.py [--utterances 2000] [--repeat 4] [--device cpu] [--no-ray]

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

import orjson
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "backends")]

from backends.base import Backend, BackendOptions, Result, Utterance  # noqa: E402
from backends.runner import Runner, Summary, prefill  # noqa: E402
from db.metrics import align_counts, tokenize  # noqa: E402
from db.store import Store  # noqa: E402

DATA = ROOT / "workbench" / "demo_data"
CLIPS = sorted((DATA / "audio").glob("*.wav"))
WHISPER_BASE = ROOT / ".cache" / "models" / "whisper-base-ct2"
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
    parser.add_argument("--faster-whisper", type=Path, default=WHISPER_BASE,
                        help="a CTranslate2 Whisper folder (default: the test set-up's base)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray figures")
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

    if (args.faster_whisper / "model.bin").is_file():
        real_whisper(args, folder)
    else:
        print(f"faster-whisper: no model at {args.faster_whisper} (make .venv/.test makes it)")

    rows = [(f"u{i:07d}", "/nowhere.wav", 1.0 + (i % 97) / 10) for i in range(args.utterances)]
    store = Store.open(project(folder, rows))
    start = time.perf_counter()
    summary = prefill(store, Instant(BackendOptions(system="instant")), batch_size=64,
                      progress=True)
    elapsed = time.perf_counter() - start
    store.close()
    per_utt = elapsed / summary.written * 1000
    if not args.no_ray:
        ray_figures(args, folder, rows, per_utt)
    verdict = "ok" if per_utt < TARGET_MS else "OVER TARGET"
    print(f"runner overhead: {per_utt:.3f} ms per utterance over {summary.written} "
          f"(target < {TARGET_MS} ms): {verdict}")


def references() -> dict[str, str]:
    """Published transcripts of the clips: benchmark.list's txt, the corpus's transcription."""
    refs = {}
    for line in (DATA / "benchmark.list").read_bytes().splitlines():
        obj = orjson.loads(line)
        refs[obj["key"]] = obj["txt"]
    for line in (DATA / "corpus.jsonl").read_bytes().splitlines():
        obj = orjson.loads(line)
        if obj.get("transcription"):
            refs[Path(obj["wav"]).stem] = obj["transcription"]
    return refs


def real_whisper(args: argparse.Namespace, folder: Path) -> None:
    """The real Whisper base: speed over the clips, and CER on those with references."""
    from backends.faster_whisper import FasterWhisperBackend

    refs = references()
    for batch, timings in ((1, True), (8, True), (8, False)):
        extra = {"initial_prompt": "以下是普通话的句子。", "word_timestamps": timings}
        backend = FasterWhisperBackend(BackendOptions(
            system="fw", model=args.faster_whisper, device=args.device, batch_size=batch,
            extra=extra))
        backend.load()
        path = project(folder, clip_rows(args.repeat))
        store = Store.open(path)
        summary = prefill(store, backend, batch_size=batch, progress=False)
        got = store.execute(
            "SELECT u.key, h.text FROM hypotheses h JOIN utterances u ON u.id = h.utt_id "
            "WHERE u.key LIKE '%-0'")
        store.close()
        name = f"faster-whisper base int8 batch {batch}" + (" +times" if timings else "")
        print(f"{name:<46} {summary.written:>4} utt  {summary.utt_per_second:8.2f} utt/s  "
              f"RTF {summary.rtf:.4f}  failed {summary.failed}")
    groups: dict[str, list[int]] = {"Mandarin": [0, 0], "Wu": [0, 0]}
    for key, text in got:
        stem = key.rsplit("-", 1)[0]
        if stem not in refs or stem.startswith("librispeech"):
            continue
        c = align_counts(tokenize(refs[stem]), tokenize(text or ""))
        group = groups["Wu" if stem.startswith("wu_") else "Mandarin"]
        group[0] += c.s + c.d + c.i
        group[1] += c.n
        print(f"  {stem}: {text}")
    for name, (errors, chars) in groups.items():
        print(f"faster-whisper base CER, {name} clips: {errors / chars:.3f} ({errors}/{chars})")


def ray_figures(args: argparse.Namespace, folder: Path,
                rows: list[tuple[str, str, float]], plain_ms: float) -> None:
    """Ray engine: the same instant backend (synthetic), then utt/s of a real model."""
    try:
        import ray
    except ImportError:
        print("ray: not installed (pip install 'wu-workbench[ray]')")
        return
    from ray_backends import Keyed

    pythonpath = f"{ROOT}:{ROOT / 'tests' / 'backends'}"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": pythonpath}})
    try:
        more = [(f"x{k}-{row[0]}", *row[1:]) for k in range(3) for row in rows]
        for workers in (1, 2):
            # Actor start-up is paid once per run: the difference of two run sizes is the
            # engine's own cost per utterance; the whole small run is shown beside it.
            options = BackendOptions(system="keyed")
            small = ray_run(folder, rows, Keyed, options, workers, 64) * len(rows)
            large = ray_run(folder, more, Keyed, options, workers, 64) * len(more)
            per_utt = (large - small) / (len(more) - len(rows))
            print(f"ray engine, {workers} worker(s): {per_utt:.3f} ms per utterance past "
                  f"start-up (plain runner {plain_ms:.3f} ms); whole run "
                  f"of {len(rows)}: {small / 1000:.1f} s")
        if (args.faster_whisper / "model.bin").is_file():
            from backends.faster_whisper import FasterWhisperBackend

            clips = clip_rows(args.repeat * 2)
            for workers in (1, 2):
                options = BackendOptions(system="fw", model=args.faster_whisper,
                                         extra={"num_threads": 1})
                ms = ray_run(folder, clips, FasterWhisperBackend, options, workers, 4)
                print(f"ray faster-whisper base, {workers} worker(s) x 1 thread: "
                      f"{1000 / ms:.2f} utt/s over {len(clips)} clips (whole run: actor "
                      "start and model load included)")
    finally:
        ray.shutdown()


def ray_run(folder: Path, rows: list[tuple[str, str, float]], cls: type[Backend],
            options: BackendOptions, workers: int, batch: int) -> float:
    """Milliseconds of wall time per utterance for a whole Ray run (start-up included)."""
    from backends.ray_engine import run_ray

    store = Store.open(project(folder, rows))
    runner = Runner(store, cls(options))
    items = runner.work()
    start = time.perf_counter()
    summary = run_ray(items, cls, options, runner.write, Summary("r", "asr", len(items)),
                      workers=workers, gpus_per_worker=0, batch_size=batch, address=None,
                      progress=False)
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed / summary.written * 1000


if __name__ == "__main__":
    main()
