"""wenet-jit: a WeNet model exported by ``wenet/bin/export_jit.py`` run with plain torch.

The export folder holds ``final.zip`` (TorchScript, global CMVN inside) and ``units.txt``
("token id" per line). We use the methods the export provides (the same ones WeNet's C++
runtime calls): ``forward_encoder_chunk`` over the whole utterance, ``ctc_activation`` and
``forward_attention_decoder``, with features computed as WeNet computes them and our own
CTC search (backends.ctc).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from backends import ctc
from backends.audio import SAMPLE_RATE
from backends.base import (
    ArgumentAdder,
    BackendConfigError,
    BackendOptions,
    BackendUnavailable,
    Decoded,
    InProcessBackend,
)
from db.timings import Times, spread_tokens

MODES = ("ctc_greedy_search", "ctc_prefix_beam_search", "attention_rescoring")
FRAME_SHIFT = 0.01  # seconds per fbank frame


def fbank(wave: np.ndarray, num_mel_bins: int = 80) -> np.ndarray:
    """Kaldi fbank as WeNet's data pipeline computes it (T, num_mel_bins).

    WeNet feeds int16-scaled samples to ``torchaudio.compliance.kaldi.fbank`` with 25 ms
    frames, 10 ms shift, energy_floor 0 and no dither at inference; kaldi-native-fbank with
    the same options gives the same matrix without torchaudio.
    """
    import kaldi_native_fbank as knf

    opts = knf.FbankOptions()
    opts.frame_opts.samp_freq = SAMPLE_RATE
    opts.frame_opts.frame_length_ms = 25.0
    opts.frame_opts.frame_shift_ms = 10.0
    opts.frame_opts.dither = 0.0
    opts.frame_opts.snip_edges = True
    opts.energy_floor = 0.0
    opts.mel_opts.num_bins = num_mel_bins
    computer = knf.OnlineFbank(opts)
    computer.accept_waveform(SAMPLE_RATE, (wave * 32768.0).tolist())
    computer.input_finished()
    frames = computer.num_frames_ready
    if frames == 0:
        return np.zeros((0, num_mel_bins), np.float32)
    return np.stack([computer.get_frame(i) for i in range(frames)]).astype(np.float32)


def read_units(path: Path) -> dict[int, str]:
    units: dict[int, str] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        token, _, index = line.rpartition(" ")
        if not token or not index.isdigit():
            raise BackendConfigError(f"{path}:{line_no}: expected 'token id', got {line!r}")
        units[int(index)] = token
    return units


def detokenize(tokens: list[int], units: dict[int, str]) -> str:
    # WeNet's BPE units mark a word start with "▁"; character units join directly.
    return "".join(units.get(t, "<unk>") for t in tokens).replace("▁", " ").strip()


class WenetJitBackend(InProcessBackend):
    name = "wenet-jit"
    tasks = frozenset({"asr"})
    summary = "WeNet export_jit model (final.zip + units.txt) in process with torch"
    extra = "torch"
    modules = ("torch", "kaldi_native_fbank")

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self.mode = options.get_str("mode", "attention_rescoring")
        if self.mode not in MODES:
            raise BackendConfigError(f"--mode must be one of {', '.join(MODES)}")
        self.beam = options.get_int("beam_size", 10)
        self.ctc_weight = options.get_float("ctc_weight", 0.3)
        self.reverse_weight = options.get_float("reverse_weight", 0.5)
        self.num_mel_bins = options.get_int("num_mel_bins", 80)
        self.model: Any = None
        self.units: dict[int, str] = {}

    @classmethod
    def add_arguments(cls, parser: ArgumentAdder) -> None:
        parser.add_argument("--mode", choices=MODES, help="decoding (default attention_rescoring)")
        parser.add_argument("--beam-size", type=int, help="prefix beam width (default 10)")
        parser.add_argument("--ctc-weight", type=float,
                            help="CTC score weight in rescoring (default 0.3)")
        parser.add_argument("--reverse-weight", type=float,
                            help="right-to-left decoder weight for U2++ (default 0.5)")
        parser.add_argument("--num-mel-bins", type=int, help="fbank bins (default 80)")

    def load(self) -> None:
        try:
            import torch
        except ImportError as exc:
            raise BackendUnavailable("wenet-jit needs: pip install 'wu-workbench[torch]'") from exc
        folder = self.options.require_model()
        model_path = folder / "final.zip" if folder.is_dir() else folder
        units_path = model_path.with_name("units.txt")
        for path in (model_path, units_path):
            if not path.is_file():
                raise BackendConfigError(f"missing {path} (export with wenet/bin/export_jit.py)")
        self.units = read_units(units_path)
        self.device = torch.device(self.options.device)
        self.model = torch.jit.load(  # type: ignore[no-untyped-call]
            str(model_path), map_location=self.device
        )
        self.model.eval()
        self.sos = int(self.model.sos_symbol())
        self.eos = int(self.model.eos_symbol())
        self.bidirectional = bool(self.model.is_bidirectional_decoder())
        self.subsampling = int(self.model.subsampling_rate())

    def infer(self, waves: list[np.ndarray]) -> list[Decoded]:
        import torch

        # The export decodes one utterance per call: forward_encoder_chunk takes no lengths,
        # so padding a batch would leak into full-context attention.
        out: list[Decoded] = []
        with torch.inference_mode():
            for wave in waves:
                tokens, score, log_probs = self._decode(torch, wave)
                out.append((detokenize(tokens, self.units), score,
                            self._times(log_probs, tokens)))
        return out

    def _times(self, log_probs: np.ndarray | None, tokens: list[int]) -> Times | None:
        """Character starts from the CTC alignment of the chosen tokens (whichever search
        chose them): an encoder frame is subsampling_rate fbank frames of 10 ms."""
        if log_probs is None or not tokens:
            return None
        frames = ctc.align(log_probs, tokens)
        if frames is None:
            return None
        seconds = self.subsampling * FRAME_SHIFT
        return spread_tokens([self.units.get(t, "<unk>") for t in tokens],
                             [f * seconds for f in frames])

    def _decode(self, torch: Any,
                wave: np.ndarray) -> tuple[list[int], float, np.ndarray | None]:
        feats = fbank(wave, self.num_mel_bins)
        if len(feats) == 0:
            return [], 0.0, None
        x = torch.from_numpy(feats).unsqueeze(0).to(self.device)
        empty = torch.zeros(0, 0, 0, 0, device=self.device)
        encoder_out, _, _ = self.model.forward_encoder_chunk(x, 0, -1, empty, empty)
        log_probs = self.model.ctc_activation(encoder_out)[0].float().cpu().numpy()
        if self.mode == "ctc_greedy_search":
            return (*ctc.greedy(log_probs), log_probs)
        hyps = ctc.prefix_beam_search(log_probs, self.beam)
        if self.mode == "ctc_prefix_beam_search":
            return list(hyps[0].tokens), hyps[0].score, log_probs
        return (*self._rescore(torch, hyps, encoder_out), log_probs)

    def _rescore(self, torch: Any, hyps: list[ctc.Hypothesis],
                 encoder_out: Any) -> tuple[list[int], float]:
        longest = max(len(h.tokens) for h in hyps) + 1
        pad = torch.full((len(hyps), longest), self.eos, dtype=torch.long)
        for i, hyp in enumerate(hyps):
            pad[i, 0] = self.sos
            pad[i, 1 : len(hyp.tokens) + 1] = torch.tensor(hyp.tokens, dtype=torch.long)
        lens = torch.tensor([len(h.tokens) + 1 for h in hyps], dtype=torch.long)
        reverse_weight = self.reverse_weight if self.bidirectional else 0.0
        left, right = self.model.forward_attention_decoder(
            pad.to(self.device), lens.to(self.device), encoder_out, reverse_weight)
        scores = ctc.rescore(
            hyps,
            left.float().cpu().numpy(),
            right.float().cpu().numpy() if reverse_weight > 0 else None,
            self.eos, self.ctc_weight, reverse_weight,
        )
        best = int(np.argmax(scores))
        return list(hyps[best].tokens), scores[best]
