"""Open tabs per workspace: the files (and trigger-case tables) open when a workspace was left come
back when it is opened again, with the same tab in front. Stored in the app settings under a key
derived from the workspace's path; files that no longer exist are skipped quietly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from skillstudio.ui.common.settings import AppSettings


def _key(root: Path) -> str:
    return "session/" + hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:16]  # noqa: S324 - a name


def save_session(settings: AppSettings, root: Path, tabs: list[tuple[str, Path]], current: int) -> None:
    """`tabs` in tab order: ("file", path) or ("cases", skill folder); `current` = the tab in front."""
    root = root.resolve()
    entries = [{kind: p.resolve().relative_to(root).as_posix()} for kind, p in tabs
               if kind in ("file", "cases") and p.resolve().is_relative_to(root)]
    settings.set_value(_key(root), json.dumps({"tabs": entries, "current": current}))


def load_session(settings: AppSettings, root: Path) -> tuple[list[tuple[str, Path]], int]:
    """[(kind, path)] to reopen ("file" or "cases"), existing ones only, and the tab to bring in front."""
    raw = settings.value(_key(root))
    try:
        data = json.loads(str(raw)) if raw else {}
    except ValueError:
        return [], 0
    out: list[tuple[str, Path]] = []
    for entry in data.get("tabs", []) if isinstance(data, dict) else []:
        if not isinstance(entry, dict):
            continue
        kind = "file" if "file" in entry else "cases" if "cases" in entry else None
        if kind is None:
            continue
        path = Path(root) / str(entry[kind])
        if (kind == "file" and path.is_file()) or (kind == "cases" and path.is_dir()):
            out.append((kind, path))
    current = data.get("current", 0) if isinstance(data, dict) else 0
    return out, current if isinstance(current, int) else 0
