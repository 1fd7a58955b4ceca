"""`wuwb`: the command line (import, import-hyps, export, report, and the tools' hooks).

Every subcommand sets `func(args) -> exit status`: 0 done, 1 done with bad lines skipped,
2 refused (bad flags, files or projects: one line on stderr, never a traceback, nothing
created). Everything printed from data goes through db.safe_text. Heavy modules are imported
inside the commands so `wuwb --help` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from db.errors import WorkbenchError
from db.safe_text import safe
from db.tasks import TASKS

if TYPE_CHECKING:
    from rich.progress import Progress

    from db.store import Store

EXIT_USAGE = 2  # bad flags or files
EXIT_FAILED = 1  # the command ran but could not do all it was asked


class UserError(WorkbenchError):
    """A problem with what the user asked for, reported as one line."""


def say(text: str, *, err: bool = False) -> None:
    """Print one line that may hold data (names, keys, paths) with its control characters
    made visible."""
    print(safe(text), file=sys.stderr if err else sys.stdout)


def _project(path: str, *, create: bool = False, readonly: bool = False) -> Store:
    """Open a project; reading commands pass readonly (a `mode=ro` connection)."""
    from db.store import Store

    try:
        return Store.open(path, create=create, readonly=readonly)
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from exc


# --- import ----------------------------------------------------------------------------------


def _add_import(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "import",
        help="import a WeNet, swift or WenetSpeech-Wu JSONL file into a project",
        description=(
            "Import utterances from a JSONL file into PROJECT.db (created if absent). "
            "Re-running the same import changes nothing, and a killed import completes when "
            "re-run. Bad lines are reported as FILE:LINE: reason on stderr, skipped and "
            "counted; the exit status is then 1 (0 when every line was imported)."
        ),
    )
    p.add_argument("project", metavar="PROJECT.db", help="project file (created on first import)")
    p.add_argument("data", metavar="DATA.jsonl", help="the file to import")
    p.add_argument(
        "--format", choices=("auto", "wenet", "swift", "wswu"), default="auto",
        help="wenet: {key, wav, txt} data list; swift: ms-swift messages/audios rows (key = the "
        "audio file's stem, rows of one audio merge, the prompt says the field); wswu: "
        "WenetSpeech-Wu corpus metadata; auto (default) judges from the first line",
    )
    p.add_argument("--subset", metavar="NAME", help="put every imported utterance in this subset")
    p.add_argument(
        "--audio-root", metavar="DIR",
        help="look for audio under DIR instead: DIR/<key>.wav if it exists, else the path's "
        "file name under DIR (default: the path as written; a relative path is taken "
        "against the JSONL file's folder)",
    )
    p.add_argument(
        "--on-duplicate", choices=("skip", "update", "error"), default="skip",
        help="a key already stored with different values: skip the line (default), update the "
        "stored fields (logged in the edit log as annotator 'import'), or report it as a bad "
        "line. A line identical to what is stored is never a duplicate; a line that only "
        "fills empty fields (another swift task of the same audio) merges",
    )
    p.add_argument(
        "--gold", action="store_true",
        help="the transcripts are references: store them as accepted gold (default: draft to "
        "review)",
    )
    p.add_argument(
        "--strict", action="store_true",
        help="stop at the first bad line and write nothing of this file",
    )
    p.add_argument(
        "--no-probe", action="store_true",
        help="do not open audio files: skips the existence check and the duration/sample-rate "
        "probe (soundfile.info) per file, so missing or unreadable audio is not flagged; for "
        "huge imports whose audio is elsewhere",
    )
    p.add_argument(
        "--age-bounds", metavar="A,B,C,D", default=None,
        help="wswu ages (years) → labels: 儿童 below A, 少年 below B, 青年 below C, 中年 below D, "
        "老年 from D (default 12,18,40,60)",
    )
    p.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    from db import corpus_labels
    from db.importers import ImportConfig, import_file
    from db.path_kinds import not_a_file
    from db.row_formats import Options

    why = not_a_file(args.data)
    if why is not None:
        raise UserError(f"{args.data}: {why}")
    if args.audio_root is not None and not Path(args.audio_root).is_dir():
        raise UserError(f"--audio-root {args.audio_root}: not a folder")
    try:
        bounds = (
            corpus_labels.parse_age_bounds(args.age_bounds)
            if args.age_bounds else corpus_labels.AGE_BOUNDS
        )
    except corpus_labels.LabelError as exc:
        raise UserError(str(exc)) from exc
    config = ImportConfig(
        format=args.format,
        options=Options(gold=args.gold, subset=args.subset, age_bounds=bounds),
        audio_root=args.audio_root,
        on_duplicate=args.on_duplicate,
        strict=args.strict,
        probe=not args.no_probe,
    )
    project = Path(args.project)
    existed = project.exists()
    new = not existed or (project.is_file() and project.stat().st_size == 0)
    store = _project(args.project, create=True)
    try:
        with _byte_progress(Path(args.data).stat().st_size, "importing") as progress:
            summary = import_file(
                store, args.data, config, progress=progress,
                on_bad=lambda bad: say(str(bad), err=True),
            )
    finally:
        # A project this run made is not left behind empty (a failed or an all-bad import);
        # one holding rows stays, so an interrupted import re-run completes.
        kept = not new or _holds_rows(store)
        store.close()
        if not kept:
            _remove_project(project, existed=existed)
    for note in summary.notes:
        say(note)
    say(summary.line())
    if not kept:
        say(f"nothing imported: {args.project} was not created", err=True)
    return EXIT_FAILED if summary.bad else 0


def _holds_rows(store: Store) -> bool:
    try:
        return bool(store.count() > 0)
    except (WorkbenchError, sqlite3.Error):
        return True  # unsure: keep it


def _remove_project(path: Path, *, existed: bool) -> None:
    """Undo the creation of a project file (an empty file given is left empty)."""
    for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            extra.unlink()
    if existed:
        os.truncate(path, 0)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class _byte_progress:
    """A rich progress bar over bytes read, shown only when stdout is a terminal."""

    def __init__(self, total: int, label: str) -> None:
        self.total = total
        self.label = label
        self.bar: Progress | None = None

    def __enter__(self) -> Callable[[int], None] | None:
        if not sys.stdout.isatty():
            return None
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        bar = self.bar = Progress(
            "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
            TransferSpeedColumn(), TimeRemainingColumn(), transient=True,
        )
        bar.start()
        task = bar.add_task(self.label, total=self.total)
        return lambda done: bar.update(task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


# --- import-hyps -----------------------------------------------------------------------------


def _add_import_hyps(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "import-hyps",
        help="import another tool's hypotheses (recognize.py text, swift infer results, TSV)",
        description=(
            "Attach a system's answers to the project's utterances. Keys the project does not "
            "hold are reported and not inserted. Re-importing replaces that system's answer "
            "for that task on every utterance the file names; others keep theirs."
        ),
    )
    p.add_argument("project", metavar="PROJECT.db", help="an existing project file")
    p.add_argument(
        "path", metavar="PATH",
        help="a recognize.py text file (R/<mode>/text), a whole result dir R (each mode "
        "becomes system NAME-<mode>), a swift infer results JSONL, a key<TAB>text file, or a "
        "results JSONL written by `wuwb prefill --out` (the timed form)",
    )
    p.add_argument("--system", metavar="NAME", required=True, help="the system's name")
    p.add_argument(
        "--task", choices=TASKS, default=None,
        help="the task the answers are for (default asr; for swift results each row's prompt "
        "says its task, and --task keeps only rows of that task)",
    )
    p.add_argument(
        "--format", choices=("auto", "wenet-text", "swift-results", "tsv", "results"),
        default="auto",
        help="wenet-text: lines 'key text' split at the first space; swift-results: JSONL "
        "with messages/audios/response, tied to utterances by the audio file; tsv: "
        "key<TAB>text; results: JSONL {key, text, task, system, score, error, times} with "
        "an optional start second per non-space character (a line's system wins over "
        "--system); auto (default): a folder or a 'text' file is wenet-text, *.jsonl "
        "results if its first object has a key, else swift-results, a file whose first "
        "line has a tab tsv, else wenet-text",
    )
    p.set_defaults(func=run_import_hyps)


def run_import_hyps(args: argparse.Namespace) -> int:
    from db.hypfiles import import_hypotheses

    if not Path(args.path).exists():
        raise UserError(f"{args.path}: no such file or folder")
    store = _project(args.project)
    try:
        results = import_hypotheses(store, args.path, args.system, args.task, args.format)
    finally:
        store.close()
    failed = False
    for result in results:
        for line in result.unknown_lines():
            say(line, err=True)
        for bad in result.bad:
            say(str(bad), err=True)
        say(result.line())
        failed = failed or bool(result.bad)
    return EXIT_FAILED if failed else 0


# --- export ----------------------------------------------------------------------------------


def _tasks(text: str) -> tuple[str, ...]:
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = [t for t in names if t not in TASKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown task {', '.join(unknown) or '(none)'}; choose from {','.join(TASKS)}"
        )
    return names


def _add_export(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export",
        help="write gold data as WeNet or swift JSONL",
        description=(
            "Write utterances in key order to OUT.jsonl (through a temporary file in the same "
            "folder, renamed at the end, so a crash never leaves half a file; a temporary file "
            "a killed export left is removed by the next). An existing file keeps its mode, a "
            "link is written through and stays a link, and a pipe, a terminal or /dev/stdout "
            "is streamed to. Reads the project read-only."
        ),
    )
    p.add_argument("project", metavar="PROJECT.db", help="an existing project file")
    p.add_argument("out", metavar="OUT.jsonl", help="the file to write (replaced if it exists)")
    p.add_argument(
        "--format", choices=("wenet", "swift"), required=True,
        help="wenet: {key, wav, txt, ...extra fields kept from import}; swift: one "
        "messages/audios row per utterance and task with the exact prompt",
    )
    p.add_argument(
        "--tasks", type=_tasks, default=TASKS, metavar="LIST",
        help="swift only: comma-separated tasks to write rows for (default all: "
        f"{','.join(TASKS)}); a row is written only where that field has a value",
    )
    p.add_argument(
        "--status", choices=("accepted", "reviewed", "all"), default="accepted",
        help="accepted (default): only accepted utterances, with their gold; reviewed: only "
        "accepted utterances whose second pass is done (wuwb review --pass 2); all: every "
        "utterance, the accepted with their gold and the rest with their current draft "
        "(WeNet txt is \"\" where there is none) and their current translation and labels",
    )
    p.add_argument("--subset", metavar="NAME", help="only utterances of this subset")
    p.add_argument(
        "--provenance", choices=("all", "human"), default="all",
        help="all (default): every accepted gold, each line naming its maker in a "
        "'provenance' field (human, import-gold or bulk:SYSTEM); human: leave out the gold "
        "a machine accepted (wuwb bulk-accept)",
    )
    p.add_argument("--tier", choices=("agree", "high", "low"),
                   help="only utterances of this consensus tier (wuwb consensus)")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from db.exporters import export

    store = _project(args.project, readonly=True)
    try:
        written = export(
            store, args.out, args.format, tasks=args.tasks, status=args.status,
            subset=args.subset, provenance=args.provenance, tier=args.tier,
        )
    except OSError as exc:
        raise UserError(f"{args.out}: {exc.strerror or exc}") from exc
    finally:
        store.close()
    # On stderr when the rows went to standard output, so they stay the only thing there.
    say(f"wrote {written} rows to {args.out}", err=_is_stdout(args.out))
    return 0


def _is_stdout(path: str) -> bool:
    try:
        return os.path.samestat(os.stat(path), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError):
        return False


# --- report ----------------------------------------------------------------------------------


def _add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="CER, label accuracy and BLEU of every system against accepted gold",
        description=(
            "Score every system against accepted utterances only: CER (WeNet compute-cer.py "
            "rules) over the utterances a system answered, with the count of gold utterances "
            "it did not answer beside it; accuracy per label task; corpus BLEU for ast. Reads "
            "the project read-only; names holding control characters are shown with visible "
            "stand-ins (escaped in --json)."
        ),
    )
    p.add_argument("project", metavar="PROJECT.db", help="an existing project file")
    p.add_argument(
        "--by", choices=("subset", "domain", "sub-dialect", "tier", "annotator"), default=None,
        help="also break the CER down by this grouping (one column per group; tier: the "
        "consensus tier of wuwb consensus); annotator: "
        "the team report instead: per annotator utterances and audio minutes accepted, "
        "median seconds per utterance and audio minutes per hour of work (from save times, "
        "gaps over 5 min cut), second-pass CER of their gold, Cohen's kappa per label task, "
        "hypotheses taken unchanged per system; per day progress and what is left at the "
        "current pace",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON for scripts")
    p.add_argument(
        "--wu-norm", action="store_true",
        help="score after the Wu normalisation too: NFKC (full-width → half-width) and ASCII "
        "punctuation removal (recomputes every pair; slower)",
    )
    p.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    import json

    from db.report import build_report
    from db.safe_text import safe_json

    if args.by == "annotator":
        return _team_report(args)
    store = _project(args.project, readonly=True)
    try:
        group = None if args.by is None else args.by.replace("-", "_")
        report = build_report(store, group_by=group, wu_norm=args.wu_norm)
    finally:
        store.close()
    if args.json:
        print(safe_json(json.dumps(report.to_json(), ensure_ascii=False, indent=2)))
        return 0
    from rich.console import Console

    from db.report_table import render

    console = Console()
    for table in render(report):
        console.print(table)
    return 0


def _team_report(args: argparse.Namespace) -> int:
    import json

    from db.team_report import build_team_report, render

    store = _project(args.project)
    try:
        report = build_team_report(store)
    finally:
        store.close()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console

    console = Console()
    for table in render(report):
        console.print(table)
    return 0


# --- commands from the other modules --------------------------------------------------------


def _add_others(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from workbench import cli_prefill, cli_team, cli_triage, demo, serve

    # The demo builds its project by running wuwb commands: it gets main to call.
    demo.register(sub, main)
    p = sub.add_parser(
        "review",
        help="open the review screen on a project",
        description=(
            "Open the review screen. You work from a claimed batch: the next --batch "
            "unclaimed utterances of the filter and order, held under a lease the open app "
            "renews and quitting releases, so annotators sharing a project never get the "
            "same utterance. --all opens everything instead (a lead's view); --pass 2 works "
            "the second-pass queue. Keys: f10 inside the app."
        ),
    )
    p.add_argument("project", metavar="PROJECT.db", help="an existing project file")
    p.add_argument(
        "--annotator", metavar="NAME",
        help="who is reviewing (default: your login name; in a browser, asked at a prompt)",
    )
    cli_team.add_review_flags(p)
    p.set_defaults(func=_run_review)
    cli_prefill.register(sub)
    serve.register(sub)
    cli_triage.register(sub)
    cli_team.register(sub)


def _run_review(args: argparse.Namespace) -> int:
    from workbench.cli_team import review_options
    from workbench.tui import run_review  # Textual loads only for this command

    if not Path(args.project).exists():
        raise UserError(f"{args.project}: no such project file")
    if not Path(args.project).is_file():
        from db.path_kinds import describe

        raise UserError(f"{args.project}: {describe(args.project)}, not a project file")
    result = run_review(args.project, args.annotator, review_options(args))
    return int(result or 0)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="wuwb",
        description="Turn machine transcripts of Wu-dialect speech into gold training data.",
    )
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_import(sub)
    _add_import_hyps(sub)
    _add_export(sub)
    _add_report(sub)
    _add_others(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    from workbench.tui import under_web_driver

    if under_web_driver():
        # Under `wuwb serve` standard output is textual-serve's protocol channel: what the
        # commands print before the app starts (the demo's imports) goes to stderr instead.
        sys.stdout = sys.stderr
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except WorkbenchError as exc:
        say(f"wuwb {args.command}: error: {exc}", err=True)
        return EXIT_USAGE
    except sqlite3.DatabaseError as exc:
        where = getattr(args, "project", None)
        say(f"wuwb {args.command}: error: {where + ': ' if where else ''}{exc}", err=True)
        return EXIT_USAGE
    except BrokenPipeError:  # `wuwb report --json | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"wuwb {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
