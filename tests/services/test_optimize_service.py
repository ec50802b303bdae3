"""Optimize-and-record, decided once: the "before" run is always saved, the "after" only when better;
a cancelled optimization saves and writes nothing; both shells can cancel."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillstudio.errors import SkillStudioError
from skillstudio.evals.store import RunStore
from skillstudio.services.context import JobContext
from skillstudio.services.optimize import (
    OptimizeRequest,
    ProposerChoice,
    optimize_and_record,
    write_description,
)
from skillstudio.services.providers import ProviderChoice, ProviderKind
from skillstudio.services.settings import RunOptions
from support.cli_runner import run_cli
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import write_workspace

CRM_CASES = [(f"Show the Salesforce pipeline for account {a}", "trigger", None) for a in "ABCDE"] + \
            [(f"Reconcile the bank ledger for branch {b}", "no_trigger", None) for b in "VWXYZ"]
SKILLS = {"crm-query": ("Handles data.", CRM_CASES),
          "ledger-reconcile": ("Bank reconciliation against the general ledger.",
                               [("Reconcile the bank ledger for March", "trigger", None)])}
GOOD = "Query the Salesforce pipeline, accounts and opportunities. Not for bank or ledger reconciliation."


def _request(ws: Path, url: str, **kw: object) -> OptimizeRequest:
    return OptimizeRequest(workspace=ws, skill="crm-query", provider=ProviderChoice(kind=ProviderKind.OFFLINE),
                           proposer=ProposerChoice(base_url=url, model="m"), options=RunOptions(runs=1), **kw)


def test_nothing_better_still_saves_the_before_run(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", SKILLS)
    with FakeOpenAI(Script(proposals=[{"description": "Handles all sorts of data tasks."}])) as srv:
        out = optimize_and_record(_request(ws, srv.base_url, iterations=1))
    assert not out.improved and len(out.saved_runs) == 1
    store = RunStore(ws / ".skillstudio")
    assert store.list() == out.saved_runs
    with pytest.raises(SkillStudioError, match="nothing to write"):
        write_description(out)


def test_a_winner_saves_before_and_after_and_is_written_only_when_asked(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", SKILLS)
    md = ws / "crm-query" / "SKILL.md"
    before = md.read_text()
    messages: list[str] = []
    with FakeOpenAI(Script(proposals=[{"description": GOOD}])) as srv:
        out = optimize_and_record(_request(ws, srv.base_url), JobContext(on_message=messages.append))
    assert out.improved and len(out.saved_runs) == 2 and md.read_text() == before
    assert any("before/after" in m for m in messages)
    write_description(out)
    assert f"description: {GOOD}" in md.read_text()


def test_cancelled_saves_and_writes_nothing(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", SKILLS)
    ctx = JobContext()
    ctx.cancel.cancel()
    with FakeOpenAI(Script(proposals=[{"description": GOOD}])) as srv:
        out = optimize_and_record(_request(ws, srv.base_url), ctx)
    assert out.cancelled and out.result is None and out.saved_runs == []
    assert not (ws / ".skillstudio" / "runs.sqlite").exists() or RunStore(ws / ".skillstudio").list() == []


def test_needs_a_proposing_model_and_cli_saves_the_before_run_too(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", SKILLS)
    with pytest.raises(SkillStudioError, match="needs a model to propose"):
        optimize_and_record(_request(ws, ""))
    with FakeOpenAI(Script(proposals=[{"description": "Handles all sorts of data tasks."}])) as srv:
        p = run_cli("optimize", str(ws), "--skill", "crm-query", "--provider", "offline", "--base-url", srv.base_url,
                    "--runs", "1", "--iterations", "1")
    assert p.returncode == 0, p.stderr
    assert "current description stays" in p.stdout and len(RunStore(ws / ".skillstudio").list()) == 1
