"""An idle window does not wake up four times a second: the GUI-thread garbage collector's timer backs
off while nothing is due (in a real X session those wake-ups were most of the idle CPU with Trigger
Tests visible) and comes back to its short interval as soon as a collection is due."""

from __future__ import annotations

import gc
from collections import Counter
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from skillstudio.ui.shell import gc_pin


class _Wakeups(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter[str] = Counter()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Timer:
            parent = obj.parent()
            self.seen[type(parent).__name__ if parent is not None else type(obj).__name__] += 1
        return False


def test_idle_window_with_trigger_tests_visible_rarely_wakes_up(qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    w = make_window(example_workspace)
    w.features.show_tests()
    qtbot.waitUntil(lambda: "test_panel" in w.features.built(), timeout=5000)
    collector = gc_pin._collector
    assert collector is not None and collector.timer.isActive()
    gc.collect()
    qtbot.waitUntil(lambda: collector.timer.interval() == gc_pin.IDLE_INTERVAL_MS, timeout=8000)  # backed off
    counter = _Wakeups()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.installEventFilter(counter)
    try:
        qtbot.wait(2000)
    finally:
        app.removeEventFilter(counter)
    assert counter.seen["_Collector"] <= 1, counter.seen  # was 8 (every 250 ms)

    # work that allocates: the next check collects and the short interval is back
    junk = [[i] for i in range(gc.get_threshold()[0] * 2)]
    for item in junk:
        item.append(item)  # cycles, only the collector frees them
    del junk
    collector.collect_due()
    assert collector.timer.interval() == gc_pin.INTERVAL_MS
    assert gc.get_count()[0] < gc.get_threshold()[0]
