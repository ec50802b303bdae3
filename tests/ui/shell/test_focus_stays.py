"""Focus stays where the user works: never in the skill filter after Fix, saving a secret or switching panels."""

from __future__ import annotations

from pathlib import Path

import mainwindow_support
from mainwindow_support import open_and_check, wait_checked
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTabBar

from skillstudio.bundle import skillmd
from support.leaks import register_test_secret

make_window = mainwindow_support.make_window  # fixture
VALUE = register_test_secret("focus-secret-VALUE-5e6f7a8b")


def _activate(qtbot, w) -> None:  # type: ignore[no-untyped-def]
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)


def test_after_fix_focus_is_in_the_editor_and_ctrl_z_undoes(qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    w = make_window(example_workspace)
    _activate(qtbot, w)
    tab = open_and_check(qtbot, w, example_workspace / "crm-query" / "SKILL.md")
    wait_checked(qtbot, w, tab)
    tab.apply_text(skillmd.set_field(tab.editor.text(), "name", "CRM-Query"))
    qtbot.waitUntil(lambda: any(p.fix for p in w.problems.problems), timeout=10000)
    wait_checked(qtbot, w, tab)
    button = w.problems.fix_buttons()[0]
    button.setFocus()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "CRM-Query" not in tab.editor.text(), timeout=5000)
    qtbot.waitUntil(lambda: not [p for p in w.problems.problems if p.severity == "error"], timeout=10000)
    qtbot.wait(50)
    assert QApplication.focusWidget() is not w.tree.filter
    assert QApplication.focusWidget() is tab.editor
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "CRM-Query" in tab.editor.text()


def test_switching_panels_keeps_focus_out_of_the_filter(qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    w = make_window(example_workspace)
    _activate(qtbot, w)
    tab = open_and_check(qtbot, w, example_workspace / "crm-query" / "SKILL.md")
    wait_checked(qtbot, w, tab)
    tab.apply_text(skillmd.set_field(tab.editor.text(), "name", "CRM-Query"))
    qtbot.waitUntil(lambda: bool(w.problems.problems), timeout=10000)
    w.problems_dock.raise_()
    w.problems.tree.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.problems.tree, timeout=5000)
    bar = next(b for b in w.findChildren(QTabBar) if "Versions" in [b.tabText(i) for i in range(b.count())])
    bar.setCurrentIndex([bar.tabText(i) for i in range(bar.count())].index("Versions"))  # as a click on the tab
    qtbot.waitUntil(lambda: w.problems.visibleRegion().isEmpty(), timeout=5000)
    # the panel now shown gets the keys, not the hidden one and not the skill filter
    qtbot.waitUntil(lambda: w.layout_state.focused_dock() is w.versions_dock, timeout=5000)
    # a panel shown by its shortcut (built on first use) takes the focus too
    w.problems_dock.raise_()
    w.problems.tree.setFocus()
    qtbot.keyClick(w.problems.tree, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "test_panel" in w.features.built(), timeout=5000)
    qtbot.wait(100)
    assert QApplication.focusWidget() is not w.tree.filter
    qtbot.waitUntil(lambda: w.layout_state.focused_dock() is w.features.tests_dock, timeout=5000)


def test_saving_a_secret_keeps_focus_in_the_secrets_panel(qtbot, real_keyring: None, make_window,  # type: ignore[no-untyped-def]
                                                          example_workspace: Path) -> None:
    w = make_window(example_workspace)
    _activate(qtbot, w)
    w.features.show_secrets()
    secrets = w.features.secrets
    qtbot.waitUntil(lambda: secrets.save_btn.isEnabled(), timeout=10000)
    qtbot.keyClicks(secrets.name_edit, "FOCUS_TOKEN")
    qtbot.keyClicks(secrets.domains_edit, "api.example.com")
    qtbot.keyClicks(secrets.value_edit, VALUE)
    secrets.save_btn.setFocus()
    with qtbot.waitSignal(secrets.sig_saved, timeout=10000):
        qtbot.mouseClick(secrets.save_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: secrets.save_btn.isEnabled(), timeout=10000)
    qtbot.wait(50)
    assert QApplication.focusWidget() is not w.tree.filter
    assert w.layout_state.focused_dock() is w.features.sandbox_dock
