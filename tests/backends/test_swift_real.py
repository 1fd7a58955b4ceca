"""One real `swift infer` run: ms-swift 4.6 in its own venv (tests/backends/setup_swift_env.sh)
on a synthetic, randomly initialised tiny Qwen2-Audio built from transformers' own classes.
Its answers are noise; the test checks that the whole path works, never accuracy."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import BackendOptions
from backends.runner import NOT_A_LABEL, prefill
from backends.swift import SwiftBackend
from db.store import Store

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("WUWB_SWIFT_VENV", ROOT / ".venv-swift"))
SETUP = Path(__file__).with_name("setup_swift_env.sh")


@pytest.fixture(scope="module")
def swift_venv() -> Path:
    if not (VENV / "bin" / "swift").exists():
        if os.environ.get("WUWB_SWIFT_SETUP", "1") == "0":
            pytest.skip(f"no ms-swift venv at {VENV} and WUWB_SWIFT_SETUP=0")
        done = subprocess.run(["bash", str(SETUP), str(VENV)], capture_output=True, text=True,
                              timeout=900, check=False)
        if done.returncode != 0:
            pytest.skip(f"ms-swift could not be installed: {done.stderr[-500:]}")
    return VENV


@pytest.fixture(scope="module")
def synthetic_audio_llm(swift_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synthetic_qwen2_audio")
    subprocess.run([str(swift_venv / "bin" / "python"),
                    str(Path(__file__).with_name("build_synthetic_qwen2_audio.py")),
                    str(folder)], check=True, capture_output=True, timeout=300)
    return folder


def test_real_swift_infer_on_a_synthetic_qwen2_audio(
        swift_venv: Path, synthetic_audio_llm: Path, clips: list[Path], tmp_path: Path,
        make_project: Callable[..., Path]) -> None:
    chosen = [c for c in clips if c.stem.startswith(("wu_", "mandarin_"))]  # 16 k and 24 k float
    path = make_project([(c.stem, c, 1.0) for c in chosen])
    store = Store.open(path)
    backend = SwiftBackend(BackendOptions(
        system="syn-und", task="gender", model=synthetic_audio_llm, device="cpu", extra={
            "swift": str(swift_venv / "bin" / "swift"), "torch_dtype": "float32",
            "max_new_tokens": 4, "swift_arg": ["--model_type qwen2_audio"],
            "work_dir": str(tmp_path / "work")}))
    summary = prefill(store, backend, progress=False)
    rows = store.execute("SELECT text, error FROM hypotheses")
    store.close()
    assert summary.written == len(chosen)
    assert len(rows) == len(chosen)
    # Random weights answer noise: kept raw and flagged, never dropped.
    assert all(text is not None and error in (None, NOT_A_LABEL) for text, error in rows)
