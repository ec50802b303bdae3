"""Bulk validation against the reference validator (`skills-ref`), on a generated 3,000-skill workspace.

Rows (markdown, asserting nothing):
- time: our bulk validation (discovery + `bundle.bulk.validate_dirs`, everything `validate` checks)
  against skills-ref's `validate()` called in-process on the same folders, runs alternated, median;
  once on a workspace of valid skills, once on a "real" one (about 1 in 8 broken the ways skills in
  the wild are: flow lists, unknown fields, bad names, unquoted colons, missing fields);
- memory: peak RSS of a fresh process running `skillstudio validate WS --json` against one running
  the reference loop over the same folders (both include their imports);
- `--json` write: building and writing the CLI's JSON for every skill (goal: under 0.3 s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "desktop"))

_WORD_TEXT = ("pipeline account ledger invoice router switch vlan audit evidence ticket refund outage login quarter "
         "forecast reconcile journal variance policy control sample export report draft reply config interface "
         "subnet firewall deal stage owner region customer vendor payment schema query table chart deploy "
         "release branch review commit migrate backup restore monitor alert dashboard metric budget")
WORDS = _WORD_TEXT.split()


def _english_vocabulary() -> list[str]:
    """Real English words (from Python's own help topics): descriptions and bodies vary as real ones do
    (a few dozen words would make every description a near-duplicate of every other)."""
    import re
    from pydoc_data.topics import topics

    return sorted({w.lower() for text in topics.values() for w in re.findall(r"[A-Za-z]{3,12}", text)})


VOCAB = _english_vocabulary()
LICENSES = ("Apache-2.0", "MIT", "Proprietary. LICENSE.txt has complete terms", None)


def _sentence(rnd: random.Random, n: int) -> str:
    words = (rnd.choice(WORDS) if rnd.random() < 0.25 else rnd.choice(VOCAB) for _ in range(n))
    return " ".join(words).capitalize() + "."


def _body(rnd: random.Random, name: str) -> str:
    """A Markdown body of realistic size (about 1-14 KB: a few real skills are over the 5,000-token lint)."""
    out = [f"# {name.replace('-', ' ').title()}", "", _sentence(rnd, 30), ""]
    for s in range(rnd.randint(2, 14)):
        out += [f"## Step {s + 1}: {_sentence(rnd, 4)}", "", _sentence(rnd, rnd.randint(20, 60)), ""]
        if rnd.random() < 0.4:
            out += ["```bash", f"python scripts/run.py --{rnd.choice(WORDS)} {rnd.choice(WORDS)}", "```", ""]
        out += [f"- {_sentence(rnd, rnd.randint(6, 16))}" for _ in range(rnd.randint(2, 8))] + [""]
    out += ["See [the reference](references/guide.md) for details.", ""]
    return "\n".join(out)


def _front(rnd: random.Random, name: str, broken: int | None) -> str:
    desc = f"{_sentence(rnd, rnd.randint(12, 40))} Use when the user asks about {rnd.choice(WORDS)}."
    lines = [f"name: {name}", f"description: {desc}"]
    lic = rnd.choice(LICENSES)
    if lic:
        lines.append(f"license: {lic}")
    if rnd.random() < 0.2:
        lines.append("compatibility: Requires Python 3.11 and network access")
    if rnd.random() < 0.3:
        lines.append("allowed-tools: Read Grep Bash")
    if rnd.random() < 0.8:
        lines += ["metadata:", f'  version: "1.{rnd.randint(0, 9)}.{rnd.randint(0, 9)}"',
                  f"  author: team-{rnd.choice(WORDS)}"]
    if broken == 0:
        lines.append("allowed-tools: [Read, Bash]")  # flow list: strictyaml refuses it (and a duplicate key)
    elif broken == 1:
        lines.append("version: 1.0.0")  # unknown top-level field
    elif broken == 2:
        lines[0] = f"name: {name.title()}"  # uppercase name
    elif broken == 3:
        lines[1] = f"description: Use when: {desc}"  # unquoted colon
    elif broken == 4:
        del lines[1]  # no description
    return "\n".join(lines) + "\n"


def generate(root: Path, n: int, seed: int, broken_share: float) -> list[Path]:
    rnd = random.Random(seed)
    dirs = []
    for i in range(n):
        name = f"{rnd.choice(WORDS)}-{rnd.choice(WORDS)}-{i:04d}"
        d = root / ("skills" if i % 10 else ".curated") / name
        (d / "references").mkdir(parents=True)
        broken = rnd.randrange(5) if rnd.random() < broken_share else None
        (d / "SKILL.md").write_text(f"---\n{_front(rnd, name, broken)}---\n{_body(rnd, name)}", encoding="utf-8")
        (d / "references" / "guide.md").write_text("# Guide\n\n" + _sentence(rnd, 200) + "\n", encoding="utf-8")
        if rnd.random() < 0.5:
            (d / "scripts").mkdir()
            (d / "scripts" / "run.py").write_text("import sys\n\nprint(sys.argv)\n", encoding="utf-8")
        if rnd.random() < 0.3:
            (d / "evals").mkdir()
            cases = "".join(f'  - prompt: "{_sentence(rnd, 9)}"\n    expect: {"trigger" if k % 2 else "no_trigger"}\n'
                            for k in range(8))
            (d / "evals" / "triggers.yaml").write_text("cases:\n" + cases, encoding="utf-8")
        dirs.append(d)
    return dirs


def _ours(root: Path) -> float:
    from skillstudio.bundle.bulk import validate_dirs
    from skillstudio.bundle.workspace import discover

    t = time.perf_counter()
    validate_dirs(discover(root).skills)
    return time.perf_counter() - t


def _reference(dirs: list[Path]) -> float:
    from skills_ref.validator import validate

    t = time.perf_counter()
    for d in dirs:
        validate(d)
    return time.perf_counter() - t


_HWM = """
import atexit, sys
def _hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            sys.stderr.write("VMHWM " + line.split()[1] + "\\n")
atexit.register(_hwm)
"""


def _rss_mib(code: str, argv: list[str], src: Path = REPO / "desktop") -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of a fresh process running `code` (VmHWM: this process's own
    peak, which a child's ru_maxrss is not: it inherits the parent's high-water mark across exec)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _HWM + code, *argv], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False, timeout=900)
    wall = time.perf_counter() - t
    kib = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("VMHWM ")]
    return (int(kib[-1]) / 1024 if kib else float("nan")), wall


def _json_write(root: Path) -> tuple[float, int]:
    from skillstudio.bundle.bulk import validate_dirs
    from skillstudio.bundle.workspace import discover
    from skillstudio.cli.validate_cmd import _json_entry

    reports = validate_dirs(discover(root).skills)
    with open(os.devnull, "w", encoding="utf-8") as sink:
        t = time.perf_counter()
        out = {"skills": [_json_entry(r, None) for r in reports]}
        text = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
        sink.write(text + "\n")
        return time.perf_counter() - t, len(reports)


def _row(name: str, measured: str, baseline: str, ratio: float, target: str) -> str:
    return f"| {name} | {measured} | {baseline} | {ratio:.2f}x | {target} |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skills", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3, help="alternated runs per side (default 3)")
    ap.add_argument("--src", type=Path, help="another checkout's desktop/ folder: its `validate --json` is timed "
                    "and measured as 'before'")
    args = ap.parse_args()
    print("| benchmark | measured | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for label, share in (("valid", 0.0), ("real", 0.12)):
            root = Path(tmp) / label
            dirs = generate(root, args.skills, seed=11, broken_share=share)
            _ours(root)  # warm-up: imports, the token vocabulary, the page cache
            _reference(dirs)
            ours, ref = [], []
            for _ in range(args.runs):
                ours.append(_ours(root))
                ref.append(_reference(dirs))
            m, b = statistics.median(ours), statistics.median(ref)
            print(_row(f"bulk validate, {args.skills:,} {label} skills", f"{m:.2f} s", f"skills-ref in-process "
                       f"{b:.2f} s", m / b, "<= 1x"), flush=True)
        root = Path(tmp) / "real"
        listing = Path(tmp) / "dirs.txt"
        listing.write_text("\n".join(str(d) for d in discover_dirs(root)), encoding="utf-8")
        ref_rss, ref_wall = _rss_mib("from pathlib import Path\nfrom skills_ref.validator import validate\n"
                                     "for line in open(sys.argv[1]):\n    validate(Path(line.strip()))\n",
                                     [str(listing)])
        cli = "from skillstudio.cli.main import main\nmain(sys.argv[1:])\n"
        for label, src in [(" (before)", args.src.resolve())] * bool(args.src) + [("", REPO / "desktop")]:
            rss, wall = _rss_mib(cli, ["validate", str(root), "--json"], src)
            print(_row(f"bulk validate peak RSS, {args.skills:,} real skills (`validate --json`){label}",
                       f"{rss:.0f} MiB", f"skills-ref loop {ref_rss:.0f} MiB", rss / ref_rss, "<= 3x"), flush=True)
            print(_row(f"`validate --json` whole command, {args.skills:,} real skills{label}", f"{wall:.2f} s",
                       f"skills-ref loop process {ref_wall:.2f} s", wall / ref_wall, ""), flush=True)
        t, n = _json_write(root)
        print(_row(f"`validate --json` build + write, {n:,} skills", f"{t * 1000:.0f} ms", "0.3 s goal",
                   t / 0.3, "< 0.3 s"), flush=True)
    return 0


def discover_dirs(root: Path) -> list[Path]:
    from skillstudio.bundle.workspace import discover

    return discover(root).skills


if __name__ == "__main__":
    sys.exit(main())
