"""Import speed: `wuwb import` of a 1,000,000-line WeNet JSONL against sqlite-utils insert_all.

All run as subprocesses on the same freshly generated file in the same run, alternating, and
the median of --repeat runs is compared. The baselines are what one writes with sqlite-utils:
json.loads each line and `insert_all` into a new table (no indexes, no validation), once at
its defaults (batches of 100, rollback journal) and once as a knowledgeable user runs it
(`enable_wal()`, `batch_size=10000`). The second is the honest one to beat.
Target: ours <= 0.6 x the tuned sqlite-utils time, peak memory (max RSS) under 300 MB.
Each run's CPU seconds (user + system) are printed beside its wall time: on a shared machine
the wall time swings with the neighbours' load, the CPU time much less.

    python bench/import_1m.py [--rows N] [--repeat K] [--dir DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import make_wenet, timed, wuwb

BASELINES = {
    "sqlite-utils": """
import json, sys, sqlite_utils
db = sqlite_utils.Database(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as f:
    db["utterances"].insert_all(json.loads(line) for line in f)
""",
    "sqlite-utils-tuned": """
import json, sys, sqlite_utils
db = sqlite_utils.Database(sys.argv[1])
db.enable_wal()
with open(sys.argv[2], encoding="utf-8") as f:
    db["utterances"].insert_all((json.loads(line) for line in f), batch_size=10000)
""",
}


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
        runs: dict[str, list[float]] = {
            "probe": [], "no-probe": [], "sqlite-utils": [], "sqlite-utils-tuned": [],
        }
        cpus: dict[str, list[float]] = {name: [] for name in runs}
        peak = 0.0
        for n in range(args.repeat):
            for name in runs:
                db = work / f"{name}-{n}.db"
                cpu = _children_cpu()
                if name in BASELINES:
                    wall, _ = timed([sys.executable, "-c", BASELINES[name], str(db), str(data)])
                else:
                    flags = ["--no-probe"] if name == "no-probe" else []
                    wall, peak = timed(wuwb("import", str(db), str(data), *flags))
                runs[name].append(wall)
                cpus[name].append(_children_cpu() - cpu)
                print(f"  run {n + 1} {name:<18} {wall:6.2f} s  (CPU {cpus[name][-1]:5.2f} s)")
                for f in work.glob(f"{name}-{n}.db*"):
                    f.unlink()
        med = {name: statistics.median(times) for name, times in runs.items()}
        cpu_med = {name: statistics.median(times) for name, times in cpus.items()}
        base, tuned = med["sqlite-utils"], med["sqlite-utils-tuned"]
        print(f"medians of {args.repeat} runs, wall (CPU):")
        print(f"sqlite-utils insert_all, defaults:              {base:6.2f} s "
              f"({cpu_med['sqlite-utils']:.2f} s)")
        print(f"sqlite-utils insert_all, WAL, batch_size 10000: {tuned:6.2f} s "
              f"({cpu_med['sqlite-utils-tuned']:.2f} s)")
        for name in ("probe", "no-probe"):
            ours = med[name]
            print(f"wuwb import ({name}):{' ' * (9 - len(name))} {ours:.2f} s "
                  f"({cpu_med[name]:.2f} s) = {ours / tuned:.2f} x tuned sqlite-utils "
                  f"(CPU {cpu_med[name] / cpu_med['sqlite-utils-tuned']:.2f} x; target <= 0.60), "
                  f"{ours / base:.2f} x at its defaults")
        print(f"wuwb import peak RSS: {peak:.0f} MB (target < 300)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
