"""Shared helpers for the main-window tests: open a real window on a real workspace, wait for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from skillstudio.ui.common.settings import AppSettings
from skillstudio.ui.common.theme import apply_theme
from skillstudio.ui.editor.tab import EditorTab
from skillstudio.ui.shell.main_window import MainWindow

WindowFactory = Callable[..., MainWindow]


@pytest.fixture()
def make_window(qtbot) -> Iterator[WindowFactory]:  # type: ignore[no-untyped-def]
    """Windows opened on a workspace and fully loaded; shut down (workers joined) after the test."""
    windows: list[MainWindow] = []

    def make(workspace: Path | None = None, theme: str = "light") -> MainWindow:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app, theme)
        w = MainWindow(AppSettings())
        windows.append(w)
        w.resize(1280, 820)
        w.show()
        if workspace is not None:
            with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
                assert w.open_workspace(workspace)
            qtbot.waitUntil(lambda: not w.tree.filling, timeout=20000)
        return w

    yield make
    for w in windows:
        w.shutdown()
        w.close()
        w.deleteLater()
    QApplication.processEvents()


def open_and_check(qtbot, w: MainWindow, path: Path) -> EditorTab:  # type: ignore[no-untyped-def]
    """Open a file and wait until its first live check reached the problems panel."""
    with qtbot.waitSignal(w.sig_checked, timeout=20000):
        tab = w.open_file(path)
    assert tab is not None
    return tab


def wait_checked(qtbot, w: MainWindow, tab: EditorTab) -> None:  # type: ignore[no-untyped-def]
    """Wait until the shown check is about the tab's current text."""
    qtbot.waitUntil(lambda: w._checkers[tab].last_result is not None
                    and w._checkers[tab].last_result.text == tab.buffer_text()
                    and not w._checkers[tab].busy, timeout=20000)


def shot(w, artifacts: Path, name: str) -> Path:  # type: ignore[no-untyped-def]
    QApplication.processEvents()
    path = artifacts / f"{name}.png"
    assert w.grab().save(str(path))
    return path


@pytest.fixture()
def trigger_panel(qtbot, qapp):  # type: ignore[no-untyped-def]
    """A Trigger Tests panel on its own at 1280x720 in the light theme, shut down (workers joined) after."""
    from skillstudio.ui.common.theme import apply_theme
    from skillstudio.ui.triggers.panel import TriggerPanel

    apply_theme(qapp, "light")
    p = TriggerPanel()
    qtbot.addWidget(p)
    p.resize(1280, 720)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()
