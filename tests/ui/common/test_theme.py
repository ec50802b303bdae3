"""Shipped look: every icon renders, both stylesheets parse without a Qt warning and keep text readable."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QByteArray, QRectF, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTreeView,
)

from skillstudio.resources import resource_path
from skillstudio.ui.common.theme import load_stylesheet

ICONS = ["skillstudio", "new", "open", "save", "validate", "run", "release", "history", "settings", "warning",
         "error", "info", "skill", "file", "folder"]


def _luminance(hex_color: str) -> float:
    rgb = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("name", ICONS)
def test_icon_renders_something(qapp: QApplication, name: str) -> None:
    path = resource_path("icons", f"{name}.svg")
    renderer = QSvgRenderer(str(path))
    assert renderer.isValid(), path
    img = QImage(48, 48, QImage.Format.Format_ARGB32)
    img.fill(QColor(0, 0, 0, 0))
    painter = QPainter(img)
    renderer.render(painter, QRectF(0, 0, 48, 48))
    painter.end()
    painted = sum(1 for x in range(48) for y in range(48) if img.pixelColor(x, y).alpha() > 0)
    assert 40 < painted < 48 * 48, f"{name}: {painted} painted pixels"


def test_monochrome_icons_recolour_for_the_dark_theme(qapp: QApplication) -> None:
    for name in ["new", "open", "save", "validate", "run", "release", "history", "settings", "skill", "file", "folder"]:
        text = resource_path("icons", f"{name}.svg").read_text(encoding="utf-8")
        assert set(re.findall(r"#[0-9a-fA-F]{6}", text)) == {"#4a4f57"}, name
        assert QSvgRenderer(QByteArray(text.replace("#4a4f57", "#c9d1d9").encode())).isValid()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_stylesheet_parses_and_styles_the_main_widgets(qapp: QApplication, theme: str) -> None:
    qss = load_stylesheet(theme)  # as the app loads it: @ICONS@ resolved to the icons folder
    assert "@ICONS@" not in qss and "arrow-down" in qss
    for selector in ("QMainWindow", "QTreeView", "QTabWidget", "QPlainTextEdit", "QTableView", "QHeaderView",
                     "QLineEdit", "QPushButton", "QToolBar", "QStatusBar", "QDockWidget", "QListView",
                     "QComboBox", "QSplitter"):
        assert re.search(rf"(^|[\s,]){selector}\b", qss), selector
    assert qss.count("{") == qss.count("}")
    warnings: list[str] = []

    def handler(mode: QtMsgType, _ctx: object, message: str) -> None:
        if mode != QtMsgType.QtDebugMsg and "propagateSizeHints" not in message:
            warnings.append(message)

    previous = qInstallMessageHandler(handler)
    try:
        win = QMainWindow()
        win.setStyleSheet(qss)
        split = QSplitter()
        tabs = QTabWidget()
        tabs.addTab(QPlainTextEdit("text"), "SKILL.md")
        for w in (QTreeView(), tabs, QLineEdit("x"), QComboBox(), QPushButton("Release")):
            split.addWidget(w)
        win.setCentralWidget(split)
        dock = QDockWidget("Problems")
        dock.setWidget(QTableView())
        win.addDockWidget(dock.allowedAreas().__class__.BottomDockWidgetArea, dock)
        win.addToolBar("main").addAction("Save")
        win.statusBar().showMessage("ready")
        win.show()
        QApplication.processEvents()
        win.grab()
        win.close()
    finally:
        qInstallMessageHandler(previous)
    assert warnings == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_colours_have_enough_contrast(theme: str) -> None:
    qss = resource_path("themes", f"{theme}.qss").read_text(encoding="utf-8")
    body = qss.split("*/", 1)[1]
    def rule(selector: str) -> re.Match[str] | None:
        return re.search(re.escape(selector) + r" \{[^}]*\n\s+background: (#\w{6});[^}]*\n\s+color: (#\w{6});", body)

    editor, status, button = (rule("QPlainTextEdit, QTextEdit"), rule("QStatusBar"),
                              rule("QPushButton:default, QPushButton#accentButton"))
    for m in (editor, status, button):
        assert m is not None
        assert contrast(m.group(1), m.group(2)) >= 4.5, m.group(0)
