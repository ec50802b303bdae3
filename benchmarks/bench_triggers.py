"""Trigger-test runner throughput, cache and offline estimator speed (issue 3, section 8).

- 600 requests (200 cases x 3 runs) against a local scripted server with injected latency L = 200 ms
  at concurrency 16: wall time of the whole run call against the ideal 600 x L / 16 (target: within
  1.15x). The model has no price, so no token vocabulary is loaded: usage comes from the API. The
  server runs in its own process so the client's CPU is measured honestly; the CPU per request of
  both sides is printed with the row.
- The same suite re-run fully cached (target: under 1 s, zero model calls).
- The offline estimator: cases per second (target: at least 10,000).
Prints markdown rows; asserts nothing. Only loopback traffic, bounded in count and time.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "desktop"))
sys.path.insert(0, str(REPO / "tests"))

LATENCY = 0.2
SKILLS, CASES_PER_SKILL, RUNS, CONCURRENCY = 20, 10, 3, 16


def make_workspace(root: Path) -> list[tuple[str, str]]:
    from support.trigger_workspace import write_workspace

    skills = {}
    keywords = []
    for s in range(SKILLS):
        name = f"skill-{s:02d}"
        word = f"topic{s:02d}"
        cases = [(f"Please handle {word} item {i}", "trigger" if i % 2 else "no_trigger", None)
                 for i in range(CASES_PER_SKILL)]
        skills[name] = (f"Handles {word} requests end to end.", cases)
        keywords.append((word, name))
    write_workspace(root, skills)
    return keywords


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of another process, from /proc; 0 where there is no /proc."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    import json
    import subprocess

    from skillstudio.evals.cache import ResultCache
    from skillstudio.evals.routers.offline import OfflineRouter
    from skillstudio.evals.routers.responses import ResponsesRouter
    from skillstudio.evals.runner import RunSettings, run_suite_sync
    from skillstudio.evals.suite import build_suite

    print("| benchmark | measured | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    ws = Path(tempfile.mkdtemp(prefix="ss-bench-triggers-")) / "ws"
    keywords = make_workspace(ws)
    suite = build_suite(ws)
    total = len(suite.cases) * RUNS
    ideal = total * LATENCY / CONCURRENCY
    settings = RunSettings(runs=RUNS, concurrency=CONCURRENCY)
    spec = json.dumps({"keywords": keywords, "delay_s": LATENCY, "reasoning_first": False})
    # The scripted server runs in its own process, so its work does not share our GIL.
    server = subprocess.Popen([sys.executable, str(REPO / "tests" / "support" / "fake_openai.py"), spec],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        base_url = server.stdout.readline().strip()  # type: ignore[union-attr]
        cache = ResultCache(ws / ".skillstudio" / "cache")
        router = ResponsesRouter(model="bench", api_key="k", base_url=base_url)
        server_cpu0, cpu0, t = _cpu_s(server.pid), time.process_time(), time.perf_counter()
        run = run_suite_sync(suite, router, settings, cache=cache)
        wall = time.perf_counter() - t  # the whole call: preparing, cache keys, requests, closing
        client_ms = (time.process_time() - cpu0) / total * 1000
        server_ms = (_cpu_s(server.pid) - server_cpu0) / total * 1000
        assert run.requests == total and not any(o.error for o in run.outcomes.values()), "bench run failed"
        print(f"| {total} streamed requests, latency {LATENCY * 1000:.0f} ms, concurrency {CONCURRENCY} "
              f"(CPU per request: client {client_ms:.1f} ms, server {server_ms:.1f} ms) | "
              f"{wall:.2f} s | ideal {ideal:.2f} s | {wall / ideal:.2f}x | <= 1.15x |")
        t = time.perf_counter()
        again = run_suite_sync(suite, ResponsesRouter(model="bench", api_key="k", base_url=base_url),
                               settings, cache=cache)
        cached_s = time.perf_counter() - t
        assert again.requests == 0 and again.cached == total
        print(f"| fully cached re-run of {total} results | {cached_s:.3f} s | 1 s budget | "
              f"{cached_s / 1.0:.2f}x | < 1 s, 0 requests |")
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        server.wait(10)
    router_off = OfflineRouter()
    router_off.prepare(suite)
    n = 0
    t = time.perf_counter()
    while time.perf_counter() - t < 1.0:
        for c in suite.cases:
            router_off.select(c.prompt, c.index)
        n += len(suite.cases)
    rate = n / (time.perf_counter() - t)
    print(f"| offline estimate ({SKILLS} skills) | {rate:,.0f} cases/s | 10,000 cases/s | "
          f"{rate / 10000:.1f}x | >= 10,000 cases/s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
