"""Cancelling the first-run flow leaves the user on a start page; the bundled examples are never opened in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from skillstudio import resources
from skillstudio.ui import app as ui_app
from skillstudio.ui.common.settings import AppSettings
from skillstudio.ui.shell.first_run import FirstRunWizard, needs_first_run
from skillstudio.ui.shell.main_window import MainWindow


def test_cancel_shows_the_start_page_and_records_no_workspace(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no skills/ here: as for an installed app started from anywhere
    seen: list[tuple[object, bool, bool]] = []

    def check_main() -> None:
        win = next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None)
        if win is None:
            QTimer.singleShot(50, check_main)
            return
        seen.append((win.workspace_root, win.center.currentWidget() is win.welcome,
                     win.welcome.examples_button.isVisibleTo(win)))
        win.close()

    def cancel() -> None:
        wiz = next((w for w in QApplication.topLevelWidgets() if isinstance(w, FirstRunWizard) and w.isVisible()),
                   None)
        if wiz is None:
            QTimer.singleShot(50, cancel)
            return
        wiz.reject()
        check_main()

    QTimer.singleShot(0, cancel)
    assert ui_app.run_app(None) == 0
    assert seen == [(None, True, True)]
    settings = AppSettings()
    assert not needs_first_run(settings)  # cancelled once: the flow is not forced again
    assert settings.last_workspace() is None
    assert resources.examples_dir().resolve() not in [p.resolve() for p in settings.recent_workspaces()]


def test_start_page_opens_a_copy_of_the_examples(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import mainwindow_support  # noqa: F401 - the window fixture's module sets the platform

    w = MainWindow(AppSettings())
    qtbot.addWidget(w)
    w.show()
    target = tmp_path / "my-skills"
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        assert w.open_examples_copy(target)
    assert w.workspace_root == target.resolve()
    assert (target / "crm-query" / "SKILL.md").is_file()
    assert w.workspace is not None and len(w.workspace.skills) >= 5
    w.shutdown()
