"""Deterministic routing: pinned runs offer one skill and refuse to be silently re-routed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from skillstudio.agent.routing import Pin, plan, skills_touched
from skillstudio.agent.runner import RunRequest, execute
from skillstudio.bundle import skillmd
from skillstudio.errors import CheckFailed, SkillStudioError
from support.fake_agent_server import FakeAgentServer, Script, message, response, shell_call

SKILL = "ledger-reconcile"


def test_pin_parsing() -> None:
    assert Pin.parse("crm-query") == Pin("crm-query", None)
    assert Pin.parse("crm-query@1.2.0") == Pin("crm-query", "1.2.0")
    for bad in ("", "@1.0", "Crm Query", "crm-query@"):
        with pytest.raises(SkillStudioError):
            Pin.parse(bad)


def test_skills_touched_uses_the_trigger_rule_for_every_skill() -> None:
    cat = [("a", "/skills/a"), ("a-b", "/skills/a-b"), ("c", "/skills/c")]
    assert skills_touched(["cat /skills/a-b/SKILL.md && ls /skills/a/x"], cat) == ["a-b", "a"]
    assert skills_touched(["cd /skills/c && cat SKILL.md", "echo hi"], cat) == ["c"]
    assert skills_touched(["ls /data"], cat) == []


def test_pinned_run_offers_one_skill_and_completes(bwrap_available: None,
                                                   make_request: Callable[..., RunRequest]) -> None:
    script = Script(responses=[response([shell_call(f"cat /skills/{SKILL}/SKILL.md | head -2")]),
                               response([message("Reconciled.")])])
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url, pin=Pin(SKILL, "1.0.0")))
    body = srv.bodies()[0]
    assert [s["name"] for s in body["tools"][0]["environment"]["skills"]] == [SKILL]
    assert f"Use the {SKILL} skill" in body["instructions"]
    assert t.outcome == "completed" and t.violations == [] and t.routing["pin"] == f"{SKILL}@1.0.0"


def test_pinned_run_fails_loudly_when_the_model_reads_another_skill(
        bwrap_available: None, make_request: Callable[..., RunRequest], tmp_path: Path) -> None:
    script = Script(responses=[
        response([shell_call(f"cat /skills/{SKILL}/SKILL.md")]),
        response([shell_call("cat /skills/crm-query/SKILL.md > /data/stolen.txt")]),
        response([message("never asked")]),
    ])
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url, pin=Pin(SKILL)))
    assert t.outcome == "routing_violation"
    assert t.violations == [f"pinned to {SKILL}, but the model touched crm-query"]
    assert len(srv.bodies()) == 2  # the run stopped at once
    assert not (tmp_path / "data" / "stolen.txt").exists()  # the offending call was never executed
    assert t.items[-1]["type"] == "shell_call" and t.items[-1]["skills"] == ["crm-query"]


def test_pinned_run_fails_when_the_model_never_loads_the_skill(
        bwrap_available: None, make_request: Callable[..., RunRequest]) -> None:
    with FakeAgentServer(Script(responses=[response([message("I just answered.")])])) as srv:
        t = execute(make_request(srv.base_url, pin=Pin(SKILL)))
    assert t.outcome == "routing_violation" and t.violations == [f"pinned to {SKILL}, but the model never loaded it"]
    assert t.final == "I just answered."


def test_pinned_version_must_match(example_workspace: Path) -> None:
    with pytest.raises(CheckFailed, match="version 1.0.0"):
        plan(example_workspace, Pin(SKILL, "2.0.0"))
    with pytest.raises(SkillStudioError, match="not in"):
        plan(example_workspace, Pin("no-such-skill"))


def test_pinned_digest_is_checked_against_the_lockfile(example_workspace: Path) -> None:
    from skillstudio.release.lockfile import LockEntry, record, workspace_digest

    digest, version = workspace_digest(example_workspace / SKILL)
    record(example_workspace, SKILL, LockEntry(str(version), digest))
    assert plan(example_workspace, Pin(SKILL, "1.0.0")).lock == "approved"
    md = example_workspace / SKILL / "SKILL.md"
    md.write_text(md.read_text() + "\nAn unapproved edit.\n")
    with pytest.raises(CheckFailed, match="differs from the approved bundle"):
        plan(example_workspace, Pin(SKILL))
    md.write_text(skillmd.set_metadata(md.read_text(), "version", "1.1.0"))
    with pytest.raises(CheckFailed, match="approves 1.0.0"):
        plan(example_workspace, Pin(SKILL))
    with pytest.raises(CheckFailed, match="not approved"):
        plan(example_workspace, Pin("crm-query"))


def test_a_route_names_the_pin(example_workspace: Path) -> None:
    from skillstudio.agent.routing import pin_for_route
    from skillstudio.release.lockfile import set_route

    set_route(example_workspace, "month-end-close", SKILL, "1.0.0")
    assert pin_for_route(example_workspace, "month-end-close") == Pin(SKILL, "1.0.0")
    with pytest.raises(SkillStudioError, match="no route 'other'"):
        pin_for_route(example_workspace, "other")
