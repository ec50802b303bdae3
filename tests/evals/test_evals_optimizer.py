"""Description optimizer: split discipline, validation-only selection, the 1,024 limit, the diff.

Scoring uses the offline estimator (it reacts to descriptions); proposals come from the scripted
server over HTTP, so we can check exactly what the proposing model was shown.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from skillstudio.errors import SkillStudioError
from skillstudio.evals.optimizer import ChatProposer, optimize, parse_proposal, split_cases
from skillstudio.evals.routers.offline import OfflineRouter
from skillstudio.evals.runner import RunSettings
from skillstudio.evals.store import RunStore
from skillstudio.evals.suite import SuiteCase, build_suite
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import write_workspace

CRM_CASES = [(f"Show the Salesforce pipeline for account {a}", "trigger", None) for a in "ABCDE"] + \
            [(f"Reconcile the bank ledger for branch {b}", "no_trigger", None) for b in "VWXYZ"]
SKILLS = {
    "crm-query": ("Handles data.", CRM_CASES),
    "ledger-reconcile": ("Bank reconciliation against the general ledger.",
                         [("Reconcile the bank ledger for March", "trigger", None)]),
}
GOOD = "Query the Salesforce pipeline, accounts and opportunities. Not for bank or ledger reconciliation."


def test_split_is_seeded_stratified_and_60_40() -> None:
    cases = [SuiteCase(i, "s", f"prompt {i}", "trigger" if i < 10 else "no_trigger") for i in range(15)]
    train, val = split_cases(cases, seed=7)
    assert (len(train), len(val)) == (9, 6)  # 6+3 train, 4+2 validation
    assert sum(c.expect == "trigger" for c in train) == 6 and sum(c.expect == "no_trigger" for c in train) == 3
    assert not {c.index for c in train} & {c.index for c in val}
    assert split_cases(cases, seed=7) == (train, val)  # fixed
    assert split_cases(list(reversed(cases)), seed=7) == (train, val)  # independent of file order
    assert split_cases(cases, seed=8) != (train, val)
    tiny = [SuiteCase(0, "s", "a", "trigger"), SuiteCase(1, "s", "b", "trigger")]
    tr, va = split_cases(tiny)
    assert len(tr) == 1 and len(va) == 1


def test_parse_proposal_is_lenient() -> None:
    p = parse_proposal('Sure!\n```json\n{"description": "Do X.", "negative_suggestions": ["not X"]}\n```')
    assert p.description == "Do X." and p.negative_suggestions == ["not X"]
    assert parse_proposal('"Just a description."').description == "Just a description."


def test_optimizer_keeps_the_best_by_validation_and_shows_only_training_failures(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", SKILLS)
    suite = build_suite(ws)
    md = (ws / "crm-query" / "SKILL.md").read_text()
    proposals = [
        {"description": "x" * 1100, "negative_suggestions": []},  # over the limit: rejected unscored
        {"description": "Handles  data.", "negative_suggestions": []},  # the original again: rejected
        {"description": GOOD, "negative_suggestions": ["Export the ledger to Salesforce",
                                                        "Reconcile the bank ledger for branch V"]},
        {"description": "never asked for", "negative_suggestions": []},
    ]
    with FakeOpenAI(Script(proposals=proposals)) as srv:
        proposer = ChatProposer(model="m", api_key="k", base_url=srv.base_url)
        result = optimize(suite, "crm-query", md, proposer=proposer, make_router=OfflineRouter,
                          settings=RunSettings(runs=1), iterations=5)
        shown = [b["messages"][1]["content"] for b in srv.state.bodies if b.get("messages")]
    assert result.improved and result.best.description == GOOD
    assert result.best.val_score is not None and result.best.val_score > (result.candidates[0].val_score or 0)
    notes = [c.note for c in result.candidates]
    assert notes[0] == "original" and "over 1024" in notes[1] and "already tried" in notes[2]
    assert len(notes) == 4  # no training failures left after GOOD: the loop stops, no more model calls
    assert len(shown) == 3
    # Split discipline: the proposing model never saw a validation prompt.
    assert shown and result.val_prompts
    for text in shown:
        assert not any(v in text for v in result.val_prompts)
        assert any(t in text for t in result.train_prompts)
    # An existing case is not suggested again; the new near miss is.
    assert result.negative_suggestions == ["Export the ledger to Salesforce"]
    assert f"+description: {GOOD}" in result.diff and "-description: Handles data." in result.diff
    assert result.new_text is not None and "metadata:\n  version: 1.0.0" in result.new_text
    assert (ws / "crm-query" / "SKILL.md").read_text() == md  # nothing written: the user decides


def test_original_stays_when_nothing_beats_it(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", SKILLS)
    suite = build_suite(ws)
    md = (ws / "crm-query" / "SKILL.md").read_text()
    with FakeOpenAI(Script(proposals=[{"description": "Handles all sorts of data tasks."}])) as srv:
        result = optimize(suite, "crm-query", md, proposer=ChatProposer(model="m", api_key="k", base_url=srv.base_url),
                          make_router=OfflineRouter, settings=RunSettings(runs=1), iterations=2)
    assert not result.improved and result.diff == "" and result.best.note == "original"


def test_needs_negative_cases(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws", {"crm-query": ("Handles data.", CRM_CASES[:5])})
    with pytest.raises(SkillStudioError, match="2 trigger and 2 no_trigger"):
        optimize(build_suite(ws), "crm-query", "", proposer=None, make_router=OfflineRouter)  # type: ignore[arg-type]


def test_optimize_cli_prints_a_diff_and_applies_only_when_asked(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    ws = write_workspace(tmp_path / "ws", SKILLS)
    md = ws / "crm-query" / "SKILL.md"
    before = md.read_text()
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    with FakeOpenAI(Script(proposals=[{"description": GOOD}])) as srv:
        args = [sys.executable, "-m", "skillstudio", "optimize", str(ws), "--skill", "crm-query", "--provider",
                "offline", "--base-url", srv.base_url, "--runs", "1"]
        p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 0, p.stderr
        assert f"+description: {GOOD}" in p.stdout and "Not written" in p.stdout
        assert md.read_text() == before
        assert len(RunStore(ws / ".skillstudio").list()) == 2  # before and after
        p = subprocess.run([*args, "--apply"], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert md.read_text() == before.replace("description: Handles data.", f"description: {GOOD}")
    no_model = subprocess.run([sys.executable, "-m", "skillstudio", "optimize", str(ws), "--skill", "crm-query"],
                              capture_output=True, text=True, env=env, timeout=60)
    assert no_model.returncode == 2 and "needs a model" in no_model.stderr
