"""The Help menu: the offline user guide (F1), the keyboard shortcuts, and "Report a Problem…".

Why offline: the guide ships in resources/docs and renders with Qt's own Markdown support, so it
works without a browser or a network. The shortcuts list is generated from the window's actions, so
it can never disagree with the keys that really work. The problem report runs on a worker (the
doctor checks can take seconds) and writes the redacted bundle of skillstudio.diagnostics.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl, Slot, qVersion
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from skillstudio import diagnostics, resources
from skillstudio.cancel import CancelToken

if TYPE_CHECKING:
    from skillstudio.ui.shell.host import DocumentHost

GUIDE = ("docs", "user-guide.md")


def choose_bundle_path(parent: QWidget | None, start: Path) -> Path | None:
    """Where to save the bundle (tests monkeypatch this instead of clicking a file dialog)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save diagnostic bundle", str(start), "Zip archives (*.zip)")
    return Path(path) if path else None


class UserGuideDialog(QDialog):
    """The shipped user guide in a QTextBrowser, with find-as-you-type."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("UserGuideDialog")
        self.setWindowTitle("Skill Studio User Guide")
        self.resize(820, 720)
        self.browser = QTextBrowser()
        self.browser.setObjectName("user_guide")
        body = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)  # the theme makes text edits monospace
        self.browser.setStyleSheet(f'QTextBrowser#user_guide {{ font-family: "{body.family()}"; padding: 8px 14px; }}')
        self.browser.setOpenLinks(False)  # local anchors scroll, web links go to the system browser
        self.browser.anchorClicked.connect(self._open_link)
        self.browser.setMarkdown(resources.read_text(*GUIDE))
        self.find_edit = QLineEdit()
        self.find_edit.setPlaceholderText("Find in the guide (Enter: next)")
        self.find_edit.setClearButtonEnabled(True)
        self.find_edit.returnPressed.connect(self.find_next)
        self.find_edit.textChanged.connect(self._find_from_top)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(QLabel("Find:"))
        top.addWidget(self.find_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.browser.setFocus()

    def headings(self) -> list[str]:
        """The guide's headings as rendered (the tests and the window title check them)."""
        doc = self.browser.document()
        out, block = [], doc.begin()
        while block.isValid():
            if block.blockFormat().headingLevel() > 0:
                out.append(block.text())
            block = block.next()
        return out

    @Slot()
    def find_next(self) -> bool:
        text = self.find_edit.text()
        if not text:
            return False
        if self.browser.find(text):
            return True
        self.browser.moveCursor(self.browser.textCursor().MoveOperation.Start)  # wrap around
        return self.browser.find(text)

    @Slot(str)
    def _find_from_top(self, _text: str) -> None:
        self.browser.moveCursor(self.browser.textCursor().MoveOperation.Start)
        self.find_next()

    @Slot(QUrl)
    def _open_link(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)
        elif url.hasFragment():
            self.browser.scrollToAnchor(url.fragment())


def shortcut_rows(win: QWidget) -> list[tuple[str, str]]:
    """(command, shortcuts) for every action of the window that has a key, sorted by command."""
    rows: dict[str, str] = {}
    for act in win.actions():
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in act.shortcuts() if not k.isEmpty()]
        if keys:
            name = act.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()
            rows[name] = ", ".join(keys)
    return sorted(rows.items(), key=lambda r: r[0].lower())


class ShortcutsDialog(QDialog):
    """A filterable table of every command with a shortcut."""

    def __init__(self, win: QWidget) -> None:
        super().__init__(win)
        self.setObjectName("ShortcutsDialog")
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(560, 620)
        rows = shortcut_rows(win)
        self.table = QTableWidget(len(rows), 2)
        self.table.setObjectName("shortcuts_table")
        self.table.setHorizontalHeaderLabels(["Command", "Shortcut"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for i, (name, keys) in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(name))
            self.table.setItem(i, 1, QTableWidgetItem(keys))
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by command or key")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.filter.setFocus()

    def rows(self) -> list[tuple[str, str]]:
        """The visible rows (after filtering)."""
        return [(self._cell(i, 0), self._cell(i, 1)) for i in range(self.table.rowCount())
                if not self.table.isRowHidden(i)]

    def _cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    @Slot(str)
    def _filter(self, text: str) -> None:
        needle = text.lower().strip()
        for i in range(self.table.rowCount()):
            hay = f"{self._cell(i, 0)} {self._cell(i, 1)}".lower()
            self.table.setRowHidden(i, bool(needle) and needle not in hay)


def qt_facts() -> dict[str, str]:
    """What only the running app knows: the Qt version, the platform plugin, the screen's scale."""
    screen = QGuiApplication.primaryScreen()
    return {
        "qt_runtime": qVersion(),
        "qt_platform": QGuiApplication.platformName(),
        "screen": (f"{screen.size().width()}x{screen.size().height()} @ {screen.devicePixelRatio():g}x"
                   if screen is not None else "none"),
    }


class HelpActions:
    """What the Help menu's actions run (the actions themselves are rows of shell.actions.ACTIONS)."""

    def __init__(self, win: DocumentHost) -> None:
        self.win = win
        self.guide: UserGuideDialog | None = None
        self.report_job: int | None = None
        self.last_bundle: Path | None = None
        diagnostics.install_error_recorder()  # the report's "recent errors" start with the window

    @Slot()
    def show_guide(self) -> UserGuideDialog:
        if self.guide is None:
            self.guide = UserGuideDialog(self.win.window())
        self.guide.show()
        self.guide.raise_()
        self.guide.activateWindow()
        return self.guide

    @Slot()
    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.win.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    @Slot()
    def report_problem(self) -> int | None:
        """Ask where to save, then write the bundle on a worker; returns the job id (None if cancelled)."""
        if self.report_job is not None:
            return self.report_job
        start = Path.home() / "skillstudio-diagnostics.zip"
        target = choose_bundle_path(self.win.window(), start)
        if target is None:
            return None
        workspace, extra = self.win.workspace_root, qt_facts()
        extra["theme"] = str(self.win.settings.theme)

        def job(_token: CancelToken, _progress: object) -> Path:
            return diagnostics.write_bundle(target, workspace=workspace, extra=extra)

        self.win.statusBar().showMessage("Gathering the diagnostic bundle (versions, doctor, logs)…")
        self.report_job, _ = self.win.pool.submit(job, on_result=self._report_done, on_error=self._report_failed)
        return self.report_job

    def _report_done(self, _job: int, path: object) -> None:
        self.report_job = None
        self.last_bundle = Path(str(path))
        self.win.statusBar().showMessage(f"Diagnostic bundle written: {path}", 10000)
        box = QMessageBox(QMessageBox.Icon.Information, "Report a Problem",
                          f"The diagnostic bundle was written to\n{path}\n\nSecret values known to Skill Studio "
                          "were replaced by [secret:NAME]. Look inside before you attach it to a bug report.",
                          QMessageBox.StandardButton.Ok, self.win.window())
        box.setObjectName("report_done")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()

    def _report_failed(self, _job: int, message: str) -> None:
        self.report_job = None
        self.win.statusBar().showMessage(f"No diagnostic bundle: {message}", 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, "Report a Problem", f"No bundle was written: {message}",
                          QMessageBox.StandardButton.Ok, self.win.window())
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

