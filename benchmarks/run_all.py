"""Run every benchmark in this folder and print their markdown rows as one table.

Each bench_*.py, and each script in EXTRA, prints lines starting with '|' (table rows); everything
else is passed through to stderr. Numbers are ratios against a baseline measured in the same run,
so they compare across machines better than seconds do.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Whole-command benchmarks (fresh processes against baselines in the same run), run after the bench_*.py
EXTRA = ("cli_startup.py", "test_vs_sdk.py", "offline_estimate.py")


def main() -> int:
    rows: list[str] = []
    failed = 0
    for script in [*sorted(HERE.glob("bench_*.py")), *(HERE / name for name in EXTRA)]:
        print(f"running {script.name} …", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False)
        for line in proc.stdout.splitlines():
            if line.startswith("|") and not line.startswith("| benchmark") and not line.startswith("|---"):
                rows.append(line)
        if proc.returncode != 0:
            failed += 1
            print(proc.stderr[-2000:], file=sys.stderr)
    print("| benchmark | measured | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(row)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
