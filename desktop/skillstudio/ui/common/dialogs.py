"""Every modal question the main window asks, in one place.

Tests replace these functions with monkeypatch (as Spyder's tests do) instead of clicking dialogs,
so each returns a plain value and takes only what it shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

if TYPE_CHECKING:
    from skillstudio.services.recovery import RecoveryEntry



def ask_save_changes(parent: QWidget | None, names: list[str]) -> str:
    """'save' | 'discard' | 'cancel' for unsaved buffers about to be closed."""
    listing = "\n".join(f"  • {n}" for n in names[:12]) + ("\n  …" if len(names) > 12 else "")
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                      f"Save changes before closing?\n\n{listing}",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def ask_restore(parent: QWidget | None, entries: list[RecoveryEntry]) -> bool:
    listing = "\n".join(f"  • {e.label}" for e in entries[:12])
    answer = QMessageBox.question(
        parent, "Restore unsaved work?",
        "Skill Studio did not close cleanly last time. These unsaved edits were kept:\n\n"
        f"{listing}\n\nRestore them into the editor? (They stay unsaved until you save.)",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.warning(parent, title, message)


def choose_workspace(parent: QWidget | None, start: Path | None) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, "Open workspace", str(start or Path.cwd()))
    return Path(folder) if folder else None


def choose_file(parent: QWidget | None, start: Path | None) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Open file", str(start or Path.cwd()),
                                          "Skill files (*.md *.yaml *.yml *.txt *.py *.sh *.json);;All files (*)")
    return Path(name) if name else None


def choose_save_path(parent: QWidget | None, start: Path | None) -> Path | None:
    name, _ = QFileDialog.getSaveFileName(parent, "Save as", str(start or Path.cwd()))
    return Path(name) if name else None


def show_about(parent: QWidget | None, version: str) -> None:
    QMessageBox.about(parent, "About Skill Studio",
                      f"<b>Skill Studio</b> {version}<br><br>A local-first IDE for agent skills: author SKILL.md "
                      "bundles with live validation and token counts, test when they trigger, run them in a "
                      "sandbox, sign and ship them.<br><br>The same checks run headless: <code>skillstudio "
                      "validate</code>, <code>tokens</code>, <code>test</code> …")
