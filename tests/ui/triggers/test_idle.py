"""Idle means idle: with Trigger Tests visible nothing repaints or re-lays out, and a window manager's
resize cannot start a size-hint feedback loop (the hint does not depend on the window's size)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import mainwindow_support
from PySide6.QtCore import QEvent, QObject

make_window = mainwindow_support.make_window  # fixture
WATCHED = (QEvent.Type.Paint, QEvent.Type.LayoutRequest, QEvent.Type.UpdateRequest, QEvent.Type.Resize)


class _Count(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter[str] = Counter()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in WATCHED:
            self.seen[f"{event.type().name} {obj.metaObject().className()} {obj.objectName()}"] += 1
        return False


def test_trigger_tests_panel_is_quiet_when_idle(qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    w = make_window(example_workspace)
    w.resize(1280, 720)
    w.features.show_tests()
    qtbot.waitUntil(lambda: "test_panel" in w.features.built(), timeout=5000)
    qtbot.wait(500)
    counter = _Count()
    app = QApplication.instance()
    app.installEventFilter(counter)
    try:
        qtbot.wait(1000)
    finally:
        app.removeEventFilter(counter)
    assert not counter.seen, counter.seen.most_common(5)
    # what a window manager does after each size-hint change: a 1-pixel resize must not change the hint
    hints = set()
    for dw, dh in ((0, 0), (1, 0), (0, 1), (-1, -1), (2, 3)):
        w.resize(1280 + dw, 720 + dh)
        qtbot.wait(30)
        hints.add((w.minimumSizeHint().width(), w.minimumSizeHint().height()))
    assert len(hints) == 1, hints
