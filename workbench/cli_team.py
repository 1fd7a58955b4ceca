"""``wuwb claims``, ``wuwb second-pass`` and the team flags of ``wuwb review``."""

from __future__ import annotations

import argparse
import json

from db import claims, second_pass
from db.errors import WorkbenchError
from workbench.team import TeamOptions


def add_review_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--batch", type=int, default=claims.DEFAULT_BATCH, metavar="N",
        help=f"claim the next N unclaimed utterances of the filter and order (default "
        f"{claims.DEFAULT_BATCH}); the list shows only your claimed batch, topped up as you "
        "finish it. Two annotators never get the same utterance",
    )
    p.add_argument(
        "--lease", default="2h", metavar="LENGTH",
        help="how long a claim lasts without the app renewing it (default 2h; 30m, 90s): "
        "the open app renews it, quitting releases it, and a killed app's claims are free "
        "again once it runs out",
    )
    p.add_argument(
        "--all", action="store_true",
        help="a lead's view: every utterance, no claims taken; saving one that someone else "
        "holds asks first",
    )
    p.add_argument(
        "--pass", dest="pass_", type=int, choices=(1, 2), default=1,
        help="2: the second pass: accepted utterances the project's policy (wuwb second-pass) "
        "sends for review, never your own; ctrl+s approves (or saves your correction), the "
        "first pass's gold stays in the edit log",
    )


def review_options(args: argparse.Namespace) -> TeamOptions:
    from workbench.cli import UserError

    if args.batch < 1:
        raise UserError("--batch must be at least 1")
    try:
        lease = claims.parse_lease(args.lease)
    except WorkbenchError as exc:
        raise UserError(f"--lease: {exc}") from exc
    return TeamOptions(batch=args.batch, lease=lease, all=args.all, pass_=args.pass_)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "claims",
        help="who holds which utterances, and since when; --release frees them",
        description=(
            "List the live claims per annotator and pass: how many utterances, since when, "
            "until when the lease runs. --release NAME frees that annotator's claims (their "
            "open app claims a fresh batch when it next tops up)."
        ),
    )
    p.add_argument("project", metavar="PROJECT.db", help="an existing project file")
    p.add_argument("--release", metavar="NAME", help="free every claim NAME holds")
    p.add_argument("--json", action="store_true", help="print the claims as JSON")
    p.set_defaults(func=run_claims)

    p = sub.add_parser(
        "second-pass",
        help="show or set which accepted utterances go to a second reviewer",
        description=(
            "Without --set, print the policy and how many utterances wait for a second pass. "
            "--set none|all|10%%|0.1: none, every accepted utterance, or a fraction sampled "
            "uniformly and reproducibly (a hash of the utterance id and a seed drawn once per "
            "project). The second reviewer is never the first annotator (wuwb review --pass 2)."
        ),
    )
    p.add_argument("project", metavar="PROJECT.db", help="an existing project file")
    p.add_argument("--set", dest="policy", metavar="POLICY", help="none, all, 10%% or 0.1")
    p.set_defaults(func=run_second_pass)


def run_claims(args: argparse.Namespace) -> int:
    from workbench.cli import _project

    store = _project(args.project)
    try:
        if args.release:
            freed = claims.release(store, args.release)
            print(f"released {freed} claims of {args.release}")
            return 0
        held = claims.holdings(store)
    finally:
        store.close()
    if args.json:
        rows = [
            {"annotator": h.annotator, "pass": h.pass_, "utterances": h.count, "since": h.since,
             "expires": h.expires}
            for h in held
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from db.safe_text import safe

    table = Table(title="Claims", title_justify="left")
    for name in ("annotator", "pass", "utterances", "since", "lease until"):
        table.add_column(name)
    for h in held:
        table.add_row(Text(safe(h.annotator)), str(h.pass_), f"{h.count:,}", h.since, h.expires)
    if not held:
        table.add_row("—", "", "nobody holds a claim", "", "")
    Console().print(table)
    return 0


def run_second_pass(args: argparse.Namespace) -> int:
    from db.store import Filter
    from workbench.cli import UserError, _project

    store = _project(args.project)
    try:
        if args.policy is not None:
            try:
                second_pass.set_policy(store, args.policy)
            except WorkbenchError as exc:
                raise UserError(str(exc)) from exc
        policy = second_pass.policy(store)
        waiting = second_pass.waiting(store)
        done = store.count(Filter(status="reviewed"))
    finally:
        store.close()
    print(f"second pass: {policy}; waiting {waiting:,}; reviewed {done:,}")
    return 0

