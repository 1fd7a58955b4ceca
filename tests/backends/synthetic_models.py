"""Synthetic models the tests (and bench/prefill.py) build and save themselves: tiny,
randomly initialised or fixed-pattern modules with the interfaces real exports have.
They measure and exercise our code paths; none of them says anything about accuracy."""

from __future__ import annotations

from pathlib import Path

import torch

CHARS = ["侬", "好", "阿", "拉"]
VOCAB = len(CHARS) + 2  # <blank>, the characters, <sos/eos>
EOS = VOCAB - 1
SUBSAMPLING = 4


class SyntheticWenet(torch.nn.Module):
    """Encoder: stack 4 fbank frames and project. CTC: character every third frame."""

    def __init__(self) -> None:
        super().__init__()
        # TorchScript reads no module globals: the constants live on the module.
        self.sub = SUBSAMPLING
        self.vocab = VOCAB
        self.eos = EOS
        self.chars = len(CHARS)
        self.proj = torch.nn.Linear(80 * SUBSAMPLING, 8)

    @torch.jit.export
    def subsampling_rate(self) -> int:
        return self.sub

    @torch.jit.export
    def right_context(self) -> int:
        return 6

    @torch.jit.export
    def sos_symbol(self) -> int:
        return self.eos

    @torch.jit.export
    def eos_symbol(self) -> int:
        return self.eos

    @torch.jit.export
    def is_bidirectional_decoder(self) -> bool:
        return True

    @torch.jit.export
    def forward_encoder_chunk(
        self, xs: torch.Tensor, offset: int, required_cache_size: int,
        att_cache: torch.Tensor, cnn_cache: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        frames = xs.size(1) // self.sub
        stacked = xs[:, : frames * self.sub, :].reshape(1, frames, 80 * self.sub)
        return self.proj(stacked), att_cache, cnn_cache

    @torch.jit.export
    def ctc_activation(self, xs: torch.Tensor) -> torch.Tensor:
        t = torch.arange(xs.size(1))
        token = torch.where(t % 3 == 0, 1 + (t // 3) % self.chars, torch.zeros_like(t))
        logits = torch.nn.functional.one_hot(token, self.vocab).float() * 6.0
        logits[:, self.eos] = -30.0  # as in trained models, CTC never emits <sos/eos>
        logits[:, 0] += 3.0  # blank is the runner-up, so the n-best differ by deletions
        return torch.log_softmax(logits + 0.0 * xs.sum(), dim=-1).unsqueeze(0)

    @torch.jit.export
    def forward_attention_decoder(
        self, hyps: torch.Tensor, hyps_lens: torch.Tensor, encoder_out: torch.Tensor,
        reverse_weight: float = 0.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # Favours ending early, so rescoring prefers the shortest of the n-best.
        scores = torch.zeros(hyps.size(0), hyps.size(1), self.vocab)
        scores[:, :, self.eos] = 4.0
        out = torch.log_softmax(scores + 0.0 * encoder_out.mean(), dim=-1)
        return out, out

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        empty = torch.zeros(0, 0, 0, 0)
        return self.ctc_activation(self.forward_encoder_chunk(xs, 0, -1, empty, empty)[0])


def build_wenet_export(folder: Path) -> Path:
    """final.zip (TorchScript, WeNet export_jit's methods) + units.txt."""
    torch.manual_seed(0)
    torch.jit.script(SyntheticWenet()).save(str(folder / "final.zip"))
    units = ["<blank> 0", *(f"{c} {i + 1}" for i, c in enumerate(CHARS)), f"<sos/eos> {EOS}"]
    (folder / "units.txt").write_text("\n".join(units) + "\n", encoding="utf-8")
    return folder


def pattern_logits(frames: torch.Tensor, vocab: int) -> torch.Tensor:
    """(T, V): a character every fourth frame, blank (id 0) elsewhere."""
    t = torch.arange(frames.size(0))
    token = torch.where(t % 4 == 0, 1 + (t // 4) % len(CHARS), torch.zeros_like(t))
    return torch.nn.functional.one_hot(token, vocab).float() * 8.0 + 0.0 * frames.sum()


class SyntheticTeleSpeech(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (1, T, 40) -> (T, 1, V)
        return pattern_logits(x[0], len(CHARS) + 1).unsqueeze(1)


class SyntheticWenetCtc(torch.nn.Module):
    def forward(self, x: torch.Tensor, x_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frames = x[0, ::4]  # subsampling 4
        log_probs = torch.log_softmax(pattern_logits(frames, len(CHARS) + 1), -1).unsqueeze(0)
        return log_probs, (x_lens - 1) // 4 + 1


def add_metadata(path: Path, meta: dict[str, str]) -> None:
    import onnx

    model = onnx.load(str(path))
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))


def write_tokens(folder: Path, blank: str) -> None:
    lines = [f"{blank} 0", *(f"{c} {i + 1}" for i, c in enumerate(CHARS))]
    (folder / "tokens.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def build_telespeech(folder: Path) -> Path:
    """telespeech_ctc: (1, T, 40) features -> (T, 1, V) logits, sherpa-onnx's metadata."""
    torch.onnx.export(SyntheticTeleSpeech(), (torch.zeros(1, 50, 40),), str(folder / "model.onnx"),
                      input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {1: "T"}, "logits": {0: "T"}}, dynamo=False)
    add_metadata(folder / "model.onnx", {"model_type": "telespeech_ctc"})
    write_tokens(folder, "<blk>")
    return folder


def build_wenet_ctc(folder: Path) -> Path:
    """wenet_ctc: (x, x_lens) -> (log_probs, log_probs_lens), subsampling 4."""
    torch.onnx.export(SyntheticWenetCtc(), (torch.zeros(1, 80, 80), torch.tensor([80])),
                      str(folder / "model.onnx"), input_names=["x", "x_lens"],
                      output_names=["log_probs", "log_probs_lens"],
                      dynamic_axes={"x": {1: "T"}, "log_probs": {1: "T"}}, dynamo=False)
    add_metadata(folder / "model.onnx", {
        "model_type": "wenet_ctc", "subsampling_factor": "4", "chunk_size": "16",
        "left_chunks": "4", "head": "4", "num_blocks": "2", "output_size": "8",
        "cnn_module_kernel": "1", "right_context": "6", "vocab_size": str(len(CHARS) + 1),
    })
    write_tokens(folder, "<blank>")
    return folder


SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|zh|>", "<|translate|>",
            "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>",
            "<|notimestamps|>"]


def byte_vocab() -> dict[str, int]:
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {ch: i for i, ch in enumerate(bytes_to_unicode().values())}
    for token in SPECIALS:
        vocab[token] = len(vocab)
    return vocab


def build_whisper(folder: Path) -> Path:
    """A tiny random Whisper from WhisperConfig with a byte-level tokenizer, saved locally."""
    import transformers

    vocab = byte_vocab()
    tokenizer = transformers.WhisperTokenizer(
        vocab=vocab, merges=[], unk_token="<|endoftext|>", bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIALS[1:]})
    extractor = transformers.WhisperFeatureExtractor(feature_size=80)
    transformers.WhisperProcessor(extractor, tokenizer).save_pretrained(folder)
    ids = {t: vocab[t] for t in SPECIALS}
    config = transformers.WhisperConfig(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
        decoder_ffn_dim=32, num_mel_bins=80, max_target_positions=32,
        decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=ids["<|endoftext|>"],
        pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"])
    torch.manual_seed(0)
    model = transformers.WhisperForConditionalGeneration(config)
    # A generation config of its own (not derived from the model config), as real Whisper
    # checkpoints ship, so language/task forcing survives saving and loading.
    gen = transformers.GenerationConfig.from_model_config(config)
    gen._from_model_config = False
    gen.lang_to_id = {"<|en|>": ids["<|en|>"], "<|zh|>": ids["<|zh|>"]}
    gen.task_to_id = {"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]}
    gen.no_timestamps_token_id = ids["<|notimestamps|>"]
    gen.is_multilingual = True
    gen.decoder_start_token_id = ids["<|startoftranscript|>"]
    gen.forced_decoder_ids = None
    model.generation_config = gen
    model.save_pretrained(folder)
    return folder
