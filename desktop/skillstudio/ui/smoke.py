"""`skillstudio gui --smoke-test`: prove a built app starts — a window paints, a workspace loads, it exits 0.

Why: a frozen build can miss a Qt plugin or a data file and only fail once a window is shown, which
`--version` never reaches. CI runs this on the PyInstaller output. It works on throw-away copies (the
examples and a temporary user profile), so a smoke test never touches the user's files or settings.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QGuiApplication

TIMEOUT_MS = 60_000


def run_smoke_test(workspace: Path | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="skillstudio-smoke-") as tmp:
        base = Path(tmp)
        for var, sub in (("SKILLSTUDIO_CONFIG_DIR", "config"), ("SKILLSTUDIO_DATA_DIR", "data"),
                         ("SKILLSTUDIO_CACHE_DIR", "cache")):
            os.environ.setdefault(var, str(base / sub))
        from skillstudio import resources

        source = Path(workspace) if workspace is not None else resources.examples_dir()
        if not source.is_dir():
            print(f"skillstudio: smoke test: {source} is not a folder", file=sys.stderr)
            return 2
        root = base / "workspace"
        shutil.copytree(source, root, ignore=shutil.ignore_patterns(".skillstudio"))
        return _open_and_close(root)


def _open_and_close(root: Path) -> int:
    from PySide6.QtCore import QTimer

    from skillstudio.ui.app import create_app
    from skillstudio.ui.common.settings import AppSettings
    from skillstudio.ui.common.theme import apply_theme
    from skillstudio.ui.shell.main_window import MainWindow

    app = create_app()
    missing = _missing_qt_parts(app)
    if missing:  # a frozen build without the svg plugins shows blank icons: fail loudly instead
        print(f"skillstudio: smoke test failed: {missing}", file=sys.stderr)
        return 1
    settings = AppSettings()
    apply_theme(app, settings.theme)
    window = MainWindow(settings)
    state: dict[str, object] = {"painted": False, "skills": None, "error": None}

    def finish() -> None:
        if state["painted"] and state["skills"] is not None:
            window.close()
            app.exit(0)

    def painted() -> None:
        state["painted"] = True
        finish()

    def loaded(ws: object) -> None:
        state["skills"] = len(getattr(ws, "skills", []))
        finish()

    def timed_out() -> None:
        state["error"] = "timed out waiting for the first paint and the workspace load"
        window.close()
        app.exit(1)

    window.sig_workspace_loaded.connect(loaded)
    window.show()
    window.open_workspace(root)
    window.when_painted(painted)
    QTimer.singleShot(TIMEOUT_MS, timed_out)
    code = int(app.exec())
    window.shutdown()
    if code == 0:
        print(f"smoke test ok: window painted, {state['skills']} skills loaded from {root.name}")
    else:
        print(f"skillstudio: smoke test failed: {state['error'] or f'exit code {code}'}", file=sys.stderr)
    return code


def _missing_qt_parts(app: QGuiApplication) -> str:
    from PySide6.QtGui import QImageReader

    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    if "svg" not in formats:
        return "the Qt svg image format plugin is missing (imageformats/qsvg)"
    if app.windowIcon().isNull():
        return "the app icon did not load (iconengines/qsvgicon or resources/icons missing)"
    return ""
