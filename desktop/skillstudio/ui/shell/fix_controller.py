"""The Fix buttons of the problems panel: text fix-its become one undoable edit of the SKILL.md
buffer (nothing is written until Save); folder fix-its (renames) save the skill's buffers first,
run on disk, and reopen the files under the new path. "Preview Fix…" shows the text fix as a diff of
the buffer first and applies it only when asked."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Slot

from skillstudio.bundle.fixes import FOLDER_FIXES, apply_fixes, fix_text
from skillstudio.bundle.model import find_skill_md
from skillstudio.bundle.problems import Problem
from skillstudio.ui.common import dialogs
from skillstudio.ui.common.diff_view import DiffDialog
from skillstudio.ui.editor.tab import EditorTab
from skillstudio.ui.shell.host import DocumentHost
from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor


class FixController(QObject):
    def __init__(self, window: DocumentHost) -> None:
        super().__init__(window.window())
        self.win = window
        self.preview_dialog: DiffDialog | None = None
        self._previewed: Problem | None = None

    @Slot(object)
    def preview(self, problem: object) -> None:
        """Show what the fix-it would change (nothing is touched until "Apply Fix")."""
        win = self.win
        doc = win.current_doc()
        skill_dir = win.doc_skill_dir(doc) if doc is not None else None
        if not isinstance(problem, Problem) or problem.fix is None or skill_dir is None:
            win.statusBar().showMessage("Select a problem that has a fix-it to preview it.", 6000)
            return
        md = find_skill_md(skill_dir)
        if md is None:
            return
        if problem.fix in FOLDER_FIXES:
            before, after, name = f"{skill_dir.name}/\n", f"{problem.message}\n", "folder"
        else:
            md_tab = win.tab_for(md)
            before = md_tab.buffer_text() if md_tab is not None else md.read_text(encoding="utf-8")
            try:
                after, _changes = fix_text(before, problem.fix, skill_dir.name)
            except Exception as exc:  # noqa: BLE001 - a failing fix-it is reported, never fatal
                dialogs.show_error(win.window(), "Fix", f"Could not preview the fix: {exc}")
                return
            name = md.name
        if self.preview_dialog is not None:
            self.preview_dialog.close()
        dialog = DiffDialog(win.window(), f"Preview Fix: {problem.fix}",
                            f"What the fix-it '{problem.fix}' will change (nothing is written until you save).",
                            "Apply Fix", "Cancel")
        dialog.view.set_texts(before, after, f"{name} (now)", f"{name} (fixed)")
        dialog.sig_decided.connect(self._on_preview_decided)
        self.preview_dialog, self._previewed = dialog, problem
        dialog.open()

    @Slot(bool)
    def _on_preview_decided(self, apply: bool) -> None:
        dialog, problem = self.preview_dialog, self._previewed
        if dialog is not self.sender():
            return
        self.preview_dialog, self._previewed = None, None
        if dialog is not None:
            dialog.deleteLater()
        if apply and problem is not None:
            self.apply(problem)

    @Slot(object)
    def apply(self, problem: object) -> None:
        win = self.win
        doc = win.current_doc()
        skill_dir = win.doc_skill_dir(doc) if doc is not None else None
        if not isinstance(problem, Problem) or problem.fix is None or skill_dir is None:
            return
        if problem.fix in FOLDER_FIXES:
            self.apply_folder_fix(skill_dir, problem.fix)
            return
        md = find_skill_md(skill_dir)
        md_tab = win.tab_for(md) if md is not None else None
        if md_tab is None and md is not None:
            md_tab = win.open_file(md)
        if md_tab is None:
            return
        try:
            new_text, changes = fix_text(md_tab.buffer_text(), problem.fix, skill_dir.name)
        except Exception as exc:  # noqa: BLE001 - a failing fix-it is reported, never fatal
            dialogs.show_error(win.window(), "Fix", f"Could not apply the fix: {exc}")
            return
        if md_tab.apply_text(new_text):
            win.show_document(md_tab)
            md_tab.editor.setFocus(Qt.FocusReason.OtherFocusReason)  # the Fix button goes away: Ctrl+Z undoes here
            summary = "; ".join(str(c) for c in changes) if changes else problem.fix
            win.statusBar().showMessage(f"Fixed: {summary} (Ctrl+Z to undo, Ctrl+S to save)", 8000)
        else:
            win.statusBar().showMessage("The fix-it found nothing to change in the text.", 6000)

    def apply_folder_fix(self, skill_dir: Path, fix_id: str) -> Path | None:
        """Fix-its that rename the skill folder: save the skill's buffers, fix, reopen under the new path."""
        win = self.win
        docs = [d for d in win.documents() if win.doc_skill_dir(d) == skill_dir]
        dirty = [d for d in docs if win.doc_dirty(d)]
        if dirty:
            answer = dialogs.ask_save_changes(win.window(), [win.doc_title(d) for d in dirty])
            if answer != "save" or not all([win.save_doc(d) for d in dirty]):
                return None
        reopen = [d.path.relative_to(skill_dir) for d in docs if isinstance(d, EditorTab) and d.path is not None]
        cases = any(isinstance(d, TriggerCasesEditor) for d in docs)
        for d in docs:
            win.remove_document(d)
        try:
            report = apply_fixes(skill_dir, only=[fix_id])
        except OSError as exc:
            dialogs.show_error(win.window(), "Fix", f"Could not rename {skill_dir.name}: {exc}")
            report = None
        new_dir = (report.new_path if report is not None and report.new_path else skill_dir).resolve()
        for rel in reopen:
            if (new_dir / rel).is_file():
                win.open_file(new_dir / rel)
        if cases:
            win.open_cases(new_dir)
        message = ("; ".join(report.changes + report.skipped) or "Nothing to change") if report is not None else None
        win.reload_workspace(message, select=new_dir)
        return new_dir
