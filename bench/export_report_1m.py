"""Export of 1,000,000 accepted rows and `wuwb report` over them with three systems.

Builds the project through the CLI (import --gold, then three key<TAB>text hypothesis files
through import-hyps), then times `wuwb export` (WeNet) and `wuwb report --by subset`.
Targets: export under 5 s, report under 10 s.

    python bench/export_report_1m.py [--rows N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import make_hyps, make_wenet, timed, wuwb

SYSTEMS = {"tele-ctc": 0.05, "u2pp": 0.08, "step-audio2": 0.03}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp dir)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wuwb-bench-", dir=args.dir))
    try:
        data, db = work / "data.jsonl", str(work / "p.db")
        t = time.perf_counter()
        make_wenet(data, args.rows)
        for seed, (system, rate) in enumerate(SYSTEMS.items(), 2):
            make_hyps(work / f"{system}.tsv", args.rows, rate, seed)
        print(f"generated {args.rows} rows and {len(SYSTEMS)} systems' hypotheses "
              f"in {time.perf_counter() - t:.1f} s")
        wall, _ = timed(wuwb("import", db, str(data), "--gold", "--no-probe",
                             "--subset", "bench"))
        print(f"setup: import --gold {wall:.1f} s")
        for system in SYSTEMS:
            wall, _ = timed(wuwb("import-hyps", db, str(work / f"{system}.tsv"),
                                 "--system", system))
            print(f"setup: import-hyps {system} {wall:.1f} s")
        export, export_mb = timed(wuwb("export", db, str(work / "out.jsonl"), "--format",
                                       "wenet"))
        with open(work / "out.jsonl", encoding="utf-8") as f:
            lines = sum(1 for _ in f)
        report, _ = timed(wuwb("report", db, "--by", "subset"))
        print(f"export of {lines} accepted rows: {export:.2f} s (target < 5), "
              f"peak RSS {export_mb:.0f} MB")
        print(f"report over {args.rows} rows x {len(SYSTEMS)} systems: {report:.2f} s "
              "(target < 10)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
