"""Try a prompt, decided once: forgiving about the workspace, in the service and in both shells."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillstudio.errors import SkillStudioError
from skillstudio.services.context import JobContext
from skillstudio.services.providers import ProviderChoice, ProviderKind
from skillstudio.services.try_prompt import try_prompt
from support.cli_runner import run_cli
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import KEYWORDS

OFFLINE = ProviderChoice(kind=ProviderKind.OFFLINE)


def _break_one(workspace: Path) -> None:
    """A skill without a description and a broken triggers.yaml: a test run refuses such a workspace."""
    (workspace / "support-reply" / "SKILL.md").write_text("---\nname: support-reply\n---\n# no description\n")
    (workspace / "crm-query" / "evals" / "triggers.yaml").write_text("cases: [\n")


def test_a_try_leaves_out_what_cannot_be_offered_instead_of_refusing(workspace: Path) -> None:
    _break_one(workspace)
    out = try_prompt(workspace, "Pull the Salesforce pipeline for Acme", OFFLINE)
    assert out.estimate and out.model == "offline estimate"
    assert out.skills == ["crm-query", "ledger-reconcile"]  # a broken case file does not stop its skill
    assert [s.split(":")[0] for s in out.skipped] == ["support-reply"]
    assert out.selected == "crm-query" and out.scores[0][0] == "crm-query"
    with pytest.raises(SkillStudioError, match="prompt is empty"):
        try_prompt(workspace, "  ", OFFLINE)


def test_a_model_try_and_its_cancellation(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        out = try_prompt(workspace, "Reply to the refund ticket from Globex",
                         ProviderChoice(base_url=srv.base_url, model="gpt-test"))
        assert out.selected == "support-reply" and not out.estimate and out.model == "gpt-test (responses)"
        assert out.first_command and "support-reply" in out.first_command and out.route["selected"] == "support-reply"
    with FakeOpenAI(Script(keywords=list(KEYWORDS), delay_s=30)) as slow:
        ctx = JobContext()
        ctx.cancel.cancel()
        gone = try_prompt(workspace, "Reply to the refund ticket", ProviderChoice(base_url=slow.base_url), ctx)
    assert gone.cancelled and gone.selected is None


def test_cli_try_accepts_the_workspace_the_app_accepts(workspace: Path) -> None:
    _break_one(workspace)
    p = run_cli("try", str(workspace), "Pull the Salesforce pipeline for Acme", "--offline")
    assert p.returncode == 0, p.stderr
    assert "selected: crm-query (offline estimate)" in p.stdout and "support-reply" in p.stderr
    no_model = run_cli("try", str(workspace), "Pull the Salesforce pipeline")
    assert no_model.returncode == 2 and "--offline" in no_model.stderr
