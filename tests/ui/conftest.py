"""Set-up shared by every UI test: Qt's offscreen platform, and the helpers module on the path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# before anything imports Qt (pytest-qt creates the QApplication after the conftests load)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # mainwindow_support, for tests in sub-folders

from mainwindow_support import make_window, trigger_panel  # noqa: E402,F401 - fixtures for every UI test
