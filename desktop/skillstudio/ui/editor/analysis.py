"""The editor's live analysis lives in `skillstudio.services.analysis` (Qt-free); this name stays for ui/ imports."""

from skillstudio.services.analysis import CheckResult, SkillContext, TokenSummary, build_context, check_text

__all__ = ["CheckResult", "SkillContext", "TokenSummary", "build_context", "check_text"]
