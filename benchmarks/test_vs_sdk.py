"""A whole `skillstudio test` command against the bare openai SDK streaming the same requests (issue 11 §5).

Both sides are fresh processes timed from launch to exit, start-up included, against the same scripted
OpenAI-compatible server (tests/support/fake_openai.py, its own process, loopback, a fixed latency
per request before the first byte):
- ours: `skillstudio test WORKSPACE --runs 3 --concurrency 8` on a fresh copy of the example
  workspace `skills/` (85 cases, 255 runs; streaming; cache written, run saved to history, table
  printed — the command as a user runs it);
- the baseline (`_sdk_baseline.py`): `AsyncOpenAI` + `asyncio.Semaphore(8)` replaying exactly the
  requests our command sent (recorded by the server: same bodies, same turns per run), streaming,
  with the same early stop; it runs no sandbox, writes nothing and prints no table.
Rounds alternate the two (which one goes first alternates too); the row reports the medians and the
median of the per-round ratios. Row 1: the model decides on its first call (reads a skill or
answers). Row 2: prompts that mention files explore first (`ls -la`, then `rg -l`), so those runs
take three turns; our command executes the exploring commands in its sandbox (bubblewrap), the
baseline only sends the recorded follow-up bodies. `--src DIR` times another checkout's `desktop/`
(e.g. the commit before a change) in the same rounds, as its own row. Prints markdown rows; asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PY = sys.executable
MODEL = "llama3.1"  # a local server's model: no price known, so no cost estimate (see the README)
RUNS, CONCURRENCY = 3, 8

# The scripted model: the first keyword found in a prompt names the skill it reads; none → it answers.
KEYWORDS = [["salesforce", "crm-query"], ["pipeline", "crm-query"], ["opportunit", "crm-query"],
            ["soql", "crm-query"], ["bank", "ledger-reconcile"], ["ledger", "ledger-reconcile"],
            ["reconcil", "ledger-reconcile"], ["vlan", "network-config"], ["switch", "network-config"],
            ["acl", "network-config"], ["soc 2", "compliance-evidence"], ["evidence", "compliance-evidence"],
            ["audit", "compliance-evidence"], ["ticket", "support-reply"], ["reply", "support-reply"],
            ["customer", "support-reply"]]
# Row 2: prompts that point at files look around first (one shell call per turn), then decide.
EXPLORE = {key: ["ls -la", "rg -l invoice ."] for key in ("this", "these")}  # 14 of the 85 prompts


class Server:
    """The scripted server in its own process (own GIL), with request recording."""

    def __init__(self, script: dict[str, Any]) -> None:
        self.proc = subprocess.Popen([PY, str(HERE / "_fake_server.py"), json.dumps(script)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()

    def take_bodies(self, path: Path) -> list[dict[str, Any]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"dump {path}\n")
        self.proc.stdin.flush()
        self.proc.stdout.readline()
        return json.loads(path.read_text(encoding="utf-8"))

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


def conversations(bodies: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Recorded bodies regrouped into runs: each run's turns in order (turn n has n-1 call outputs)."""
    by_prompt: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for b in bodies:
        inp = b["input"]
        if isinstance(inp, str):
            prompt, turn = inp, 0
        else:
            prompt = next(i["content"] for i in inp if isinstance(i, dict) and i.get("role") == "user")
            turn = sum(1 for i in inp if isinstance(i, dict) and i.get("type") == "shell_call_output")
        by_prompt.setdefault(prompt, {}).setdefault(turn, []).append(b)
    out = []
    for turns in by_prompt.values():
        for r, first in enumerate(turns[0]):
            conv = [first]
            for t in range(1, len(turns)):
                if r < len(turns.get(t, [])):
                    conv.append(turns[t][r])
            out.append(conv)
    return out


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, children included) and stdout of one process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=600)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):  # 1: some cases fail on the scripted model, as intended
        raise SystemExit(f"{argv[2:5]} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return wall, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime, proc.stdout


def scenario(name: str, script: dict[str, Any], rounds: int, work: Path, env: dict[str, str],
             baseline_mode: str, before: Path | None = None) -> list[str]:
    server = Server(script)
    try:
        env = dict(env, OPENAI_BASE_URL=server.base_url)
        ws = work / "ws"

        def command(src: Path) -> tuple[float, float]:
            shutil.rmtree(ws, ignore_errors=True)
            shutil.copytree(REPO / "skills", ws, ignore=shutil.ignore_patterns(".skillstudio"))
            wall, cpu, _ = _timed([PY, "-m", "skillstudio", "test", str(ws), "--runs", str(RUNS),
                                   "--concurrency", str(CONCURRENCY), "--model", MODEL], dict(env, PYTHONPATH=str(src)))
            return wall, cpu

        command(REPO / "desktop")  # warm-up run, recorded: the baseline replays exactly these requests
        convs = conversations(server.take_bodies(work / "bodies.json"))
        replay = work / "replay.json"
        replay.write_text(json.dumps(convs), encoding="utf-8")
        n_requests = sum(len(c) for c in convs)
        base_argv = [PY, str(HERE / "_sdk_baseline.py"), str(replay), str(CONCURRENCY), baseline_mode]

        def sdk() -> tuple[float, float]:
            wall, cpu, out = _timed(base_argv, env)
            got = json.loads(out.strip().splitlines()[-1])
            assert got["requests"] == n_requests, got
            return wall, cpu

        sides: dict[str, Any] = {"ours": lambda: command(REPO / "desktop"), "sdk": sdk}
        if before is not None:
            sides["before"] = lambda: command(before)
        sdk()  # warm-up
        server.take_bodies(work / "bodies.json")
        got: dict[str, list[tuple[float, float]]] = {k: [] for k in sides}
        for r in range(rounds):
            order = list(sides)[r % len(sides):] + list(sides)[:r % len(sides)]  # who goes first rotates
            for k in order:
                got[k].append(sides[k]())
            mine = server.take_bodies(work / "bodies.json")
            if before is None:  # the same requests every round (an older build may send other bodies)
                assert len(mine) == 2 * n_requests, (len(mine), n_requests)
            timings = ", ".join(f"{k} {w:.2f} s (CPU {c:.2f} s)" for k, (w, c) in ((k, got[k][-1]) for k in sides))
            print(f"  {name} round {r + 1}: {timings}", file=sys.stderr, flush=True)
        turns = f"{len(convs)} runs, {n_requests} requests"
        sdk_wall = statistics.median(w for w, _ in got["sdk"])
        sdk_cpu = statistics.median(c for _, c in got["sdk"])
        rows = []
        for k, label in (("before", " — before (--src)"), ("ours", "")):
            if k not in got:
                continue
            ratio = statistics.median(x[0] / y[0] for x, y in zip(got[k], got["sdk"], strict=True))
            rows.append(f"| whole `skillstudio test` ({name}; {turns}, latency {script['delay_s'] * 1000:.0f} ms, "
                        f"concurrency {CONCURRENCY}){label} | {statistics.median(w for w, _ in got[k]):.2f} s "
                        f"(CPU {statistics.median(c for _, c in got[k]):.2f} s) | bare SDK (`AsyncOpenAI` + "
                        f"semaphore, same requests, {baseline_mode} stop) {sdk_wall:.2f} s (CPU {sdk_cpu:.2f} s) | "
                        f"{ratio:.2f}x | <= 1.0x |")
        return rows
    finally:
        server.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds per row (default 5)")
    ap.add_argument("--latency", type=float, default=0.05, help="server seconds before the first byte (default 0.05)")
    ap.add_argument("--baseline", choices=("early", "full"), default="early",
                    help="the SDK baseline stops reading a settled turn early (default) or reads every event")
    ap.add_argument("--only", choices=("first", "explore"), help="run one row only")
    ap.add_argument("--src", type=Path, help="another checkout's desktop/ folder, timed as 'before' in the same rounds")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(PYTHONPATH=str(REPO / "desktop"), OPENAI_API_KEY="bench-key")
    base_script = {"keywords": KEYWORDS, "delay_s": args.latency, "reasoning_first": True}
    print("| benchmark | measured | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="ss-bench-sdk-") as tmp:
        if args.only in (None, "first"):
            for row in scenario("decides on the first call", base_script, args.rounds, Path(tmp), env, args.baseline,
                                args.src):
                print(row, flush=True)
        if args.only in (None, "explore"):
            for row in scenario("explore-first prompts", {**base_script, "explore": EXPLORE}, args.rounds,
                                Path(tmp), env, args.baseline, args.src):
                print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
