"""Unsaved trigger-cases tables survive a crash like text buffers do."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skillstudio import userdirs
from skillstudio.bundle.triggers import TRIGGERS_PATH, load_cases
from skillstudio.ui.common import dialogs
from skillstudio.ui.common.recovery import RecoveryEntry
from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor

PROMPT = "Recovered case typed before the crash: pipeline by region"

CHILD = r"""
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from skillstudio.ui.shell import main_window, recovery_controller
from skillstudio.ui.app import create_app
recovery_controller.AUTOSAVE_MS = 300
app = create_app()
w = main_window.MainWindow()
w.open_workspace(Path(sys.argv[1]))
w.show()
def edit():
    cases = w.open_cases(Path(sys.argv[2]))
    cases.add_case("trigger", sys.argv[3], "typed, never saved")
QTimer.singleShot(100, edit)
app.exec()
"""


def test_unsaved_trigger_cases_survive_a_crash(qtbot, make_window, example_workspace: Path,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    skill = example_workspace / "crm-query"
    path = skill / TRIGGERS_PATH
    original = path.read_bytes()
    n_before = len(load_cases(skill))
    recovery = userdirs.data_dir() / "recovery"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(example_workspace), str(skill), PROMPT], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if any(PROMPT in f.read_text(encoding="utf-8") for f in recovery.glob("*.json")):
                break
            time.sleep(0.1)
        else:
            err = proc.stderr.read().decode() if proc.poll() is not None else ""
            pytest.fail(f"the table was never autosaved: {err}")
    finally:
        proc.kill()  # SIGKILL: no close handler runs, exactly like a crash
        proc.wait(10)
        proc.stderr.close()
    assert path.read_bytes() == original

    asked: list[list[str]] = []

    def ask_restore(parent: object, entries: list[RecoveryEntry]) -> bool:
        asked.append([e.label for e in entries])
        return True

    monkeypatch.setattr(dialogs, "ask_restore", ask_restore)
    w = make_window(example_workspace)
    assert w.recovery.offer() == 1
    assert asked == [[f"{path.resolve()} (trigger cases table)"]]
    editor = w.current_doc()
    assert isinstance(editor, TriggerCasesEditor) and editor.skill_dir() == skill.resolve() and editor.is_dirty()
    assert [c.prompt for c in editor.cases()][-1] == PROMPT and len(editor.cases()) == n_before + 1
    assert path.read_bytes() == original  # into the table, not written behind the user's back
    editor.undo_stack.undo()  # one step back to the file's cases
    assert not editor.is_dirty() and len(editor.cases()) == n_before
    editor.undo_stack.redo()
    assert w.recovery.autosave() == 1  # still unsaved: kept again
    assert w.save_doc(editor)
    saved = load_cases(skill)
    assert saved[-1].prompt == PROMPT and saved[-1].why == "typed, never saved" and len(saved) == n_before + 1
    assert not list(recovery.glob("*.json"))  # saved: nothing left to recover
