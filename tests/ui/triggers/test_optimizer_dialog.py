"""The optimizer dialog end to end: run → diff → accept into the editor as one undo step; cancel; history.

Scoring uses the offline estimator (it reacts to descriptions); proposals come from the scripted
OpenAI-compatible server over real sockets (tests/support/fake_openai.py) — the only test double.
"""

from __future__ import annotations

from pathlib import Path

import mainwindow_support
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from skillstudio.bundle import skillmd, triggers
from skillstudio.evals.store import RunStore
from skillstudio.ui.common.provider_form import OFFLINE
from skillstudio.ui.common.theme import apply_theme
from skillstudio.ui.triggers.optimizer_dialog import OptimizerDialog, apply_to_editor, word_diff_html
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
NEAR_MISS = "Export the ledger to Salesforce"


def _dialog(qtbot, ws: Path, base_url: str) -> OptimizerDialog:  # type: ignore[no-untyped-def]
    d = OptimizerDialog(ws, ws / "crm-query")
    qtbot.addWidget(d)
    d.provider.set_kind(OFFLINE)
    d.provider.runs.setValue(1)
    d.proposer_url.setText(base_url)
    d.proposer_model.setText("m")
    d.show()
    qtbot.waitExposed(d)
    return d


def test_run_shows_the_diff_accept_lands_in_the_editor_as_one_undo_step_and_runs_are_saved(
        qtbot, make_window, tmp_path: Path, artifacts_dir: Path,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ws = write_workspace(tmp_path / "ws", SKILLS)
    md = ws / "crm-query" / "SKILL.md"
    before = md.read_text()
    w = make_window(ws)
    apply_theme(QApplication.instance(), "light")  # type: ignore[arg-type]
    proposals = [{"description": "x" * 1100},
                 {"description": GOOD, "negative_suggestions": [NEAR_MISS, "Reconcile the bank ledger for branch V"]}]
    with FakeOpenAI(Script(proposals=proposals)) as srv:
        d = _dialog(qtbot, ws, srv.base_url)
        assert d.skill == "crm-query" and not d.accept_button.isEnabled()
        d.iterations.setValue(4)
        with qtbot.waitSignal(d.sig_finished, timeout=60000):
            d.start_button.click()
            assert d.running and d.cancel_button.isEnabled() and not d.start_button.isEnabled()
    out = d.outcome
    assert out is not None and out.error is None and not out.cancelled
    # Live candidates: the original, the over-limit one (rejected unscored), the winner.
    cells = [[d.table.model().index(r, c).data() for c in range(5)] for r in range(d.table.rowCount())]
    assert cells[0][3] == "original" and "over 1024" in cells[1][3] and cells[2][4] == GOOD
    assert d.progress.value() == d.progress.maximum()
    # The result: a word diff, scores before → after, the new near miss (an existing case is not offered).
    assert d.result_box.isVisible() and d.accept_button.isEnabled()
    shown = d.diff.toPlainText()
    assert "Handles data." in shown and "Salesforce pipeline" in shown
    assert "line-through" in d.diff.toHtml() or "text-decoration" in d.diff.toHtml()
    res = out.result
    assert f"{res.candidates[0].val_score:.0%} → {res.best.val_score:.0%}" in d.scores.text()
    assert "offline estimate" in d.scores.text()
    assert [d.suggestions.item(i).text() for i in range(d.suggestions.count())] == [NEAR_MISS]
    assert d.suggestions.item(0).checkState() == Qt.CheckState.Checked
    # Before and after runs of the whole suite are in the history, like any Test panel run.
    store = RunStore(ws / ".skillstudio")
    assert len(store.list()) == 2 and sorted(out.saved_runs) == sorted(store.list())
    d.resize(1100, 760)
    mainwindow_support.shot(d, artifacts_dir, "optimizer_result")

    with qtbot.waitSignal(d.sig_accepted, timeout=5000) as blocker:
        d.accept_button.click()
    new_desc, cases = blocker.args
    assert new_desc == GOOD and cases == [NEAR_MISS]
    assert md.read_text() == before  # nothing written by the dialog

    summary = apply_to_editor(w, ws / "crm-query", new_desc, cases)
    assert "description updated" in summary and "1 no_trigger case" in summary
    tab = w.tab_for(md.resolve())
    assert tab is not None and w.tabs.currentWidget() is tab
    fm, _ = skillmd.load_front_matter(tab.buffer_text())
    assert fm["description"] == GOOD and tab.dirty
    assert tab.buffer_text() == before.replace("description: Handles data.", f"description: {GOOD}")
    tab.editor.undo()  # ONE undo step brings the old description back
    assert tab.buffer_text() == before
    cases_tab = next(c for c in w.cases_tabs() if c.skill_dir() == (ws / "crm-query").resolve())
    added = [c for c in cases_tab.cases() if c.prompt == NEAR_MISS]
    assert len(added) == 1 and added[0].expect == "no_trigger" and len(cases_tab.cases()) == 11
    assert cases_tab.save()
    saved = triggers.load_cases(ws / "crm-query")
    assert [c.prompt for c in saved][-1] == NEAR_MISS and len(saved) == 11


def test_cancel_mid_run_changes_nothing_and_saves_no_run(
        qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ws = write_workspace(tmp_path / "ws", SKILLS)
    with FakeOpenAI(Script(proposals=[{"description": GOOD}], delay_s=0.8)) as srv:
        d = _dialog(qtbot, ws, srv.base_url)
        d.start_button.click()
        qtbot.waitUntil(lambda: "asking for a new description" in d.status.text(), timeout=30000)
        with qtbot.waitSignal(d.sig_finished, timeout=30000):
            d.cancel_button.click()
    assert d.outcome is not None and d.outcome.cancelled and d.outcome.result is None
    assert "Cancelled" in d.status.text() and not d.result_box.isVisible()
    assert d.start_button.isEnabled() and not d.accept_button.isEnabled()
    assert RunStore(ws / ".skillstudio").list() == []


def test_closing_mid_run_cancels_and_waits(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ws = write_workspace(tmp_path / "ws", SKILLS)
    with FakeOpenAI(Script(proposals=[{"description": GOOD}], delay_s=0.8)) as srv:
        d = _dialog(qtbot, ws, srv.base_url)
        d.start_button.click()
        qtbot.waitUntil(lambda: "asking for a new description" in d.status.text(), timeout=30000)
        d.close()  # cancels and waits: no thread outlives the dialog (the autouse fixture checks)
        assert d._pool.active_threads() == 0
    assert RunStore(ws / ".skillstudio").list() == []


def test_no_model_for_proposals_is_one_clear_line(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ws = write_workspace(tmp_path / "ws", SKILLS)
    d = _dialog(qtbot, ws, "")
    with qtbot.waitSignal(d.sig_finished, timeout=30000):
        d.start_button.click()
    assert d.status.text().startswith("Stopped: the optimizer needs a model") and "\n" not in d.status.text()


def test_nothing_better_keeps_the_description_and_still_saves_the_before_run(
        qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The service's decision, seen in the app: the "before" run is recorded even when nothing won."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ws = write_workspace(tmp_path / "ws", SKILLS)
    with FakeOpenAI(Script(proposals=[{"description": "Handles data."}])) as srv:
        d = _dialog(qtbot, ws, srv.base_url)
        d.iterations.setValue(1)
        with qtbot.waitSignal(d.sig_finished, timeout=60000):
            d.start_button.click()
    assert d.outcome is not None and d.outcome.error is None and not d.outcome.result.improved
    assert "current description stays" in d.diff.toPlainText() and not d.accept_button.isEnabled()
    assert len(RunStore(ws / ".skillstudio").list()) == 1 == len(d.outcome.saved_runs)
    assert "1 run(s) saved" in d.status.text()


def test_word_diff_marks_removed_and_added_words() -> None:
    h = word_diff_html("Handles the data <fast> today.", "Handles the CRM data today.")
    assert "line-through" in h and "&lt;fast&gt;" in h and ">CRM </span>" in h and "Handles the " in h
    rewrite = word_diff_html("Handles data.", GOOD)  # little in common: old, then new, as wholes
    assert "Handles data.</span>" in rewrite and f">{GOOD}</span>" in rewrite
