"""Accessibility of the main window: tooltips, readable contrast, font scaling, keyboard-only use."""

from __future__ import annotations

import re
from pathlib import Path

from mainwindow_support import shot
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QToolButton,
    QWidget,
)

from skillstudio.ui.common import theme as ui_resources
from skillstudio.ui.shell.main_window import MainWindow

REPO = Path(__file__).resolve().parents[3]
THEMES_DIR = REPO / "resources" / "themes"
UI_DIR = REPO / "desktop" / "skillstudio" / "ui"


def build_all_panels(qtbot, w: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """Show every dock through its command so the lazily built panels exist."""
    f = w.features
    for act in map(w.action, ("tests", "try", "playground", "sandbox", "secrets", "registry")):
        act.trigger()
        QApplication.processEvents()
    for name in ("test_panel", "try_prompt", "playground", "transcripts", "sandbox", "secrets", "registry",
                 "trust", "lock"):
        getattr(f, name)  # builds the page if its tab was never shown
    w.versions_dock.show()
    w.problems_dock.show()
    QApplication.processEvents()


# ---------------------------------------------------------------------------------------- tooltips
def _unlabelled(root: QWidget) -> list[str]:
    bad = []
    for b in root.findChildren(QAbstractButton):
        if b.window() is not root.window():
            continue
        text = b.text().replace("&", "").strip()
        name = f"{type(b).__name__} {b.objectName()!r} in {type(b.parentWidget()).__name__}"
        if isinstance(b, (QToolButton, QPushButton)) and not text and not b.toolTip():
            bad.append(f"{name}: no text and no tooltip")
        elif not text and not b.icon().isNull() and not b.toolTip():
            bad.append(f"{name}: icon only")
    return bad


def test_every_button_has_text_or_tooltip(qtbot, make_window, example_workspace: Path) -> None:
    w = make_window(example_workspace)
    build_all_panels(qtbot, w)
    assert len(w.findChildren(QAbstractButton)) > 30
    assert _unlabelled(w) == []


def test_toolbar_tooltips_name_the_shortcut(qtbot, make_window, example_workspace: Path) -> None:
    w = make_window(example_workspace)
    bar = w.findChild(QWidget, "main_toolbar")
    buttons = [b for b in bar.findChildren(QToolButton) if b.defaultAction() is not None]
    assert buttons
    for b in buttons:
        act = b.defaultAction()
        if act.shortcut().toString():
            assert act.shortcut().toString() in b.toolTip(), b.toolTip()


# ---------------------------------------------------------------------------------------- contrast
def luminance(color: str) -> float:
    c = QColor(color)
    assert c.isValid(), color

    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def contrast(fg: str, bg: str) -> float:
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_contrast_formula_matches_wcag_reference_values() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the classic "just fails AA" grey


def qss_rules(text: str) -> dict[str, dict[str, str]]:
    """selector -> {property: value}, one entry per comma-separated selector."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    rules: dict[str, dict[str, str]] = {}
    for sel, body in re.findall(r"([^{}]+)\{([^}]*)\}", text):
        props = dict((k.strip(), v.strip()) for k, _, v in
                     (d.partition(":") for d in body.split(";") if ":" in d))
        for s in sel.split(","):
            rules.setdefault(s.strip(), {}).update(props)
    return rules


# selectors whose text sits on its own background (text colour, background colour or the selector it sits on)
TEXT_PAIRS = [
    ("QMainWindow", "QMainWindow"), ("QWidget", "QMainWindow"), ("QToolTip", "QToolTip"),
    ("QPlainTextEdit", "QPlainTextEdit"), ("QHeaderView::section", "QHeaderView::section"),
    ("QTabBar::tab", "QMainWindow"), ("QTabBar::tab:selected", "QTabBar::tab:selected"),
    ("QLineEdit", "QLineEdit"), ("QPushButton", "QPushButton"),
    ("QPushButton#accentButton", "QPushButton#accentButton"),
    ("QStatusBar", "QStatusBar"), ("QStatusBar QLabel", "QStatusBar"),
    ("QTreeView::item:selected", "QTreeView::item:selected"), ("QMenuBar::item:selected", "QMenuBar::item:selected"),
    ('QLabel[severity="error"]', "QMainWindow"), ('QLabel[severity="warning"]', "QMainWindow"),
    ('QLabel[severity="info"]', "QMainWindow"),
]


def _bg(rule: dict[str, str]) -> str | None:
    return rule.get("background-color") or rule.get("background")


def test_theme_stylesheets_have_readable_text() -> None:
    failures = []
    for theme in ("light", "dark"):
        rules = qss_rules((THEMES_DIR / f"{theme}.qss").read_text(encoding="utf-8"))
        for fg_sel, bg_sel in TEXT_PAIRS:
            fg = rules[fg_sel]["color"]
            bg = _bg(rules[bg_sel])
            if bg in (None, "transparent"):
                bg = _bg(rules["QMainWindow"])
            assert bg is not None, f"{theme}: no background for {bg_sel}"
            ratio = contrast(fg, bg)
            if ratio < 4.5:
                failures.append(f"{theme}: {fg_sel} {fg} on {bg} = {ratio:.2f}:1")
    assert failures == []


def test_palettes_have_readable_text() -> None:
    R = QPalette.ColorRole  # noqa: N806
    pairs = [(R.WindowText, R.Window), (R.Text, R.Base), (R.Text, R.AlternateBase), (R.ButtonText, R.Button),
             (R.HighlightedText, R.Highlight), (R.ToolTipText, R.ToolTipBase), (R.Link, R.Base),
             (R.PlaceholderText, R.Base), (R.PlaceholderText, R.Window), (R.PlaceholderText, R.AlternateBase)]
    failures = []
    for theme in ("light", "dark"):
        pal = ui_resources._palette(theme)
        for fg, bg in pairs:
            ratio = contrast(pal.color(fg).name(), pal.color(bg).name())
            if ratio < 4.5:
                failures.append(f"{theme}: {fg.name} on {bg.name} = {ratio:.2f}:1")
    assert failures == []


# ---------------------------------------------------------------------------------------- font scaling
PX_FONT = re.compile(r"font(-size)?\s*:[^;\"']*\d+(\.\d+)?\s*px", re.I)


def test_no_pixel_font_sizes() -> None:
    found = []
    for path in [*THEMES_DIR.glob("*.qss"), *UI_DIR.glob("*.py")]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PX_FONT.search(line) or re.search(r"setPixelSize\(\s*\d", line):
                found.append(f"{path.name}:{n}: {line.strip()}")
    assert found == []


def test_panels_follow_the_application_font(qtbot, make_window, example_workspace: Path) -> None:
    from PySide6.QtWidgets import QLabel

    w = make_window(example_workspace)
    build_all_panels(qtbot, w)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    labels = [lb for lb in w.features.test_panel.findChildren(QLabel) if lb.text().strip()]
    labels += [lb for lb in w.features.playground.findChildren(QLabel) if lb.text().strip()]
    assert labels
    before = [lb.sizeHint().height() for lb in labels]
    old = app.font()
    try:
        big = app.font()
        big.setPointSizeF(old.pointSizeF() * 1.8)
        app.setFont(big)
        QApplication.processEvents()
        after = [lb.sizeHint().height() for lb in labels]
    finally:
        app.setFont(old)
        QApplication.processEvents()
    stuck = [lb.text()[:40] for lb, a, b in zip(labels, after, before, strict=True) if a <= b]
    assert stuck == []


# ---------------------------------------------------------------------------------------- keyboard
def _tab_walk(qtbot, panel: QWidget, start: QWidget, targets: list[QWidget],  # type: ignore[no-untyped-def]
              backwards: bool) -> list[QWidget]:
    """Press Tab (or Shift+Tab) from *start* while focus stays inside *panel*; the targets focused on the way.

    Leaving the panel ends the walk: a panel's controls must be one contiguous stretch of the tab
    chain, not reachable only after a detour through the rest of the window.
    """
    start.setFocus(Qt.FocusReason.TabFocusReason)
    QApplication.processEvents()
    reached: list[QWidget] = []
    for _ in range(60):
        focus = QApplication.focusWidget()
        if focus is None or not (focus is panel or panel.isAncestorOf(focus)):
            break
        for t in targets:
            if (focus is t or t.isAncestorOf(focus)) and t not in reached:
                reached.append(t)
        if len(reached) == len(targets):
            break
        key = Qt.Key.Key_Backtab if backwards else Qt.Key.Key_Tab
        mods = Qt.KeyboardModifier.ShiftModifier if backwards else Qt.KeyboardModifier.NoModifier
        qtbot.keyClick(focus, key, mods)
        QApplication.processEvents()
    return reached


def _name(t: QWidget) -> str:
    return t.objectName() or type(t).__name__


def _check_traversal(qtbot, panel: QWidget, targets: list[QWidget]) -> list[str]:  # type: ignore[no-untyped-def]
    """Tab forward from the panel and Shift+Tab back from its last target; what was never reached."""
    problems = []
    live = [t for t in targets if t.isVisible() and t.isEnabled()]
    for t in targets:
        if not t.isEnabled() and not (t.focusPolicy() & Qt.FocusPolicy.TabFocus):
            problems.append(f"{_name(t)} (disabled) would not take Tab focus")
    if not targets[0].isVisible():
        problems.append(f"{_name(targets[0])}, the primary control of {type(panel).__name__}, is not shown")
    for t in live:  # a multi-line editor must not swallow Tab (Ctrl+Tab would be the only way out)
        if isinstance(t, (QPlainTextEdit, QTextEdit)) and not t.isReadOnly():
            t.setFocus(Qt.FocusReason.TabFocusReason)
            qtbot.keyClick(t, Qt.Key.Key_Tab)
            if QApplication.focusWidget() is t:
                problems.append(f"Tab is trapped in {_name(t)} of {type(panel).__name__}")
            t.clear()
    for backwards, start in ((False, panel), (True, live[-1] if live else panel)):
        reached = _tab_walk(qtbot, panel, start, live, backwards)
        for t in live:
            if t not in reached:
                way = "Shift+Tab" if backwards else "Tab"
                problems.append(f"{way} never reaches {_name(t)} in {type(panel).__name__}")
    return problems


def test_keyboard_reaches_every_panels_primary_controls(qtbot, make_window, example_workspace: Path) -> None:
    w = make_window(example_workspace)
    build_all_panels(qtbot, w)
    f = w.features
    skill_dir = next(iter(w._current_workspace().skills)).path
    cases = w.open_cases(skill_dir)
    assert cases is not None
    panels = [
        (w.action("tests"), f.test_panel, [f.test_panel.run_button, f.test_panel.tabs.tabBar(), f.test_panel.search,
                                     f.test_panel.table]),  # search and table show once there are results
        (w.action("try"), f.try_prompt, [f.try_prompt.prompt, f.try_prompt.try_button]),
        (w.action("playground"), f.playground, [f.playground.prompt, f.playground.run_button]),
        (w.action("sandbox"), f.sandbox, [f.sandbox.command, f.sandbox.run_button]),
        (w.action("secrets"), f.secrets, [f.secrets.name_edit, f.secrets.value_edit, f.secrets.save_btn]),
        (w.action("registry"), f.registry, [f.registry.location_edit, f.registry.connect_btn]),
        (None, cases, [cases.filter_edit, cases.view]),
    ]
    problems = []
    for act, panel, targets in panels:
        if act is not None:
            act.trigger()
        else:
            w.tabs.setCurrentWidget(panel)
        QApplication.processEvents()
        problems += _check_traversal(qtbot, panel, targets)
    assert problems == [], "\n".join(problems)


def test_dock_shortcuts_show_and_focus_their_panel(qtbot, make_window, example_workspace: Path) -> None:
    w = make_window(example_workspace)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w)
    f = w.features
    docks = [(w.action("tests"), f.tests_dock), (w.action("playground"), f.playground_dock),
             (w.action("sandbox"), f.sandbox_dock),
             (w.action("registry"), f.publish_dock)]
    for act, dock in docks:
        dock.hide()
        seq = act.shortcut()
        assert not seq.isEmpty(), act.text()
        combo = seq[0]
        qtbot.keyClick(w, combo.key(), combo.keyboardModifiers())
        qtbot.waitUntil(dock.isVisible)
        focus = QApplication.focusWidget()
        assert focus is not None and dock.isAncestorOf(focus), f"{act.text()}: focus is on {focus!r}"


def test_dark_theme_screenshot_with_a_panel_open(qtbot, make_window, example_workspace: Path,
                                                 artifacts_dir: Path) -> None:
    w = make_window(example_workspace, theme="dark")
    assert ui_resources.current_theme() == "dark"
    w.action("playground").trigger()
    QApplication.processEvents()
    assert w.features.playground.isVisible()
    bg = w.features.playground.palette().color(QPalette.ColorRole.Window)
    assert bg.lightness() < 80  # the dark palette really reaches the panel
    shot(w, artifacts_dir, "dark_theme_playground")


def test_panel_inputs_explain_themselves(qtbot, make_window, example_workspace: Path) -> None:
    """Fields, choices, limits and switches of the feature panels say what they do on hover."""
    w = make_window(example_workspace)
    build_all_panels(qtbot, w)
    f = w.features
    panels = [f.test_panel, f.try_prompt, f.playground, f.transcripts, f.sandbox, f.secrets, f.registry, f.trust,
              f.lock]
    missing = []
    for panel in panels:
        for cls in (QLineEdit, QComboBox, QAbstractSpinBox, QCheckBox):
            for x in panel.findChildren(cls):
                if isinstance(x.parentWidget(), (QComboBox, QAbstractSpinBox)):
                    continue  # the line edit inside a combo or spin box
                if not x.toolTip():
                    missing.append(f"{type(panel).__name__}: {type(x).__name__} {x.objectName()!r} "
                                   f"{getattr(x, 'text', lambda: '')()[:30]!r}")
    assert missing == [], "\n".join(missing)
