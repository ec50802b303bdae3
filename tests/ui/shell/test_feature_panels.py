"""The main window hosts every feature panel: they follow the open workspace and skill, their commands
are in the menus and the command palette, and closing the window stops their workers."""

from __future__ import annotations

from pathlib import Path

from mainwindow_support import shot

from skillstudio.ui.common.provider_form import OFFLINE


def test_panels_follow_the_workspace_and_the_selected_skill(qtbot, make_window, example_workspace: Path,
                                                             artifacts_dir: Path) -> None:
    w = make_window(example_workspace)
    f = w.features
    assert f.test_panel.workspace() == example_workspace
    assert f.playground.workspace == example_workspace
    assert f.registry.workspace == example_workspace and f.lock.workspace == example_workspace
    assert f.secrets.vault.path.is_relative_to(example_workspace)

    skill = example_workspace / "ledger-reconcile"
    w.tree.select_skill(skill)
    qtbot.waitUntil(lambda: f.skill_dir is not None and f.skill_dir.resolve() == skill.resolve(), timeout=5000)

    titles = {a.text().replace("&", "") for a in w.actions()}
    for command in ("Show Trigger Tests", "Try a Prompt…", "Show Playground", "Show Sandbox Console",
                    "Manage Secrets…", "Export Skill…", "Show Registry"):
        assert command in titles
    menus = [a.text().replace("&", "") for a in w.menuBar().actions()]
    assert menus[-1] == "Help" and "Run" in menus and "Publish" in menus


def test_trigger_tests_run_from_the_main_window(qtbot, make_window, example_workspace: Path,
                                                artifacts_dir: Path) -> None:
    w = make_window(example_workspace)
    f = w.features
    w.action("tests").trigger()
    assert f.tests_dock.isVisible() and f.tests_tabs.currentWidget() is f.test_panel
    f.test_panel.provider.set_kind(OFFLINE)
    with qtbot.waitSignal(f.test_panel.sig_run_finished, timeout=60000) as blocker:
        f.test_panel.run()
    report = blocker.args[0]
    assert report["estimate"] is True and report["summary"]["cases"] >= 80
    shot(w, artifacts_dir, "main-trigger-tests")

    # a double-clicked result opens that skill's cases table in the editor area
    first = report["cases"][0]
    f.test_panel.sig_case_activated.emit(example_workspace / first["skill"], first["prompt"])
    qtbot.waitUntil(lambda: len(w.cases_tabs()) == 1, timeout=5000)


def test_each_panel_can_be_shown_and_the_window_closes_cleanly(qtbot, make_window, example_workspace: Path,
                                                               artifacts_dir: Path) -> None:
    w = make_window(example_workspace)
    f = w.features
    w.tree.select_skill(example_workspace / "network-config")
    for act, dock, name in ((w.action("playground"), f.playground_dock, "main-playground"),
                            (w.action("sandbox"), f.sandbox_dock, "main-sandbox"),
                            (w.action("secrets"), f.sandbox_dock, None),
                            (w.action("registry"), f.publish_dock, "main-publish")):
        act.trigger()
        qtbot.waitUntil(dock.isVisible, timeout=5000)
        if name:
            shot(w, artifacts_dir, name)
    w.close()
    assert not w.isVisible()


def test_optimize_description_opens_for_the_selected_skill(qtbot, make_window, example_workspace: Path) -> None:
    w = make_window(example_workspace)
    f = w.features
    assert f.optimize_description() is None  # nothing selected yet: a status message, no dialog
    skill = example_workspace / "crm-query"
    w.tree.select_skill(skill)
    qtbot.waitUntil(lambda: f.skill_dir is not None, timeout=5000)
    dialog = f.optimize_description()
    assert dialog is not None and dialog.isVisible()
    dialog.reject()


def test_a_case_saved_from_try_a_prompt_shows_in_the_open_cases_tab(qtbot, make_window,
                                                                     example_workspace: Path) -> None:
    w = make_window(example_workspace)
    skill = (example_workspace / "crm-query").resolve()
    tab = w.open_cases(skill)
    assert tab is not None and not tab.is_dirty()
    before = len(tab.cases())
    try_prompt = w.features.try_prompt
    qtbot.waitUntil(lambda: try_prompt.save_skill.findText("crm-query") >= 0, timeout=5000)
    try_prompt.save_skill.setCurrentIndex(try_prompt.save_skill.findText("crm-query"))
    try_prompt.prompt.setPlainText("summarise yesterday's support tickets")
    assert try_prompt.save_case("no_trigger") is not None
    prompts = [c.prompt for c in tab.cases()]
    assert len(prompts) == before + 1 and prompts[-1] == "summarise yesterday's support tickets"
