"""Real git repositories for the history/release tests, isolated from the user's git config."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from skillstudio.bundle import history
from skillstudio.resources import examples_dir


def isolate_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, identity: bool = True) -> None:
    """Point git at an empty global config (no hooks, no signing, no identity unless asked)."""
    cfg = tmp_path / "gitconfig"
    cfg.write_text("[init]\n\tdefaultBranch = main\n" +
                   ("[user]\n\tname = Test Author\n\temail = author@example.test\n" if identity else ""),
                   encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_DIR",
                "GIT_WORK_TREE", "EMAIL"):
        monkeypatch.delenv(var, raising=False)


def example_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example workspace made into a git repository with one initial commit."""
    isolate_git(tmp_path, monkeypatch)
    ws = tmp_path / "ws"
    shutil.copytree(examples_dir(), ws, ignore=shutil.ignore_patterns(".skillstudio", "__pycache__"))
    history.init_repo(ws)
    return ws


def git(ws: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=ws, capture_output=True, text=True, check=True).stdout
