"""Icons and themes for the UI, found through skillstudio.resources (Mu's load_icon/load_stylesheet).

Missing files never break the app: an absent icon is an empty QIcon, an absent stylesheet is "",
and the palette alone still gives a usable light or dark look.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from skillstudio import resources, userdirs
from skillstudio.bundle.fileio import atomic_write
from skillstudio.ui.common.chrome_labels import label_qt_chrome
from skillstudio.ui.common.font_scale import follow_app_font

THEMES = ("light", "dark")


NEUTRAL_STROKE = "#4a4f57"  # the shipped icons' line colour, made light for the dark theme
DARK_STROKE = "#c5c9d0"


def load_icon(name: str, theme: str | None = None) -> QIcon:
    """An icon from resources/icons; on the dark theme its neutral lines are drawn light."""
    return _icon(name, theme or current_theme())


@lru_cache(maxsize=256)
def _icon(name: str, theme: str) -> QIcon:
    path = resources.resource_path("icons", f"{name}.svg")
    if not path.is_file():
        return QIcon()
    if theme == "dark":
        try:
            svg = path.read_text(encoding="utf-8")
        except OSError:
            return QIcon(str(path))
        if NEUTRAL_STROKE in svg:
            tinted = userdirs.cache_dir() / "icons-dark" / path.name
            data = svg.replace(NEUTRAL_STROKE, DARK_STROKE)
            try:
                if not tinted.is_file() or tinted.read_text(encoding="utf-8") != data:
                    atomic_write(tinted, data)
                return QIcon(str(tinted))
            except OSError:
                pass
    return QIcon(str(path))


def load_stylesheet(theme: str) -> str:
    """The theme's stylesheet; `@ICONS@` in it becomes the icons folder (qss needs absolute urls)."""
    path = resources.resource_path("themes", f"{theme}.qss")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    return text.replace("@ICONS@", resources.resource_path("icons").as_posix())


def _palette(theme: str) -> QPalette:
    pal = QPalette()
    if theme == "dark":
        colors = {
            QPalette.ColorRole.Window: "#1f2125", QPalette.ColorRole.WindowText: "#e3e5e8",
            QPalette.ColorRole.Base: "#17191c", QPalette.ColorRole.AlternateBase: "#22252a",
            QPalette.ColorRole.Text: "#e3e5e8", QPalette.ColorRole.Button: "#2a2d32",
            QPalette.ColorRole.ButtonText: "#e3e5e8", QPalette.ColorRole.Highlight: "#3d6fd6",
            QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2a2d32",
            QPalette.ColorRole.ToolTipText: "#e3e5e8", QPalette.ColorRole.PlaceholderText: "#8a8f98",
            QPalette.ColorRole.Link: "#7aa7ff", QPalette.ColorRole.Mid: "#3a3e44",
        }
    else:
        colors = {
            QPalette.ColorRole.Window: "#f4f5f7", QPalette.ColorRole.WindowText: "#1d1f23",
            QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#f7f8fa",
            QPalette.ColorRole.Text: "#1d1f23", QPalette.ColorRole.Button: "#eceef1",
            QPalette.ColorRole.ButtonText: "#1d1f23", QPalette.ColorRole.Highlight: "#2f6fde",
            QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#ffffe8",
            QPalette.ColorRole.ToolTipText: "#1d1f23", QPalette.ColorRole.PlaceholderText: "#656a73",
            QPalette.ColorRole.Link: "#2f6fde", QPalette.ColorRole.Mid: "#c9ccd1",
        }
    for role, value in colors.items():
        pal.setColor(role, QColor(value))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#7c8088"))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#7c8088"))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#7c8088"))
    return pal


def apply_theme(app: QApplication, theme: str) -> str:
    """Fusion style + our palette + the theme's stylesheet (if shipped). Returns the theme applied."""
    theme = theme if theme in THEMES else "light"
    follow_app_font(app)  # the platform's font scaling reaches widgets despite the stylesheet
    label_qt_chrome(app)
    app.setStyle("Fusion")
    app.setPalette(_palette(theme))
    app.setStyleSheet(load_stylesheet(theme))
    app.setProperty("skillstudio_theme", theme)
    return theme


def current_theme() -> str:
    app = QApplication.instance()
    value = app.property("skillstudio_theme") if app is not None else None
    return value if value in THEMES else "light"


# One-line status messages in the release views: readable on both themes' backgrounds.
ERROR_STYLE = "color: #b3261e;"
OK_STYLE = "color: #1b6e20;"
