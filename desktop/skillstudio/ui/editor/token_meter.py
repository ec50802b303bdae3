"""The status-bar token meter: what the current skill costs, and the catalog against Codex's budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QWidget

if TYPE_CHECKING:
    from skillstudio.services.analysis import TokenSummary



class TokenMeter(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TokenMeter")
        self.summary: TokenSummary | None = None
        self.clear_meter()

    def clear_meter(self) -> None:
        self.summary = None
        self.setText("Tokens: open a SKILL.md")
        self.setToolTip("")
        self.setStyleSheet("")

    def set_unavailable(self, reason: str) -> None:
        self.summary = None
        self.setText("Tokens: unavailable (hover for why)")
        self.setToolTip(reason)
        self.setStyleSheet("")

    def set_summary(self, t: TokenSummary) -> None:
        self.summary = t
        share = t.catalog_chars / t.budget_chars if t.budget_chars else 0.0
        self.setText(f"Always-loaded {t.always_loaded:,} · Body {t.body:,} · Total {t.total:,} tokens"
                     f"   |   Catalog {t.catalog_chars:,} / {t.budget_chars:,} chars ({share:.0%} of Codex budget)")
        self.setToolTip(
            "o200k_base tokens.\n"
            f"Always-loaded (name + description, paid by every request): {t.always_loaded:,}\n"
            f"Body (paid when the skill triggers): {t.body:,}\n"
            f"Whole bundle (SKILL.md and files): {t.total:,}\n"
            f"Workspace catalog: {t.catalog_tokens:,} tokens, {t.catalog_chars:,} characters; "
            f"Codex lists skills only up to ~{t.budget_chars:,} characters.")
        self.setStyleSheet("color: #d9534f;" if t.catalog_chars > t.budget_chars else "")
