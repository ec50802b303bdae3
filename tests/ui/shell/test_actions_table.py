"""The actions table is the one list of commands: every row becomes exactly one working action."""

from __future__ import annotations

from collections import Counter

from PySide6.QtGui import QKeySequence

from skillstudio.ui.shell.actions import ACTIONS, MENUS, TOOLBAR


def test_every_row_is_one_action_in_its_menu_with_its_keys(qtbot, make_window) -> None:
    w = make_window()
    ids = [spec.id for spec in ACTIONS]
    assert len(ids) == len(set(ids)), "duplicate action ids"
    assert {spec.menu for spec in ACTIONS} <= set(MENUS)
    assert {i for i in TOOLBAR if i is not None} <= set(ids)
    menus = {a.text(): a.menu() for a in w.menuBar().actions()}
    for spec in ACTIONS:
        act = w.action(spec.id)
        assert act.text() == spec.text
        assert act in menus[spec.menu].actions(), f"{spec.id} is not in {spec.menu}"
        assert [k.toString() for k in act.shortcuts()] == [QKeySequence(k).toString() for k in spec.shortcuts]


def test_no_two_commands_share_a_key(qtbot, make_window) -> None:
    w = make_window()
    keys = Counter(k.toString() for a in w.actions() for k in a.shortcuts() if not k.isEmpty())
    assert [k for k, n in keys.items() if n > 1] == []


def test_a_row_runs_its_handler(qtbot, make_window, example_workspace) -> None:
    w = make_window(example_workspace)
    assert "test_panel" not in w.features.built()  # lazy: nothing has asked for it yet
    w.action("tests").trigger()  # "features.show_tests"
    assert "test_panel" in w.features.built() and w.features.tests_tabs.currentWidget() is w.features.test_panel
    w.action("theme").trigger()  # "toggle_theme", checkable
    assert w.settings.theme == "dark" and w.action("theme").isChecked()
