"""Start the desktop app: `skillstudio gui [WORKSPACE]` calls run_app."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from skillstudio import __version__
from skillstudio.ui.common.settings import AppSettings
from skillstudio.ui.common.theme import apply_theme, load_icon


def default_workspace(settings: AppSettings, cwd: Path | None = None) -> Path | None:
    """skills/ in the current folder if it exists, else the last workspace, else None (the start page).

    Never the bundled examples: they belong to the installed package, so editing them in place would
    change every user's copy and record the package as the last workspace. The start page offers a
    copy of them instead."""
    here = (cwd or Path.cwd()) / "skills"
    if here.is_dir():
        return here
    last = settings.last_workspace()
    if last is not None and last.is_dir():
        return last
    return None


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Skill Studio")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("skillstudio")
    app.setDesktopFileName("dev.skillstudio.SkillStudio")  # matches packaging/linux/*.desktop
    icon = load_icon("skillstudio")
    if not icon.isNull():
        app.setWindowIcon(icon)
    return app


def run_app(workspace: Path | None) -> int:
    from skillstudio.ui.shell.main_window import MainWindow  # after QApplication exists

    settings = AppSettings()
    if workspace is not None and not Path(workspace).is_dir():
        print(f"skillstudio: {workspace} is not a folder — pass a workspace folder that holds skills", file=sys.stderr)
        return 2
    app = create_app()
    apply_theme(app, settings.theme)
    windows: list[object] = []  # keeps the main window alive once the first-run flow hands over

    def open_main(chosen: object = None) -> None:
        root = Path(workspace) if workspace is not None else (
            chosen if isinstance(chosen, Path) else default_workspace(settings))
        window = MainWindow(settings)
        windows.append(window)
        window.show()  # nothing is painted before the event loop runs, so showing first shows no empty frame
        if root is not None:
            window.open_workspace(root)  # visible and unpainted: reading the workspace waits for the first paint
        window.when_painted(window.recovery.offer)  # the window is on screen before any question

    wizard = None
    if workspace is None:  # an explicit folder means "just open it": the first-run flow is not even imported
        from skillstudio.ui.shell.first_run import FirstRunWizard, needs_first_run

        if needs_first_run(settings):
            wizard = FirstRunWizard(settings)
    if wizard is not None:
        wizard.sig_done.connect(open_main)
        wizard.show()
    else:
        open_main()
    code = int(app.exec())
    windows.clear()
    return code
