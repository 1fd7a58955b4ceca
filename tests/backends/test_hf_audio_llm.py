"""transformers backend, audio-LLM path, on a synthetic, randomly initialised tiny Qwen2-Audio
built from transformers' own classes with a locally made tokenizer (synthetic_audio_llm.py).
Its answers are noise; the tests check batching, the exact task prompts, long-audio windows,
label handling and remote-code gating, never accuracy."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from synthetic_audio_llm import (  # noqa: E402
    FIRST_TOKEN,
    add_remote_code,
    build_qwen2_audio,
)

from backends.audio import load_audio  # noqa: E402
from backends.base import BackendConfigError, BackendOptions  # noqa: E402
from backends.hf import TransformersBackend  # noqa: E402
from backends.runner import NOT_A_LABEL, prefill  # noqa: E402
from db.store import Store  # noqa: E402
from db.tasks import ASR_PROMPT, ASR_PROMPT_UND, PROMPTS  # noqa: E402


@pytest.fixture(scope="module")
def random_llm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_qwen2_audio(tmp_path_factory.mktemp("synthetic_qwen2_audio"))


@pytest.fixture(scope="module")
def constant_llm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Answers FIRST_TOKEN (男性) at every step, whatever it hears."""
    return build_qwen2_audio(tmp_path_factory.mktemp("synthetic_constant"), constant=True)


def audio_llm(model: Path, task: str = "asr", **extra: object) -> TransformersBackend:
    backend = TransformersBackend(BackendOptions(
        system="syn-llm", task=task, model=model,
        extra={"arch": "audio-llm", "max_new_tokens": 4, **extra}))
    backend.load()
    return backend


def spy_generate(backend: TransformersBackend) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    generate = backend.model.generate

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return generate(**kwargs)

    backend.model.generate = spy
    return calls


def test_synthetic_qwen2_audio_batch_with_the_exact_prompt(
        random_llm: Path, clips: list[Path]) -> None:
    backend = audio_llm(random_llm)
    calls = spy_generate(backend)
    waves = [load_audio(str(c)) for c in clips]  # 16 kHz, 24 kHz float, 22.05 kHz
    long = np.concatenate([waves[0]] * 16)  # ~68 s: three 30 s windows
    results = backend.infer([*waves, long])
    assert len(results) == len(clips) + 1
    assert all(isinstance(text, str) and score is None for text, score in results)

    (kwargs,) = calls  # one generate call for the whole batch, windows included
    ids, mask = kwargs["input_ids"], kwargs["attention_mask"]
    assert ids.shape[0] == len(clips) + 3
    assert kwargs["input_features"].shape[:2] == (len(clips) + 3, 128)
    assert kwargs["feature_attention_mask"].shape[0] == len(clips) + 3
    assert bool(mask[:, -1].all()) and not bool(mask.all())  # left-padded: prompts end flush
    assert kwargs["do_sample"] is False and kwargs["max_new_tokens"] == 4
    tokenizer = backend.processor.tokenizer
    for row, row_mask in zip(ids, mask, strict=True):
        text = tokenizer.decode(row[row_mask.bool()])
        assert text.endswith(ASR_PROMPT.replace("<audio>", "") + "<|im_end|>\n"
                             "<|im_start|>assistant\n")
        assert "<|audio_bos|><|AUDIO|>" in text

    # Padding changes nothing: each clip alone gives what it gave in the batch.
    for wave, (text, _) in zip(waves, results, strict=False):
        assert backend.infer([wave]) == [(text, None)]


@pytest.mark.parametrize(("task", "style", "prompt"), [
    ("asr", "wu-asr", ASR_PROMPT), ("asr", "und", ASR_PROMPT_UND),
    *((task, "wu-asr", PROMPTS[task]) for task in ("ast", "age", "gender", "emotion")),
])
def test_audio_llm_task_prompts_are_formats_md_exact(task: str, style: str, prompt: str) -> None:
    backend = TransformersBackend(BackendOptions(
        task=task, extra={"arch": "audio-llm", "asr_prompt": style}))
    assert backend.prompt == prompt


def test_synthetic_labels_go_through_the_runner(
        constant_llm: Path, clips: list[Path], make_project: Callable[..., Path]) -> None:
    store = Store.open(make_project([(c.stem, c, 1.0) for c in clips]))
    gender = audio_llm(constant_llm, task="gender")
    assert PROMPTS["gender"].replace("<audio>", "") in gender.chat_text
    assert prefill(store, gender, progress=False).off_label == 0
    age = audio_llm(constant_llm, task="age")
    calls = spy_generate(age)
    assert prefill(store, age, progress=False).off_label == len(clips)
    rows = store.execute(
        "SELECT system, task, text, error FROM hypotheses ORDER BY task")
    store.close()
    assert calls[0]["input_ids"].shape[0] == len(clips)
    off_label = (FIRST_TOKEN * 4, NOT_A_LABEL)  # not an age: kept raw and flagged
    assert [tuple(r) for r in rows] == ([("syn-llm", "age", *off_label)] * len(clips)
                                        + [("syn-llm", "gender", "男性", None)] * len(clips))


def test_synthetic_label_task_judges_the_first_window_only(
        constant_llm: Path, clips: list[Path]) -> None:
    backend = audio_llm(constant_llm, task="emotion")
    calls = spy_generate(backend)
    long = np.concatenate([load_audio(str(clips[0]))] * 16)  # ~68 s
    assert backend.infer([long]) == [(FIRST_TOKEN * 4, None)]
    assert calls[0]["input_ids"].shape[0] == 1


def test_synthetic_remote_code_runs_only_when_trusted(
        random_llm: Path, clips: list[Path], tmp_path: Path) -> None:
    folder = add_remote_code(Path(shutil.copytree(random_llm, tmp_path / "remote")))
    with pytest.raises(BackendConfigError, match="--trust-remote-code"):
        audio_llm(folder)
    backend = audio_llm(folder, trust_remote_code=True)
    assert type(backend.model).__name__ == "SyntheticAudioLlmForCausalLM"
    (text, _), = backend.infer([load_audio(str(clips[0]))])
    assert isinstance(text, str)
