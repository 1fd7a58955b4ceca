"""`wuwb consensus` and `wuwb bulk-accept`: argparse glue over db.consensus_run and db.triage."""

from __future__ import annotations

import argparse
import getpass
import sys

from db.safe_text import safe
from db.store import TIERS, Store
from db.tasks import TASKS


def _fraction(text: str) -> float:
    """A rate given as 0.02 or 2%."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a rate such as 0.02 or 2%, got {text!r}"
        ) from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a rate lies between 0 and 1 (0% and 100%): {text!r}")
    return value


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "consensus",
        help="vote the systems' transcripts into a consensus, with risk and tiers",
        description=(
            "Align every system's hypothesis into one confusion network (ROVER: incremental "
            "alignment with the scoring's edit distance over its normalised characters, "
            "insertions open slots with empty arcs) and vote per slot, empty arcs included; a "
            "tie goes to the highest-ranked system (by weight, then name). The result is "
            "stored as a hypothesis of system NAME with each character's share of the weight; "
            "each utterance gets a risk (expected character errors: the sum of 1 - share, "
            "plus 1 - corpus confidence when present) and a tier: agree (every system "
            "identical after normalisation), high (risk <= --high-max) or low. Writes as it "
            "goes; a killed run re-run with the same options continues where it stopped."
        ),
    )
    p.add_argument("project", metavar="PROJECT.db", help="an existing project file")
    p.add_argument("--systems", type=_names, default=(), metavar="A,B,…",
                   help="the voting systems (default: every system of the task but "
                        "consensus ones)")
    p.add_argument("--task", choices=TASKS, default="asr", help="(default asr)")
    p.add_argument("--name", default="consensus",
                   help="the system name the consensus is stored under (default consensus)")
    p.add_argument("--weights", default="auto", metavar="auto|equal|A=0.5,B=0.3",
                   help="auto (default): each system's log-odds of a right character, from "
                        "the accepted gold no machine accepted (per subset when each system "
                        "has --min-gold gold utterances in it, else overall; equal with less "
                        "gold than that); equal; or one weight per system")
    p.add_argument("--min-gold", type=int, default=100, metavar="N",
                   help="gold utterances each system needs before auto learns weights from "
                        "them (default 100)")
    p.add_argument("--high-max", type=float, default=0.5, metavar="RISK",
                   help="the highest risk (expected wrong characters) of tier high "
                        "(default 0.5)")
    p.add_argument("--agree-max", type=float, default=None, metavar="RISK",
                   help="also require at most this risk for tier agree (default: none; "
                        "matters only with corpus confidence)")
    p.add_argument("--draft", action="store_true",
                   help="also make the consensus the draft of todo utterances whose draft "
                        "no person has edited (logged in the edit log under NAME)")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes (default: 2, or 1 on a one-core machine)")
    p.add_argument("--restart", action="store_true",
                   help="start again from the first utterance instead of continuing")
    p.set_defaults(func=run_consensus)

    b = sub.add_parser(
        "bulk-accept",
        help="accept a tier's consensus unseen, after a measured audit",
        description=(
            "Step 1, --audit N: draw a uniform random sample of N unseen (todo, untouched) "
            "utterances of the tier and mark them for review (the review screen's filter "
            "'audit only' lists them). Step 2, --status: how many a person has accepted, and "
            "once some are, the tier's residual CER: the corpus CER of the consensus against "
            "their gold with a 95%% bootstrap interval over utterances, and the expected "
            "wrong characters in the unseen rest. Step 3, --commit: when every audit "
            "utterance is accepted (and the interval's upper bound is under --max-cer, if "
            "given), accept the tier's other unseen utterances with the consensus as gold, "
            "all in one transaction, marked with provenance bulk:SYSTEM."
        ),
    )
    b.add_argument("project", metavar="PROJECT.db", help="an existing project file")
    b.add_argument("--tier", choices=TIERS, required=True, help="the consensus tier")
    b.add_argument("--audit", type=int, metavar="N", help="draw an audit of N utterances")
    b.add_argument("--seed", type=int, default=0,
                   help="seed of the audit draw and of the bootstrap (default 0)")
    b.add_argument("--status", action="store_true",
                   help="report the audit's progress and estimate (the default action)")
    b.add_argument("--commit", action="store_true",
                   help="accept the tier's unseen utterances (after a complete audit)")
    b.add_argument("--max-cer", type=_fraction, metavar="RATE",
                   help="with --commit: refuse unless the residual CER's 95%% upper bound is "
                        "at most this (0.02 or 2%%)")
    b.add_argument("--annotator", metavar="NAME",
                   help="who draws and commits, for the edit log (default: $USER)")
    b.add_argument("--system", metavar="NAME",
                   help="the consensus system (default: consensus, or the one there is)")
    b.set_defaults(func=run_bulk_accept)


def _open(path: str) -> Store:
    return Store.open(path, create=False)  # a StoreError is printed as one line by main


def run_consensus(args: argparse.Namespace) -> int:
    from db.consensus_run import Request, describe, run

    request = Request(
        systems=args.systems, task=args.task, name=args.name, weights=args.weights,
        high_max=args.high_max, agree_max=args.agree_max, draft=args.draft,
        min_gold=args.min_gold,
    )
    store = _open(args.project)
    shown = [0]

    def progress(done: int, top: int) -> None:
        if sys.stderr.isatty() and done - shown[0] >= top // 100:
            shown[0] = done
            print(f"\rvoting… {done:,} / {top:,} ids", end="", file=sys.stderr, flush=True)

    try:
        totals, weights, resumed = run(
            store, request, jobs=args.jobs, restart=args.restart, progress=progress
        )
    finally:
        store.close()
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if resumed:
        print("continued the earlier run with the same options")
    for note in weights.notes:
        print(safe(note))
    print(f"weights: {safe(describe(weights.overall))}")
    for subset, table in sorted(weights.subsets.items()):
        print(f"weights for subset {safe(subset or '(none)')}: {safe(describe(table))}")
    tiers = ", ".join(f"{t} {totals.tiers.get(t, 0):,}" for t in TIERS)
    print(f"{safe(args.name)}: {totals.voted:,} utterances voted; tiers: {tiers}")
    if args.draft:
        print(f"drafts set from the consensus: {totals.drafts:,}")
    for system, (hit, slots) in sorted(totals.agreement.items()):
        share = hit / slots if slots else 0.0
        print(f"  {safe(system)} agrees with the consensus on {100 * share:.1f}% of slots")
    return 0


def run_bulk_accept(args: argparse.Namespace) -> int:
    from db import triage

    if args.audit is not None and args.commit:
        raise triage.TriageError("--audit and --commit are separate steps: give one")
    annotator = args.annotator or getpass.getuser()
    store = _open(args.project)
    try:
        system = args.system or triage.consensus_system(store)
        audit = triage.open_audit(store, args.tier)
        if args.audit is not None:
            audit, pool = triage.draw(store, args.tier, args.audit, args.seed, system, annotator)
            print(f"audit {audit.id}: drew {audit.size:,} of {pool:,} unseen {args.tier} "
                  f"utterances (seed {audit.seed}); review them (filter: audit only), then "
                  f"run --status")
            return 0
        if audit is None and args.commit:
            raise triage.TriageError(
                f"tier {args.tier} has no audit under way: draw one with --audit N first"
            )
        if audit is None:
            print(f"tier {args.tier}: no audit under way; draw one with --audit N")
            _print_past(triage.audits(store), args.tier)
            return 0
        done = triage.progress(store, audit)
        print(f"audit {audit.id} of tier {audit.tier} ({safe(audit.system)}, seed {audit.seed}):"
              f" {done.accepted:,} / {audit.size:,} accepted by a person"
              + (f", {done.other:,} skipped or flagged" if done.other else ""))
        if args.commit:
            def report(n: int, total: int) -> None:
                print(f"bulk-accepting {n:,} / {total:,}", flush=True)

            est, accepted = triage.commit(
                store, audit, annotator, max_cer=args.max_cer, report=report
            )
            _print_estimate(est)
            print(f"accepted {accepted:,} utterances of tier {audit.tier} as gold "
                  f"(provenance bulk:{safe(audit.system)})")
            return 0
        if done.accepted:
            _print_estimate(triage.estimate(store, audit))
        if done.accepted < audit.size:
            print("the estimate is final once every audit utterance is accepted")
            return 0
        print("audit complete: accept the rest with --commit [--max-cer RATE]")
        return 0
    finally:
        store.close()


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _print_estimate(est: object) -> None:
    from db.triage import Estimate

    assert isinstance(est, Estimate)
    wrong, low, high = est.expected_wrong
    print(f"residual CER {_pct(est.cer)} (95% interval {_pct(est.low)}–{_pct(est.high)}) "
          f"over {est.audited:,} audited utterances, {est.tokens:,} characters, "
          f"{est.errors:,} wrong")
    print(f"unseen in the tier: {est.unseen:,} utterances, {est.unseen_tokens:,} characters; "
          f"expected wrong characters {wrong:,.0f} ({low:,.0f}–{high:,.0f})")


def _print_past(rows: list, tier: str) -> None:  # type: ignore[type-arg]
    for audit, cer, low, high, hours in rows:
        if audit.tier == tier and audit.committed_at:
            print(f"audit {audit.id}: committed {audit.committed_at}, {audit.accepted:,} "
                  f"accepted ({hours or 0:.1f} h), residual CER {_pct(cer)} "
                  f"({_pct(low)}–{_pct(high)})")
