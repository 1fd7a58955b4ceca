"""sherpa-onnx: ONNX exports run in process (Tele-CTC-FT as telespeech_ctc, and the
leaderboard baselines sherpa-onnx runs: Paraformer, SenseVoice, Whisper, FireRedASR-AED,
Dolphin CTC, WeNet CTC, Qwen3-ASR).

``--model`` is the export's folder; each model type's files are found there by their usual
names (override one with ``--onnx ROLE=PATH``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
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
from backends.external import parse_env
from db.timings import Times, spread_tokens

# Where each role's file usually sits in an export folder, most preferred first.
PATTERNS: dict[str, tuple[str, ...]] = {
    "model": ("model.onnx", "model.int8.onnx", "*.onnx"),
    "encoder": ("encoder.onnx", "encoder.int8.onnx", "*encoder.onnx", "*encoder.int8.onnx"),
    "decoder": ("decoder.onnx", "decoder.int8.onnx", "*decoder.onnx", "*decoder.int8.onnx"),
    "conv_frontend": ("conv_frontend.onnx", "*conv_frontend*.onnx"),
    "tokens": ("tokens.txt", "*tokens.txt"),
    "tokenizer": ("tokenizer", "."),
}


@dataclass(frozen=True)
class ModelType:
    factory: str  # the OfflineRecognizer.from_* constructor
    roles: dict[str, str]  # constructor argument -> file role
    window: float | None = None  # seconds the model takes at once; longer audio is split


MODEL_TYPES: dict[str, ModelType] = {
    "telespeech_ctc": ModelType("from_telespeech_ctc", {"model": "model", "tokens": "tokens"}),
    "paraformer": ModelType("from_paraformer", {"paraformer": "model", "tokens": "tokens"}),
    "sense_voice": ModelType("from_sense_voice", {"model": "model", "tokens": "tokens"}),
    "whisper": ModelType("from_whisper", {"encoder": "encoder", "decoder": "decoder",
                                          "tokens": "tokens"}, window=30.0),
    "fire_red_asr": ModelType("from_fire_red_asr", {"encoder": "encoder", "decoder": "decoder",
                                                    "tokens": "tokens"}),
    "dolphin_ctc": ModelType("from_dolphin_ctc", {"model": "model", "tokens": "tokens"}),
    "wenet_ctc": ModelType("from_wenet_ctc", {"model": "model", "tokens": "tokens"}),
    "qwen3_asr": ModelType("from_qwen3_asr", {"conv_frontend": "conv_frontend",
                                              "encoder": "encoder", "decoder": "decoder",
                                              "tokenizer": "tokenizer"}),
}


def find_file(folder: Path, role: str) -> Path | None:
    for pattern in PATTERNS[role]:
        if pattern == ".":
            return folder
        matches = sorted(p for p in folder.glob(pattern) if "*" not in pattern or p.is_file())
        if pattern == "*.onnx" and len(matches) != 1:
            continue  # several candidates: too ambiguous to guess, ask for --onnx model=...
        if matches:
            return matches[0]
    return None


def resolve_files(model_type: ModelType, folder: Path,
                  overrides: dict[str, str]) -> dict[str, str]:
    """Constructor keyword -> path for every file the model type needs."""
    files: dict[str, str] = {}
    for argument, role in model_type.roles.items():
        path = Path(overrides[role]) if role in overrides else find_file(folder, role)
        if path is None or not path.exists():
            wanted = " or ".join(PATTERNS[role])
            raise BackendConfigError(f"no {role} file ({wanted}) in {folder}; "
                                     f"give --onnx {role}=PATH")
        files[argument] = str(path)
    return files


class SherpaOnnxBackend(InProcessBackend):
    name = "sherpa-onnx"
    tasks = frozenset({"asr"})
    summary = "ONNX exports via sherpa-onnx: telespeech_ctc (Tele-CTC-FT) and the baselines"
    extra = "sherpa"
    modules = ("sherpa_onnx",)

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        kind = options.get_str("model_type", "telespeech_ctc")
        if kind not in MODEL_TYPES:
            raise BackendConfigError(f"--model-type must be one of {', '.join(MODEL_TYPES)}")
        self.kind = kind
        self.model_type = MODEL_TYPES[kind]
        self.recognizer: Any = None

    @classmethod
    def add_arguments(cls, parser: ArgumentAdder) -> None:
        parser.add_argument("--model-type", choices=tuple(MODEL_TYPES),
                            help="sherpa-onnx model type (default telespeech_ctc)")
        parser.add_argument("--onnx", action="append", metavar="ROLE=PATH",
                            help=f"a file by role ({', '.join(PATTERNS)}) when the folder's "
                                 "names differ (repeatable)")
        parser.add_argument("--language",
                            help="whisper / sense_voice language, e.g. zh (default: model's)")
        parser.add_argument("--num-threads", type=int, help="ONNX Runtime threads (default 2)")

    def kwargs(self) -> dict[str, Any]:
        opts = self.options
        folder = opts.require_model()
        folder = folder if folder.is_dir() else folder.parent
        args: dict[str, Any] = resolve_files(self.model_type, folder,
                                             parse_env(opts.get_list("onnx")))
        args["num_threads"] = opts.get_int("num_threads", 2)
        args["provider"] = "cuda" if opts.device.startswith("cuda") else "cpu"
        language = opts.get_str("language", "")
        if self.kind == "whisper":
            args["language"] = language or "zh"
            args["task"] = "transcribe"
        elif self.kind == "sense_voice" and language:
            args["language"] = language
        return args

    def load(self) -> None:
        try:
            import sherpa_onnx
        except ImportError as exc:
            raise BackendUnavailable(
                "sherpa-onnx needs: pip install 'wu-workbench[sherpa]'") from exc
        factory: Callable[..., Any] = getattr(sherpa_onnx.OfflineRecognizer,
                                              self.model_type.factory)
        self.recognizer = factory(**self.kwargs())

    def infer(self, waves: list[np.ndarray]) -> list[Decoded]:
        # Each utterance becomes one or more streams (fixed-window models); one call decodes
        # them all, which is where sherpa-onnx batches.
        pieces: list[list[Any]] = []
        for wave in waves:
            parts = (list(windows(wave, self.model_type.window)) if self.model_type.window
                     else [wave])
            streams = []
            for part in parts:
                stream = self.recognizer.create_stream()
                stream.accept_waveform(SAMPLE_RATE, part)
                streams.append(stream)
            pieces.append(streams)
        self.recognizer.decode_streams([s for streams in pieces for s in streams])
        joiner = " " if self.kind == "whisper" else ""
        return [(joiner.join(s.result.text.strip() for s in streams).strip(), None,
                 self._times(streams)) for streams in pieces]

    def _times(self, streams: list[Any]) -> Times | None:
        """Character starts from the tokens' ``timestamps`` (CTC models give one per token;
        others give none). Each window's times are moved by its offset in the utterance."""
        tokens: list[str] = []
        starts: list[float] = []
        for n, stream in enumerate(streams):
            got, at = list(stream.result.tokens), list(stream.result.timestamps)
            if len(at) != len(got):
                return None
            offset = n * (self.model_type.window or 0.0)
            tokens += got
            starts += [offset + t for t in at]
        return spread_tokens(tokens, starts) if tokens else None
