"""Whole-command start-up of the CLI, as ratios against baselines timed in the same run.

Rows (each a fresh process, runs alternated between the command and its baseline so machine load
hits both alike; the median is reported):
- `skillstudio --version` and `--help` against `python -c "import typer"` (goal: <= 3x);
- `skillstudio validate SKILL` against the reference validator's CLI on the same skill (goal: <= 1.5x);
- `skillstudio test WORKSPACE --offline` against `skillstudio validate WORKSPACE` (goal: <= 1.5x).
`--src DIR` times another checkout's `desktop/` folder too (e.g. the commit before a change), so a
before/after pair is measured in the same run. Prints markdown rows; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable


def _time(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=300
    )
    return time.perf_counter() - t0


def paired(cmd: list[str], base: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median seconds of `cmd` and `base`, alternating runs after one warm-up each."""
    _time(cmd, env)
    _time(base, env)
    a, b = [], []
    for _ in range(runs):
        a.append(_time(cmd, env))
        b.append(_time(base, env))
    return statistics.median(a), statistics.median(b)


def _env(src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env["PYTHONPATH"] = str(src)
    return env


def _row(name: str, measured: float, baseline: float, base_name: str, target: str) -> str:
    return (
        f"| {name} | {measured * 1000:.0f} ms | {base_name} {baseline * 1000:.0f} ms | "
        f"{measured / baseline:.2f}x | {target} |"
    )


def rows(src: Path, label: str, runs: int, work: Path) -> list[str]:
    env = _env(src)
    ss = [PY, "-m", "skillstudio"]
    typer_only = [PY, "-c", "import typer"]
    skill = work / "skills" / "crm-query"
    out = []
    for argv, target in ((["--version"], "<= 3x"), (["--help"], "")):
        m, b = paired([*ss, *argv], typer_only, env, runs)
        out.append(_row(f"`skillstudio {' '.join(argv)}`{label}", m, b, "`import typer`", target))
    ref = shutil.which("agentskills", path=str(Path(PY).parent)) or shutil.which("agentskills")
    if ref:
        m, b = paired([*ss, "validate", str(skill)], [ref, "validate", str(skill)], env, runs)
        out.append(
            _row(
                f"`skillstudio validate` one skill{label}",
                m,
                b,
                "reference `agentskills validate`",
                "<= 1.5x",
            )
        )
    ws = work / "skills"
    m, b = paired(
        [*ss, "test", str(ws), "--offline"], [*ss, "validate", str(ws)], env, runs
    )  # the command as users run it: default runs, the run saved to the workspace's history
    out.append(
        _row(
            f"`skillstudio test --offline` example workspace{label}",
            m,
            b,
            "`skillstudio validate` of it",
            "<= 1.5x",
        )
    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="paired runs per row (default 7)")
    ap.add_argument("--src", type=Path, help="another checkout's desktop/ folder, timed as 'before'")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "skills", work / "skills", ignore=shutil.ignore_patterns(".skillstudio"))
        print("| benchmark | measured | baseline | ratio | target |")
        print("|---|---|---|---|---|")
        if args.src is not None:
            for line in rows(args.src.resolve(), " (before)", args.runs, work):
                print(line, flush=True)
        for line in rows(REPO / "desktop", "", args.runs, work):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
