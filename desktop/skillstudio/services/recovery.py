"""Crash recovery: unsaved buffers are copied to userdirs.data_dir()/recovery every few seconds.

Qt-free. One JSON file per buffer, written atomically; a clean save or an explicit discard removes
it, so whatever is left at the next start belongs to a session that ended without saving, and the
app offers to restore it. Besides text buffers (kind "text") the trigger-cases tables are kept too
(kind "cases": their evals/triggers.yaml as the table would write it).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from skillstudio import userdirs
from skillstudio.bundle.fileio import atomic_write


@dataclass
class RecoveryEntry:
    key: str
    path: Path | None  # the file the buffer belongs to (None: never saved)
    text: str  # the buffer as it would be saved
    saved_at: float
    workspace: Path | None
    pid: int = 0  # the process that wrote it
    kind: str = "text"  # "text": an editor buffer; "cases": a trigger-cases table (path: its triggers.yaml)

    @property
    def orphaned(self) -> bool:
        """True when the app that wrote it is gone (crashed or killed); a running one still owns it."""
        return self.pid in (0, os.getpid()) or not _alive(self.pid)

    @property
    def label(self) -> str:
        if self.kind == "cases":
            return f"{self.path} (trigger cases table)"
        return str(self.path) if self.path else f"untitled ({self.key})"


class RecoveryStore:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or userdirs.data_dir() / "recovery"

    @staticmethod
    def key_for(path: Path | None, untitled_id: str = "", kind: str = "text") -> str:
        raw = str(Path(path).resolve()) if path else f"untitled:{untitled_id}"
        if kind != "text":  # a table and a text tab of the same file are two different buffers
            raw = f"{kind}:{raw}"
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    def _file(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def save(self, key: str, path: Path | None, text: str, workspace: Path | None = None, kind: str = "text") -> None:
        data = {"path": str(path) if path else None, "text": text, "saved_at": time.time(),
                "workspace": str(workspace) if workspace else None, "pid": os.getpid(), "format": 1, "kind": kind}
        atomic_write(self._file(key), json.dumps(data, ensure_ascii=False))

    def discard(self, key: str) -> None:
        self._file(key).unlink(missing_ok=True)

    def entries(self) -> list[RecoveryEntry]:
        out: list[RecoveryEntry] = []
        if not self.folder.is_dir():
            return out
        for f in sorted(self.folder.glob("*.json")):
            try:
                data = json.loads(f.read_text(encoding="utf-8"))
                out.append(RecoveryEntry(key=f.stem, path=Path(data["path"]) if data.get("path") else None,
                                         text=str(data["text"]), saved_at=float(data.get("saved_at", 0)),
                                         workspace=Path(data["workspace"]) if data.get("workspace") else None,
                                         pid=int(data.get("pid") or 0), kind=str(data.get("kind") or "text")))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a torn or foreign file is ignored, never fatal
        out.sort(key=lambda e: e.saved_at)
        return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but is not ours to signal
    return True
