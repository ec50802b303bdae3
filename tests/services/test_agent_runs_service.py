"""Building an agent run request, decided once for the CLI's `run` and the app's Playground."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillstudio.errors import SkillStudioError
from skillstudio.services.agent_runs import AgentRunSpec, build_run_request
from skillstudio.services.providers import NoModelConfigured
from support.cli_runner import run_cli


def test_the_same_checks_for_every_shell(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = AgentRunSpec(workspace=workspace, prompt="Reconcile October")
    with pytest.raises(NoModelConfigured) as err:
        build_run_request(spec)
    assert "offline" not in err.value.hint  # an agent run has no estimate to fall back on
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    for bad, match in ((AgentRunSpec(workspace=workspace, prompt=" "), "prompt is empty"),
                       (AgentRunSpec(workspace=workspace, prompt="p", pin="crm-query", route="crm"), "both a pinned"),
                       (AgentRunSpec(workspace=workspace, prompt="p", skill_refs=("crm-query=sk_1",)), "hosted runs"),
                       (AgentRunSpec(workspace=workspace, prompt="p", skill_refs=("oops",), hosted=True),
                        "bad skill reference"),
                       (AgentRunSpec(workspace=workspace, prompt="p", compaction="sometimes"), "compaction mode"),
                       (AgentRunSpec(workspace=workspace, prompt="p", data_dir=workspace / "nope"), "does not exist")):
        with pytest.raises(SkillStudioError, match=match) as e:
            build_run_request(bad)
        assert "--" not in e.value.message
    req = build_run_request(AgentRunSpec(workspace=workspace, prompt="p", pin="crm-query@1.0.0", model=" ",
                                         skill_refs=("crm-query=sk_1@2",), hosted=True, side_by_side=True))
    assert req.api_key == "sk-env" and req.pin is not None and req.pin.name == "crm-query"
    assert req.model == "gpt-5.4" and not req.hosted  # side by side: the loop runs local and hosted itself
    assert req.skill_refs["crm-query"].version == "2"


def test_cli_run_names_its_flags_around_the_same_decisions(workspace: Path) -> None:
    p = run_cli("run", str(workspace), "--prompt", "hi", "--data", str(workspace / "nope"),
                env={"OPENAI_API_KEY": "sk-env"})
    assert p.returncode == 2 and "does not exist" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("run", str(workspace), "--prompt", "hi")
    assert p.returncode == 2 and "--base-url" in p.stderr and "--offline" not in p.stderr
