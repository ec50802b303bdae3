"""The offline estimate against catalog size: 20, 200, 2,000 and 2,500 skills, 600 cases each.

What is timed is what `skillstudio test --offline --runs 3` does after loading the workspace: the
runner prepares the estimator (index, counter-evidence) and routes every case (once per case, as
the estimate is deterministic). The catalogs are synthetic but worded like real skills (English
words from Python's help topics, a few domain words, a "Do not use for ..." sentence), generated
in memory with a fixed seed. Baseline, measured in the same run: the 200-skill catalog — the
per-case cost should grow about linearly at most (targets: 2,000 skills <= 12x the per-case cost
at 200; 2,500 skills x 600 cases in under 5 s). Prints markdown rows (one per catalog size, the
ratio being the per-case cost against 200 skills); asserts nothing.
"""

from __future__ import annotations

import gc
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "desktop"))

from skillstudio.evals.routers.offline import OfflineRouter  # noqa: E402
from skillstudio.evals.runner import RunSettings, run_suite_sync  # noqa: E402
from skillstudio.evals.suite import CatalogEntry, Suite, SuiteCase  # noqa: E402

SIZES = (20, 200, 2000, 2500)
CASES = 600
RUNS = 3
DOMAIN = ["pipeline", "account", "ledger", "invoice", "router", "switch", "vlan", "audit", "evidence", "ticket",
          "refund", "outage", "login", "quarter", "forecast", "reconcile", "journal", "variance", "policy",
          "control", "export", "report", "draft", "reply", "config", "subnet", "firewall", "customer", "vendor"]


def _vocabulary() -> list[str]:
    from pydoc_data.topics import topics

    return sorted({w.lower() for text in topics.values() for w in re.findall(r"[A-Za-z]{3,12}", text)})


VOCAB = _vocabulary()


def _words(rnd: random.Random, n: int) -> str:
    return " ".join(rnd.choice(DOMAIN) if rnd.random() < 0.3 else rnd.choice(VOCAB) for _ in range(n))


def make_suite(n_skills: int, n_cases: int = CASES, seed: int = 11) -> Suite:
    rnd = random.Random(seed)
    catalog = []
    for i in range(n_skills):
        name = f"skill-{i:04d}-{rnd.choice(DOMAIN)}"
        desc = f"{_words(rnd, 22).capitalize()}. Do not use for {_words(rnd, 4)}."
        catalog.append(CatalogEntry(name, desc, f"/skills/{name}"))
    cases = []
    for i in range(n_cases):
        owner = catalog[rnd.randrange(n_skills)]
        expect = "trigger" if i % 2 == 0 else "no_trigger"
        prompt = f"{_words(rnd, 10)} {owner.name.split('-')[-1]}"
        cases.append(SuiteCase(i, owner.name, prompt, expect))  # type: ignore[arg-type]
    return Suite(Path("."), catalog, cases)


def measure(n_skills: int, repeat: int = 3) -> float:
    """Best wall time of preparing the estimator and routing every case (runs=3, routed once per case)."""
    suite = make_suite(n_skills)
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run = run_suite_sync(suite, OfflineRouter(), RunSettings(runs=RUNS, concurrency=8))
        best = min(best, time.perf_counter() - start)
        assert len(run.outcomes) == CASES * RUNS
    return best


def main() -> None:
    times = {n: measure(n) for n in SIZES}
    base = times[200] / CASES
    print("| benchmark | measured | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    for n in SIZES:
        per = times[n] / CASES
        target = {2000: "<= 12x", 2500: "whole run < 5 s"}.get(n, "at most linear")
        print(f"| offline estimate, {n:,} skills x {CASES} cases (--runs {RUNS}) | {times[n]:.3f} s "
              f"({per * 1000:.3f} ms per case) | 200 skills: {base * 1000:.3f} ms per case | {per / base:.2f}x | "
              f"{target} |")


if __name__ == "__main__":
    main()
