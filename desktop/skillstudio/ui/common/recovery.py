"""The crash-recovery store lives in `skillstudio.services.recovery` (Qt-free); this name stays for ui/ imports."""

from skillstudio.services.recovery import RecoveryEntry, RecoveryStore

__all__ = ["RecoveryEntry", "RecoveryStore"]
