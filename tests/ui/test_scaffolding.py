"""The UI tests mirror the UI packages and share one conftest: no module sets up Qt on its own."""

from __future__ import annotations

import re
from pathlib import Path

import skillstudio.ui

TESTS = Path(__file__).resolve().parent
UI = Path(skillstudio.ui.__file__).resolve().parent
# the process's own platform set-up (a child process gets its env passed explicitly: that is fine)
OWN_SETUP = re.compile(r"os\.environ(\.setdefault\(|\[)\s*[\"']QT_QPA_PLATFORM")


def test_each_test_folder_is_a_ui_package_and_there_is_one_conftest() -> None:
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    packages = {p.name for p in UI.iterdir() if (p / "__init__.py").is_file()}
    assert folders <= packages, folders - packages
    assert [p.relative_to(TESTS).as_posix() for p in TESTS.rglob("conftest.py")] == ["conftest.py"]


def test_no_test_module_sets_up_the_qt_platform_itself() -> None:
    own = [p.relative_to(TESTS).as_posix() for p in TESTS.rglob("*.py")
           if p.name not in ("conftest.py", Path(__file__).name) and OWN_SETUP.search(p.read_text(encoding="utf-8"))]
    assert own == []
    assert OWN_SETUP.search('os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")')  # the guard can see it
    assert not OWN_SETUP.search('env = dict(os.environ, QT_QPA_PLATFORM="offscreen")')
