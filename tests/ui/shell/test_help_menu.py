"""Help menu: the offline user guide (F1), the generated shortcut list, and Report a Problem… end to end."""

from __future__ import annotations

import zipfile

from mainwindow_support import shot
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from skillstudio.secrets.vault import Vault
from skillstudio.ui.shell import help_menu
from support.leaks import register_test_secret

SECRET = register_test_secret("help-report-secret-9e8d7c6b5a41")


def _menu_texts(w) -> list[str]:  # type: ignore[no-untyped-def]
    help_action = next(a for a in w.menuBar().actions() if a.text() == "&Help")
    return [a.text() for a in help_action.menu().actions() if not a.isSeparator()]


def test_f1_opens_the_guide_with_its_headings(qtbot, make_window, example_workspace, artifacts_dir) -> None:
    w = make_window(example_workspace)
    assert _menu_texts(w)[:3] == ["&User Guide", "&Keyboard Shortcuts", "&Report a Problem…"]
    w.activateWindow()
    w.setFocus()
    qtbot.keyClick(w, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: w.help.guide is not None and w.help.guide.isVisible(), timeout=5000)
    guide = w.help.guide
    heads = guide.headings()
    assert heads[0] == "Skill Studio User Guide"
    for h in ("Getting started", "Workspace tree", "Trigger Tests", "Sandbox", "Publish", "Command line"):
        assert h in heads
    assert "skillstudio" in guide.browser.toPlainText() and "|" not in guide.browser.toPlainText()[:200]
    guide.find_edit.setText("command palette")
    assert guide.browser.textCursor().selectedText().lower() == "command palette"
    shot(guide, artifacts_dir, "help-user-guide")
    guide.close()


def test_shortcuts_dialog_lists_the_window_keys(qtbot, make_window, example_workspace, artifacts_dir) -> None:
    w = make_window(example_workspace)
    dialog = w.help.show_shortcuts()
    qtbot.waitExposed(dialog)
    rows = dict(dialog.rows())
    assert rows["Save"] == "Ctrl+S"
    assert rows["User Guide"] == "F1"
    assert rows["Command Palette"] == "Ctrl+Shift+P"
    assert "Show Trigger Tests" in rows  # the feature panels' actions are listed too
    shot(dialog, artifacts_dir, "help-shortcuts")
    dialog.filter.setText("ctrl+s")
    visible = dict(dialog.rows())
    assert "Save" in visible and "User Guide" not in visible
    dialog.close()


def test_report_a_problem_writes_a_redacted_bundle(qtbot, make_window, example_workspace, tmp_path,
                                                   real_keyring, monkeypatch, artifacts_dir) -> None:
    Vault(example_workspace).set("REPORT_TOKEN", SECRET, domains=["api.example.com"])
    try:
        w = make_window(example_workspace)
        import logging

        logging.getLogger("skillstudio.ui.test").error("upload failed with %s", SECRET)
        target = tmp_path / "report.zip"
        monkeypatch.setattr(help_menu, "choose_bundle_path", lambda _parent, _start: target)
        w.action("report").trigger()
        qtbot.waitUntil(lambda: w.help.last_bundle is not None, timeout=60000)
        box = w.findChild(QMessageBox, "report_done")
        assert box is not None and str(target) in box.text()
        shot(box, artifacts_dir, "help-report-done")
        box.close()
    finally:
        Vault(example_workspace).delete("REPORT_TOKEN")
    with zipfile.ZipFile(target) as zf:
        files = {n.split("/", 1)[1]: zf.read(n).decode() for n in zf.namelist()}
    facts = files["versions.json"]
    assert '"qt_platform": "offscreen"' in facts and '"qt_runtime"' in facts
    assert "doctor.json" in files
    assert SECRET not in "".join(files.values())
    assert "upload failed with [secret:REPORT_TOKEN]" in files["errors.txt"]
    QApplication.processEvents()


def test_report_cancelled_writes_nothing(qtbot, make_window, example_workspace, monkeypatch) -> None:
    w = make_window(example_workspace)
    monkeypatch.setattr(help_menu, "choose_bundle_path", lambda _parent, _start: None)
    assert w.help.report_problem() is None
    assert w.help.report_job is None and w.help.last_bundle is None


def test_guide_path_is_shipped() -> None:
    from skillstudio import resources

    guide = resources.resource_path(*help_menu.GUIDE)
    assert guide.is_file() and guide.read_text(encoding="utf-8").startswith("# Skill Studio User Guide")
