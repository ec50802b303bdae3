"""The window can always get small: every panel fits 1280x720, and showing one never grows the window."""

from __future__ import annotations

import mainwindow_support
import pytest
from PySide6.QtWidgets import QApplication

make_window = mainwindow_support.make_window  # fixture
PANELS = ["show_tests", "show_try_prompt", "show_playground", "show_sandbox", "show_secrets", "show_registry"]


@pytest.mark.parametrize("size", [(1280, 720), (1024, 600)])
def test_every_panel_fits_without_growing_the_window(qtbot, make_window, example_workspace, size) -> None:  # type: ignore[no-untyped-def]
    w = make_window(example_workspace)
    w.resize(*size)
    qtbot.waitUntil(lambda: (w.width(), w.height()) == size, timeout=5000)
    for name in PANELS:
        getattr(w.features, name)()
        for _ in range(3):
            QApplication.processEvents()
        qtbot.wait(50)
        hint = w.minimumSizeHint()
        assert hint.width() <= 1024 and hint.height() <= 600, (name, hint)
        assert (w.width(), w.height()) == size, (name, w.size())
        assert w.minimumSize().width() <= 1024 and w.minimumSize().height() <= 600, (name, w.minimumSize())


def test_ctrl_shift_m_maximises_the_focused_dock_and_restores(qtbot, make_window, example_workspace) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    w = make_window(example_workspace)
    w.resize(1280, 720)
    w.features.show_sandbox()
    console = w.features.sandbox
    qtbot.waitUntil(lambda: console.isVisible(), timeout=5000)
    w.activateWindow()
    console.setFocus()
    qtbot.waitUntil(lambda: w.layout_state.focused_dock() is w.features.sandbox_dock, timeout=5000)
    before = w.features.sandbox_dock.height()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_M,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: not w.tree.isVisible() and not w.problems.isVisible(), timeout=5000)
    assert w.layout_state.maximised is w.features.sandbox_dock
    qtbot.waitUntil(lambda: w.features.sandbox_dock.height() > before, timeout=5000)
    assert w.layout_state.focused_dock() is w.features.sandbox_dock  # focus stayed in the console
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_M,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: w.tree.isVisible(), timeout=5000)
    assert w.layout_state.maximised is None
    # Ctrl+J hides the bottom panels and brings the same ones back
    w.action("collapse").trigger()
    qtbot.waitUntil(lambda: not w.features.sandbox_dock.isVisible(), timeout=5000)
    w.action("collapse").trigger()
    qtbot.waitUntil(lambda: w.features.sandbox_dock.isVisible(), timeout=5000)


def test_dock_sizes_are_remembered_per_workspace(qtbot, make_window, example_workspace, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from PySide6.QtCore import Qt
    other = tmp_path / "other"
    shutil.copytree(example_workspace / "crm-query", other / "crm-query")
    w = make_window(example_workspace)
    w.resize(1280, 720)
    tree_dock = w.tree.parentWidget()
    while tree_dock.parentWidget() is not w:
        tree_dock = tree_dock.parentWidget()
    w.resizeDocks([tree_dock], [420], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: abs(tree_dock.width() - 420) < 8, timeout=5000)
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        w.open_workspace(other)
    w.resizeDocks([tree_dock], [200], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: abs(tree_dock.width() - 200) < 8, timeout=5000)
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        w.open_workspace(example_workspace)
    qtbot.waitUntil(lambda: abs(tree_dock.width() - 420) < 8, timeout=5000)
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        w.open_workspace(other)
    qtbot.waitUntil(lambda: abs(tree_dock.width() - 200) < 8, timeout=5000)
