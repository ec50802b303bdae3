"""Editor settings (font, size, tab width, wrap) and open tabs restored per workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

import mainwindow_support
from PySide6.QtWidgets import QPlainTextEdit

from skillstudio.ui.common.settings import AppSettings
from skillstudio.ui.shell.main_window import MainWindow
from skillstudio.ui.shell.settings_dialog import SettingsDialog

make_window = mainwindow_support.make_window  # fixture


def test_editor_settings_apply_to_open_and_new_editors(qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    w = make_window(example_workspace)
    tab = w.open_file(example_workspace / "crm-query" / "SKILL.md")
    dialog = SettingsDialog(w.settings, w)
    qtbot.addWidget(dialog)
    dialog.editor_size.setValue(15)
    dialog.tab_width.setValue(2)
    dialog.wrap.setChecked(False)
    assert dialog.apply()
    w.apply_editor_prefs()
    for editor in (tab.editor, w.open_file(example_workspace / "crm-query" / "evals" / "triggers.yaml").editor):
        assert editor.font().pointSize() == 15
        assert editor.lineWrapMode() == QPlainTextEdit.LineWrapMode.NoWrap
        assert abs(editor.tabStopDistance() - 2 * editor.fontMetrics().horizontalAdvance(" ")) < 0.5
    py = example_workspace / "crm-query" / "run.py"
    py.write_text("x = 1\n", encoding="utf-8")
    ptab = w.open_file(py)
    assert ptab._tab_inserts_spaces(-1) == 2  # code indents by the tab width


def test_open_tabs_come_back_per_workspace(qtbot, make_window, example_workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = tmp_path / "other"
    shutil.copytree(example_workspace / "support-reply", other / "support-reply")
    w = make_window(example_workspace)
    w.open_file(example_workspace / "crm-query" / "SKILL.md")
    w.open_cases(example_workspace / "ledger-reconcile")
    w.open_file(example_workspace / "network-config" / "SKILL.md")
    w.tabs.setCurrentIndex(1)
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        w.open_workspace(other)
    assert w.tabs.count() == 0
    w.open_file(other / "support-reply" / "SKILL.md")
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        w.open_workspace(example_workspace)
    titles = [w.doc_title(w.tabs.widget(i)) for i in range(w.tabs.count())]
    assert titles == ["crm-query/SKILL.md", "ledger-reconcile: trigger cases", "network-config/SKILL.md"], titles
    assert w.tabs.currentIndex() == 1
    # closing the window remembers them too: a new window on the same workspace reopens them
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        w.open_workspace(other)
    assert [w.doc_title(w.tabs.widget(i)) for i in range(w.tabs.count())] == ["support-reply/SKILL.md"]
    w.close()
    w2 = MainWindow(AppSettings())
    qtbot.addWidget(w2)
    w2.show()
    with qtbot.waitSignal(w2.sig_workspace_loaded, timeout=20000):
        w2.open_workspace(other)
    assert [w2.doc_title(w2.tabs.widget(i)) for i in range(w2.tabs.count())] == ["support-reply/SKILL.md"]
    w2.shutdown()
