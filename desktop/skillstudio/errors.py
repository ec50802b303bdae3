"""Errors every part of the core raises for things a user can fix.

Each carries a one-line message (what went wrong) and a hint (what to do), in words that fit any
shell: an error about one option names it in `setting` ("max-cost") instead of in the text, and
each shell adds its own word for it (the CLI: "--max-cost"; the app: its control). The CLI prints
them as a single line with exit code 2 and the app shows them in a dialog; neither shows a traceback.
"""

from __future__ import annotations


class SkillStudioError(Exception):
    """Bad input or a bad environment: the user can fix it. CLI exit code 2."""

    exit_code = 2

    def __init__(self, message: str, hint: str = "", *, setting: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.setting = setting  # the option the error is about, app-neutral (e.g. "max-cost"), if one

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class EnvironmentProblem(SkillStudioError):
    """A component we need is missing or misconfigured (keyring locked, no bubblewrap, no Docker)."""


class CheckFailed(SkillStudioError):
    """The thing checked failed (bad signature, refused bundle). CLI exit code 1."""

    exit_code = 1


class Cancelled(Exception):
    """Raised inside long operations when their cancel token fires; never shown as an error."""
