"""Finding your way around: find/replace in the file (Ctrl+F, Ctrl+H, F3), go to line (Ctrl+G),
quick-open a file (Ctrl+P). The commands are rows of shell.actions.ACTIONS calling these methods;
they act on the document in front (an editor tab; in a cases table Ctrl+F goes to its filter)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QInputDialog, QLineEdit, QStatusBar, QWidget

if TYPE_CHECKING:
    from skillstudio.ui.editor.tab import EditorTab



class Navigation(QObject):
    def __init__(self, parent: QWidget, current_doc: Callable[[], QWidget | None],
                 workspace_root: Callable[[], Path | None], open_file: Callable[[Path], object],
                 status: Callable[[], QStatusBar]) -> None:
        super().__init__(parent)
        self._parent = parent
        self._current_doc = current_doc
        self._root = workspace_root
        self._open_file = open_file
        self._status = status
        self.goto_dialog: QInputDialog | None = None
        self.quick_dialog: QWidget | None = None

    def _tab(self) -> EditorTab | None:
        from skillstudio.ui.editor.tab import EditorTab

        doc = self._current_doc()
        return doc if isinstance(doc, EditorTab) else None

    def _say(self, text: str) -> None:
        self._status().showMessage(text, 4000)

    # ------------------------------------------------------------------ find / replace
    @Slot()
    def find(self) -> None:
        tab = self._tab()
        if tab is not None:
            tab.find_bar.open_find(replace=False)
            return
        doc = self._current_doc()
        box = doc.findChild(QLineEdit, "cases_filter") if doc is not None else None
        if box is None and doc is not None:
            box = getattr(doc, "filter_edit", None)
        if isinstance(box, QLineEdit):
            box.setFocus(Qt.FocusReason.ShortcutFocusReason)
            box.selectAll()
        else:
            self._say("Open a file to search in it (Ctrl+P opens one by name)")

    @Slot()
    def replace(self) -> None:
        tab = self._tab()
        if tab is not None:
            tab.find_bar.open_find(replace=True)
        else:
            self._say("Open a file to replace in it")

    @Slot()
    def find_next(self) -> None:
        tab = self._tab()
        if tab is not None and tab.find_bar.find_edit.text():
            tab.find_bar.find_next()
        elif tab is not None:
            tab.find_bar.open_find()

    @Slot()
    def find_previous(self) -> None:
        tab = self._tab()
        if tab is not None and tab.find_bar.find_edit.text():
            tab.find_bar.find_previous()
        elif tab is not None:
            tab.find_bar.open_find()

    # ------------------------------------------------------------------ go to line
    @Slot()
    def go_to_line(self) -> None:
        tab = self._tab()
        if tab is None:
            self._say("Open a file to go to one of its lines")
            return
        editor = tab.editor
        dlg = QInputDialog(self._parent)
        dlg.setObjectName("GoToLine")
        dlg.setWindowTitle("Go to Line")
        dlg.setInputMode(QInputDialog.InputMode.IntInput)
        dlg.setLabelText(f"Line (1 – {editor.blockCount()}):")
        dlg.setIntRange(1, max(1, editor.blockCount()))
        dlg.setIntValue(editor.current_line())
        dlg.intValueSelected.connect(editor.go_to_line)
        dlg.finished.connect(dlg.deleteLater)
        self.goto_dialog = dlg
        dlg.open()

    # ------------------------------------------------------------------ quick open
    @Slot()
    def quick_open(self) -> None:
        root = self._root()
        if root is None:
            self._say("Open a workspace first (Ctrl+Shift+O)")
            return
        from skillstudio.ui.shell.quick_open import QuickOpen  # on first use, not at start-up

        dlg = QuickOpen(root, self._open_file, self._parent)
        dlg.finished.connect(dlg.deleteLater)
        self.quick_dialog = dlg
        dlg.open()
        dlg.query.setFocus(Qt.FocusReason.ShortcutFocusReason)
