"""The workspace's `.skillstudio/` folder, and the `.gitignore` that keeps its machine-local part out of git.

Caches, run history and transcripts are per machine and can be large; policies, secret bindings
(names and domains, never values), the trust store and regression fixtures are meant to be shared
with the team (docs/workspace-state.md). Whoever writes into `.skillstudio/` first calls
`ensure_state_dir`, which creates the folder and, once, its own `.gitignore` — so a user's
repository does not fill with untracked state. An existing `.gitignore` there is never touched.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

STATE_DIR_NAME = ".skillstudio"
GITIGNORE = """\
# Written by Skill Studio: machine-local state stays out of version control.
# Shared on purpose (commit them): policies/, trust/, secrets.yaml (names and domains, never values), fixtures/
cache/
runs/
runs.sqlite*
console-data/
*.tmp
"""


def state_dir_of(workspace: Path) -> Path:
    return Path(workspace) / STATE_DIR_NAME


def ensure_state_dir(state_dir: Path) -> Path:
    """Create `.skillstudio/` (given as the folder itself) with its .gitignore; returns the folder."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    ignore = state_dir / ".gitignore"
    if not ignore.exists() and not ignore.is_symlink():
        # a read-only workspace still works, just untidy
        with contextlib.suppress(FileExistsError, OSError), open(ignore, "x", encoding="utf-8") as fh:
            fh.write(GITIGNORE)
    return state_dir
