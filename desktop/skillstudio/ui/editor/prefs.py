"""Editor preferences a person expects to set once: font and size, tab width, line wrap.

Stored in the app settings (`editor/*`), applied to every open editor when Settings is accepted and
to each editor as it opens. The tab width is where Tab stops in code and how wide a tab character
looks; YAML keeps two-space indents whatever it is (its own convention).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit

from skillstudio.ui.common.settings import AppSettings


@dataclass(frozen=True)
class EditorPrefs:
    font_family: str = ""  # "" = the system's fixed-width font
    font_size: int = 10
    tab_width: int = 4
    wrap: bool = True

    @classmethod
    def load(cls, settings: AppSettings) -> EditorPrefs:
        def num(key: str, default: int, lo: int, hi: int) -> int:
            try:
                return max(lo, min(hi, int(str(settings.value(key, default)))))
            except ValueError:
                return default

        wrap = str(settings.value("editor/wrap", "true")).lower() not in ("false", "0", "no")
        return cls(str(settings.value("editor/font_family", "") or ""), num("editor/font_size", 10, 6, 48),
                   num("editor/tab_width", 4, 1, 16), wrap)

    def save(self, settings: AppSettings) -> None:
        settings.set_value("editor/font_family", self.font_family)
        settings.set_value("editor/font_size", self.font_size)
        settings.set_value("editor/tab_width", self.tab_width)
        settings.set_value("editor/wrap", "true" if self.wrap else "false")
        settings.sync()

    def font(self) -> QFont:
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        if self.font_family:
            font.setFamily(self.font_family)
        font.setPointSize(self.font_size)
        return font

    def apply(self, editor: QPlainTextEdit) -> None:
        editor.setFont(self.font())
        editor.setTabStopDistance(editor.fontMetrics().horizontalAdvance(" ") * self.tab_width)
        editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth if self.wrap
                               else QPlainTextEdit.LineWrapMode.NoWrap)
        editor.setProperty("tab_width", self.tab_width)
