"""``wuwb prefill`` and ``wuwb backends``: argparse glue over backends.registry/runner."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from backends import registry
from backends.base import Backend, BackendError, BackendOptions, BackendUnavailable, Result
from backends.results_file import ResultsFile, read_data_list
from backends.runner import BatchRunner, Runner, Summary, drive, run_in_process
from db.hypfiles import HypFileError
from db.importers import ImportError_
from db.jsonl import BadLine
from db.safe_text import safe
from db.store import Filter, PendingItem, Store, StoreError
from db.tasks import TASKS

# Options every backend shares; everything else on the namespace is a backend option.
_COMMON = {"project", "backend", "system", "task", "model", "adapters", "device", "batch_size",
           "shard", "only_missing", "limit", "status", "group", "max_batch_seconds",
           "no_progress", "func", "command", "out", "audio_root", "engine", "address",
           "workers", "gpus_per_worker"}


class _SharedGroup:
    """An argument group that lets two backends declare the same option once (--beam-size)."""

    def __init__(self, group: argparse._ArgumentGroup, seen: set[str]) -> None:
        self.group = group
        self.seen = seen

    def add_argument(self, *names: str, **kwargs: Any) -> Any:
        if any(name in self.seen for name in names):
            return None
        self.seen.update(names)
        kwargs.setdefault("default", None)
        return self.group.add_argument(*names, **kwargs)


def parse_shard(text: str) -> tuple[int, int]:
    index, sep, count = text.partition("/")
    try:
        shard = int(index), int(count)
    except ValueError:
        shard = (-1, 0)
    if not sep or not 0 <= shard[0] < shard[1]:
        raise argparse.ArgumentTypeError(f"expected I/N with 0 <= I < N, got {text!r}")
    return shard


def _group(text: str) -> tuple[str, str]:
    field, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, got {text!r}")
    return field, value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backends, _ = registry.discover()
    p = subparsers.add_parser(
        "prefill", help="run a model over the project to pre-fill hypotheses",
        description="Run a model backend over the utterances that lack this system's answer "
                    "for the task, writing each batch as it finishes; re-running resumes. "
                    "--engine ray spreads batches over a Ray actor pool (many GPUs or "
                    "machines) while this process alone writes; --out writes a results "
                    "JSONL for `wuwb import-hyps` from a data list, never opening a project. "
                    "Backend options below apply to the backend named.")
    p.add_argument("project", type=Path, metavar="PROJECT.db",
                   help="the project; with --out, a data list instead (WeNet key/wav JSONL, "
                        "swift rows or WenetSpeech-Wu metadata)")
    p.add_argument("--backend", required=True, choices=sorted(backends))
    p.add_argument("--system", required=True, help="name the answers are stored under")
    p.add_argument("--task", default="asr", choices=TASKS, help="(default asr)")
    p.add_argument("--model", type=Path, help="model folder or file (swift: also a model id)")
    p.add_argument("--adapters", type=Path, help="LoRA adapter folder (swift)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--batch-size", type=int,
                   help="utterances per batch (default: the backend's own)")
    p.add_argument("--max-batch-seconds", type=float, help="cap on audio seconds per batch")
    p.add_argument("--shard", type=parse_shard, default=(0, 1), metavar="I/N",
                   help="take only utterances with id %% N == I (0-based; default 0/1)")
    p.add_argument("--only-missing", action=argparse.BooleanOptionalAction, default=True,
                   help="skip utterances this system already answered or failed on "
                        "(default); --no-only-missing re-runs them all")
    p.add_argument("--limit", type=int, help="at most this many utterances")
    p.add_argument("--status", help="only utterances with this status (todo, accepted, ...)")
    p.add_argument("--group", type=_group, metavar="FIELD=VALUE",
                   help="only this group, e.g. sub_dialect=Taihu_Shanghai")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    out = p.add_argument_group("without a project (Slurm arrays, clusters without Ray)")
    out.add_argument("--out", type=Path, metavar="RESULTS.jsonl",
                     help="append results here (the results JSONL import-hyps reads); keys "
                          "already in it are skipped, so a killed run continues")
    out.add_argument("--audio-root", type=Path, metavar="DIR",
                     help="with --out: re-root the data list's audio paths, as import does")
    ray = p.add_argument_group("Ray (pip install 'wu-workbench[ray]')")
    ray.add_argument("--engine", choices=("local", "ray"), default="local",
                     help="local: batches run in this process (default); ray: on a Ray "
                          "Data actor pool, each actor loading the model once")
    ray.add_argument("--address", help="Ray cluster to join, e.g. auto (default: start a "
                                       "local Ray on this machine)")
    ray.add_argument("--workers", type=int, default=1, help="actors, i.e. model copies "
                                                            "(default 1)")
    ray.add_argument("--gpus-per-worker", type=float,
                     help="GPUs each actor holds (default 1 with --device cuda, else 0)")
    seen: set[str] = set()
    for name in sorted(backends):
        cls = backends[name]
        group = p.add_argument_group(f"{name} options", cls.summary)
        cls.add_arguments(_SharedGroup(group, seen))
    p.set_defaults(func=run_prefill)

    b = subparsers.add_parser("backends", help="list model backends and what each needs",
                              description="List every backend (built-in and plugin), the "
                                          "tasks it does, and whether its extra is installed.")
    b.set_defaults(func=run_backends)


def run_backends(args: argparse.Namespace) -> int:
    backends, problems = registry.discover()
    table = Table("backend", "tasks", "installed", "needs")
    for name, cls in sorted(backends.items()):
        state = registry.available(cls)
        table.add_row(name, " ".join(t for t in TASKS if t in cls.tasks),
                      "yes" if state.ok else "[red]no[/]", escape(state.detail))
    console = Console()
    console.print(table)
    for problem in problems:
        console.print(f"[yellow]{escape(safe(problem))}[/]")
    return 0


def build_backend(cls: type[Backend], args: argparse.Namespace) -> Backend:
    extra = {k: v for k, v in vars(args).items() if k not in _COMMON and v is not None}
    options = BackendOptions(system=args.system, task=args.task, model=args.model,
                             adapters=args.adapters, device=args.device,
                             batch_size=args.batch_size or cls.default_batch_size, extra=extra)
    return cls(options)


def run_prefill(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    if args.out is not None and (args.status or args.group):
        console.print("[red]--status and --group select from a project; --out reads a data "
                      "list[/]")
        return 2
    if args.workers < 1:
        console.print("[red]--workers must be at least 1[/]")
        return 2
    store: Store | None = None
    try:
        cls = registry.get(args.backend)
        backend = build_backend(cls, args)
        if args.out is None:
            store = Store.open(args.project, create=False)
            plain = Runner(store, backend)
            filt = Filter(task=args.task, status=args.status,
                          group_field=args.group[0] if args.group else None,
                          group_value=args.group[1] if args.group else None)
            items = plain.work(filt=filt, shard=args.shard, only_missing=args.only_missing,
                               limit=args.limit)
            write: Callable[[list[Result]], object] = plain.write
            runner: BatchRunner = plain
        else:
            runner = BatchRunner(backend)
            items, write = _file_work(args, runner, console)
    except (BackendError, StoreError, HypFileError, ImportError_, BadLine, OSError) as exc:
        console.print(f"[red]{escape(safe(str(exc)))}[/]")
        if store is not None:
            store.close()
        return 2
    summary = Summary(runner.system, runner.task, pending=len(items))
    size = args.batch_size or cls.default_batch_size
    progress = not args.no_progress
    try:
        if args.engine == "ray":
            summary = _run_ray(args, cls, backend, items, write, summary, size, console)
        else:
            backend.load()
            done = run_in_process(runner, items, size, args.max_batch_seconds, summary)
            summary = drive(summary, done, write, console=console, progress=progress)
    except BackendError as exc:
        console.print(f"[red]{escape(safe(str(exc)))}[/]")
        return 1
    finally:
        backend.close()
        if store is not None:
            store.close()
    for line in summary.lines():
        console.print(escape(safe(line)))
    return 0 if summary.failed == 0 else 3


def _file_work(args: argparse.Namespace, runner: BatchRunner,
               console: Console) -> tuple[list[PendingItem], Callable[[list[Result]], object]]:
    """--out: this shard of the data list, less what the results file already answers."""
    def bad(line: BadLine) -> None:
        console.print(f"[yellow]{escape(safe(str(line)))}[/] (skipped)")

    items = read_data_list(args.project, shard=args.shard, on_bad=bad,
                           audio_root=None if args.audio_root is None else str(args.audio_root))
    results = ResultsFile(args.out, runner.systems[0], runner.task)
    if args.only_missing:
        items = results.pending(items)
    if args.limit is not None:
        items = items[: args.limit]
    return items, results.writer(items)


def _run_ray(args: argparse.Namespace, cls: type[Backend], backend: Backend,
             items: list[PendingItem], write: Callable[[list[Result]], object],
             summary: Summary, size: int, console: Console) -> Summary:
    try:
        import ray  # noqa: F401 - only to say how to install it

        from backends.ray_engine import run_ray
    except ImportError as exc:
        raise BackendUnavailable("--engine ray needs: pip install 'wu-workbench[ray]'") from exc
    gpus = args.gpus_per_worker
    if gpus is None:
        gpus = 1.0 if args.device.startswith("cuda") else 0.0
    return run_ray(items, cls, backend.options, write, summary, workers=args.workers,
                   gpus_per_worker=gpus, batch_size=size, address=args.address,
                   console=console, progress=not args.no_progress)
