"""Banners (a warning above a table, "offline estimate", an error line) coloured by the theme.

An inline stylesheet with fixed light colours left pale boxes in the dark theme. A banner is instead
marked with the `banner` property (error, warning, estimate, info, ok) and both themes' .qss files
colour it; changing the kind re-polishes the widget so the new colours apply at once.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

KINDS = ("error", "warning", "estimate", "info", "ok")


def set_banner(widget: QWidget, kind: str | None) -> None:
    """Mark `widget` as a banner of `kind` (None: not a banner any more)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown banner kind {kind!r}")
    widget.setProperty("banner", kind or "")
    widget.setStyleSheet("")  # the theme decides
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
