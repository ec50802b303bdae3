"""Tab in YAML never inserts a tab character; Python, JSON and shell files are highlighted."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCursor

from skillstudio.ui.editor.highlighter import PALETTES
from skillstudio.ui.editor.tab import EditorTab

SKILL = "---\nname: demo\ndescription: Demo skill.\nmetadata:\n  version: \"1.0.0\"\n---\n# Demo\n\nBody text.\n"


def _tab(qtbot, path: Path) -> EditorTab:  # type: ignore[no-untyped-def]
    tab = EditorTab(path, path.parent)
    qtbot.addWidget(tab)
    tab.resize(800, 500)
    tab.show()
    qtbot.waitExposed(tab)
    return tab


def _line(tab: EditorTab, line: int, column: int) -> None:
    cursor = tab.editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.Start)
    cursor.movePosition(QTextCursor.MoveOperation.Down, n=line)
    cursor.movePosition(QTextCursor.MoveOperation.Right, n=column)
    tab.editor.setTextCursor(cursor)


def test_tab_in_front_matter_inserts_spaces_and_the_yaml_stays_valid(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    (tmp_path / "demo").mkdir()
    md = tmp_path / "demo" / "SKILL.md"
    md.write_text(SKILL, encoding="utf-8")
    tab = _tab(qtbot, md)
    _line(tab, 4, 0)  # "  version: ..." inside metadata
    qtbot.keyClick(tab.editor, Qt.Key.Key_Tab)
    text = tab.editor.text()
    assert "\t" not in text.split("---")[1]
    assert text.splitlines()[4].startswith("    version")
    yaml.safe_load(text.split("---")[1])  # still valid YAML
    _line(tab, 8, 0)  # the Markdown body keeps a real tab
    qtbot.keyClick(tab.editor, Qt.Key.Key_Tab)
    assert tab.editor.text().splitlines()[8].startswith("\t")

    data = tmp_path / "demo" / "evals.yaml"
    data.write_text("cases:\n- prompt: x\n", encoding="utf-8")
    ytab = _tab(qtbot, data)
    _line(ytab, 1, 0)
    qtbot.keyClick(ytab.editor, Qt.Key.Key_Tab)
    assert ytab.editor.text().splitlines()[1] == "  - prompt: x"


def _colors_at(tab: EditorTab, line: int, word: str) -> set[str]:
    block = tab.editor.document().findBlockByNumber(line)
    col = block.text().index(word)
    return {r.format.foreground().color().name() for r in block.layout().formats()
            if r.start <= col < r.start + r.length}


def test_python_json_and_shell_files_are_highlighted(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = PALETTES["light"]
    py = tmp_path / "fetch.py"
    py.write_text('import json\n\n\ndef fetch(url):\n    """Fetch one\n    page."""\n    return url  # done\n',
                  encoding="utf-8")
    t = _tab(qtbot, py)
    assert t.mode == "python"
    assert QColor(c["key"]).name() in _colors_at(t, 0, "import")
    assert QColor(c["string"]).name() in _colors_at(t, 5, "page")  # inside a docstring spanning lines
    assert QColor(c["comment"]).name() in _colors_at(t, 6, "# done")

    js = tmp_path / "config.json"
    js.write_text('{\n  "name": "demo",\n  "count": 3,\n  "on": true\n}\n', encoding="utf-8")
    t = _tab(qtbot, js)
    assert t.mode == "json"
    assert QColor(c["key"]).name() in _colors_at(t, 1, '"name"')
    assert QColor(c["string"]).name() in _colors_at(t, 1, '"demo"')

    sh = tmp_path / "run"
    sh.write_text('#!/bin/sh\nif [ -n "$TOKEN" ]; then\n  echo $HOME  # home\nfi\n', encoding="utf-8")
    t = _tab(qtbot, sh)
    assert t.mode == "shell"
    assert QColor(c["key"]).name() in _colors_at(t, 1, "if")
    assert QColor(c["code"]).name() in _colors_at(t, 2, "$HOME")
    assert QColor(c["comment"]).name() in _colors_at(t, 2, "# home")
