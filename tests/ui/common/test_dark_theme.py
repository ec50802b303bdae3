"""The dark theme has no pale leftovers: tooltips, banners and a selected problem row are all dark-aware."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel, QToolTip, QWidget

from skillstudio.bundle.problems import Problem
from skillstudio.ui.common.theme import apply_theme
from skillstudio.ui.editor.problems_panel import ProblemsPanel
from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor
from skillstudio.ui.triggers.summary import make_banner


def _app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app


def _lightness(c: QColor) -> float:
    return c.lightnessF()


def _luminance(c: QColor) -> float:
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def _contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _background(widget: QWidget) -> QColor:
    image = widget.grab().toImage()
    return image.pixelColor(3, image.height() // 2)


def test_tooltips_are_dark_in_the_dark_theme(qtbot) -> None:  # type: ignore[no-untyped-def]
    apply_theme(_app(), "dark")
    try:
        owner = QWidget()
        qtbot.addWidget(owner)
        owner.show()
        QToolTip.showText(owner.mapToGlobal(QPoint(5, 5)), "A tooltip with some words", owner)
        tip = None

        def shown() -> bool:
            nonlocal tip
            tip = next((w for w in QApplication.topLevelWidgets()
                        if w.metaObject().className() == "QTipLabel" and w.isVisible()), None)
            return tip is not None

        qtbot.waitUntil(shown, timeout=3000)
        assert tip is not None
        assert _lightness(_background(tip)) < 0.35
        QToolTip.hideText()
    finally:
        apply_theme(_app(), "light")


def test_banners_follow_the_theme(qtbot) -> None:  # type: ignore[no-untyped-def]
    apply_theme(_app(), "dark")
    try:
        banner = make_banner("warn", "warning")
        banner.setText("Something needs your attention")
        qtbot.addWidget(banner)
        banner.resize(400, 40)
        banner.show()
        assert _lightness(_background(banner)) < 0.35
        editor = TriggerCasesEditor()
        qtbot.addWidget(editor)
        editor.banner.resize(400, 40)
        editor.banner.show()
        assert _lightness(_background(editor.banner)) < 0.35
    finally:
        apply_theme(_app(), "light")
    light = make_banner("warn2", "warning")
    light.setText("x")
    qtbot.addWidget(light)
    light.resize(400, 40)
    light.show()
    assert _lightness(_background(light)) > 0.7


def test_selected_problem_row_stays_visible_when_the_focus_is_elsewhere(qtbot) -> None:  # type: ignore[no-untyped-def]
    apply_theme(_app(), "dark")
    try:
        panel = ProblemsPanel()
        qtbot.addWidget(panel)
        panel.resize(700, 200)
        panel.set_problems([Problem(severity="warning", code=f"lint.x{i}", message=f"problem {i}", line=i + 2)
                            for i in range(4)], "demo")
        panel.show()
        qtbot.waitExposed(panel)
        panel.tree.setCurrentItem(panel.tree.topLevelItem(1))
        other = QLabel("elsewhere")  # another window has the focus: the selection is drawn inactive
        qtbot.addWidget(other)
        other.show()
        other.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is other, timeout=3000)
        image = panel.tree.viewport().grab().toImage()
        rects = [panel.tree.visualItemRect(panel.tree.topLevelItem(i)) for i in range(4)]
        x = rects[1].left() + rects[1].width() // 2
        selected = image.pixelColor(x, rects[1].center().y())
        for r in (rects[0], rects[2], rects[3]):
            plain = image.pixelColor(x, r.center().y())
            # clearly apart from every other row (alternate-colour rows included): contrast ratio >= 1.3
            assert _contrast(selected, plain) >= 1.3, (selected.name(), plain.name())
    finally:
        apply_theme(_app(), "light")
