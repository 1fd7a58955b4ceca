"""Synthetic data for the benchmarks: WeNet lists and hypothesis files of any size."""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

# Common Wu and Mandarin characters, so transcripts look like real ones to SQLite and json.
CHARS = "侬好阿拉伊拉今朝明朝啥物事覅勿晓得辰光做撒呃喃有钞票就是到银行里保本保息上海苏州话讲得来"


def transcript(rng: random.Random) -> str:
    return "".join(rng.choices(CHARS, k=rng.randint(6, 30)))


def key(n: int) -> str:
    return f"WU_{n:08d}"


def make_wenet(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for n in range(rows):
            row = {"key": key(n), "wav": f"/data/wu/{key(n)}.wav", "txt": transcript(rng)}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def make_hyps(path: Path, rows: int, error_rate: float, seed: int) -> None:
    """key<TAB>text answers: the references of make_wenet with random substitutions."""
    ref_rng = random.Random(1)
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for n in range(rows):
            text = [c if rng.random() > error_rate else rng.choice(CHARS)
                    for c in transcript(ref_rng)]
            f.write(f"{key(n)}\t{''.join(text)}\n")


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and the largest child's peak RSS so far (MB) of one command."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def wuwb(*args: str) -> list[str]:
    return [sys.executable, "-m", "workbench.cli", *args]
