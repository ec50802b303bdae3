"""Global shortcuts work from anywhere: also from a panel floated into its own window."""

from __future__ import annotations

from pathlib import Path

import mainwindow_support
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from skillstudio.ui.shell.palette import CommandPalette

make_window = mainwindow_support.make_window  # fixture


def test_palette_shortcut_from_a_floating_panel(qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    w = make_window(example_workspace)
    w.features.show_sandbox()
    dock = w.features.sandbox_dock
    dock.setFloating(True)
    qtbot.waitUntil(lambda: dock.isVisible() and dock.isFloating(), timeout=5000)
    dock.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dock, timeout=5000)
    field = w.features.sandbox.data_edit
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field, timeout=5000)
    qtbot.keyClick(field, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: any(isinstance(t, CommandPalette) and t.isVisible()
                                for t in QApplication.topLevelWidgets()), timeout=5000)
    palette = next(t for t in QApplication.topLevelWidgets() if isinstance(t, CommandPalette) and t.isVisible())
    palette.close()
    dock.setFloating(False)
