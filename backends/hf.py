"""transformers: Hugging Face checkpoints in process.

Two kinds of model folder:
- ``whisper``: a Whisper-family checkpoint (Whisper-medium, or a Whisper-medium-Wu converted to
  Hugging Face format), decoded in batches with language and task fixed, so it never guesses
  the language of dialect speech;
- ``audio-llm``: an audio LLM with a chat template and a processor that takes ``text`` and
  ``audio`` as Qwen2-Audio's does (one audio placeholder in the rendered chat, expanded by the
  processor). Each utterance is one user turn: the audio, then the task's exact prompt
  (FORMATS.md §2); decoding is greedy, left-padded batches. Models whose folder carries its own
  code need ``--trust-remote-code``, off by default because it runs that code. (Step-Audio-2-mini
  ships no such processor: the Step-Audio2 models run through the swift backend.)

Both cut audio into 30 s windows, the input both model kinds take, decode the windows of a
batch together and rejoin the text; a label task judges the first window only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from backends.audio import SAMPLE_RATE, windows
from backends.base import (
    ArgumentAdder,
    BackendConfigError,
    BackendOptions,
    BackendUnavailable,
    InProcessBackend,
)
from db.tasks import ASR_PROMPTS, LABEL_TASKS, TASKS, prompt_for

WINDOW = 30.0  # seconds one Whisper / Qwen2-Audio input covers
ARCHS = ("whisper", "audio-llm")
# Auto classes a remote-code config may name in its auto_map, in order of preference.
REMOTE_AUTO_CLASSES = ("AutoModelForCausalLM", "AutoModelForMultimodalLM")


class TransformersBackend(InProcessBackend):
    name = "transformers"
    tasks = frozenset(TASKS)
    summary = "Hugging Face Whisper checkpoints and Qwen2-Audio-style audio LLMs (batched)"
    extra = "transformers"
    modules = ("transformers", "torch")

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self.arch = options.get_str("arch", "whisper")
        if self.arch not in ARCHS:
            raise BackendConfigError(f"--arch must be one of {', '.join(ARCHS)}")
        if self.arch == "whisper" and options.task != "asr":
            raise BackendConfigError("Whisper checkpoints do asr only here (its 'translate' "
                                     "task targets English, not Mandarin)")
        try:
            self.prompt = prompt_for(options.task, options.get_str("asr_prompt", "wu-asr"))
        except ValueError as exc:
            raise BackendConfigError(str(exc)) from exc
        self.language = options.get_str("language", "zh")
        self.max_new_tokens = options.get_int("max_new_tokens", 440)
        self.trust_remote_code = options.extra.get("trust_remote_code") is True
        self.model: Any = None
        self.processor: Any = None
        self.chat_text = ""

    @classmethod
    def add_arguments(cls, parser: ArgumentAdder) -> None:
        parser.add_argument("--arch", choices=ARCHS, help="model folder kind (default whisper)")
        parser.add_argument("--language", help="Whisper language token, e.g. zh (default zh)")
        parser.add_argument("--max-new-tokens", type=int, help="(default 440 / 512 for swift)")
        parser.add_argument("--dtype", help="float32, float16 or bfloat16 "
                                            "(default float16 on GPU, float32 on CPU)")
        parser.add_argument("--asr-prompt", choices=tuple(ASR_PROMPTS),
                            help="asr prompt: wu-asr (语音说了什么, default) or und")
        parser.add_argument("--trust-remote-code", action="store_true", default=None,
                            help="audio-llm: run the Python code the model folder ships "
                                 "(off by default; only for folders you trust)")

    def load(self) -> None:
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise BackendUnavailable(
                "transformers needs: pip install 'wu-workbench[transformers]'") from exc
        folder = self.options.require_model()
        default = "float16" if self.options.device.startswith("cuda") else "float32"
        self.dtype = getattr(torch, self.options.get_str("dtype", default))
        if self.arch == "whisper":
            self.processor = transformers.WhisperProcessor.from_pretrained(folder)
            model = transformers.WhisperForConditionalGeneration.from_pretrained(
                folder, dtype=self.dtype)
        else:
            remote = self.trust_remote_code
            auto_class = _audio_llm_class(folder, remote)
            self.processor = transformers.AutoProcessor.from_pretrained(  # type: ignore[no-untyped-call]
                folder, trust_remote_code=remote)
            # Batched generation appends after the prompt, so every prompt must end flush.
            self.processor.tokenizer.padding_side = "left"
            self.chat_text = self.processor.apply_chat_template(
                [{"role": "user", "content": [
                    {"type": "audio", "audio": "input"},
                    {"type": "text", "text": self.prompt.replace("<audio>", "")}]}],
                add_generation_prompt=True, tokenize=False)
            model = auto_class.from_pretrained(
                folder, dtype=self.dtype, trust_remote_code=remote)
        self.model = model.to(self.options.device).eval()  # type: ignore[arg-type]

    def infer(self, waves: list[np.ndarray]) -> list[tuple[str, float | None]]:
        import torch

        with torch.inference_mode():
            if self.arch == "whisper":
                texts = _windowed(waves, self._whisper, first_only=False)
            else:
                texts = _windowed(waves, self._audio_llm,
                                  first_only=self.options.task in LABEL_TASKS)
        return [(text, None) for text in texts]

    def _whisper(self, pieces: list[np.ndarray]) -> list[str]:
        features = self.processor.feature_extractor(
            pieces, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        ids = self.model.generate(
            features.to(self.options.device, self.dtype),
            language=self.language, task="transcribe", max_new_tokens=self.max_new_tokens)
        return list(self.processor.batch_decode(ids, skip_special_tokens=True))

    def _audio_llm(self, pieces: list[np.ndarray]) -> list[str]:
        inputs = self.processor(text=[self.chat_text] * len(pieces), audio=pieces,
                                sampling_rate=SAMPLE_RATE, return_tensors="pt", padding=True)
        # Floating inputs (the features) take the model's dtype; ids and masks keep theirs.
        inputs = inputs.to(self.options.device, self.dtype)
        out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        answers = out[:, inputs["input_ids"].shape[1]:]
        return list(self.processor.batch_decode(answers, skip_special_tokens=True))


def _windowed(waves: list[np.ndarray], decode: Callable[[list[np.ndarray]], list[str]], *,
              first_only: bool) -> list[str]:
    """Decode every 30 s window of every wave in one call, then rejoin each wave's text."""
    owners: list[int] = []
    pieces: list[np.ndarray] = []
    for i, wave in enumerate(waves):
        for n, piece in enumerate(windows(wave, WINDOW)):
            if first_only and n:
                break
            owners.append(i)
            pieces.append(piece)
    joined = [""] * len(waves)
    for owner, text in zip(owners, decode(pieces), strict=True):
        joined[owner] = (joined[owner] + text).strip()
    return joined


def _audio_llm_class(folder: Path, remote: bool) -> Any:
    """The Auto class that loads this folder: the one its own code registers (allowed only
    with ``--trust-remote-code``), else the multimodal LM class (Qwen2-Audio and its kind),
    else a causal LM."""
    import transformers
    from transformers.models.auto.modeling_auto import MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackendConfigError(f"not a transformers model folder: {folder} ({exc})") from exc
    auto_map = config.get("auto_map") or {}
    if auto_map and not remote:
        raise BackendConfigError(f"{folder} ships its own model code; pass --trust-remote-code "
                                 "if you trust it")
    for name in REMOTE_AUTO_CLASSES:
        if name in auto_map:
            return getattr(transformers, name)
    if config.get("model_type") in MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES:
        return transformers.AutoModelForMultimodalLM
    return transformers.AutoModelForCausalLM
