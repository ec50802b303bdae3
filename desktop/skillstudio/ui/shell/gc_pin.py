"""Run Python's cyclic garbage collector on the GUI thread only, while a main window is open.

The collector normally runs in whichever thread happens to allocate past its threshold — often a
worker reading a 1,000-skill workspace. A collection there can free Qt wrappers caught in reference
cycles from the wrong thread, and Qt then crashes (calibre, pyqtgraph and novelWriter pin it the same
way). While a window is open, automatic collection is off and a GUI-thread timer collects whatever
generation is due; when the last window closes, the normal behaviour comes back.

The timer backs off while nothing is due (250 ms doubling to 4 s): an idle window allocates next to
nothing, and four wake-ups a second were most of its idle CPU in a real X session (benchmarks/README.md,
ui_idle). The first tick that finds a collection due brings the interval back to 250 ms.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

INTERVAL_MS = 250
IDLE_INTERVAL_MS = 4000  # the longest wait between checks when nothing was due


class _Collector(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.collect_due)

    @Slot()
    def collect_due(self) -> None:
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if c0 > t0:
            gc.collect(2 if c2 > t2 else 1 if c1 > t1 else 0)
            self.timer.setInterval(INTERVAL_MS)
        elif self.timer.interval() < IDLE_INTERVAL_MS:
            self.timer.setInterval(min(IDLE_INTERVAL_MS, self.timer.interval() * 2))


_collector: _Collector | None = None
_users = 0


def acquire() -> None:
    """A window opened: pin collection to this (GUI) thread."""
    global _collector, _users
    _users += 1
    if _users == 1:
        _collector = _collector or _Collector()
        gc.disable()
        _collector.timer.start(INTERVAL_MS)


def release() -> None:
    """A window closed (its workers are joined): back to normal collection when it was the last."""
    global _users
    if _users == 0:
        return
    _users -= 1
    if _users == 0 and _collector is not None:
        _collector.timer.stop()
        gc.enable()
