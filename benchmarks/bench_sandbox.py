"""Per-command sandbox overhead against a bare subprocess, measured in the same run.

- bubblewrap: our exact bwrap command line (namespaces, mounts, seccomp-less) running `true`, and
  the full `BwrapExecutor.run(["true"])` (plus cgroup, rlimits, seccomp, capped pipes), both
  against a bare `subprocess.run(["true"])`; target: p50 overhead of the sandbox under 15 ms.
- Docker: warm `docker exec` (a session's repeated call) p50 against the same baseline (target:
  under 100 ms), and the cold start (a new container) p50, reported.
Prints markdown rows; asserts nothing. Skips a backend that is missing.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "desktop"))

RUNS = 25


def p50(fn: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def row(name: str, measured: float, baseline: float, target: str) -> None:
    over = (measured - baseline) * 1000
    print(f"| {name} | {measured * 1000:.1f} ms (+{over:.1f} ms) | {baseline * 1000:.1f} ms | "
          f"{measured / baseline:.1f}x | {target} |")


def main() -> int:
    from skillstudio.sandbox.policy import Policy

    print("| benchmark | measured | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    base = p50(lambda: subprocess.run(["true"], check=True))
    data = Path(tempfile.mkdtemp(prefix="ss-bench-"))
    try:
        if shutil.which("bwrap"):
            from skillstudio.sandbox.bwrap import BwrapExecutor

            with BwrapExecutor() as ex:
                raw = ex.argv(["true"], Policy.build(data), None)
                row("bwrap sandbox per command (namespaces + mounts)", p50(lambda: subprocess.run(raw, check=True)),
                    base, "< +15 ms")
                row("bwrap executor per command (+ cgroup, rlimits, seccomp, pipes)",
                    p50(lambda: ex.run(["true"], Policy.build(data))), base, "reported")
        else:
            print("bubblewrap missing: skipped", file=sys.stderr)
        try:
            from skillstudio.sandbox.docker_backend import DockerExecutor, connect

            client = connect()
        except Exception as exc:  # noqa: BLE001 - no engine: skip the Docker rows
            print(f"Docker unavailable: {exc}", file=sys.stderr)
            return 0
        if os.getuid() == 0:
            os.chown(data, 1000, 1000)
        with DockerExecutor(client, progress=lambda m: print(m, file=sys.stderr)) as dex:
            policy = Policy.build(data)
            dex.run(["true"], policy)  # warm up
            row("docker warm exec per command", p50(lambda: dex.run(["true"], policy)), base, "< +100 ms")

        def cold() -> None:
            with DockerExecutor(client) as ex:
                ex.run(["true"], Policy.build(data))

        row("docker cold start (new container) + first command", p50(cold, runs=5), base, "reported")
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
