"""Explicit-only skills in trigger tests (issue 11 §3), and the catalog a skill given alone competes in (§4).

An explicit-only skill is never offered to the model; its `trigger` cases are reported as
explicit-only (never a miss, never a failure, JUnit: skipped with the reason) and cost no request;
its `no_trigger` cases still run. A skill given alone competes with the catalog of its workspace,
found as the app finds it (skills at any depth, the nearest `.skillstudio/` or `.git` above it).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from skillstudio.errors import SkillStudioError
from skillstudio.evals import metrics, reports
from skillstudio.evals.routers.responses import ResponsesRouter
from skillstudio.evals.runner import RunSettings, run_suite_sync
from skillstudio.evals.suite import build_suite, workspace_of
from support.cli_runner import cli
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import KEYWORDS, write_workspace

# no false trigger on "ticket volume", so every case that runs passes
CLEAN = [k for k in KEYWORDS if k[0] != "ticket volume"]


def _claude_explicit_only(skill_dir: Path) -> None:
    md = skill_dir / "SKILL.md"
    md.write_text(md.read_text().replace("metadata:", "disable-model-invocation: true\nmetadata:", 1))


def _codex_explicit_only(skill_dir: Path) -> None:
    (skill_dir / "agents").mkdir(exist_ok=True)
    (skill_dir / "agents" / "openai.yaml").write_text("policy:\n  allow_implicit_invocation: false\n")


def _add_case(skill_dir: Path, prompt: str, expect: str) -> None:
    f = skill_dir / "evals" / "triggers.yaml"
    f.write_text(f.read_text() + f'  - prompt: "{prompt}"\n    expect: {expect}\n')


def test_an_explicit_only_skill_is_not_offered_and_its_trigger_cases_are_set_aside(workspace: Path) -> None:
    _claude_explicit_only(workspace / "ledger-reconcile")
    _add_case(workspace / "ledger-reconcile", "Reply to the refund ticket from Initech", "no_trigger")
    suite = build_suite(workspace)
    assert [e.name for e in suite.catalog] == ["crm-query", "support-reply"]
    assert [(c.skill, c.expect) for c in suite.explicit_only] == [("ledger-reconcile", "trigger")] * 2
    assert ("ledger-reconcile", "no_trigger") in {(c.skill, c.expect) for c in suite.cases}  # still runs
    assert suite.explicit_only_skills == {"ledger-reconcile": ["disable-model-invocation: true in SKILL.md "
                                                               "(Claude Code)"]}
    assert "3 skills at the top level; 1 explicit-only, not offered to the model: ledger-reconcile" in suite.found
    # indexes stay unique and in file order across both lists
    assert [c.index for c in suite.all_cases()] == list(range(10))

    codex = write_workspace(workspace.parent / "codex")
    _codex_explicit_only(codex / "support-reply")
    assert [e.name for e in build_suite(codex).catalog] == ["crm-query", "ledger-reconcile"]


def test_explicit_only_cases_are_reported_not_missed_in_every_report(workspace: Path) -> None:
    _claude_explicit_only(workspace / "ledger-reconcile")
    _add_case(workspace / "ledger-reconcile", "Reply to the refund ticket from Initech", "no_trigger")
    suite = build_suite(workspace)
    with FakeOpenAI(Script(keywords=CLEAN)) as srv:
        run = run_suite_sync(suite, ResponsesRouter(model="m", api_key="k", base_url=srv.base_url),
                             RunSettings(runs=2))
        offered = {s["name"] for b in srv.state.bodies for t in b.get("tools") or []
                   for s in (t.get("environment") or {}).get("skills") or []}
        prompts = {b["input"] if isinstance(b["input"], str) else "" for b in srv.state.bodies}
    assert offered == {"crm-query", "support-reply"}  # never offered to the model
    assert "Why is the cash account off from the bank" not in prompts  # its trigger cases cost no request
    assert run.requests == 8 * 2
    report = metrics.summarize(run)
    held = [c for c in report["cases"] if c["status"] == "explicit_only"]
    assert [c["prompt"] for c in held] == ["Reconcile the bank statement with the ledger",
                                           "Why is the cash account off from the bank"]
    assert all(c["passed"] is None and c["runs"] == 0 and "disable-model-invocation" in c["explicit_only"]
               for c in held)
    neg = next(c for c in report["cases"] if c["skill"] == "ledger-reconcile" and c["expect"] == "no_trigger")
    assert neg["status"] == "pass" and neg["runs"] == 2  # the skill is not offered: it cannot fire
    s = report["summary"]
    assert (s["cases"], s["explicit_only"], s["passed"], s["failed"]) == (10, 2, 8, 0)
    assert (s["tp"], s["fn"]) == (4, 0)  # not misses
    assert report["per_skill"]["ledger-reconcile"]["explicit_only"] == 2
    assert report["explicit_only_skills"] == {"ledger-reconcile": ["disable-model-invocation: true in SKILL.md "
                                                                   "(Claude Code)"]}
    assert "ledger-reconcile" not in report["confusion"]["labels"]
    # the order of the report is the order of the files
    assert [c["prompt"] for c in report["cases"]][4:6] == [c["prompt"] for c in held]

    junit = ET.fromstring(reports.to_junit(report).split("\n", 1)[1])
    assert junit.get("skipped") == "2" and junit.get("failures") == "0"
    skipped = junit.findall(".//testcase/skipped")
    assert len(skipped) == 2 and all("explicit-only skill (disable-model-invocation: true" in x.get("message", "")
                                     for x in skipped)
    csv = reports.to_csv(report)
    assert csv.splitlines()[0].endswith(",explicit_only")
    assert sum(",explicit_only," in line for line in csv.splitlines()) == 2
    html = reports.to_html(report)
    assert "explicit-only (not run)" in html and 'class="badge explicit_only">explicit-only<' in html
    assert json.loads(reports.to_json(report))["summary"]["explicit_only"] == 2


def test_the_cli_reports_explicit_only_cases_and_says_what_was_found(workspace: Path, tmp_path: Path) -> None:
    _claude_explicit_only(workspace / "ledger-reconcile")
    j, x = tmp_path / "r.json", tmp_path / "r.xml"
    with FakeOpenAI(Script(keywords=CLEAN)) as srv:
        p = cli(str(workspace), "--base-url", srv.base_url, "--runs", "1", "-v", "--json", str(j),
                "--junit", str(x), env={"OPENAI_API_KEY": "sk-test"})
    assert p.returncode == 0, p.stdout + p.stderr  # explicit-only cases never fail a CI gate
    assert f"{workspace}: 3 skills at the top level; 1 explicit-only, not offered to the model: " \
           "ledger-reconcile" in p.stderr
    assert p.stdout.count("explicit-only") >= 2  # the two cases in the table
    assert "2 explicit-only (skill not offered to the model; not run, not a miss)" in p.stdout
    assert json.loads(j.read_text())["summary"]["explicit_only"] == 2
    assert ET.parse(x).getroot().get("skipped") == "2"


def test_a_workspace_of_only_explicit_only_skills_with_negatives_says_why(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", {"deploy": ("Deploy the app to production.",
                                                      [("Deploy now", "trigger", None),
                                                       ("Write a poem", "no_trigger", None)])})
    _claude_explicit_only(ws / "deploy")
    with pytest.raises(SkillStudioError, match="every skill here is explicit-only"):
        build_suite(ws)
    p = cli(str(ws), "--offline")
    assert p.returncode == 2 and "explicit-only" in p.stderr and "Traceback" not in p.stderr


# --------------------------------------------------------------------------- the catalog of a skill given alone

def _repo(root: Path) -> Path:
    """A repository laid out like public skill collections: skills at several depths."""
    (root / ".git").mkdir(parents=True)
    write_workspace(root / "plugins" / "sales" / "skills", {"crm-query": (
        "Query Salesforce pipeline, opportunities and accounts with SOQL.",
        [("Pull the Q3 pipeline for Acme from Salesforce", "trigger", None),
         ("A customer cannot log in, draft a reply", "no_trigger", "support-reply")])})
    write_workspace(root / "skills", {"support-reply": (
        "Draft replies to customer support tickets in the house tone.",
        [("A customer cannot log in, draft a reply", "trigger", None)])})
    write_workspace(root / ".claude" / "skills", {"ledger-reconcile": (
        "Month-end bank reconciliation against the general ledger.",
        [("Reconcile the bank statement with the ledger", "trigger", None)])})
    return root


def test_a_nested_skill_competes_with_the_catalog_of_its_repository(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    skill = repo / "plugins" / "sales" / "skills" / "crm-query"
    assert workspace_of(skill) == repo.resolve()
    suite = build_suite(skill)
    assert sorted(e.name for e in suite.catalog) == ["crm-query", "ledger-reconcile", "support-reply"]
    assert {c.skill for c in suite.cases} == {"crm-query"} and len(suite.cases) == 2
    assert suite.root == repo.resolve()  # cache and history in the repository's .skillstudio/
    assert suite.found.startswith(f"{repo.resolve()}: 3 skills in 3 folders")
    # a workspace opened inside the repository (it holds .skillstudio/) is nearer: its catalog wins
    (repo / "plugins" / "sales" / ".skillstudio").mkdir()
    assert workspace_of(skill) == (repo / "plugins" / "sales").resolve()
    assert [e.name for e in build_suite(skill).catalog] == ["crm-query"]


def test_a_skill_with_no_marked_workspace_above_uses_its_parent_or_stands_alone(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    assert workspace_of(ws / "crm-query") == ws.resolve()
    lone = write_workspace(tmp_path / "lone", {"solo": ("Does one thing.", [("do it", "trigger", None)])})
    assert workspace_of(lone / "solo") == lone.resolve()  # its parent finds it: a workspace of one
    nested = ws / "crm-query" / "inner"  # a skill inside another skill is not a skill of the workspace
    write_workspace(nested, {"x": ("Inner.", [("x", "trigger", None)])})
    assert workspace_of(nested / "x") == nested.resolve()


def test_the_cli_runs_a_nested_skill_against_its_repository(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    p = cli(str(repo / "plugins" / "sales" / "skills" / "crm-query"), "--offline", "-v")
    assert p.returncode in (0, 1) and "Traceback" not in p.stderr
    assert f"{repo.resolve()}: 3 skills in 3 folders" in p.stderr
    assert "Pull the Q3" in p.stdout and "Reconcile the bank" not in p.stdout  # only its own cases
    assert (repo / ".skillstudio" / "runs.sqlite").is_file()


def test_the_cells_behind_the_confusion_matrix_add_up_to_it(workspace: Path) -> None:
    """The app drills down from a cell with `confusion_cells`: its run counts are the matrix, cell by cell."""
    f = workspace / "crm-query" / "evals" / "triggers.yaml"
    f.write_text(f.read_text().replace('why: "support-reply"', 'why: "support-reply"\n    route_to: none'))
    _claude_explicit_only(workspace / "ledger-reconcile")
    with FakeOpenAI(Script(keywords=list(KEYWORDS), sequences={"Pull the Q3": ["crm-query", None]})) as srv:
        report = metrics.summarize(run_suite_sync(build_suite(workspace), ResponsesRouter(
            model="m", api_key="k", base_url=srv.base_url), RunSettings(runs=2)))
    cells = metrics.confusion_cells(report)
    cm = report["confusion"]
    for r, row in enumerate(cm["rows"]):
        for c, col in enumerate(cm["labels"]):
            assert cm["matrix"][r][c] == cells.get((row, col), {"runs": 0})["runs"], (row, col)
    assert sum(cell["runs"] for cell in cells.values()) == sum(map(sum, cm["matrix"]))
    prompts = [c["prompt"] for c in report["cases"]]
    split = [prompts[i] for i in cells[("crm-query", "none")]["cases"]]
    assert split == ["Pull the Q3 pipeline for Acme from Salesforce"]  # one run of two missed
    assert cells[("none", "support-reply")]["misrouted"] == 2  # route_to none, read support-reply twice
    assert all(cell["misrouted"] == 0 for key, cell in cells.items() if key != ("none", "support-reply"))


def test_other_skills_that_cannot_be_offered_never_block_testing_one(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    template = repo / "templates" / "basic"
    template.mkdir(parents=True)
    (template / "SKILL.md").write_text("---\nname: {{name}}\ndescription: {{description}}\n---\n")  # not YAML
    broken_cases = repo / "skills" / "support-reply" / "evals" / "triggers.yaml"
    broken_cases.write_text("cases: [\n")
    suite = build_suite(repo / "plugins" / "sales" / "skills" / "crm-query")
    assert sorted(e.name for e in suite.catalog) == ["crm-query", "ledger-reconcile", "support-reply"]
    assert [w for w in suite.warnings if w.startswith("catalog: left out basic:")]
    with pytest.raises(SkillStudioError, match="basic"):  # the whole repository still needs every skill sound
        build_suite(repo)
    own = repo / "plugins" / "sales" / "skills" / "crm-query" / "evals" / "triggers.yaml"
    own.write_text("cases: [\n")
    with pytest.raises(SkillStudioError, match="crm-query"):  # the skill under test must be
        build_suite(repo / "plugins" / "sales" / "skills" / "crm-query")
