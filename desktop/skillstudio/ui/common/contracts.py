"""The small protocols between the shell and the features, so neither imports the other.

Features implement them structurally (no base class to inherit, nothing to import); the shell
types against them. A feature that needs the window (the optimizer puts its result into the
editors) gets an `EditorHost`, never the `MainWindow` itself — that is what keeps features
independent of the shell and of each other (see the import-linter contracts in pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class Document(Protocol):
    """An open tab of the editor area: a text file, or a skill's trigger-cases table."""

    def document_title(self) -> str: ...

    def document_skill_dir(self) -> Path | None: ...

    def is_dirty(self) -> bool: ...


class TextDocument(Document, Protocol):
    """A document holding text; `apply_text` is one undoable edit (False when nothing changed)."""

    def buffer_text(self) -> str: ...

    def apply_text(self, new_buffer_text: str, merge: bool = False) -> bool: ...


class CasesDocument(Document, Protocol):
    """A skill's trigger cases as an editable table."""

    def is_broken(self) -> bool: ...

    def add_new_cases(self, prompts: list[str], expect: str, why: str, label: str) -> int: ...


class EditorHost(Protocol):
    """What a feature may ask of the window's editor area (opening puts the tab in front)."""

    def open_file(self, path: Path) -> TextDocument | None: ...

    def open_cases(self, skill_dir: object) -> CasesDocument | None: ...

    def show_document(self, doc: Document) -> None: ...


@runtime_checkable
class FeaturePanel(Protocol):
    """A panel the shell docks: it follows the open workspace and stops its work on request."""

    def set_workspace(self, root: Path) -> None: ...

    def shutdown(self) -> None: ...


@runtime_checkable
class SkillPanel(Protocol):
    """A panel that also follows the skill selected in the workspace tree."""

    def set_skill(self, skill_dir: Path | None) -> None: ...


@runtime_checkable
class SecretsListener(Protocol):
    """A panel that lists the vault's secrets and must re-read them when one is added or deleted."""

    def reload_secrets(self) -> None: ...
