"""Cold start to the first painted window, and keystroke-to-problems-panel latency.

Both against a baseline measured in the same run on the same machine:
- start-up: a bare `QApplication` + `QWidget().show()` in a fresh interpreter, timed the same way
  (process start to the first paint event), so the ratio is what Skill Studio adds to Qt itself;
- keystroke: an empty event-loop round trip (`QTimer.singleShot(0)`), the least any feedback costs.
Each run is a fresh subprocess (cold start) or a fresh keystroke after a pause (leading edge of the
debounce, which is what a person sees after a pause in typing). Prints markdown rows; asserts nothing.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "desktop"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RUNS = 5
KEYSTROKES = 40

_PAINT_HOOK = """
import os, sys, time
from PySide6.QtCore import QEvent, QObject
class _FirstPaint(QObject):
    def __init__(self, want):
        super().__init__()
        self.want = want
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint and obj.isWidgetType() and obj.window().objectName() == self.want:
            sys.stdout.write("PAINTED\\n")
            sys.stdout.flush()
            os._exit(0)
        return False
"""

BARE = _PAINT_HOOK + """
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
hook = _FirstPaint("bare")
app.installEventFilter(hook)
w = QWidget()
w.setObjectName("bare")
w.resize(1280, 820)
w.show()
app.exec()
"""

APP = _PAINT_HOOK + """
from skillstudio.ui.app import create_app, run_app
app = create_app()
hook = _FirstPaint("MainWindow")
app.installEventFilter(hook)
sys.exit(run_app(__import__("pathlib").Path(sys.argv[1])))
"""


def _time_to_paint(code: str, *args: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - t0
    proc.wait(30)
    if "PAINTED" not in line:
        raise RuntimeError(f"no first paint: {proc.stderr.read() if proc.stderr else ''}")
    return elapsed


def bench_startup(workspace: Path, env: dict[str, str]) -> tuple[float, float]:
    _time_to_paint(BARE, env=env)  # warm the OS file cache once for both, so neither pays it alone
    _time_to_paint(APP, str(workspace), env=env)
    bare = [_time_to_paint(BARE, env=env) for _ in range(RUNS)]
    app = [_time_to_paint(APP, str(workspace), env=env) for _ in range(RUNS)]
    return statistics.median(app), statistics.median(bare)


def bench_keystroke(workspace: Path) -> tuple[float, float, float]:
    """(median keystroke -> problems shown, median event-loop round trip, median time a keystroke blocks)."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from skillstudio.ui.app import create_app
    from skillstudio.ui.common.settings import AppSettings
    from skillstudio.ui.shell.main_window import MainWindow

    app = create_app()
    w = MainWindow(AppSettings())
    w.show()
    loop = QEventLoop()
    w.sig_workspace_loaded.connect(loop.quit)
    w.open_workspace(workspace)
    loop.exec()
    tab = w.open_file(workspace / "crm-query" / "SKILL.md")
    assert tab is not None

    def wait_shown() -> None:
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            last = w._checkers[tab].last_result
            if last is not None and last.text == tab.buffer_text() and w.problems.problems is not None \
                    and w.token_meter.summary is last.tokens:
                return
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 1)
        raise RuntimeError("no live check result")

    wait_shown()
    tab.editor.go_to_line(12)
    latencies, blocked = [], []
    for i in range(KEYSTROKES):
        time.sleep(0.2)  # a pause in typing: the next keystroke is checked at once
        app.processEvents()
        t0 = time.perf_counter()
        if i % 2 == 0:
            QTest.keyClick(tab.editor, Qt.Key.Key_X)
        else:
            QTest.keyClick(tab.editor, Qt.Key.Key_Backspace)
        blocked.append(time.perf_counter() - t0)
        wait_shown()
        latencies.append(time.perf_counter() - t0)

    trips = []
    for _ in range(200):
        done: list[float] = []
        t0 = time.perf_counter()
        QTimer.singleShot(0, lambda d=done: d.append(time.perf_counter()))
        while not done:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 1)
        trips.append(done[0] - t0)
    w.shutdown()
    w.close()
    QApplication.processEvents()
    return statistics.median(latencies), statistics.median(trips), statistics.median(blocked)


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.0f} ms" if ms >= 100 else f"{ms:.1f} ms" if ms >= 1 else f"{ms * 1000:.0f} µs"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ss-bench-startup-") as tmp:
        ws = Path(tmp) / "skills"
        shutil.copytree(REPO / "skills", ws, ignore=shutil.ignore_patterns(".skillstudio", ".git"))
        for sub in ("config", "data", "cache"):  # never touch the user's settings or recovery area
            os.environ[f"SKILLSTUDIO_{sub.upper()}_DIR"] = str(Path(tmp) / sub)
        env = dict(os.environ, PYTHONPATH=str(REPO / "desktop"))
        app_s, bare_s = bench_startup(ws, env)
        key_s, trip_s, blocked_s = bench_keystroke(ws)
    print("| benchmark | measured | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| cold start to first painted window (median of {RUNS}) | {_ms(app_s)} | "
          f"{_ms(bare_s)} (bare QApplication + QWidget) | {app_s / bare_s:.1f}× | < 1.5 s |")
    print(f"| keystroke → problems panel + token meter (median of {KEYSTROKES}) | {_ms(key_s)} | "
          f"{_ms(trip_s)} (empty event-loop round trip) | {key_s / trip_s:.0f}× | < 50 ms |")
    print(f"| time a keystroke holds the UI thread (median) | {_ms(blocked_s)} | "
          f"{_ms(trip_s)} (empty event-loop round trip) | {blocked_s / trip_s:.0f}× | typing never waits |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
