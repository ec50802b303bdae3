"""The editor's building blocks on text that trips naive code: emoji (UTF-16 pairs), NBSP, CRLF, BOM."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QTextDocument

from skillstudio.ui.editor.code_editor import CodeEditor
from skillstudio.ui.editor.highlighter import SkillHighlighter
from skillstudio.ui.editor.tab import EditorTab


def _formats(doc: QTextDocument, line: int) -> list[tuple[int, int, str]]:
    block = doc.findBlockByNumber(line)
    return [(r.start, r.length, r.format.foreground().color().name()) for r in block.layout().formats()]


def test_highlighter_colours_the_right_characters_after_an_emoji(qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = QTextDocument()
    hl = SkillHighlighter(doc, "skill", "light")
    doc.setPlainText("---\nname: x\n---\n\n😀 see `code` here\n")
    hl.rehighlight()
    (start, length, _), = [f for f in _formats(doc, 4) if f[2] == "#6a3fb5"]
    utf16 = doc.findBlockByNumber(4).text().encode("utf-16-le")
    assert utf16[2 * start:2 * (start + length)].decode("utf-16-le") == "`code`"  # Qt counts the emoji twice


def test_replace_all_undoable_keeps_emoji_and_nbsp(qtbot) -> None:  # type: ignore[no-untyped-def]
    ed = CodeEditor()
    qtbot.addWidget(ed)
    ed.setPlainText("a😀b\u00a0c\nname: old\n")
    assert ed.replace_all_undoable("a😀b\u00a0c\nname: new\n")
    assert ed.text() == "a😀b\u00a0c\nname: new\n"
    ed.undo()
    assert ed.text() == "a😀b\u00a0c\nname: old\n"


def test_tab_keeps_bom_crlf_and_nbsp_byte_for_byte(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    raw = "\ufeff---\r\nname: x\r\ndescription: a\u00a0b 😀\r\n---\r\nbody\r\n".encode()
    path = tmp_path / "x" / "SKILL.md"
    path.parent.mkdir()
    path.write_bytes(raw)
    tab = EditorTab(path, tmp_path)
    qtbot.addWidget(tab)
    assert tab.skill_dir == path.parent.resolve() and tab.mode == "skill"
    assert tab.buffer_text().encode() == raw
    tab.save()
    assert path.read_bytes() == raw
