"""Names for Qt's own icon-only buttons (dock float/close, tab-strip scrolling, line-edit clear,
overflow »), which Qt leaves without a tooltip or accessible name — so a screen reader or a
hovering user would meet an unlabelled icon. One application-wide event filter labels each such
button the first time it is polished; buttons we make ourselves are left alone."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDockWidget,
    QLineEdit,
    QMenuBar,
    QTabBar,
    QToolBar,
)

_BY_NAME = {
    "qt_dockwidget_floatbutton": "Undock / re-dock this panel",
    "qt_dockwidget_closebutton": "Close this panel (reopen it from View or the command palette)",
    "ScrollLeftButton": "Scroll tabs left",
    "ScrollRightButton": "Scroll tabs right",
    "qt_menubar_ext_button": "More menus",
    "qt_toolbar_ext_button": "More toolbar commands",
}
_CHROME_PARENTS = (QDockWidget, QTabBar, QMenuBar, QToolBar, QLineEdit)


def label_for(button: QAbstractButton) -> str | None:
    """The label Qt's internal *button* should carry, or None for buttons that are not Qt chrome."""
    if button.text().replace("&", "").strip() or button.toolTip():
        return None
    parent = button.parentWidget()
    if not isinstance(parent, _CHROME_PARENTS):
        return None
    name = _BY_NAME.get(button.objectName())
    if name is None and isinstance(parent, QLineEdit):
        name = "Clear"
    return name


class _ChromeLabeller(QObject):
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Polish and isinstance(obj, QAbstractButton):
            name = label_for(obj)
            if name:
                obj.setToolTip(name)
                if not obj.accessibleName():
                    obj.setAccessibleName(name)
        return False


def label_qt_chrome(app: QApplication) -> None:
    """Install the labeller on *app* once (idempotent)."""
    if app.findChild(_ChromeLabeller) is None:
        app.installEventFilter(_ChromeLabeller(app))
