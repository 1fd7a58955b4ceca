"""``wuwb prefill`` and ``wuwb backends``: argparse glue over backends.registry/runner."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from backends import registry
from backends.base import Backend, BackendError, BackendOptions
from backends.runner import prefill
from db.safe_text import safe
from db.store import Filter, Store, StoreError
from db.tasks import TASKS

# Options every backend shares; everything else on the namespace is a backend option.
_COMMON = {"project", "backend", "system", "task", "model", "adapters", "device", "batch_size",
           "shard", "only_missing", "limit", "status", "group", "max_batch_seconds",
           "no_progress", "func", "command"}


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
                    "Backend options below apply to the backend named.")
    p.add_argument("project", type=Path, metavar="PROJECT.db")
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
    filt = Filter(task=args.task, status=args.status,
                  group_field=args.group[0] if args.group else None,
                  group_value=args.group[1] if args.group else None)
    try:
        backend = build_backend(registry.get(args.backend), args)
        store = Store.open(args.project, create=False)
    except (BackendError, StoreError) as exc:
        console.print(f"[red]{escape(safe(str(exc)))}[/]")
        return 2
    try:
        backend.load()
        summary = prefill(store, backend, filt=filt, shard=args.shard,
                          only_missing=args.only_missing, batch_size=args.batch_size,
                          max_batch_seconds=args.max_batch_seconds, limit=args.limit,
                          console=console, progress=not args.no_progress)
    except BackendError as exc:
        console.print(f"[red]{escape(safe(str(exc)))}[/]")
        return 1
    finally:
        backend.close()
        store.close()
    for line in summary.lines():
        console.print(escape(safe(line)))
    return 0 if summary.failed == 0 else 3
