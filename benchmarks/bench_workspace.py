"""Load + validate + count tokens for a generated 1,000-skill workspace.

Baseline, timed in the same process on the same files: merely reading every file's bytes (the
least any tool that looks at the workspace must do). Prints markdown rows
`| benchmark | measured | baseline | ratio | target |`; no assertion on time (see README).
"""

from __future__ import annotations

import gc
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "desktop"))

from skillstudio.bundle import tokens  # noqa: E402
from skillstudio.bundle.validate import validate_workspace  # noqa: E402
from skillstudio.bundle.workspace import load_workspace  # noqa: E402

N_SKILLS = 1000
WORDS = ["pipeline", "account", "ledger", "invoice", "router", "switch", "vlan", "audit", "evidence", "ticket",
         "refund", "outage", "login", "quarter", "forecast", "reconcile", "journal", "variance", "policy", "control",
         "sample", "export", "report", "draft", "reply", "config", "interface", "subnet", "firewall", "deal", "stage",
         "owner", "region", "customer", "vendor", "payment"]


def _english_vocabulary() -> list[str]:
    """Real English words (from Python's own help topics), so tokenisation behaves as on real skills."""
    import re
    from pydoc_data.topics import topics

    words = {w.lower() for text in topics.values() for w in re.findall(r"[A-Za-z]{3,12}", text)}
    return sorted(words)


VOCAB = _english_vocabulary()


def _sentence(rnd: random.Random, n: int) -> str:
    return " ".join(rnd.choice(WORDS) if rnd.random() < 0.3 else rnd.choice(VOCAB)
                    for _ in range(n)).capitalize() + "."


def generate(root: Path, n: int = N_SKILLS, seed: int = 7) -> None:
    rnd = random.Random(seed)
    for i in range(n):
        name = f"skill-{i:04d}-{rnd.choice(WORDS)}"
        d = root / name
        (d / "evals").mkdir(parents=True)
        (d / "scripts").mkdir()
        (d / "templates").mkdir()
        desc = (f"{_sentence(rnd, 18)} Use when the user asks about {rnd.choice(WORDS)} or {rnd.choice(WORDS)}. "
                f"Do not use for {rnd.choice(WORDS)} questions.")
        body = [f"# {name}", "", _sentence(rnd, 25), "", "## Steps", ""]
        body += [f"{k + 1}. {_sentence(rnd, 14)}" for k in range(30)]
        body += ["", "See [the template](templates/report.md) and run `scripts/run.py`.", ""]
        # 1 in 20 is broken the way skills in the wild are (a flow list: strictyaml refuses it, so
        # validation takes the slower reference path for these)
        odd = "allowed-tools: [Read, Bash]\n" if i % 20 == 0 else ""
        (d / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: {desc}\nlicense: Apache-2.0\n{odd}metadata:\n"
            f"  version: \"1.{i % 7}.0\"\n  owner: team-{i % 13}\n---\n" + "\n".join(body), encoding="utf-8")
        cases = "".join(f"  - prompt: \"{_sentence(rnd, 10)}\"\n    expect: {'trigger' if k % 2 else 'no_trigger'}\n"
                        for k in range(16))
        (d / "evals" / "triggers.yaml").write_text("cases:\n" + cases, encoding="utf-8")
        (d / "scripts" / "run.py").write_text("import sys\n\nprint(sys.argv)\n" * 10, encoding="utf-8")
        (d / "templates" / "report.md").write_text("# Report\n\n" + _sentence(rnd, 60) + "\n", encoding="utf-8")


def baseline(root: Path) -> float:
    t = time.perf_counter()
    total = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                total += len(fh.read())
    return time.perf_counter() - t


def measured(root: Path) -> tuple[float, int, int]:
    t = time.perf_counter()
    ws = load_workspace(root)
    results = validate_workspace(ws.skills)
    cat = tokens.catalog_tokens(ws.skills)
    dt = time.perf_counter() - t
    errors = sum(1 for r in results for p in r if p.severity == "error")
    return dt, errors, sum(s.total for s in cat.skills)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root)
        t = time.perf_counter()
        tokens.get_encoding()
        enc_load = time.perf_counter() - t
        baseline(root)  # warm the page cache for both
        runs = []
        for _ in range(3):
            gc.collect()
            base = baseline(root)
            dt, errors, n_tokens = measured(root)
            runs.append((dt, base))
        dt, base = min(runs)
        from skills_ref.validator import validate as ref_validate

        t = time.perf_counter()
        ref_invalid = sum(1 for d in sorted(root.iterdir()) if ref_validate(d))
        ref_dt = time.perf_counter() - t
        print(f"{N_SKILLS} skills: load+validate+tokens {dt:.3f} s (best of 3), read bytes {base:.3f} s, "
              f"{errors} errors (skills-ref: {ref_invalid} invalid), {n_tokens:,} tokens; "
              f"o200k_base load {enc_load:.3f} s", file=sys.stderr)
        print("| benchmark | measured | baseline | ratio | target |")
        print("|---|---|---|---|---|")
        print(f"| load + validate + tokens, {N_SKILLS:,} skills | {dt:.2f} s | {base:.3f} s (read all bytes) | "
              f"{dt / base:.1f}× | < 2 s |")
        print(f"| skills-ref validate (spec rules only), {N_SKILLS:,} skills | {ref_dt:.2f} s | {base:.3f} s "
              f"(read all bytes) | {ref_dt / base:.1f}× | – |")
        print(f"| o200k_base vocabulary load (once per process) | {enc_load:.2f} s | – | – | – |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
