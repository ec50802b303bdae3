"""One open file: the text editor (plus the front-matter form for SKILL.md), its disk state and saving.

The editor holds the text with '\n' line endings and no BOM (that is how Qt stores it); the file's
own line ending and BOM are remembered and put back on save, so an unedited file saves byte for
byte. Saves are atomic (fileio.atomic_write).

Released versions are immutable: once the window has found out (on a worker) that this SKILL.md's
version carries a release tag, the first edit of the buffer also moves `metadata.version` to the
next version in the same undo step, and saving opens an "Unreleased" section in CHANGELOG.md.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QScrollArea, QSplitter, QVBoxLayout, QWidget

from skillstudio.bundle import skillmd
from skillstudio.bundle.fileio import atomic_write, read_text_file
from skillstudio.bundle.model import SKILL_MD_NAMES
from skillstudio.bundle.release import CHANGELOG, ensure_unreleased, set_version_text
from skillstudio.ui.common.theme import current_theme
from skillstudio.ui.editor.code_editor import CodeEditor
from skillstudio.ui.editor.frontmatter_form import FrontMatterForm
from skillstudio.ui.editor.highlighter import FRONT

_untitled = itertools.count(1)


def mode_for(path: Path | None) -> str:
    if path is None or path.name in SKILL_MD_NAMES:
        return "skill"
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return "markdown"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    from skillstudio.ui.editor.code_highlight import code_mode  # first tab, not start-up

    return code_mode(path) or "text"


def skill_dir_of(path: Path | None, workspace: Path | None) -> Path | None:
    """The skill folder a file belongs to: the nearest ancestor holding SKILL.md (inside the workspace)."""
    if path is None:
        return None
    for parent in [path.parent, *path.parent.parents]:
        if any((parent / n).is_file() for n in SKILL_MD_NAMES):
            return parent
        if workspace is not None and parent == workspace:
            break
    return None


class EditorTab(QWidget):
    sig_dirty_changed = Signal(bool)
    sig_saved = Signal(object)  # Path
    sig_version_started = Signal(str)  # "<skill> 1.0.0 is released — your edits start 1.0.1"

    def __init__(self, path: Path | None, workspace: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path.resolve() if path else None
        self.untitled_id = "" if path else str(next(_untitled))
        self.mode = mode_for(path)
        self.skill_dir = skill_dir_of(self.path, workspace)
        self.newline = "\n"
        self.bom = False
        self.disk_text: str | None = None  # what the file held when we last read or wrote it
        self._last_form_edit: tuple[str, int] | None = None  # (field, document revision after it)
        # set by the window once a worker knows: (skill name, released version, next version)
        self.release_state: tuple[str, str, str] | None = None
        self._version_check_queued = False

        self.editor = CodeEditor()
        self.editor.setObjectName("code_editor")
        from skillstudio.ui.editor.code_highlight import CodeHighlighter  # first tab, not start-up
        from skillstudio.ui.editor.find_bar import FindBar

        self.highlighter = CodeHighlighter(self.editor.document(), self.mode, current_theme())
        if self.mode == "text":
            self.highlighter.setDocument(None)
        # Tab indents with spaces where a literal tab breaks the file (YAML, JSON) or the style (code)
        self.editor.spaces_for_tab = self._tab_inserts_spaces
        self.find_bar = FindBar(self.editor)  # Ctrl+F / Ctrl+H, under the text
        editor_box = QWidget()
        box = QVBoxLayout(editor_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.editor, 1)
        box.addWidget(self.find_bar)
        self.form: FrontMatterForm | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if self.mode == "skill":
            self.form = FrontMatterForm()
            self.form.sig_field_edited.connect(self.on_field_edited)
            self.form.sig_metadata_edited.connect(self.on_metadata_edited)
            scroll = QScrollArea()
            scroll.setObjectName("FormScroll")
            scroll.setWidgetResizable(True)
            scroll.setWidget(self.form)
            scroll.setMinimumWidth(300)
            splitter = QSplitter(Qt.Orientation.Horizontal)
            splitter.setObjectName("EditorSplitter")
            splitter.addWidget(editor_box)
            splitter.addWidget(scroll)
            splitter.setStretchFactor(0, 3)
            splitter.setStretchFactor(1, 2)
            splitter.setSizes([640, 380])
            layout.addWidget(splitter)
        else:
            layout.addWidget(editor_box)
        self.editor.document().modificationChanged.connect(self._on_modification_changed)
        self.editor.textChanged.connect(self._queue_version_check)
        if self.path is not None:
            self.load()
        elif self.mode == "skill":
            self.set_buffer(skillmd.compose({"name": "", "description": ""}, "\n"), modified=False)

    def _tab_inserts_spaces(self, block_state: int) -> int:
        """How many columns Tab indents with spaces at a line in this state; 0 inserts a real tab."""
        if self.mode in ("yaml", "json"):
            return 2
        if self.mode in ("python", "shell"):
            return int(self.editor.property("tab_width") or 4)  # Settings ▸ Editor ▸ Tab width
        if self.mode == "skill" and block_state == FRONT:  # YAML front matter: a tab is invalid YAML
            return 2
        return 0

    # ------------------------------------------------------------------ naming
    @property
    def title(self) -> str:
        if self.path is None:
            return f"untitled-{self.untitled_id}"
        if self.mode == "skill" and self.skill_dir is not None:
            return f"{self.skill_dir.name}/{self.path.name}"
        return self.path.name

    @property
    def dirty(self) -> bool:
        return self.editor.document().isModified()

    # the Document protocol (ui.common.contracts), which the window and its controllers use
    def document_title(self) -> str:
        return self.title

    def document_skill_dir(self) -> Path | None:
        return self.skill_dir

    def is_dirty(self) -> bool:
        return self.dirty

    def rel_file(self) -> str | None:
        """This file relative to its skill folder (how problems name files)."""
        if self.path is None or self.skill_dir is None:
            return None
        try:
            return self.path.relative_to(self.skill_dir).as_posix()
        except ValueError:
            return None

    # ------------------------------------------------------------------ text in / out
    def set_buffer(self, disk_form_text: str, modified: bool) -> None:
        """Show `disk_form_text` (file bytes decoded) in the editor, remembering BOM and line endings."""
        self.bom = disk_form_text.startswith(skillmd.BOM)
        body = disk_form_text[1:] if self.bom else disk_form_text
        self.newline = skillmd.detect_newline(body)
        cursor_line = self.editor.current_line()
        scroll = self.editor.verticalScrollBar().value()
        self.editor.setPlainText(body.replace("\r\n", "\n"))
        self.editor.document().setModified(modified)
        if cursor_line > 1:
            self.editor.go_to_line(cursor_line)
            self.editor.verticalScrollBar().setValue(scroll)

    def buffer_text(self) -> str:
        """The buffer as it will be written: the file's line endings and BOM restored."""
        text = self.editor.text()
        if self.newline != "\n":
            text = text.replace("\n", self.newline)
        return (skillmd.BOM if self.bom else "") + text

    def load(self) -> None:
        assert self.path is not None
        text = read_text_file(self.path)
        self.disk_text = text
        self.set_buffer(text, modified=False)

    def reload_from_disk(self) -> None:
        """Replace the buffer with the file's content as one undoable step (Ctrl+Z brings ours back)."""
        assert self.path is not None
        text = read_text_file(self.path)
        self.disk_text = text
        self.bom = text.startswith(skillmd.BOM)
        body = text[1:] if self.bom else text
        self.newline = skillmd.detect_newline(body)
        self.editor.replace_all_undoable(body.replace("\r\n", "\n"))
        self.editor.document().setModified(False)

    def save(self, path: Path | None = None) -> Path:
        target = (path or self.path)
        if target is None:
            raise ValueError("no file name yet: use Save As")
        target = target.resolve()
        data = self.buffer_text()
        atomic_write(target, data)
        self.disk_text = data
        if self.mode == "skill" and target == self.path:
            self._open_unreleased_changelog()
        if target != self.path:
            self.path = target
            self.untitled_id = ""
        self.editor.document().setModified(False)
        self.sig_saved.emit(target)
        return target

    # ------------------------------------------------------------------ form -> text
    def apply_text(self, new_buffer_text: str, merge: bool = False) -> bool:
        """Put a whole new text (file form) into the editor as one undo step."""
        if new_buffer_text.startswith(skillmd.BOM):
            new_buffer_text = new_buffer_text[1:]
        return self.editor.replace_all_undoable(new_buffer_text.replace("\r\n", "\n"), merge)

    def _apply_form_edit(self, field: str, new_text: str) -> None:
        """Consecutive edits of one form field, with nothing else in between, are one undo step."""
        doc = self.editor.document()
        merge = self._last_form_edit == (field, doc.revision())
        if self.apply_text(new_text, merge=merge):
            self._last_form_edit = (field, doc.revision())

    @Slot(str, object)
    def on_field_edited(self, key: str, value: object) -> None:
        try:
            text = skillmd.set_field(self.editor.text(), key, value if value is None else str(value))
            self._apply_form_edit(key, text)
        except skillmd.FrontMatterError:
            pass  # the form is disabled while the front matter is broken

    @Slot(str, object)
    def on_metadata_edited(self, key: str, value: object) -> None:
        try:
            self._apply_form_edit(f"metadata.{key}",
                                  skillmd.set_metadata(self.editor.text(), key, value if value is None else str(value)))
        except skillmd.FrontMatterError:
            pass

    @Slot(bool)
    def _on_modification_changed(self, modified: bool) -> None:
        self.sig_dirty_changed.emit(modified)

    # ------------------------------------------------------------------ released versions are immutable
    def set_release_state(self, skill: str, released: str, next_version: str) -> None:
        """This SKILL.md's version `released` is tagged: edits move it to `next_version` (from the window)."""
        self.release_state = (skill, released, next_version)
        if self.form is not None:
            self.form.fields["version"].setToolTip(f"{released} is released and immutable: "
                                                   f"your edits start {next_version}")
        self._queue_version_check()  # edits made before the worker answered count too

    def _buffer_version(self) -> str | None:
        try:
            fm, _ = skillmd.load_front_matter(self.editor.text())
        except skillmd.FrontMatterError:
            return None
        meta = fm.get("metadata") if isinstance(fm, dict) else None
        value = meta.get("version") if isinstance(meta, dict) else None
        return None if value is None else str(value).strip()

    @Slot()
    def _queue_version_check(self) -> None:
        # after the edit has finished: the document must not be changed from inside its own change
        if self.release_state is not None and not self._version_check_queued:
            self._version_check_queued = True
            QTimer.singleShot(0, self._start_next_version)

    @Slot()
    def _start_next_version(self) -> None:
        """On the first edit of a released version: set the next version in the same undo step as that edit."""
        self._version_check_queued = False
        if self.release_state is None or not self.dirty:
            return
        skill, released, new = self.release_state
        if released not in self.editor.text() or self._buffer_version() != released:
            return  # already moved on (or the user chose a version in the form)
        try:
            text = set_version_text(self.editor.text(), new)
        except skillmd.FrontMatterError:
            return
        doc = self.editor.document()
        from_end = doc.characterCount() - self.editor.textCursor().position()
        doc.undo()  # back to the released text, then the edit and the bump go in as ONE undo step
        if doc.isModified():  # edits made before we knew: the bump becomes its own step after them
            doc.redo()
        changed = self.editor.replace_all_undoable(text)
        cursor = self.editor.textCursor()
        cursor.setPosition(max(0, min(doc.characterCount() - 1, doc.characterCount() - from_end)))
        self.editor.setTextCursor(cursor)
        if changed:
            self.sig_version_started.emit(f"{skill} {released} is released — your edits start {new}")

    def _open_unreleased_changelog(self) -> None:
        """Saving the next version of a released skill opens an "Unreleased" section in its CHANGELOG.md."""
        if self.release_state is None or self.skill_dir is None or self._buffer_version() != self.release_state[2]:
            return
        log = self.skill_dir / CHANGELOG
        old = read_text_file(log, root=self.skill_dir) if log.exists() else ""
        new = ensure_unreleased(old)
        if new != old:
            atomic_write(log, new)
