"""The app's first paint against a bare Qt window's, each a fresh process (goal: <= 3x).

Measured from just before the process is started to the first paint event of its main window
(`skillstudio gui WORKSPACE` on a copy of the example workspace, with a fresh profile; and a bare
QMainWindow), offscreen, alternating the two, several rounds, median. The hook that notices the paint
lives in this script (it wraps QApplication.exec), so the app runs unchanged. Prints markdown rows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Prints time.time() at the first paint of a QMainWindow, then quits.
_HOOK = """
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

class _FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow) and not getattr(self, "done", False):
            self.done = True
            sys.stderr.write(f"FIRSTPAINT {time.time()!r}\\n")
            sys.stderr.flush()
            QTimer.singleShot(0, QApplication.instance().quit)
        return False

_exec = QApplication.exec
def _exec_with_hook(self=None):
    app = QApplication.instance()
    _hook = _FirstPaint(app)
    app.installEventFilter(_hook)
    return _exec()
QApplication.exec = _exec_with_hook
"""

_BARE = _HOOK + """
app = QApplication(sys.argv[:1])
w = QMainWindow()
w.resize(1200, 800)
w.show()
app.exec()
"""

_APP = _HOOK + """
from skillstudio.cli.main import main
main(["gui", sys.argv[1]])
"""


def _first_paint(code: str, args: list[str], env: dict[str, str]) -> float:
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    stamps = [float(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("FIRSTPAINT ")]
    if not stamps:
        raise SystemExit(f"no first paint seen:\n{proc.stderr[-2000:]}")
    return stamps[0] - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="alternated rounds (default 7)")
    ap.add_argument("--src", type=Path, help="another checkout's desktop/ folder, timed as 'before'")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "skills", work / "skills", ignore=shutil.ignore_patterns(".skillstudio"))
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(work / "home"),
               "XDG_CONFIG_HOME": str(work / "config"), "XDG_DATA_HOME": str(work / "data"),
               "XDG_CACHE_HOME": str(work / "cache"), "XDG_STATE_HOME": str(work / "state")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up writes .pyc files, as an installed app has them
        sources = [("", REPO / "desktop")] + ([(" (before)", args.src.resolve())] if args.src else [])
        print("| benchmark | measured | baseline | ratio | target |")
        print("|---|---|---|---|---|")
        for label, src in sources:
            env["PYTHONPATH"] = str(src)
            ws = str(work / "skills")
            _first_paint(_APP, [ws], env)  # warm-up: the page cache, .pyc files
            _first_paint(_BARE, [], env)
            app, bare = [], []
            for _ in range(args.runs):
                app.append(_first_paint(_APP, [ws], env))
                bare.append(_first_paint(_BARE, [], env))
            m, b = statistics.median(app), statistics.median(bare)
            print(f"| app first paint (`skillstudio gui` example workspace){label} | {m * 1000:.0f} ms | "
                  f"bare QMainWindow {b * 1000:.0f} ms | {m / b:.2f}x | <= 3x |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
