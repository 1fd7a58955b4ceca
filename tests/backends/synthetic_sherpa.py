"""Synthetic ONNX exports for sherpa-onnx's model types: each a tiny torch module exported
with the input and output names, shapes and metadata sherpa-onnx reads for that type, plus
its token table. Their outputs are a fixed pattern over the synthetic characters (one more
character every so many frames), so a test can check that sherpa-onnx loads the files and
that features, lengths and decoding line up; none of them says anything about accuracy."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

import torch
from synthetic_models import CHARS, add_metadata

# Token ids shared by every table below: the characters are 1..4 after a blank at 0.
FIRST_CHAR = 1
LOUD = 8.0  # the winning logit; every other entry is 0


def char_ids(positions: torch.Tensor, every: int) -> torch.Tensor:
    """The synthetic character at every ``every``-th position (1, 2, 3, 4, 1, ...), 0 between."""
    return torch.where(positions % every == 0, FIRST_CHAR + (positions // every) % len(CHARS),
                       torch.zeros_like(positions))


def one_hot(ids: torch.Tensor, vocab: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(ids, vocab).float() * LOUD


def unit_stats(dim: int) -> tuple[str, str]:
    """A mean / stddev vector as sherpa-onnx's metadata holds one: comma-separated floats."""
    return ",".join(["0"] * dim), ",".join(["1"] * dim)


def write_table(folder: Path, symbols: Sequence[str], b64: bool = False) -> None:
    """``symbol id`` per line, the id being the line's index (base64 symbols for whisper)."""
    lines = [f"{base64.b64encode(s.encode()).decode() if b64 else s} {i}"
             for i, s in enumerate(symbols)]
    (folder / "tokens.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def export(module: torch.nn.Module, example: tuple[torch.Tensor, ...], path: Path,
           inputs: list[str], outputs: list[str], dynamic: dict[str, dict[int, str]],
           meta: dict[str, str]) -> None:
    torch.onnx.export(module, example, str(path), input_names=inputs, output_names=outputs,
                      dynamic_axes=dynamic, dynamo=False)
    add_metadata(path, meta)


# --- dolphin_ctc -----------------------------------------------------------------------------

DOLPHIN_SUBSAMPLING = 4
DOLPHIN_EVERY = 4  # a character every 4 output frames: 160 ms


class SyntheticDolphinCtc(torch.nn.Module):
    """(x (N, T, 80), x_len (N,) int64) -> (log_probs (N, T/4, V), log_probs_len (N,))."""

    def forward(self, x: torch.Tensor, x_len: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frames = x[:, ::DOLPHIN_SUBSAMPLING]
        ids = char_ids(torch.arange(frames.size(1)), DOLPHIN_EVERY)
        logits = one_hot(ids, len(CHARS) + 1) + 0.0 * frames.sum()
        out_len = (x_len - 1) // DOLPHIN_SUBSAMPLING + 1
        return torch.log_softmax(logits, -1).expand(x.size(0), -1, -1), out_len


def build_dolphin_ctc(folder: Path) -> Path:
    """dolphin_ctc: batched 80-dim features with lengths; mean/invstd in the metadata."""
    mean, invstd = unit_stats(80)
    export(SyntheticDolphinCtc(), (torch.zeros(2, 80, 80), torch.tensor([80, 60])),
           folder / "model.onnx", ["x", "x_len"], ["log_probs", "log_probs_len"],
           {"x": {0: "N", 1: "T"}, "x_len": {0: "N"}, "log_probs": {0: "N", 1: "T4"},
            "log_probs_len": {0: "N"}},
           {"model_type": "dolphin_ctc", "vocab_size": str(len(CHARS) + 1),
            "mean": mean, "invstd": invstd})
    write_table(folder, ["<blank>", *CHARS])
    return folder


# --- sense_voice -----------------------------------------------------------------------------

LFR_WINDOW, LFR_SHIFT = 7, 6  # low frame rate: 7 fbank frames stacked every 6 (60 ms)
SENSE_VOICE_EVERY = 2  # a character every 2 LFR frames: 120 ms
# After the characters: the four tags SenseVoice emits first, which sherpa-onnx strips.
SENSE_VOICE_TAGS = ["<|zh|>", "<|NEUTRAL|>", "<|Speech|>", "<|woitn|>", "<|withitn|>"]


class SyntheticSenseVoice(torch.nn.Module):
    """(x (N, T, 560), x_length, language, text_norm (N,) int32) -> logits (N, T + 4, V):
    four tag frames (language, emotion, event, the text_norm id it was given), then the
    characters."""

    def forward(self, x: torch.Tensor, x_length: torch.Tensor, language: torch.Tensor,
                text_norm: torch.Tensor) -> tuple[torch.Tensor]:
        vocab = 1 + len(CHARS) + len(SENSE_VOICE_TAGS)
        first_tag = 1 + len(CHARS)
        tags = torch.arange(first_tag, first_tag + 3).unsqueeze(0).expand(x.size(0), -1)
        tags = torch.cat([tags, text_norm.long().unsqueeze(1)], dim=1)  # (N, 4)
        chars = char_ids(torch.arange(x.size(1)), SENSE_VOICE_EVERY)
        ids = torch.cat([tags, chars.unsqueeze(0).expand(x.size(0), -1)], dim=1)
        unused = 0.0 * (x.sum() + x_length.sum() + language.sum())
        return (one_hot(ids, vocab) + unused,)


def build_sense_voice(folder: Path) -> Path:
    """sense_voice: LFR features (N, T, 7 x 80) with int32 lengths, language and text_norm."""
    n = 1 + len(CHARS)
    neg_mean, inv_stddev = unit_stats(80 * LFR_WINDOW)
    langs = {"lang_auto": "0", "lang_zh": "3", "lang_en": "4", "lang_yue": "7",
             "lang_ja": "11", "lang_ko": "12"}
    export(SyntheticSenseVoice(),
           (torch.zeros(2, 30, 80 * LFR_WINDOW), torch.tensor([30, 20], dtype=torch.int32),
            torch.zeros(2, dtype=torch.int32), torch.full((2,), n + 3, dtype=torch.int32)),
           folder / "model.onnx", ["x", "x_length", "language", "text_norm"], ["logits"],
           {"x": {0: "N", 1: "T"}, "x_length": {0: "N"}, "language": {0: "N"},
            "text_norm": {0: "N"}, "logits": {0: "N", 1: "T4"}},
           {"model_type": "sense_voice_ctc", "vocab_size": str(n + len(SENSE_VOICE_TAGS)),
            "blank_id": "0", "lfr_window_size": str(LFR_WINDOW),
            "lfr_window_shift": str(LFR_SHIFT), "normalize_samples": "0",
            "without_itn": str(n + 3), "with_itn": str(n + 4), **langs,
            "neg_mean": neg_mean, "inv_stddev": inv_stddev})
    write_table(folder, ["<blank>", *CHARS, *SENSE_VOICE_TAGS])
    return folder


# --- paraformer ------------------------------------------------------------------------------

PARAFORMER_EVERY = 2  # one token per 2 LFR frames: 120 ms
PARAFORMER_TABLE = ["<blank>", *CHARS, "<s>", "</s>"]


class SyntheticParaformer(torch.nn.Module):
    """(speech (N, T, 560), speech_lengths (N,) int32) -> (logits (N, L, V), token_num (N,)):
    item i's first speech_lengths[i] / 2 positions are characters, then </s>."""

    def forward(self, speech: torch.Tensor,
                speech_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        eos = len(PARAFORMER_TABLE) - 1
        token_num = speech_lengths.long() // PARAFORMER_EVERY
        k = torch.arange(speech.size(1) // PARAFORMER_EVERY + 1)
        chars = FIRST_CHAR + k % len(CHARS)
        ids = torch.where(k.unsqueeze(0) < token_num.unsqueeze(1), chars.unsqueeze(0),
                          torch.full_like(chars, eos).unsqueeze(0))
        return one_hot(ids, len(PARAFORMER_TABLE)) + 0.0 * speech.sum(), token_num


def build_paraformer(folder: Path) -> Path:
    """paraformer: LFR features (N, T, 7 x 80) with int32 lengths; CMVN in the metadata."""
    neg_mean, inv_stddev = unit_stats(80 * LFR_WINDOW)
    export(SyntheticParaformer(),
           (torch.zeros(2, 30, 80 * LFR_WINDOW), torch.tensor([30, 20], dtype=torch.int32)),
           folder / "model.onnx", ["speech", "speech_lengths"], ["logits", "token_num"],
           {"speech": {0: "N", 1: "T"}, "speech_lengths": {0: "N"},
            "logits": {0: "N", 1: "L"}, "token_num": {0: "N"}},
           {"model_type": "paraformer", "vocab_size": str(len(PARAFORMER_TABLE)),
            "lfr_window_size": str(LFR_WINDOW), "lfr_window_shift": str(LFR_SHIFT),
            "neg_mean": neg_mean, "inv_stddev": inv_stddev})
    write_table(folder, PARAFORMER_TABLE)
    return folder


def following_char(tokens: torch.Tensor) -> torch.Tensor:
    """After a character the next one (1, 2, 3, 4, 1, ...); after anything else the first."""
    is_char = (tokens >= FIRST_CHAR) & (tokens < FIRST_CHAR + len(CHARS))
    return torch.where(is_char, FIRST_CHAR + tokens % len(CHARS),
                       torch.full_like(tokens, FIRST_CHAR))


# --- whisper ---------------------------------------------------------------------------------

WHISPER_TABLE = ["<|endoftext|>", *CHARS, "<|startoftranscript|>", "<|zh|>", "<|en|>",
                 "<|translate|>", "<|transcribe|>", "<|nospeech|>", "<|notimestamps|>",
                 "<|0.00|>"]
WHISPER_LAYERS, WHISPER_CTX, WHISPER_STATE = 1, 448, 4
WHISPER_MELS = 80


class SyntheticWhisperEncoder(torch.nn.Module):
    """mel (1, 80, T) -> n_layer_cross_k, n_layer_cross_v (layers, 1, T / 2, state)."""

    def forward(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frames = mel[:, :WHISPER_STATE, ::2].transpose(1, 2).unsqueeze(0)
        return frames.expand(WHISPER_LAYERS, -1, -1, -1), frames.expand(WHISPER_LAYERS, -1, -1, -1)


class SyntheticWhisperDecoder(torch.nn.Module):
    """Whisper's KV-cache decoder interface: the characters in turn after the prompt, never
    <|endoftext|>, so the length is sherpa-onnx's own cap (6 tokens a second)."""

    def forward(self, tokens: torch.Tensor, self_k: torch.Tensor, self_v: torch.Tensor,
                cross_k: torch.Tensor, cross_v: torch.Tensor,
                offset: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        unused = 0.0 * (cross_k.sum() + cross_v.sum() + offset.sum())
        logits = one_hot(following_char(tokens), len(WHISPER_TABLE)) + unused
        return logits, self_k + 0.0, self_v + 0.0


def build_whisper(folder: Path) -> Path:
    """whisper: encoder.onnx / decoder.onnx with the cache layout and the metadata sherpa-onnx
    reads (token ids, sot sequence, languages), tokens.txt base64-encoded."""
    ids = {s: i for i, s in enumerate(WHISPER_TABLE)}
    meta = {"model_type": "whisper-synthetic", "n_mels": str(WHISPER_MELS),
            "n_text_layer": str(WHISPER_LAYERS), "n_text_ctx": str(WHISPER_CTX),
            "n_text_state": str(WHISPER_STATE), "n_vocab": str(len(WHISPER_TABLE)),
            "sot": str(ids["<|startoftranscript|>"]), "eot": str(ids["<|endoftext|>"]),
            "blank_id": str(ids["<|endoftext|>"]), "translate": str(ids["<|translate|>"]),
            "transcribe": str(ids["<|transcribe|>"]), "is_multilingual": "1",
            "no_timestamps": str(ids["<|notimestamps|>"]), "no_speech": str(ids["<|nospeech|>"]),
            "sot_sequence": ",".join(str(ids[s]) for s in
                                     ("<|startoftranscript|>", "<|zh|>", "<|transcribe|>")),
            "all_language_tokens": f"{ids['<|zh|>']},{ids['<|en|>']}",
            "all_language_codes": "zh,en"}
    export(SyntheticWhisperEncoder(), (torch.zeros(1, WHISPER_MELS, 100),),
           folder / "encoder.onnx", ["mel"], ["n_layer_cross_k", "n_layer_cross_v"],
           {"mel": {2: "T"}, "n_layer_cross_k": {2: "T2"}, "n_layer_cross_v": {2: "T2"}}, meta)
    cache = torch.zeros(WHISPER_LAYERS, 1, WHISPER_CTX, WHISPER_STATE)
    cross = torch.zeros(WHISPER_LAYERS, 1, 50, WHISPER_STATE)
    export(SyntheticWhisperDecoder(),
           (torch.tensor([[5, 6, 10, 12]]), cache, cache, cross, cross, torch.tensor([0])),
           folder / "decoder.onnx",
           ["tokens", "in_n_layer_self_k_cache", "in_n_layer_self_v_cache", "n_layer_cross_k",
            "n_layer_cross_v", "offset"],
           ["logits", "out_n_layer_self_k_cache", "out_n_layer_self_v_cache"],
           {"tokens": {1: "n"}, "n_layer_cross_k": {2: "T2"}, "n_layer_cross_v": {2: "T2"},
            "logits": {1: "n"}}, {"model_type": "whisper-synthetic"})
    write_table(folder, WHISPER_TABLE, b64=True)
    return folder


# --- fire_red_asr ----------------------------------------------------------------------------

FIRE_RED_TABLE = ["<blank>", *CHARS, "<sos>", "<eos>"]
FIRE_RED_LAYERS, FIRE_RED_HEADS, FIRE_RED_HEAD_DIM = 1, 1, 4
FIRE_RED_SUBSAMPLING = 4
FIRE_RED_FRAMES_PER_CHAR = 4  # encoder frames per character: 160 ms, then <eos>


class SyntheticFireRedEncoder(torch.nn.Module):
    """(features (1, T, 80), features_length (1,) int64) -> cross_k, cross_v
    (layers, 1, T / 4, heads x head_dim)."""

    def forward(self, x: torch.Tensor, x_len: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frames = x[:, ::FIRE_RED_SUBSAMPLING, :FIRE_RED_HEADS * FIRE_RED_HEAD_DIM]
        kv = frames.unsqueeze(0).expand(FIRE_RED_LAYERS, -1, -1, -1) + 0.0 * x_len.sum()
        return kv, kv


class SyntheticFireRedDecoder(torch.nn.Module):
    """FireRedASR-AED's KV-cache decoder interface: characters in turn while the offset is
    below (encoder frames) / 4, then <eos>."""

    def forward(self, tokens: torch.Tensor, self_k: torch.Tensor, self_v: torch.Tensor,
                cross_k: torch.Tensor, cross_v: torch.Tensor,
                offset: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        eos = len(FIRE_RED_TABLE) - 1
        done = offset >= cross_k.size(2) // FIRE_RED_FRAMES_PER_CHAR
        ids = torch.where(done, torch.full_like(tokens, eos), following_char(tokens))
        logits = one_hot(ids, len(FIRE_RED_TABLE)) + 0.0 * cross_v.sum()
        return logits, self_k + 0.0, self_v + 0.0


def build_fire_red_asr(folder: Path) -> Path:
    """fire_red_asr: encoder.onnx (features, lengths) -> cross k/v, and decoder.onnx with a
    self-attention cache of dynamic length; sos/eos, sizes and CMVN in the metadata."""
    mean, inv_stddev = unit_stats(80)
    export(SyntheticFireRedEncoder(), (torch.zeros(1, 100, 80), torch.tensor([100])),
           folder / "encoder.onnx", ["features", "features_length"],
           ["n_layer_cross_k", "n_layer_cross_v"],
           {"features": {1: "T"}, "n_layer_cross_k": {2: "T4"}, "n_layer_cross_v": {2: "T4"}},
           {"model_type": "fire-red-asr-synthetic",
            "num_decoder_layers": str(FIRE_RED_LAYERS), "num_head": str(FIRE_RED_HEADS),
            "head_dim": str(FIRE_RED_HEAD_DIM), "sos": str(FIRE_RED_TABLE.index("<sos>")),
            "eos": str(FIRE_RED_TABLE.index("<eos>")), "max_len": "448",
            "cmvn_mean": mean, "cmvn_inv_stddev": inv_stddev})
    cache = torch.zeros(FIRE_RED_LAYERS, 1, 20, FIRE_RED_HEADS, FIRE_RED_HEAD_DIM)
    cross = torch.zeros(FIRE_RED_LAYERS, 1, 25, FIRE_RED_HEADS * FIRE_RED_HEAD_DIM)
    export(SyntheticFireRedDecoder(),
           (torch.tensor([[5]]), cache, cache, cross, cross, torch.tensor([0])),
           folder / "decoder.onnx",
           ["tokens", "in_n_layer_self_k_cache", "in_n_layer_self_v_cache", "n_layer_cross_k",
            "n_layer_cross_v", "offset"],
           ["logits", "out_n_layer_self_k_cache", "out_n_layer_self_v_cache"],
           {"in_n_layer_self_k_cache": {2: "L"}, "in_n_layer_self_v_cache": {2: "L"},
            "out_n_layer_self_k_cache": {2: "L"}, "out_n_layer_self_v_cache": {2: "L"},
            "n_layer_cross_k": {2: "T4"}, "n_layer_cross_v": {2: "T4"}},
           {"model_type": "fire-red-asr-synthetic"})
    write_table(folder, FIRE_RED_TABLE)
    return folder
