"""Start-up to first paint, and CPU used while idle with each panel visible.

An IDE stays open all day, so a panel that keeps a timer or a repaint loop running costs battery for
hours. Both numbers are ratios against a bare `QMainWindow` measured in the same run, each in a fresh
interpreter (offscreen platform unless QT_QPA_PLATFORM says otherwise):
- first paint: process start to the first paint event of the window;
- idle CPU: after the window (and the panel) has painted and settled, the process's user+system CPU
  time over a quiet interval, as a percentage of one core.
Prints markdown rows; asserts nothing. `--idle S` sets the quiet interval (default 3 s).
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
PANELS = ["editor", "tests", "try_prompt", "playground", "sandbox", "secrets", "registry"]

_PAINT = """
import os, sys
from PySide6.QtCore import QEvent, QObject
class FirstPaint(QObject):
    def __init__(self, want):
        super().__init__()
        self.want = want
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint and obj.isWidgetType() and obj.window().objectName() == self.want:
            import time
            sys.stdout.write(f"PAINTED {time.process_time()}\\n"); sys.stdout.flush(); os._exit(0)
        return False
"""

BARE_PAINT = _PAINT + """
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
hook = FirstPaint("bare"); app.installEventFilter(hook)
w = QMainWindow(); w.setObjectName("bare"); w.resize(1280, 720); w.show()
app.exec()
"""

APP_PAINT = _PAINT + """
from pathlib import Path
from skillstudio.ui.app import create_app, run_app
app = create_app()
hook = FirstPaint("MainWindow"); app.installEventFilter(hook)
sys.exit(run_app(Path(sys.argv[1])))
"""

# idle: settle, then measure CPU over a quiet interval while the event loop runs
IDLE = """
import resource, sys, time
from pathlib import Path
from PySide6.QtCore import QEventLoop, QTimer
settle, quiet, panel, ws = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

def run_for(app, seconds):
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()

if panel == "bare":
    from PySide6.QtWidgets import QApplication, QMainWindow
    app = QApplication([])
    w = QMainWindow(); w.resize(1280, 720); w.show()
else:
    from skillstudio.ui.app import create_app
    app = create_app()
    from skillstudio.ui.common.settings import AppSettings
    from skillstudio.ui.shell.main_window import MainWindow
    w = MainWindow(AppSettings())
    w.resize(1280, 720); w.show()
    loop = QEventLoop(); w.sig_workspace_loaded.connect(loop.quit)
    w.open_workspace(Path(ws)); loop.exec()
    w.open_file(Path(ws) / "crm-query" / "SKILL.md")
    if panel != "editor":
        getattr(w.features, "show_" + panel)()
run_for(app, settle)
t0, c0 = time.perf_counter(), cpu()
run_for(app, quiet)
t1, c1 = time.perf_counter(), cpu()
print(f"CPU {100 * (c1 - c0) / (t1 - t0):.3f}")
if panel != "bare":
    w.shutdown()
"""


def _paint(code: str, *args: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process) from start to the first paint; CPU time is the steadier
    number on a busy machine."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("PAINTED")), None)
    if line is None:
        raise RuntimeError(f"no first paint: {proc.stderr[-2000:]}")
    return time.perf_counter() - t0, float(line.split()[1])


def _idle(panel: str, ws: Path, quiet: float, env: dict[str, str]) -> float:
    proc = subprocess.run([sys.executable, "-c", IDLE, "1.5", str(quiet), panel, str(ws)], capture_output=True,
                          text=True, env=env, timeout=120)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("CPU ")), None)
    if line is None:
        raise RuntimeError(f"{panel}: no measurement: {proc.stderr[-2000:]}")
    return float(line.split()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=3.0, help="quiet interval per panel in seconds")
    parser.add_argument("--runs", type=int, default=3, help="first-paint runs per window")
    parser.add_argument("--src", type=Path, default=REPO / "desktop",
                        help="the desktop/ source root to measure (e.g. an older checkout, to compare)")
    parser.add_argument("--panels", default=",".join(PANELS), help="comma-separated panels to measure idle")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ss-bench-idle-") as tmp:
        ws = Path(tmp) / "skills"
        shutil.copytree(REPO / "skills", ws, ignore=shutil.ignore_patterns(".skillstudio", ".git"))
        env = dict(os.environ, PYTHONPATH=str(args.src.resolve()))
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        for sub in ("config", "data", "cache"):  # never the user's settings or recovery area
            env[f"SKILLSTUDIO_{sub.upper()}_DIR"] = str(Path(tmp) / sub)
        _paint(BARE_PAINT, env=env)  # warm the file cache for both
        bare_runs = [_paint(BARE_PAINT, env=env) for _ in range(args.runs)]
        app_runs = [_paint(APP_PAINT, str(ws), env=env) for _ in range(args.runs)]
        bare, app = statistics.median(r[0] for r in bare_runs), statistics.median(r[0] for r in app_runs)
        bare_cpu = statistics.median(r[1] for r in bare_runs)
        app_cpu = statistics.median(r[1] for r in app_runs)
        base = _idle("bare", ws, args.idle, env)
        rows = [(p, _idle(p, ws, args.idle, env)) for p in args.panels.split(",") if p]
    floor = max(base, 0.05)  # a bare window idles near 0 %: ratios are against at least 0.05 % of a core
    where = env["QT_QPA_PLATFORM"] + (f" on {env.get('DISPLAY', '?')}" if env["QT_QPA_PLATFORM"] == "xcb" else "")
    print(f"Qt platform: {where} (a real X session: Xvfb :99 & QT_QPA_PLATFORM=xcb DISPLAY=:99)\n")
    print("| benchmark | measured | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| start-up to first paint (median of {args.runs}) | {app * 1000:.0f} ms | "
          f"{bare * 1000:.0f} ms (bare QMainWindow) | {app / bare:.1f}× | ≤ 1.2× the previous layout's |")
    print(f"| CPU time to first paint (median of {args.runs}) | {app_cpu * 1000:.0f} ms | "
          f"{bare_cpu * 1000:.0f} ms (bare QMainWindow) | {app_cpu / bare_cpu:.1f}× | (steadier on a busy machine) |")
    for panel, pct in rows:
        print(f"| idle CPU, {panel} visible ({args.idle:g} s) | {pct:.2f} % of a core | "
              f"{base:.2f} % (bare QMainWindow) | {pct / floor:.1f}× | < 1 % of a core |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
