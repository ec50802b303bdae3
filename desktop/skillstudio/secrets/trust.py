"""Workspace trust: bindings and sandbox policies that come with a workspace need the user's approval.

A workspace is shared (a git repository, a pull request), so its `.skillstudio/secrets.yaml` (where
each secret may be sent, and how) and `.skillstudio/policies/*.json` (what a sandbox may reach) are
input from whoever last edited them. As editors do for opened folders, they take effect only after
the user approved exactly this content, and again after any change: the approval is a hash and a
copy of each approved file, kept with the user (`workspace-trust.json` in the user config folder),
never in the workspace. The copy lets `diff` show what changed since.

Also here: the hosts the user trusts with secret values for hosted runs (a hosted provider receives
the values themselves, see agent/hosted.py).

Files the user writes through Skill Studio (`secrets set/bind`, the sandbox console's Save) stay
approved when they were approved (or absent) before the write: `keep_approved`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import ipaddress
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstudio import userdirs
from skillstudio.bundle.fileio import atomic_write
from skillstudio.errors import SkillStudioError
from skillstudio.secrets.model import normalize_host

STORE_NAME = "workspace-trust.json"
SECRETS_FILE = ".skillstudio/secrets.yaml"
POLICIES_DIR = ".skillstudio/policies"
MAX_FILE = 256 * 1024  # bindings and policies are small; a larger file is shown as too large
_lock = threading.Lock()


class UntrustedWorkspace(SkillStudioError):
    """The workspace's bindings or policies changed since the user approved them (exit code 2)."""


@dataclass(frozen=True)
class Change:
    """One tracked file that differs from what the user approved."""

    path: str  # relative to the workspace, with forward slashes
    kind: str  # "added" | "changed" | "removed"
    diff: str  # unified diff from the approved copy to the current content

    def line(self) -> str:
        return f"{self.kind}: {self.path}"


@dataclass
class TrustState:
    workspace: Path
    changes: list[Change] = field(default_factory=list)
    approved_at: str | None = None

    @property
    def trusted(self) -> bool:
        return not self.changes

    def summary(self) -> str:
        if self.trusted:
            return f"{self.workspace}: trusted" + (f" (approved {self.approved_at})" if self.approved_at else
                                                    " (no secret bindings or sandbox policies)")
        return f"{self.workspace}: {len(self.changes)} unapproved: " + ", ".join(c.line() for c in self.changes)


# ----------------------------------------------------------------------------------- the user's store

def store_path() -> Path:
    return userdirs.config_dir() / STORE_NAME


def _load_store() -> dict[str, Any]:
    p = store_path()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": 1, "workspaces": {}, "secret_hosts": []}
    except (OSError, ValueError) as exc:
        raise SkillStudioError(f"cannot read {p}: {exc}".splitlines()[0],
                               "fix or delete the file (every workspace then asks for approval again)") from exc
    if not isinstance(data, dict):
        data = {}
    if not isinstance(data.get("workspaces"), dict):
        data["workspaces"] = {}
    if not isinstance(data.get("secret_hosts"), list):
        data["secret_hosts"] = []
    return data


def _save_store(data: dict[str, Any]) -> None:
    p = store_path()
    atomic_write(p, json.dumps(data, indent=2, sort_keys=True) + "\n")
    p.chmod(0o600)


def _key(workspace: Path) -> str:
    return str(Path(workspace).expanduser().resolve())


# ----------------------------------------------------------------------------------- tracked files

def _read(path: Path) -> str:
    """The text a loader would read (links followed), or a marker when it cannot be a binding file."""
    try:
        if not path.is_file():
            return "<not a regular file>\n"
        if path.stat().st_size > MAX_FILE:
            return f"<file larger than {MAX_FILE // 1024} KiB>\n"
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"<unreadable: {exc.strerror}>\n"


def tracked_files(workspace: Path) -> dict[str, str]:
    """relative path -> current content of every file whose approval matters."""
    ws = Path(workspace)
    out: dict[str, str] = {}
    secrets = ws / SECRETS_FILE
    if secrets.exists() or secrets.is_symlink():
        out[SECRETS_FILE] = _read(secrets)
    pol = ws / POLICIES_DIR
    if pol.is_dir():
        for p in sorted(pol.iterdir()):
            if p.name.endswith(".json"):
                out[f"{POLICIES_DIR}/{p.name}"] = _read(p)
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _diff(path: str, old: str | None, new: str | None) -> str:
    lines = difflib.unified_diff((old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
                                 fromfile=f"approved/{path}" if old is not None else "/dev/null",
                                 tofile=f"current/{path}" if new is not None else "/dev/null")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def state(workspace: Path) -> TrustState:
    """What changed in the workspace's bindings and policies since the user approved them."""
    current = tracked_files(workspace)
    entry = _load_store()["workspaces"].get(_key(workspace)) or {}
    approved: dict[str, Any] = entry.get("files") or {}
    changes: list[Change] = []
    for path in sorted(set(current) | set(approved)):
        new = current.get(path)
        rec = approved.get(path) if isinstance(approved.get(path), dict) else None
        old = rec.get("text") if rec else None
        if new is not None and rec is not None and rec.get("sha256") == _digest(new):
            continue
        kind = "added" if rec is None else "removed" if new is None else "changed"
        changes.append(Change(path, kind, _diff(path, old, new)))
    return TrustState(Path(workspace), changes, entry.get("approved_at"))


def approve(workspace: Path) -> TrustState:
    """Approve the workspace's bindings and policies as they are now; returns what was pending."""
    with _lock:
        before = state(workspace)
        data = _load_store()
        data["workspaces"][_key(workspace)] = {
            "approved_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "files": {p: {"sha256": _digest(t), "text": t} for p, t in tracked_files(workspace).items()}}
        _save_store(data)
    return before


def require(workspace: Path | None, what: str = "its secret bindings and sandbox policies") -> None:
    """Raise UntrustedWorkspace unless the workspace's tracked files are exactly what the user approved."""
    if workspace is None:
        return
    st = state(workspace)
    if st.trusted:
        return
    changed = ", ".join(c.line() for c in st.changes[:3]) + (" ..." if len(st.changes) > 3 else "")
    raise UntrustedWorkspace(
        f"workspace {workspace} has unapproved changes to {what} ({changed})",
        f"review them with `skillstudio trust show {workspace}`, then `skillstudio trust approve {workspace}`")


@contextmanager
def keep_approved(workspace: Path, path: Path) -> Iterator[None]:
    """Around a write the user makes through Skill Studio: keep `path` approved if it was before.

    A file that was approved (or did not exist and was never approved) stays approved with its new
    content; a file with unapproved changes stays unapproved, so a user's unrelated edit never
    launders a change someone else made.
    """
    # Not resolved: a tracked file may be a link that leaves the workspace (its content is what counts).
    rel = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(workspace))).as_posix()
    entry = _load_store()["workspaces"].get(_key(workspace)) or {}
    rec = (entry.get("files") or {}).get(rel)
    cur = tracked_files(workspace).get(rel)
    clean = (rec is None and cur is None) or (rec is not None and cur is not None and rec.get("sha256") == _digest(cur))
    yield
    if not clean:
        return
    with _lock:
        data = _load_store()
        ws = data["workspaces"].setdefault(_key(workspace), {"files": {}})
        new = tracked_files(workspace).get(rel)
        files = ws.setdefault("files", {})
        if new is None:
            files.pop(rel, None)
        else:
            files[rel] = {"sha256": _digest(new), "text": new}
        ws.setdefault("approved_at", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ"))
        _save_store(data)


# ----------------------------------------------------------------------------------- hosted secrets

def secret_hosts() -> list[str]:
    """Hosts (besides OpenAI's) the user trusts to receive secret values for hosted runs."""
    return [str(h) for h in _load_store()["secret_hosts"] if isinstance(h, str)]


def trust_secret_host(host: str, trusted: bool = True) -> list[str]:
    h = normalize_host(host)
    try:
        ipaddress.ip_address(h)
        literal = True
    except ValueError:
        literal = False
    if not h or any(c in h for c in "/@ ") or (":" in h and not literal):
        raise SkillStudioError(f"invalid host {host!r}", "give a host name such as llm.example.com (no scheme or path)")
    with _lock:
        data = _load_store()
        hosts = [x for x in data["secret_hosts"] if x != h]
        if trusted:
            hosts.append(h)
        data["secret_hosts"] = sorted(hosts)
        _save_store(data)
    return data["secret_hosts"]
