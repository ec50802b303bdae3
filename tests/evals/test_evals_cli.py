"""`skillstudio test` end to end, as a user (or CI) runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from skillstudio.evals.store import RunStore
from support.cli_runner import cli
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import KEYWORDS


def test_offline_example_workspace_writes_every_report(example_workspace: Path, tmp_path: Path,
                                                       artifacts_dir: Path) -> None:
    j, x, h = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.html"
    p = cli(str(example_workspace), "--offline", "--json", str(j), "--junit", str(x), "--html", str(h), process=True)
    assert "Traceback" not in p.stderr
    report = json.loads(j.read_text())
    s = report["summary"]
    assert p.returncode == (1 if s["failed"] or s["errors"] else 0)
    # CONTRACT fields
    for key in ("model", "base_url", "runs", "threshold", "cases", "summary"):
        assert key in report
    for key in ("cases", "passed", "failed", "tp", "fp", "tn", "fn", "requests", "cached", "wall_s"):
        assert key in s
    case = report["cases"][0]
    for key in ("skill", "prompt", "expect", "runs", "triggered", "trigger_rate", "passed", "selected"):
        assert key in case
    assert report["runs"] == 3 and report["threshold"] == 0.5 and len(case["selected"]) == 3
    assert s["cases"] == s["passed"] + s["failed"] and s["tp"] + s["fp"] + s["tn"] + s["fn"] == s["cases"]
    assert report["model"] == "offline estimate" and report["estimate"] is True
    suites = ET.parse(x).getroot()
    assert int(suites.get("tests")) == s["cases"] and int(suites.get("failures")) == s["failed"]
    assert len(suites.findall(".//failure")) == s["failed"]
    html = h.read_text()
    assert "Offline estimate" in html and "Confusion matrix" in html and "<script" not in html
    (artifacts_dir / "trigger-report-offline.html").write_text(html)
    store = RunStore(example_workspace / ".skillstudio")
    assert store.path.is_file() and len(store.list()) == 1
    assert store.load("latest")["summary"]["cases"] == s["cases"]


def test_no_key_no_server_is_an_error_never_a_silent_estimate(workspace: Path) -> None:
    p = cli(str(workspace), "--runs", "1", env={"CI": "true"})
    assert p.returncode == 2 and p.stdout == "" and len(p.stderr.strip().splitlines()) == 1
    assert "no OpenAI API key and no base URL" in p.stderr and "--offline" in p.stderr and "--base-url" in p.stderr
    assert not (workspace / ".skillstudio" / "runs.sqlite").exists()  # nothing ran, nothing was saved
    est = cli(str(workspace), "--runs", "1", "--offline")
    assert "OFFLINE ESTIMATE" in est.stderr and "not a model" in est.stderr
    assert est.returncode in (0, 1) and "Traceback" not in est.stderr


def test_against_a_server_reports_failures_and_exit_1_then_caches(workspace: Path, tmp_path: Path) -> None:
    j = tmp_path / "r.json"
    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        p = cli(str(workspace), "--base-url", srv.base_url, "--model", "gpt-test", "--json", str(j),
                env={"OPENAI_API_KEY": "sk-test-secret"})
        assert p.returncode == 1, p.stderr  # one miss and one false trigger
        report = json.loads(j.read_text())
        assert report["model"] == "gpt-test" and report["base_url"] == srv.base_url
        s = report["summary"]
        assert (s["passed"], s["failed"], s["tp"], s["fp"], s["tn"], s["fn"]) == (7, 2, 5, 1, 2, 1)
        assert s["requests"] == 27 and s["cached"] == 0
        p2 = cli(str(workspace), "--base-url", srv.base_url, "--model", "gpt-test", "--json", str(j),
                 env={"OPENAI_API_KEY": "sk-test-secret"})
        assert srv.calls() == 27
    again = json.loads(j.read_text())["summary"]
    assert p2.returncode == 1 and again["requests"] == 0 and again["cached"] == 27
    for f in (workspace / ".skillstudio").rglob("*.json"):
        assert "sk-test-secret" not in f.read_text()


def test_passing_suite_exits_0_with_chat_provider(workspace: Path, tmp_path: Path) -> None:
    keywords = [*KEYWORDS[:5], ("cash account", "ledger-reconcile")]  # no false trigger, no miss
    with FakeOpenAI(Script(keywords=keywords)) as srv:
        p = cli(str(workspace), "--provider", "chat", "--base-url", srv.base_url, "--runs", "2", "--junit",
                str(tmp_path / "j.xml"))
        assert srv.calls("completions") == 18 and srv.calls("responses") == 0
    assert p.returncode == 0, p.stdout + p.stderr
    assert "9 passed, 0 failed" in p.stdout
    assert ET.parse(tmp_path / "j.xml").getroot().get("failures") == "0"


def test_errors_after_retries_are_reported_distinctly_and_exit_1(workspace: Path, tmp_path: Path) -> None:
    j = tmp_path / "r.json"
    keywords = [*KEYWORDS[:5], ("cash account", "ledger-reconcile")]
    with FakeOpenAI(Script(keywords=keywords, faults={"Pull the Q3": ["500*"]})) as srv:
        p = cli(str(workspace), "--base-url", srv.base_url, "--runs", "1", "--retries", "1", "--json", str(j),
                "--junit", str(tmp_path / "j.xml"), "--html", str(tmp_path / "r.html"))
    assert p.returncode == 1
    assert "1 errors" in p.stderr and "0 failed" in p.stderr
    case = json.loads(j.read_text())["cases"][0]
    assert case["status"] == "error" and case["passed"] is None
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert root.get("errors") == "1" and root.get("failures") == "0"
    assert "HTTP 500" in (tmp_path / "r.html").read_text()


def test_refused_key_is_one_line_exit_2(workspace: Path) -> None:
    with FakeOpenAI(Script(keywords=list(KEYWORDS), refuse_key="sk-bad")) as srv:
        p = cli(str(workspace), "--base-url", srv.base_url, env={"OPENAI_API_KEY": "sk-bad"})
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "API key was refused" in p.stderr.strip().splitlines()[-1]


def test_bad_input_is_exit_2_with_a_hint(tmp_path: Path) -> None:
    p = cli(str(tmp_path / "nope"), "--offline")
    assert p.returncode == 2 and "no such folder" in p.stderr and "Traceback" not in p.stderr
    empty = tmp_path / "ws" / "lonely"
    empty.mkdir(parents=True)
    (empty / "SKILL.md").write_text("---\nname: lonely\ndescription: A skill without cases.\n---\nbody\n")
    p = cli(str(tmp_path / "ws"), "--offline")
    assert p.returncode == 2 and "no trigger cases" in p.stderr
    p = cli(str(tmp_path / "ws"), "--offline", "--runs", "0")
    assert p.returncode == 2 and "--runs" in p.stderr


def test_compare_with_the_previous_run(workspace: Path, tmp_path: Path) -> None:
    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        assert cli(str(workspace), "--base-url", srv.base_url, "--runs", "1").returncode == 1
    better = [("cash account", "ledger-reconcile"), *KEYWORDS[:5]]  # fixes the miss and the false trigger
    j = tmp_path / "r.json"
    with FakeOpenAI(Script(keywords=better)) as srv:
        p = cli(str(workspace), "--base-url", srv.base_url, "--runs", "1", "--compare", "previous", "--json", str(j))
    assert p.returncode == 0, p.stderr
    assert "2 fixed, 0 broke" in p.stdout and "McNemar exact p = 0.5000" in p.stdout
    diff = json.loads(j.read_text())["compare"]
    assert len(diff["fixed"]) == 2 and diff["mcnemar_p"] == 0.5
    # saved runs: listed, exported again without a model, compared again
    runs = subprocess.run([sys.executable, "-m", "skillstudio", "runs", "list", str(workspace)],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert runs.returncode == 0 and runs.stdout.count("gpt-5.4") == 2
    again = tmp_path / "again.html"
    exp = subprocess.run([sys.executable, "-m", "skillstudio", "runs", "export", str(workspace), "previous",
                          "--html", str(again)], capture_output=True, text=True)
    assert exp.returncode == 0 and "Why is the cash account" in again.read_text()
    cmp_json = tmp_path / "cmp.json"
    cmp = subprocess.run([sys.executable, "-m", "skillstudio", "runs", "compare", str(workspace), "previous",
                          "--json", str(cmp_json)], capture_output=True, text=True)
    assert cmp.returncode == 0 and json.loads(cmp_json.read_text())["mcnemar_p"] == 0.5


def test_compare_with_no_saved_run_fails_before_running(workspace: Path) -> None:
    p = cli(str(workspace), "--offline", "--compare", "previous")
    assert p.returncode == 2 and "no saved run to compare with" in p.stderr
    assert not (workspace / ".skillstudio" / "runs").exists()
    assert not (workspace / ".skillstudio" / "runs.sqlite").exists()


def test_ctrl_c_keeps_finished_results_and_exits_130(workspace: Path, tmp_path: Path) -> None:
    import signal
    import time

    j = tmp_path / "r.json"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    # Every prompt but the first hangs, so the run is certainly mid-way when Ctrl-C arrives.
    script = Script(keywords=list(KEYWORDS), faults={"": ["ok", "timeout*"]})
    with FakeOpenAI(script, hang_s=20) as srv:
        proc = subprocess.Popen([sys.executable, "-m", "skillstudio", "test", str(workspace), "--base-url",
                                 srv.base_url, "--runs", "1", "--concurrency", "1", "--json", str(j)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while srv.calls() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Cancelled" in err and "8 of 9 requests were not run" in err and "Traceback" not in err
    report = json.loads(j.read_text())
    assert report["summary"]["finished"] == 1 and report["summary"]["cancelled"] is True
    assert report["cases"][0]["status"] in ("pass", "fail") and report["cases"][1]["status"] == "not_run"


def test_api_key_comes_from_the_keyring_unless_the_environment_has_one(workspace: Path, real_keyring: None) -> None:
    import keyring

    keyring.set_password("skillstudio", "openai-api-key", "sk-from-keyring")
    try:
        with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
            p = cli(str(workspace), "--base-url", srv.base_url, "--runs", "1", "--no-save")
            assert p.returncode == 1 and "Traceback" not in p.stderr
            assert set(srv.state.auth) == {"Bearer sk-from-keyring"}
            srv.state.auth.clear()
            p = cli(str(workspace), "--base-url", srv.base_url, "--runs", "1", "--no-cache", "--no-save",
                    env={"OPENAI_API_KEY": "sk-from-env"})
            assert set(srv.state.auth) == {"Bearer sk-from-env"}
        # a key in the keyring and no base URL: the Responses router is chosen, not the offline estimate
        p = cli(str(workspace), "--runs", "1", "--timeout", "1", "--retries", "0", "--no-save", "--no-cache",
                env={"OPENAI_BASE_URL": srv.base_url})  # the server is gone now: connection errors
        assert "OFFLINE" not in p.stderr and p.returncode == 1 and "errors" in p.stderr
    finally:
        keyring.delete_password("skillstudio", "openai-api-key")


EXAMPLE_KEYWORDS = [("soql", "crm-query"), ("salesforce", "crm-query"), ("pipeline", "crm-query"),
                    ("bank", "ledger-reconcile"), ("ledger", "ledger-reconcile"), ("vlan", "network-config"),
                    ("switch", "network-config"), ("acl", "network-config"), ("soc 2", "compliance-evidence"),
                    ("evidence", "compliance-evidence"), ("ticket", "support-reply"), ("reply", "support-reply")]


def test_example_workspace_against_a_server_every_report_agrees(example_workspace: Path, tmp_path: Path) -> None:
    import yaml

    j, x, h = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.html"
    with FakeOpenAI(Script(keywords=EXAMPLE_KEYWORDS)) as srv:
        p = cli(str(example_workspace), "--base-url", srv.base_url, "--runs", "2", "--json", str(j), "--junit",
                str(x), "--html", str(h))
    report = json.loads(j.read_text())
    # Expected outcomes computed here, independently, from the cases on disk and the keyword rule.
    expected = {"pass": 0, "fail": 0, "tp": 0, "fp": 0, "tn": 0, "fn": 0}
    n_cases = 0
    for skill_dir in sorted(d for d in example_workspace.iterdir() if (d / "SKILL.md").exists()):
        for case in yaml.safe_load((skill_dir / "evals" / "triggers.yaml").read_text())["cases"]:
            n_cases += 1
            sel = next((s for kw, s in EXAMPLE_KEYWORDS if kw in case["prompt"].lower()), None)
            fired = sel == skill_dir.name
            ok = fired if case["expect"] == "trigger" else not fired
            expected["pass" if ok else "fail"] += 1
            key = ("tp" if ok else "fn") if case["expect"] == "trigger" else ("tn" if ok else "fp")
            expected[key] += 1
    s = report["summary"]
    assert s["cases"] == n_cases and s["requests"] == 2 * n_cases
    assert (s["passed"], s["failed"]) == (expected["pass"], expected["fail"])
    assert {k: s[k] for k in ("tp", "fp", "tn", "fn")} == {k: expected[k] for k in ("tp", "fp", "tn", "fn")}
    assert p.returncode == (1 if expected["fail"] else 0)
    root = ET.parse(x).getroot()
    assert int(root.get("tests")) == n_cases and int(root.get("failures")) == expected["fail"]
    html = h.read_text()
    assert f"<b>{expected['pass']}</b>passed" in html and f"<b>{expected['fail']}</b>failed" in html


def test_try_a_prompt_from_the_command_line(workspace: Path) -> None:
    from support.cli_runner import run_cli

    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        p = run_cli("try", str(workspace), "Pull the Salesforce pipeline", "--base-url", srv.base_url, "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["selected"] == "crm-query" and data["first_command"] == "cat /skills/crm-query/SKILL.md"
    off = run_cli("try", str(workspace), "reconcile the bank ledger", "--offline")
    assert off.returncode == 0 and "ledger-reconcile" in off.stdout and "offline estimate" in off.stdout


def test_max_turns_sets_the_budget_and_the_json_report_carries_categories(workspace: Path, tmp_path: Path) -> None:
    """A model that looks around twice before reading: a hit with 3 turns, undecided with --max-turns 2."""
    from skillstudio.errors import SkillStudioError
    from skillstudio.sandbox.bwrap import check_bwrap
    from support.realparts import need

    try:
        check_bwrap()
    except SkillStudioError as exc:
        need(False, f"bubblewrap: {exc.message}")
    j = tmp_path / "r.json"
    script = Script(keywords=list(KEYWORDS), explore={"Pull the Q3": ["ls -la", "pwd && ls"]})
    with FakeOpenAI(script) as srv:
        wide = cli(str(workspace), "--base-url", srv.base_url, "--runs", "1", "--json", str(j), "--no-save")
        hit = next(c for c in json.loads(j.read_text())["cases"] if c["prompt"].startswith("Pull the Q3"))
        tight = cli(str(workspace), "--base-url", srv.base_url, "--runs", "1", "--max-turns", "2", "--json", str(j),
                    "--no-save")
        report = json.loads(j.read_text())
        bad = cli(str(workspace), "--base-url", srv.base_url, "--max-turns", "0")
    assert "Traceback" not in wide.stderr + tight.stderr
    assert hit["selected"] == ["crm-query"] and hit["categories"] == ["explored"] and hit["turns"] == [3]
    miss = next(c for c in report["cases"] if c["prompt"].startswith("Pull the Q3"))
    assert miss["selected"] == [None] and miss["categories"] == ["undecided"] and miss["status"] == "fail"
    assert report["max_turns"] == 2 and report["summary"]["undecided"] == 1
    assert bad.returncode == 2 and "Model turns must be between 1 and 50 (--max-turns)" in bad.stderr
