"""Team work on 1,000,000 utterances: claims, the claimed list, the second pass, the report.

Builds the project through the CLI (import), then writes a synthetic team history straight
into the file (200,000 accepted by 4 annotators with save times 20-90 s apart and a break
every 50, a 10 % second pass of them) and times what an annotator's app and a lead's report
do on it. Claims and pages run in a worker thread in the app, never on the UI thread; the
targets are that a claim and a page of the batch stay under 50 ms and the report under 30 s.

    python bench/team_1m.py [--rows N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from synthetic import make_wenet, timed, wuwb

from db import claims, second_pass
from db.store import Filter, Sort, Store
from db.team_report import build_team_report

ANNOTATORS = ("ann", "bob", "cat", "dan")


def history(store: Store, accepted: int) -> None:
    """`accepted` utterances accepted in turn by the annotators, with save times."""
    rng = random.Random(7)
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    clock = dict.fromkeys(ANNOTATORS, start)
    edits = []
    for utt_id in range(1, accepted + 1):
        who = ANNOTATORS[utt_id % len(ANNOTATORS)]
        gap = rng.uniform(20, 90) if utt_id % 50 else rng.uniform(600, 3600)
        clock[who] += timedelta(seconds=gap)
        edits.append((utt_id, "status", "todo", "accepted", who, claims.stamp(clock[who])))
    with store.transaction() as conn:
        conn.execute(
            "UPDATE utterances SET status = 'accepted', gold = draft, duration = 4.0, "
            "annotator = CASE id % 4 WHEN 0 THEN 'ann' WHEN 1 THEN 'bob' WHEN 2 THEN 'cat' "
            "ELSE 'dan' END WHERE id <= ?",
            (accepted,),
        )
        conn.executemany(
            "INSERT INTO edits (utt_id, field, old, new, annotator, at) VALUES (?,?,?,?,?,?)",
            edits,
        )


def ms(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms"


def clock(fn, *args, **kwargs) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp dir)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wuwb-bench-", dir=args.dir))
    try:
        data, db = work / "data.jsonl", work / "p.db"
        make_wenet(data, args.rows)
        wall, _ = timed(wuwb("import", str(db), str(data), "--no-probe"))
        print(f"setup: import of {args.rows} rows {wall:.1f} s")
        store = Store.open(db)
        accepted = args.rows // 5
        wall, _ = clock(history, store, accepted)
        print(f"setup: history of {accepted} accepts {wall:.1f} s")
        todo, order = Filter(status="todo"), Sort()
        wall, _ = clock(claims.claim_batch, store, "zed", todo, order)
        print(f"first claim (builds the status index once): {wall:.2f} s")
        runs = [clock(claims.claim_batch, store, f"a{i}", todo, order) for i in range(50)]
        held = {n for _, n in runs}
        print(f"claim of 20 by 50 annotators in turn (each holds {held}): "
              f"{ms([t for t, _ in runs])}")
        times = [clock(claims.claim_batch, store, f"a{i}", todo, order)[0] for i in range(50)]
        print(f"renew + top-up of a held batch: {ms(times)}")
        batch = Filter(status="todo", claimed_by="a49")
        times = [clock(lambda: (store.page(batch, order), store.count(batch)))[0]
                 for _ in range(50)]
        print(f"page + count of a claimed batch: {ms(times)}")
        second_pass.set_policy(store, "10%")
        wall, waiting = clock(second_pass.waiting, store)
        print(f"second pass 10 %: {waiting} waiting, counted in {wall:.2f} s")
        queue = Filter(second_pass_for="ann")
        times = [clock(claims.claim_batch, store, f"r{i}", queue, order, pass_=2)[0]
                 for i in range(20)]
        print(f"second-pass claim of 20: {ms(times)}")
        reviews = []
        for row in store.page(Filter(claimed_by="r0"), order):
            utt = store.utterance(row.id)
            verdict = second_pass.Verdict(utt.gold or "")
            reviews.append(clock(second_pass.review, store, row.id, utt.version, "r0",
                                 verdict)[0])
        print(f"second-pass approve: {ms(reviews)}")
        wall, _ = clock(build_team_report, store)
        print(f"team report over {accepted} accepts x {len(ANNOTATORS)} annotators: "
              f"{wall:.2f} s (target < 30)")
        store.close()
        wall, rss = timed(wuwb("report", str(db), "--by", "annotator"))
        print(f"wuwb report --by annotator: {wall:.2f} s, peak RSS {rss:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
