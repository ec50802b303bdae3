from pathlib import Path
import shutil
from mainwindow_support import make_window  # noqa: F401
from skillstudio import resources
from skillstudio.ui.first_run import FirstRunWizard
from skillstudio.ui.settings import AppSettings
from PySide6.QtWidgets import QWizard


def test_a(qtbot, make_window, tmp_path: Path) -> None:  # noqa: F811
    import os
    ws = tmp_path / "ws"
    shutil.copytree(resources.examples_dir(), ws, ignore=shutil.ignore_patterns(".skillstudio"))
    if os.environ.get("WIZ") == "3":
        from skillstudio.ui.wizard import NewSkillWizard
        wiz = NewSkillWizard(ws)
        qtbot.addWidget(wiz)
        wiz.show()
    elif os.environ.get("WIZ") == "4":
        from skillstudio.ui.first_run import ProviderPage
        from skillstudio.ui.workers import WorkerPool
        pool = WorkerPool()
        wiz = ProviderPage(AppSettings(), pool)
        qtbot.addWidget(wiz)
        wiz.show()
    elif os.environ.get("WIZ") in ("6", "7"):
        from skillstudio.ui.first_run import SandboxPage, SigningKeyPage
        from skillstudio.ui.workers import WorkerPool
        pool = WorkerPool()
        wiz = SandboxPage(pool) if os.environ.get("WIZ") == "6" else SigningKeyPage(pool, lambda: None)
        qtbot.addWidget(wiz)
        wiz.show()
    elif os.environ.get("WIZ") == "5":
        from skillstudio.ui.first_run import WorkspacePage
        wiz = WorkspacePage()
        qtbot.addWidget(wiz)
        wiz.show()
    elif os.environ.get("WIZ"):
        wiz = FirstRunWizard(AppSettings())
        qtbot.addWidget(wiz)
        wiz.show()
        if os.environ.get("WIZ") == "2":
            wiz.workspace_page.existing_path.setText(str(ws))
            wiz.next(); wiz.next()
            with qtbot.waitSignal(wiz.sandbox_page.sig_checked, timeout=30000):
                pass
            wiz.next()
            wiz.button(QWizard.WizardButton.FinishButton).click()
    if os.environ.get("MW"):
        w = make_window(ws)
    else:
        from PySide6.QtWidgets import QApplication
        from skillstudio.ui.resources import apply_theme
        apply_theme(QApplication.instance(), "light")
