"""The window's layout as a user drives it: maximise what they work in, collapse the panels, and
find each workspace's dock sizes as they left them.

- Ctrl+Shift+M maximises the dock that holds the keyboard focus (or the editor when the focus is in
  it) by hiding every other dock; pressing it again puts the layout back exactly as it was.
- Ctrl+J hides the bottom panels and brings the same ones back.
- Dock sizes and visibility (QMainWindow.saveState) are stored per workspace and restored when it
  opens again, so a suite-heavy repository and a writing workspace keep their own layouts.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, Qt, Slot
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget

from skillstudio.ui.common.settings import AppSettings

_STATE_VERSION = 1


def _key(root: Path) -> str:
    return "layout/" + hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:16]  # noqa: S324 - a name


class WindowLayout(QObject):
    def __init__(self, win: QMainWindow, settings: AppSettings) -> None:
        super().__init__(win)
        self.win = win
        self.settings = settings
        self._saved: QByteArray | None = None  # the layout before maximising
        self.maximised: QWidget | None = None  # the dock (or the editor area) maximised
        self._collapsed: list[QDockWidget] = []
        self._raise_later: list[QDockWidget] = []
        # the commands (View ▸ Maximise…, Ctrl+Shift+M; View ▸ Hide/Show Bottom Panels, Ctrl+J) are rows
        # of shell.actions.ACTIONS calling toggle_maximise / toggle_bottom

    def docks(self) -> list[QDockWidget]:
        return [d for d in self.win.findChildren(QDockWidget) if d.parent() is self.win]

    def focused_dock(self) -> QDockWidget | None:
        widget = QApplication.focusWidget()
        while widget is not None:
            if isinstance(widget, QDockWidget):
                return widget
            widget = widget.parentWidget()
        return None

    # --------------------------------------------------------------------- maximise
    @Slot()
    def toggle_maximise(self) -> None:
        if self._saved is not None:
            self.restore_maximised()
            return
        focus = QApplication.focusWidget()
        target = self.focused_dock()
        self._saved = self.win.saveState(_STATE_VERSION)
        for dock in self.docks():
            if dock is not target and not dock.isFloating():
                dock.hide()
        if target is not None:
            target.show()
            target.raise_()
            orientation = (Qt.Orientation.Horizontal if self.win.dockWidgetArea(target) in
                           (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)
                           else Qt.Orientation.Vertical)
            size = self.win.width() if orientation == Qt.Orientation.Horizontal else self.win.height()
            self.win.resizeDocks([target], [size], orientation)
        self.maximised = target or self.win.centralWidget()
        if focus is not None:
            focus.setFocus(Qt.FocusReason.OtherFocusReason)  # keep working where you were
        self.win.statusBar().showMessage("Maximised: press Ctrl+Shift+M to restore the layout", 4000)

    def restore_maximised(self) -> None:
        if self._saved is None:
            return
        focus = QApplication.focusWidget()
        saved, self._saved, self.maximised = self._saved, None, None
        self.win.restoreState(saved, _STATE_VERSION)
        if focus is not None:
            focus.setFocus(Qt.FocusReason.OtherFocusReason)

    # --------------------------------------------------------------------- collapse
    @Slot()
    def toggle_bottom(self) -> None:
        bottom = [d for d in self.docks() if not d.isFloating()
                  and self.win.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea]
        visible = [d for d in bottom if d.isVisible()]
        if visible:
            current = [d for d in visible if not d.visibleRegion().isEmpty()]
            self._collapsed = visible
            for dock in visible:
                dock.hide()
            self._raise_later = current
            return
        problems = self.win.findChild(QDockWidget, "dock_problems")
        for dock in self._collapsed or ([problems] if problems is not None else []):
            dock.show()
        for dock in self._raise_later:
            dock.raise_()
        self._collapsed = []

    # --------------------------------------------------------------- per workspace
    def save_for(self, root: Path | None) -> None:
        if root is not None:
            self.restore_maximised()
            self.settings.set_value(_key(root), self.win.saveState(_STATE_VERSION))

    def restore_for(self, root: Path) -> bool:
        state = self.settings.value(_key(root))
        if isinstance(state, QByteArray) and not state.isEmpty():
            self._saved = None
            self.maximised = None
            return bool(self.win.restoreState(state, _STATE_VERSION))
        return False
