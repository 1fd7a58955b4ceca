"""Running another environment's program (swift, WeNet's recognize.py) as a backend step."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from backends.base import BackendConfigError, BackendRunError

_TAIL = 2000  # characters of a failed program's output kept in the error


def parse_env(pairs: Iterable[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise BackendConfigError(f"expected NAME=VALUE, got {pair!r}")
        env[name] = value
    return env


def split_args(values: Iterable[str]) -> list[str]:
    """Pass-through arguments; each option value may hold several words ("--a 1 --b 2")."""
    return [word for value in values for word in shlex.split(value)]


def cuda_env(device: str) -> dict[str, str]:
    """CUDA_VISIBLE_DEVICES for ``cuda:N`` / ``cpu``; ``cuda`` alone leaves the choice open."""
    if device == "cpu":
        return {"CUDA_VISIBLE_DEVICES": ""}
    if device.startswith("cuda:"):
        return {"CUDA_VISIBLE_DEVICES": device.removeprefix("cuda:")}
    return {}


def run_program(cmd: Sequence[str], *, env: Mapping[str, str], cwd: Path | None,
                log: Path) -> None:
    """Run to completion with output in ``log``; a non-zero exit raises with the log's tail."""
    full_env = {**os.environ, **env}
    try:
        with log.open("w", encoding="utf-8") as out:
            code = subprocess.run(list(cmd), env=full_env, cwd=cwd, stdout=out,
                                  stderr=subprocess.STDOUT, check=False).returncode
    except FileNotFoundError as exc:
        raise BackendConfigError(f"cannot run {cmd[0]}: {exc.strerror}") from exc
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-_TAIL:]
        raise BackendRunError(f"{shlex.join(cmd[:2])} exited {code}; log {log}:\n{tail}")


@contextmanager
def batch_folder(work_dir: Path | None, run: int, prefix: str) -> Iterator[Path]:
    """A folder for one batch's files: kept under work_dir when given, else a temporary one."""
    if work_dir is not None:
        folder = work_dir / f"batch{run:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
