"""A synthetic Qwen3-ASR export for sherpa-onnx's ``qwen3_asr`` model type: the three ONNX
sessions sherpa-onnx runs (conv frontend, encoder, KV-cache LLM decoder) with the inputs,
outputs and shapes it checks, plus a byte-level BPE tokenizer folder holding the chat
template's special tokens. The decoder answers like the real model, ``language Wu<asr_text>``
then the synthetic characters, one per ``EVERY`` audio tokens, then ``<|im_end|>``; it emits
the characters only when the prompt holds one ``<|audio_pad|>`` per audio token. Nothing here
says anything about accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from synthetic_models import CHARS
from synthetic_sherpa import LOUD, export

MEL_DIM = 128
CHUNK = 100  # feature frames the real conv frontend takes at a time
CHUNK_TOKENS = 13  # audio tokens a full chunk gives: three stride-2 convolutions
HIDDEN = 4
MAX_TOTAL_LEN = 512  # the KV cache's length, read from past_key's dim 1
EVERY = 4  # a character every 4 audio tokens (about 320 ms)

PREFIX = "language Wu"  # what the real model writes before <asr_text>
SPECIALS = ["<|im_start|>", "<|im_end|>", "<|audio_start|>", "<|audio_end|>", "<|audio_pad|>"]


def byte_symbols() -> list[str]:
    """GPT-2's byte-level alphabet: the printable symbol standing for each byte 0..255."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    symbols: dict[int, str] = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + extra)
            extra += 1
    return [symbols[b] for b in range(256)]


BYTES = byte_symbols()
FIRST_CHAR = len(BYTES)  # the characters follow the 256 bytes
ASR_TEXT = FIRST_CHAR + len(CHARS)
IM_START, IM_END, AUDIO_START, AUDIO_END, AUDIO_PAD = range(ASR_TEXT + 1,
                                                            ASR_TEXT + 1 + len(SPECIALS))
VOCAB = AUDIO_PAD + 1
PREFIX_IDS = [*PREFIX.encode(), ASR_TEXT]  # the bytes' ids are the bytes


def text_length(frames: int) -> int:
    """Characters the export writes for so many 10 ms feature frames: sherpa-onnx counts 13
    audio tokens per full chunk, and for the rest what three stride-2 convolutions leave."""
    rest = frames % CHUNK
    for _ in range(3):
        rest = (rest + 1) // 2
    tokens = frames // CHUNK * CHUNK_TOKENS + rest
    return -(-tokens // EVERY)


def write_tokenizer(folder: Path) -> None:
    """vocab.json (bytes, characters, <asr_text>), no merges, and the special tokens in
    tokenizer_config.json's added_tokens_decoder; sherpa-onnx takes <|im_end|> as eos."""
    vocab = {symbol: i for i, symbol in enumerate(BYTES)}
    for i, char in enumerate(CHARS):
        vocab["".join(BYTES[b] for b in char.encode())] = FIRST_CHAR + i
    vocab["<asr_text>"] = ASR_TEXT
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    added = {str(IM_START + i): {"content": token, "special": True}
             for i, token in enumerate(SPECIALS)}
    (folder / "tokenizer_config.json").write_text(json.dumps({"added_tokens_decoder": added}),
                                                  encoding="utf-8")


class SyntheticConvFrontend(torch.nn.Module):
    """mel (1, T, 128) -> (1, 13 * ceil(T / 100), HIDDEN): 13 tokens per 100-frame chunk, the
    last chunk padded as the real export pads it (sherpa-onnx masks what lies past the end)."""

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        chunks = mel[:, ::CHUNK, :HIDDEN]
        return chunks[:, :, None].expand(-1, -1, CHUNK_TOKENS, -1).reshape(1, -1, HIDDEN)


class SyntheticEncoder(torch.nn.Module):
    """(conv (1, A, H), mask (1, A) bool) -> (1, A, H): ones where the mask holds, zeros past
    the end, which sherpa-onnx trims away."""

    def forward(self, conv: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return mask[..., None].float() * (1.0 + 0.0 * conv)


class SyntheticDecoder(torch.nn.Module):
    """(input_ids, audio_features, attention_mask, cache_position, past_key, past_value) ->
    (logits (1, S, V), key delta, value delta (1, S, 1, 2)). The key delta marks generated
    tokens in channel 0 and <|audio_pad|> tokens in channel 1, so each step counts from the
    cache how many tokens it has written and how many audio placeholders the prompt held."""

    prefix: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("prefix", torch.tensor(PREFIX_IDS))

    def forward(self, input_ids: torch.Tensor, audio_features: torch.Tensor,
                attention_mask: torch.Tensor, cache_position: torch.Tensor,
                past_key: torch.Tensor, past_value: torch.Tensor,
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        step = (torch.ones_like(input_ids).sum() == 1).long()  # 0 for the prompt
        written = past_key[..., 0].sum().long() + step  # tokens generated before this one
        pad = (input_ids == AUDIO_PAD).float()
        pads = past_key[..., 1].sum().long() + pad.sum().long()
        frames = torch.ones_like(audio_features[0, :, 0]).sum().long()
        chars = torch.where(pads == frames, (frames + EVERY - 1) // EVERY, 0)
        after = written - len(PREFIX_IDS)
        token = torch.where(
            written < len(PREFIX_IDS), self.prefix[written.clamp(max=len(PREFIX_IDS) - 1)],
            torch.where(after < chars, FIRST_CHAR + after % len(CHARS), IM_END))
        # inputs the pattern ignores, tied into the graph so that the export keeps them
        keep = 0.0 * (attention_mask.sum() + cache_position.sum()).float()
        logits = torch.nn.functional.one_hot(token.reshape(1), VOCAB).float() * LOUD + keep
        logits = logits.expand(1, input_ids.size(1), VOCAB)
        flag = torch.ones_like(pad) * step.float()
        key = torch.stack([flag, pad * (1 - step.float())], dim=-1)[:, :, None, :]
        value = torch.zeros_like(key) + 0.0 * past_value.sum()
        return logits, key, value


def build_qwen3_asr(folder: Path) -> Path:
    """conv_frontend.onnx, encoder.onnx, decoder.onnx (one layer, fp32 cache of
    MAX_TOTAL_LEN) and the tokenizer files, all in ``folder``."""
    export(SyntheticConvFrontend(), (torch.zeros(1, 250, MEL_DIM),), folder / "conv_frontend.onnx",
           ["input_features"], ["conv_output"],
           {"input_features": {1: "T"}, "conv_output": {1: "A"}}, {})
    export(SyntheticEncoder(), (torch.zeros(1, 39, HIDDEN), torch.ones(1, 39, dtype=torch.bool)),
           folder / "encoder.onnx", ["conv_output", "feature_attention_mask"],
           ["audio_features"], {"conv_output": {1: "A"}, "feature_attention_mask": {1: "A"},
                                "audio_features": {1: "A"}}, {})
    cache = torch.zeros(1, MAX_TOTAL_LEN, 1, 2)
    example = (torch.tensor([[IM_START, AUDIO_PAD, AUDIO_PAD]]), torch.ones(1, 2, HIDDEN),
               torch.ones(1, 3, dtype=torch.int64), torch.arange(3), cache, cache)
    export(SyntheticDecoder(), example, folder / "decoder.onnx",
           ["input_ids", "audio_features", "attention_mask", "cache_position",
            "past_key_0", "past_value_0"], ["logits", "present_key_0", "present_value_0"],
           {"input_ids": {1: "S"}, "audio_features": {1: "A"}, "attention_mask": {1: "S"},
            "cache_position": {0: "S"}, "logits": {1: "S"}, "present_key_0": {1: "S"},
            "present_value_0": {1: "S"}}, {})
    write_tokenizer(folder)
    return folder
