"""Import speed: `wuwb import` of a 1,000,000-line WeNet JSONL against sqlite-utils insert_all.

Both run as subprocesses on the same freshly generated file in the same run, alternating, and
the median of --repeat runs is compared. The baseline is what one writes with sqlite-utils:
json.loads each line and `insert_all` into a new table (no indexes, no validation).
Target: ours <= 0.6 x the sqlite-utils time, peak memory (max RSS) under 300 MB.

    python bench/import_1m.py [--rows N] [--repeat K] [--dir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import make_wenet, timed, wuwb

BASELINE = """
import json, sys, sqlite_utils
db = sqlite_utils.Database(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as f:
    db["utterances"].insert_all(json.loads(line) for line in f)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp dir)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wuwb-bench-", dir=args.dir))
    try:
        data = work / "data.jsonl"
        t = time.perf_counter()
        make_wenet(data, args.rows)
        print(f"generated {args.rows} lines ({data.stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - t:.1f} s")
        runs: dict[str, list[float]] = {"probe": [], "no-probe": [], "sqlite-utils": []}
        peak = 0.0
        for n in range(args.repeat):
            for name in runs:
                db = work / f"{name}-{n}.db"
                if name == "sqlite-utils":
                    wall, _ = timed([sys.executable, "-c", BASELINE, str(db), str(data)])
                else:
                    flags = ["--no-probe"] if name == "no-probe" else []
                    wall, peak = timed(wuwb("import", str(db), str(data), *flags))
                runs[name].append(wall)
                print(f"  run {n + 1} {name:<13} {wall:6.2f} s")
                for f in work.glob(f"{name}-{n}.db*"):
                    f.unlink()
        base = statistics.median(runs["sqlite-utils"])
        print(f"sqlite-utils insert_all:      {base:.2f} s (median of {args.repeat})")
        for name in ("probe", "no-probe"):
            ours = statistics.median(runs[name])
            print(f"wuwb import ({name}):{' ' * (9 - len(name))} {ours:.2f} s = "
                  f"{ours / base:.2f} x sqlite-utils (target <= 0.60)")
        print(f"wuwb import peak RSS: {peak:.0f} MB (target < 300)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
