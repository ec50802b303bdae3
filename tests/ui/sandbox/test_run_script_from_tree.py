"""A skill's script runs in the Sandbox console from the tree (Ctrl+Alt+Enter), as an agent's shell call."""

from __future__ import annotations

from pathlib import Path

import mainwindow_support
import pytest
from PySide6.QtCore import Qt

make_window = mainwindow_support.make_window  # fixture
pytestmark = pytest.mark.bwrap


def test_tree_runs_the_script_in_the_sandbox(qtbot, bwrap_available: None, make_window,  # type: ignore[no-untyped-def]
                                             example_workspace: Path) -> None:
    skill = example_workspace / "ledger-reconcile"
    script = skill / "scripts" / "reconcile.py"
    w = make_window(example_workspace)
    qtbot.waitUntil(lambda: not w.loading and not w.tree.filling, timeout=20000)
    skill_item = w.tree.find_skill_item("ledger-reconcile")
    skill_item.setExpanded(True)
    items = [skill_item]
    found = None
    while items:
        it = items.pop()
        if it.data(0, Qt.ItemDataRole.UserRole) == script:
            found = it
        items += [it.child(i) for i in range(it.childCount())]
    assert found is not None
    w.tree.tree.setCurrentItem(found)
    w.tree.tree.setFocus()
    console = w.features.sandbox
    with qtbot.waitSignal(console.sig_finished, timeout=60000) as done:
        mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        qtbot.keyClick(w.tree.tree, Qt.Key.Key_Return, mods)
    assert console.command.currentText().endswith("/skills/ledger-reconcile/scripts/reconcile.py")
    assert done.args[0] is not None  # it ran (whatever the script says without its inputs)
    assert "$ " in console.output.toPlainText()
