"""The trigger results expand a case into its runs and trajectories (explore-first model, real sandbox).

The scripted model at the HTTP boundary looks around (`ls -la`, `cat README.md`) before reading the
skill on turn 3; the panel runs the real evals core, so the commands really ran in bubblewrap.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from skillstudio.ui.common.provider_form import RESPONSES
from skillstudio.ui.triggers.panel import TriggerPanel
from skillstudio.ui.triggers.results_model import CASE_ROLE
from support.fake_openai import FakeOpenAI, Script
from support.realparts import need
from support.trigger_workspace import KEYWORDS, write_workspace


@pytest.fixture()
def panel(trigger_panel):  # type: ignore[no-untyped-def]
    return trigger_panel


def test_a_case_expands_into_its_runs_and_what_each_run_did(  # type: ignore[no-untyped-def]
        qtbot, panel: TriggerPanel, tmp_path: Path, artifacts_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillstudio.errors import SkillStudioError
    from skillstudio.sandbox.bwrap import check_bwrap

    try:
        check_bwrap()
    except SkillStudioError as exc:
        need(False, f"bubblewrap: {exc.message}")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ws = write_workspace(tmp_path / "ws")
    script = Script(keywords=list(KEYWORDS), explore={"Pull the Q3": ["ls -la", "ls /skills ;; cat README.md"],
                                                      "List open opportunities": ["pwd"] * 5})
    with FakeOpenAI(script) as srv:
        panel.set_workspace(ws)
        panel.provider.set_kind(RESPONSES)
        panel.provider.base_url.setText(srv.base_url)
        panel.provider.runs.setValue(2)
        with qtbot.waitSignal(panel.sig_run_finished, timeout=60000) as blocker:
            panel.run_button.click()
    report = blocker.args[0]
    assert report.summary.categories["explored"] == 2 and report.summary.undecided == 2
    assert panel.case_runs.topLevelItemCount() == 0  # nothing selected yet
    rows = [panel.proxy.index(r, 0).data(CASE_ROLE).prompt for r in range(panel.proxy.rowCount())]
    panel.show_case_runs(rows.index("Pull the Q3 pipeline for Acme from Salesforce"))
    view = panel.case_runs
    assert view.topLevelItemCount() == 2
    run = view.topLevelItem(0)
    assert run.text(0) == "Run 1 · 3 turns" and run.text(1) == "crm-query"
    assert run.text(2) == "after exploring (2 turns)"
    steps = [(run.child(i).text(0), run.child(i).text(2)) for i in range(run.childCount())]
    assert steps == [("turn 1 · explore", "ls -la"), ("turn 2 · explore", "ls /skills && cat README.md"),
                     ("turn 3 · read", "cat /skills/crm-query/SKILL.md")]
    assert "crm-query" in run.child(1).text(3)  # what `ls /skills` showed inside the sandbox
    assert run.isExpanded()
    QApplication.processEvents()
    assert panel.grab().save(str(artifacts_dir / "test_panel_case_runs.png"))

    panel.show_case_runs(rows.index("List open opportunities in Negotiation"))
    undecided = view.topLevelItem(1)
    assert undecided.text(1) == "none" and undecided.text(2) == "undecided" and undecided.childCount() == 4
