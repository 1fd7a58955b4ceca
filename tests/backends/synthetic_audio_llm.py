"""A synthetic, randomly initialised tiny Qwen2-Audio built from transformers' own classes,
with a byte-level tokenizer made locally with ``tokenizers`` (nothing is downloaded), saved
as a model folder the transformers backend's audio-LLM path loads. Its words are noise: it
exercises our code path, never accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers.convert_slow_tokenizer import bytes_to_unicode

# A label as one ordinary token at id 0: a model whose every logit is equal says it forever.
FIRST_TOKEN = "男性"
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>",
            "<|audio_eos|>"]
# Qwen2-Audio-7B-Instruct's chat template, less its default system turn.
CHAT_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}"
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'audio' %}{% set audio_count.value = audio_count.value + 1 %}"
    "Audio {{ audio_count.value }}: <|audio_bos|><|AUDIO|><|audio_eos|>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tokenizer() -> transformers.PreTrainedTokenizerFast:
    """Byte-level BPE with no merges: every byte is a token, so any prompt text encodes."""
    vocab = {FIRST_TOKEN: 0}
    for ch in bytes_to_unicode().values():
        vocab[ch] = len(vocab)
    for token in SPECIALS:
        vocab[token] = len(vocab)
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        unk_token="<|endoftext|>", padding_side="right")  # as real folders ship; we flip it
    tokenizer.add_tokens([FIRST_TOKEN])
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIALS[1:]})
    return tokenizer


def build_qwen2_audio(folder: Path, *, constant: bool = False) -> Path:
    """Save a tiny Qwen2-Audio and its processor to ``folder``. ``constant`` zeroes the final
    norm, so every logit is equal and greedy decoding repeats ``FIRST_TOKEN``."""
    tokenizer = build_tokenizer()
    extractor = transformers.WhisperFeatureExtractor(feature_size=128)
    transformers.Qwen2AudioProcessor(extractor, tokenizer, chat_template=CHAT_TEMPLATE
                                     ).save_pretrained(folder)
    ids = tokenizer.convert_tokens_to_ids
    config = transformers.Qwen2AudioConfig(
        audio_config={"num_mel_bins": 128, "encoder_layers": 1, "encoder_attention_heads": 2,
                      "encoder_ffn_dim": 32, "d_model": 16},
        text_config={"model_type": "qwen2", "vocab_size": len(tokenizer), "hidden_size": 16,
                     "intermediate_size": 32, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "num_key_value_heads": 1,
                     "max_position_embeddings": 1024, "eos_token_id": ids("<|im_end|>"),
                     "pad_token_id": ids("<|endoftext|>")},
        audio_token_index=ids("<|AUDIO|>"))
    torch.manual_seed(0)
    model = transformers.Qwen2AudioForConditionalGeneration(config)
    if constant:
        with torch.no_grad():
            model.get_decoder().norm.weight.zero_()
    model.generation_config.eos_token_id = ids("<|im_end|>")
    model.generation_config.pad_token_id = ids("<|endoftext|>")
    model.save_pretrained(folder)
    return folder


REMOTE_CODE = '''"""Synthetic remote code: Qwen2-Audio under a model type of its own."""
from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration


class SyntheticAudioLlmConfig(Qwen2AudioConfig):
    model_type = "synthetic_audio_llm"


class SyntheticAudioLlmForCausalLM(Qwen2AudioForConditionalGeneration):
    config_class = SyntheticAudioLlmConfig
'''


def add_remote_code(folder: Path) -> Path:
    """Turn a saved synthetic Qwen2-Audio into a folder that carries its own code, registered
    in ``auto_map`` as Step-Audio-2-mini's folder registers its own (AutoModelForCausalLM)."""
    (folder / "modeling_synthetic_audio_llm.py").write_text(REMOTE_CODE, encoding="utf-8")
    path = folder / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["model_type"] = "synthetic_audio_llm"
    config["auto_map"] = {
        "AutoConfig": "modeling_synthetic_audio_llm.SyntheticAudioLlmConfig",
        "AutoModelForCausalLM": "modeling_synthetic_audio_llm.SyntheticAudioLlmForCausalLM"}
    path.write_text(json.dumps(config), encoding="utf-8")
    return folder
