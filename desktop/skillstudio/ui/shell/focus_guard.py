"""Keep the keyboard focus where the user works.

When the focused widget is hidden or disabled (a Fix button replaced by the new problem list, a
Save button greyed out while a secret is stored, a dock covered by the one whose tab was clicked),
Qt hands the focus to the next widget of the window's focus chain — usually the skill filter at the
top of the tree — so the next Ctrl+Z edits the filter instead of undoing in the editor. The guard
notices such involuntary moves into the tree filter and puts the focus back into the panel the user
was in (or the one that took its place, or the editor), never overriding a click, a Tab press on a
live widget or a shortcut.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget

_DELIBERATE = (Qt.FocusReason.MouseFocusReason, Qt.FocusReason.ShortcutFocusReason,
               Qt.FocusReason.PopupFocusReason, Qt.FocusReason.MenuBarFocusReason)


def focusable_in(root: QWidget) -> QWidget | None:
    """The first widget inside `root` that takes focus from the keyboard (in focus-chain order)."""
    w = root.nextInFocusChain()
    seen = 0
    while w is not None and w is not root and seen < 2000:
        if root.isAncestorOf(w) and w.isVisible() and w.isEnabled() and \
                w.focusPolicy() & Qt.FocusPolicy.TabFocus:
            return w
        w = w.nextInFocusChain()
        seen += 1
    return None


def _dock_of(widget: QWidget | None) -> QDockWidget | None:
    while widget is not None:
        if isinstance(widget, QDockWidget):
            return widget
        widget = widget.parentWidget()
    return None


class FocusGuard(QObject):
    def __init__(self, win: QMainWindow, guarded: QWidget, current_doc: Callable[[], QWidget | None]) -> None:
        super().__init__(win)
        self.win = win
        self.current_doc = current_doc  # the document the editor area shows (the last resort)
        self.guarded = guarded  # the widget that must never get the focus by accident (the tree filter)
        self._reason: Qt.FocusReason | None = None
        guarded.installEventFilter(self)
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.focusChanged.connect(self._on_focus_changed)
        self.redirected = 0  # how often the guard stepped in (for tests and diagnostics)
        for dock in win.findChildren(QDockWidget):
            dock.visibilityChanged.connect(self._on_dock_visibility)

    @Slot(bool)
    def _on_dock_visibility(self, visible: bool) -> None:
        """A dock covered by another tab of its area while it held the focus: follow to the one shown."""
        dock = self.sender()
        if visible or not isinstance(dock, QDockWidget):
            return
        focus = QApplication.focusWidget()
        if focus is None or not dock.isAncestorOf(focus):
            return
        QTimer.singleShot(0, dock, lambda: self._follow(dock))

    def _follow(self, dock: QDockWidget, tries: int = 3) -> None:
        for other in self.win.tabifiedDockWidgets(dock):
            if other.isVisible() and not other.visibleRegion().isEmpty():
                inner = focusable_in(other)
                if inner is not None:
                    self.redirected += 1
                    inner.setFocus(Qt.FocusReason.OtherFocusReason)
                elif tries > 0:  # a panel built on first show is not there yet: look again shortly
                    QTimer.singleShot(20, dock, lambda: self._follow(dock, tries - 1))
                return

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.guarded and event.type() == QEvent.Type.FocusIn:
            self._reason = event.reason()  # type: ignore[attr-defined]
        return False

    @Slot(QWidget, QWidget)
    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if new is not self.guarded or self._reason in _DELIBERATE:
            return
        if old is not None and old.isVisible() and old.isEnabled():
            return  # a Tab press from a live widget: the user asked for it
        target = self._target(old)
        if target is not None:
            self.redirected += 1
            QTimer.singleShot(0, target, lambda: target.setFocus(Qt.FocusReason.OtherFocusReason))

    def _target(self, old: QWidget | None) -> QWidget | None:
        dock = _dock_of(old)
        if dock is not None and dock.isVisible():  # same panel, another widget (e.g. after a disabled button)
            inner = focusable_in(dock)
            if inner is not None:
                return inner
        if dock is not None:  # covered by another tab of the same area: go into the one now shown
            for other in self.win.tabifiedDockWidgets(dock):
                if other.isVisible() and not other.visibleRegion().isEmpty():
                    inner = focusable_in(other)
                    if inner is not None:
                        return inner
        tab = self.current_doc()
        if tab is not None and tab.isVisible():
            return tab.focusWidget() or focusable_in(tab) or tab
        return None
