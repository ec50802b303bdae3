"""Try a prompt and the optimizer follow the Test run's catalog rule: explicit-only skills are never offered."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillstudio.errors import SkillStudioError
from skillstudio.services.context import JobContext
from skillstudio.services.optimize import OptimizeRequest, ProposerChoice, optimize_and_record
from skillstudio.services.providers import ProviderChoice, ProviderKind
from skillstudio.services.settings import RunOptions
from skillstudio.services.trigger_runs import SuiteRunRequest, run_and_record
from skillstudio.services.try_prompt import try_prompt
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import write_workspace

OFFLINE = ProviderChoice(kind=ProviderKind.OFFLINE)


def _explicit_only(skill_dir: Path) -> None:
    md = skill_dir / "SKILL.md"
    md.write_text(md.read_text().replace("metadata:", "disable-model-invocation: true\nmetadata:", 1))


def test_a_try_never_offers_an_explicit_only_skill_and_says_so(workspace: Path) -> None:
    _explicit_only(workspace / "ledger-reconcile")
    out = try_prompt(workspace, "Reconcile the bank statement with the ledger", OFFLINE)
    assert out.skills == ["crm-query", "support-reply"] and out.selected != "ledger-reconcile"
    assert out.skipped == ["ledger-reconcile: explicit-only (disable-model-invocation: true in SKILL.md "
                           "(Claude Code)), never picked by a model"]
    # a skill given alone is tried against its workspace's catalog, as a Test run does
    alone = try_prompt(workspace / "crm-query", "Pull the Salesforce pipeline for Acme", OFFLINE)
    assert alone.skills == ["crm-query", "support-reply"] and alone.selected == "crm-query"


def test_the_optimizer_refuses_an_explicit_only_skill_in_one_line(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    _explicit_only(ws / "crm-query")
    with FakeOpenAI(Script()) as srv, pytest.raises(SkillStudioError, match="crm-query is explicit-only") as info:
        optimize_and_record(OptimizeRequest(workspace=ws, skill="crm-query", provider=OFFLINE,
                                            proposer=ProposerChoice(base_url=srv.base_url, model="m"),
                                            options=RunOptions(runs=1)))
    assert "disable-model-invocation" in info.value.message and info.value.hint


def test_a_run_tells_what_was_found_and_types_explicit_only_counts(workspace: Path) -> None:
    _explicit_only(workspace / "ledger-reconcile")
    said: list[str] = []
    result = run_and_record(SuiteRunRequest(path=workspace, provider=OFFLINE, options=RunOptions(runs=1),
                                            save=False), JobContext(on_message=said.append))
    assert said[0] == result.found and result.found.startswith(f"{workspace}: 3 skills at the top level")
    assert result.report.summary.explicit_only == 2
    held = [c for c in result.report.cases if c.status == "explicit_only"]
    assert len(held) == 2 and all(c.explicit_only and "Claude Code" in c.explicit_only for c in held)
    only = run_and_record(SuiteRunRequest(path=workspace, provider=OFFLINE, options=RunOptions(runs=1),
                                          only=["ledger-reconcile"], save=False))
    assert [c.status for c in only.report.cases] == ["explicit_only", "explicit_only"]
    assert not only.report.failing


def test_both_cli_commands_say_it_in_one_line(tmp_path: Path) -> None:
    from support.cli_runner import run_cli

    ws = write_workspace(tmp_path / "ws")
    _explicit_only(ws / "crm-query")
    tried = run_cli("try", str(ws), "Pull the Salesforce pipeline for Acme", "--offline")
    assert tried.returncode == 0 and "left out of the catalog: crm-query: explicit-only" in tried.stderr
    assert "selected: crm-query" not in tried.stdout
    with FakeOpenAI(Script()) as srv:
        opt = run_cli("optimize", str(ws), "--skill", "crm-query", "--provider", "offline", "--base-url", srv.base_url)
    assert opt.returncode == 2 and "crm-query is explicit-only" in opt.stderr and "Traceback" not in opt.stderr
