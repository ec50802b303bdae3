"""`skillstudio test` as people read it (table and summary line) and as CI pays for it (what it imports)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from support.cli_runner import cli
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import KEYWORDS, write_workspace

DESKTOP = Path(__file__).resolve().parents[2] / "desktop"


def _need_bwrap() -> None:
    from skillstudio.errors import SkillStudioError
    from skillstudio.sandbox.bwrap import check_bwrap
    from support.realparts import need

    try:
        check_bwrap()
    except SkillStudioError as exc:
        need(False, f"bubblewrap: {exc.message}")


def test_table_and_summary_count_undecided_runs_and_how_runs_decided(tmp_path: Path) -> None:
    """One case explores then reads, one never decides within the budget; the rest decide at once."""
    _need_bwrap()
    ws = write_workspace(tmp_path / "ws")
    j = tmp_path / "r.json"
    script = Script(keywords=list(KEYWORDS), explore={"Pull the Q3": ["ls -la"],
                                                      "Why is the cash": ["ls", "pwd", "ls -la", "ls", "ls"]})
    with FakeOpenAI(script) as srv:
        p = cli(str(ws), "--base-url", srv.base_url, "--runs", "1", "--json", str(j), "--no-save", "-v",
                env={"OPENAI_API_KEY": "k"})
    assert p.returncode == 1 and "Traceback" not in p.stderr  # the undecided trigger case fails
    report = json.loads(j.read_text())
    s = report["summary"]
    for key in ("cases", "passed", "failed", "tp", "fp", "tn", "fn", "requests", "cached", "wall_s"):
        assert key in s  # CONTRACT fields stay
    cats = s["categories"]
    assert cats["explored"] == 1 and cats["undecided"] == 1 and s["undecided"] == 1
    # the summary line counts every category the runs fell in, in the JSON report's numbers
    line = next(x for x in (p.stdout + p.stderr).splitlines() if x.startswith(f"{s['cases']} cases:"))
    runs = re.search(r"runs: ([^;]+)", line)
    assert runs is not None, line
    said = dict((words, int(n)) for n, words in re.findall(r"(\d+) ([a-z][a-z ]*?)(?: \(|,|$)", runs.group(1)))
    assert said == {{"direct": "direct", "explored": "after exploring", "other_skill": "read another skill first",
                     "answered": "answered", "undecided": "undecided"}[k]: n for k, n in cats.items() if n}
    assert "undecided (counted as not triggered)" in line
    # the table: the undecided run is marked "?", each case says how its runs decided
    rows = {r.split("│")[-2].strip(): r for r in p.stdout.splitlines() if r.startswith("│")}
    undecided = next(r for prompt, r in rows.items() if prompt.startswith("Why is the cash"))
    explored = next(r for prompt, r in rows.items() if prompt.startswith("Pull the Q3"))
    cells = [c.strip() for c in undecided.split("│")]
    assert "?" in cells and "undecided" in cells
    assert "explored" in [c.strip() for c in explored.split("│")]
    assert "? = undecided" in p.stdout


def _modules_after(argv: list[str], env: dict[str, str]) -> tuple[int, set[str]]:
    code = ("import sys\nfrom skillstudio.cli.main import main\ncode = 0\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit as e:\n    code = e.code\nprint('@@modules@@', code, *sorted(sys.modules))")
    full = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    full.update(env, PYTHONPATH=str(DESKTOP))
    p = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=full, timeout=120)
    tail = p.stdout.split("@@modules@@")[-1].split()
    assert tail, p.stderr
    return int(tail[0]), set(tail[1:])


def test_a_streamed_run_against_a_server_imports_neither_the_sdk_nor_a_vocabulary_nor_the_keyring(
        tmp_path: Path) -> None:
    """Key and base URL in the environment, a model without a price: the SDK's types, the o200k
    vocabulary (token usage comes from the API) and the keyring are all left alone."""
    ws = write_workspace(tmp_path / "ws")
    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        code, loaded = _modules_after(["test", str(ws), "--runs", "1", "--model", "llama3.1"],
                                      {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": srv.base_url})
        assert srv.calls("responses") > 0  # it did ask the model
    assert code in (0, 1) and "skillstudio.evals.routers.responses" in loaded
    for heavy in ("openai", "tiktoken", "keyring"):
        assert not any(m == heavy or m.startswith(heavy + ".") for m in loaded), heavy


def test_version_imports_neither_pydantic_nor_openai_and_offline_test_no_sdk(tmp_path: Path) -> None:
    code, loaded = _modules_after(["--version"], {})
    assert code == 0
    assert not any(m.split(".")[0] in ("pydantic", "openai") for m in loaded)
    ws = write_workspace(tmp_path / "ws")
    code, loaded = _modules_after(["test", str(ws), "--offline", "--runs", "1", "--no-save"], {})
    assert code in (0, 1) and "skillstudio.evals.routers.offline" in loaded
    assert not any(m.split(".")[0] in ("openai", "httpx", "tiktoken") for m in loaded)
