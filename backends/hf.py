"""transformers: Hugging Face checkpoints in process.

Two kinds of model folder:
- ``whisper``: a Whisper-family checkpoint (Whisper-medium, or a Whisper-medium-Wu converted to
  Hugging Face format), decoded in batches with language and task fixed, so it never guesses
  the language of dialect speech;
- ``audio-llm``: an audio LLM whose folder carries its own code (``trust_remote_code``) and a
  chat template; it gets the task's prompt as text beside the audio.
"""

from __future__ import annotations

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
from db.tasks import ASR_PROMPT, PROMPTS, TASKS

WHISPER_WINDOW = 30.0  # seconds one Whisper input covers
ARCHS = ("whisper", "audio-llm")


class TransformersBackend(InProcessBackend):
    name = "transformers"
    tasks = frozenset(TASKS)
    summary = "Hugging Face Whisper checkpoints (batched) and trust_remote_code audio LLMs"
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
        self.language = options.get_str("language", "zh")
        self.max_new_tokens = options.get_int("max_new_tokens", 440)
        self.model: Any = None
        self.processor: Any = None

    @classmethod
    def add_arguments(cls, parser: ArgumentAdder) -> None:
        parser.add_argument("--arch", choices=ARCHS, help="model folder kind (default whisper)")
        parser.add_argument("--language", help="Whisper language token, e.g. zh (default zh)")
        parser.add_argument("--max-new-tokens", type=int, help="(default 440 / 512 for swift)")
        parser.add_argument("--dtype", help="float32, float16 or bfloat16 "
                                            "(default float16 on GPU, float32 on CPU)")

    def load(self) -> None:
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise BackendUnavailable(
                "transformers needs: pip install 'wu-workbench[transformers]'") from exc
        folder = str(self.options.require_model())
        default = "float16" if self.options.device.startswith("cuda") else "float32"
        self.dtype = getattr(torch, self.options.get_str("dtype", default))
        if self.arch == "whisper":
            self.processor = transformers.WhisperProcessor.from_pretrained(folder)
            model = transformers.WhisperForConditionalGeneration.from_pretrained(
                folder, dtype=self.dtype)
        else:
            self.processor = transformers.AutoProcessor.from_pretrained(
                folder, trust_remote_code=True)
            model = transformers.AutoModelForCausalLM.from_pretrained(
                folder, dtype=self.dtype, trust_remote_code=True)
        self.model = model.to(self.options.device).eval()

    def infer(self, waves: list[np.ndarray]) -> list[tuple[str, float | None]]:
        import torch

        with torch.inference_mode():
            if self.arch == "whisper":
                return [(text, None) for text in self._whisper(waves)]
            return [(text, None) for text in self._audio_llm(waves)]

    def _whisper(self, waves: list[np.ndarray]) -> list[str]:
        # Longer audio is cut into 30 s windows, all decoded in the one batch, then rejoined.
        owners: list[int] = []
        pieces: list[np.ndarray] = []
        for i, wave in enumerate(waves):
            for piece in windows(wave, WHISPER_WINDOW):
                owners.append(i)
                pieces.append(piece)
        features = self.processor.feature_extractor(
            pieces, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        ids = self.model.generate(
            features.to(self.options.device, self.dtype),
            language=self.language, task="transcribe", max_new_tokens=self.max_new_tokens)
        texts = self.processor.batch_decode(ids, skip_special_tokens=True)
        joined = [""] * len(waves)
        for owner, text in zip(owners, texts, strict=True):
            joined[owner] = (joined[owner] + text).strip()
        return joined

    def _audio_llm(self, waves: list[np.ndarray]) -> list[str]:
        task = self.options.task
        prompt = (ASR_PROMPT if task == "asr" else PROMPTS[task]).replace("<audio>", "")
        conversation = [{"role": "user", "content": [
            {"type": "audio", "audio": "input"}, {"type": "text", "text": prompt}]}]
        text = self.processor.apply_chat_template(
            conversation, add_generation_prompt=True, tokenize=False)
        inputs = self.processor(text=[text] * len(waves), audio=waves,
                                sampling_rate=SAMPLE_RATE, return_tensors="pt", padding=True)
        inputs = inputs.to(self.options.device)
        out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        answers = out[:, inputs["input_ids"].shape[1]:]
        return [t.strip() for t in self.processor.batch_decode(answers, skip_special_tokens=True)]
