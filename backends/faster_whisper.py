"""faster-whisper: Whisper models in CTranslate2 form (int8 / float16, CPU or GPU).

The runtime people run Whisper with, and the fast way to run Whisper-medium-Wu once converted
with ``ct2-transformers-converter``. ``--model`` is the converted folder (``model.bin``,
``config.json``, ``tokenizer.json``, ``vocabulary.*``); nothing is ever downloaded.

A batch is decoded together: every utterance is cut into 30 s windows, the windows of all
utterances become the clips of one ``BatchedInferencePipeline.transcribe`` call (no VAD, no
language guessing: the language is fixed), and each clip's text goes back to its utterance.
Word timestamps are spread over their characters to give character start times.
"""

from __future__ import annotations

import argparse
from bisect import bisect_right
from typing import Any

import numpy as np

from backends.audio import SAMPLE_RATE, windows
from backends.base import (
    ArgumentAdder,
    BackendConfigError,
    BackendOptions,
    BackendUnavailable,
    Decoded,
    InProcessBackend,
)
from db.timings import spread, timed_chars

WINDOW = 30.0  # seconds one Whisper input covers
COMPUTE_TYPES = ("default", "auto", "int8", "int8_float16", "int8_float32", "int8_bfloat16",
                 "int16", "float16", "bfloat16", "float32")


def split_device(device: str) -> tuple[str, int]:
    """``cuda:1`` -> ("cuda", 1); CTranslate2 takes the index apart."""
    kind, _, index = device.partition(":")
    if kind not in ("cpu", "cuda", "auto") or (index and not index.isdigit()):
        raise BackendConfigError(f"--device must be cpu, cuda or cuda:N, got {device!r}")
    return kind, int(index or 0)


class FasterWhisperBackend(InProcessBackend):
    name = "faster-whisper"
    tasks = frozenset({"asr"})
    summary = "Whisper in CTranslate2 form (ct2-transformers-converter output), batched"
    extra = "faster-whisper"
    modules = ("faster_whisper", "ctranslate2")
    default_batch_size = 16

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self.device, self.device_index = split_device(options.device)
        default = "float16" if self.device == "cuda" else "int8"
        self.compute_type = options.get_str("compute_type", default)
        if self.compute_type not in COMPUTE_TYPES:
            raise BackendConfigError(f"--compute-type must be one of {', '.join(COMPUTE_TYPES)}")
        self.language = options.get_str("language", "zh")
        self.beam_size = options.get_int("beam_size", 5)
        self.initial_prompt = options.get_str("initial_prompt", "") or None
        self.threads = options.get_int("num_threads", 0)
        self.timings = options.extra.get("word_timestamps") is not False
        self.pipeline: Any = None

    @classmethod
    def add_arguments(cls, parser: ArgumentAdder) -> None:
        parser.add_argument("--language", help="language code, e.g. zh (faster-whisper and "
                                               "transformers: default zh; sherpa-onnx: the "
                                               "model's)")
        parser.add_argument("--beam-size", type=int,
                            help="beam width (default 5 faster-whisper, 10 wenet)")
        parser.add_argument("--compute-type", choices=COMPUTE_TYPES,
                            help="CTranslate2 weights type (default float16 on GPU, int8 on CPU)")
        parser.add_argument("--initial-prompt",
                            help="text fed before each window, e.g. 以下是普通话的句子。 "
                                 "(steers script and style)")
        parser.add_argument("--num-threads", type=int,
                            help="CPU threads (faster-whisper default: CTranslate2's; "
                                 "sherpa-onnx default 2)")
        parser.add_argument("--word-timestamps", action=argparse.BooleanOptionalAction,
                            help="align words to store character times (default on)")

    def load(self) -> None:
        try:
            from faster_whisper import BatchedInferencePipeline, WhisperModel
        except ImportError as exc:
            raise BackendUnavailable(
                "faster-whisper needs: pip install 'wu-workbench[faster-whisper]'") from exc
        folder = self.options.require_model()
        if not (folder / "model.bin").is_file():
            raise BackendConfigError(f"no model.bin in {folder} (a CTranslate2 Whisper folder, "
                                     "made by ct2-transformers-converter)")
        try:
            model = WhisperModel(str(folder), device=self.device, device_index=self.device_index,
                                 compute_type=self.compute_type, cpu_threads=self.threads,
                                 local_files_only=True)
        except (RuntimeError, ValueError, OSError) as exc:
            raise BackendConfigError(f"faster-whisper cannot load {folder}: {exc}") from exc
        self.pipeline = BatchedInferencePipeline(model)

    def infer(self, waves: list[np.ndarray]) -> list[Decoded]:
        # Lay every window of every utterance end to end; each window is one clip.
        clips: list[dict[str, float]] = []
        starts: list[float] = []  # each utterance's first second in the joined audio
        pieces: list[np.ndarray] = []
        at = 0
        for wave in waves:
            starts.append(at / SAMPLE_RATE)
            for piece in windows(wave, WINDOW):
                if len(piece) == 0:
                    continue
                clips.append({"start": at / SAMPLE_RATE, "end": (at + len(piece)) / SAMPLE_RATE})
                pieces.append(piece)
                at += len(piece)
        texts: list[list[str]] = [[] for _ in waves]
        words: list[list[tuple[str, float, float]]] = [[] for _ in waves]
        scores: list[list[float]] = [[] for _ in waves]
        if clips:
            segments, _ = self.pipeline.transcribe(
                np.concatenate(pieces), language=self.language, task="transcribe",
                beam_size=self.beam_size, initial_prompt=self.initial_prompt,
                word_timestamps=self.timings, vad_filter=False, clip_timestamps=clips,
                batch_size=max(len(clips), 1), without_timestamps=True)
            fps = self.pipeline.model.frames_per_second
            for seg in segments:
                # seek is the clip's start in frames, floored: one frame on lands inside the
                # clip, so the last utterance starting at or before it owns the segment.
                i = bisect_right(starts, (seg.seek + 1) / fps) - 1
                offset = starts[i]
                texts[i].append(seg.text)
                scores[i].append(seg.avg_logprob)
                words[i] += [(w.word, w.start - offset, w.end - offset) for w in seg.words or ()]
        out: list[Decoded] = []
        for i in range(len(waves)):
            text = "".join(texts[i]).strip()
            times = spread(words[i]) if self.timings else None
            if times is not None and len(times) != len(timed_chars(text)):
                times = None  # words that do not spell the text: store no times, not wrong ones
            score = float(np.mean(scores[i])) if scores[i] else None
            out.append((text, score, times))
        return out
