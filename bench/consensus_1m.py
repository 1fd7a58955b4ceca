"""`wuwb consensus` over 1,000,000 utterances x 4 systems; target under 60 s on 2 cores.

Builds the project with plain SQL (what is timed is the consensus, not the import): each
utterance has a draft (the corpus transcript, as a WenetSpeech-Wu import leaves it) and four
systems' answers with independent character errors at 8, 12, 16 and 20 % (the issue's
simulation rates: hardly any utterance is unanimous, so nearly every one is aligned and voted;
real systems agree more often, which is faster). Then times `wuwb consensus` in a child
process, with its peak RSS, and a re-run that finds everything done (the resume check).

    python bench/consensus_1m.py [--rows N] [--jobs J] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import CHARS, key, timed, transcript, wuwb

from db.store import Store

RATES = {"Step-Audio2-FT": 0.08, "Tele-CTC-FT": 0.12, "Conformer-U2pp-Wu": 0.16,
         "Whisper-medium-Wu": 0.20}
POOL = 50_000  # distinct utterances generated; rows beyond reuse them (no cache is involved)


def noisy(rng: random.Random, text: str, rate: float) -> str:
    out = []
    for char in text:
        r = rng.random()
        if r < rate / 3:
            continue
        if r < 2 * rate / 3:
            out.append(rng.choice(CHARS))
        elif r < rate:
            out += [char, rng.choice(CHARS)]
        else:
            out.append(char)
    return "".join(out)


def build(db: Path, rows: int) -> None:
    rng = random.Random(7)
    pool = []
    for _ in range(min(POOL, rows)):
        truth = transcript(rng)
        pool.append((noisy(rng, truth, 0.1), [noisy(rng, truth, r) for r in RATES.values()]))
    Store.open(db).close()  # the schema, from the store itself
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO utterances (id, key, audio, duration, draft, confidence) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        ((n + 1, key(n), f"/data/wu/{key(n)}.wav", 4.0, pool[n % len(pool)][0], 0.9)
         for n in range(rows)),
    )
    conn.executemany(
        "INSERT INTO hypotheses (utt_id, task, system, text, created_at) "
        "VALUES (?, 'asr', ?, ?, '2026-01-01T00:00:00Z')",
        ((n + 1, system, pool[n % len(pool)][1][j])
         for n in range(rows) for j, system in enumerate(RATES)),
    )
    conn.execute("COMMIT")
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp dir)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wuwb-bench-", dir=args.dir))
    try:
        db = work / "p.db"
        t = time.perf_counter()
        build(db, args.rows)
        print(f"setup: {args.rows} utterances x {len(RATES)} systems in "
              f"{time.perf_counter() - t:.1f} s")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, rss = timed(wuwb("consensus", str(db), "--weights", "equal",
                               "--jobs", str(args.jobs)))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        load = os.getloadavg()[0]
        again, _ = timed(wuwb("consensus", str(db), "--weights", "equal",
                              "--jobs", str(args.jobs)))
        with sqlite3.connect(db) as conn:
            tiers = dict(conn.execute(
                "SELECT tier, count(*) FROM utterances GROUP BY tier").fetchall())
        print(f"tiers: {tiers}")
        print(f"re-run with everything done (resume): {again:.2f} s")
        # CPU seconds (the command and its workers) over the cores used is what the wall
        # time would be on an otherwise idle machine; the load says how busy this one was.
        print(f"consensus CPU time {cpu:.1f} s over {args.jobs} cores: {cpu / args.jobs:.1f} s; "
              f"1-min load average at the end {load:.1f} on {os.cpu_count()} cores")
        print(f"consensus of {args.rows} utterances x {len(RATES)} systems with {args.jobs} "
              f"workers: {wall:.1f} s (target < 60), peak RSS {rss:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
