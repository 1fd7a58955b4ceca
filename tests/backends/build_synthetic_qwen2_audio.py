"""Build a synthetic, randomly initialised tiny Qwen2-Audio (transformers' own classes) with
a hand-made byte-level tokenizer, saved to the folder given; run inside ms-swift's venv.

Usage: python build_synthetic_qwen2_audio.py OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import transformers
from transformers.convert_slow_tokenizer import bytes_to_unicode

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>",
            "<|audio_eos|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'audio' %}Audio: <|audio_bos|><|AUDIO|><|audio_eos|>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def main(out: Path) -> None:
    vocab = {ch: i for i, ch in enumerate(bytes_to_unicode().values())}
    for token in SPECIALS:
        vocab[token] = len(vocab)
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (out / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    tokenizer = transformers.Qwen2Tokenizer(
        str(out / "vocab.json"), str(out / "merges.txt"), unk_token="<|endoftext|>",
        eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None)
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIALS[1:]})
    extractor = transformers.WhisperFeatureExtractor(feature_size=128)
    processor = transformers.Qwen2AudioProcessor(extractor, tokenizer,
                                                 chat_template=CHAT_TEMPLATE)
    processor.save_pretrained(out)
    tokenizer.save_pretrained(out)
    config = transformers.Qwen2AudioConfig(
        audio_config={"num_mel_bins": 128, "encoder_layers": 1, "encoder_attention_heads": 2,
                      "encoder_ffn_dim": 32, "d_model": 16},
        text_config={"model_type": "qwen2", "vocab_size": len(vocab), "hidden_size": 16,
                     "intermediate_size": 32, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "num_key_value_heads": 1,
                     "max_position_embeddings": 2048, "eos_token_id": vocab["<|im_end|>"],
                     "pad_token_id": vocab["<|endoftext|>"]},
        audio_token_index=vocab["<|AUDIO|>"])
    torch.manual_seed(0)
    model = transformers.Qwen2AudioForConditionalGeneration(config)
    model.generation_config.eos_token_id = vocab["<|im_end|>"]
    model.generation_config.pad_token_id = vocab["<|endoftext|>"]
    model.save_pretrained(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
