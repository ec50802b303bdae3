"""A workspace is a folder whose sub-folders are skills (rule in CONTRACT).

`resolve_skill_dirs` turns a PATH given on the command line into skill folders: a folder holding
SKILL.md (or skill.md) is one skill; a folder whose sub-folders hold skills is a workspace; anything
else is reported as one skill whose error is "missing SKILL.md".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from skillstudio.bundle.model import IGNORED_DIRS, Skill, find_skill_md, load_skill


def is_skill_dir(path: Path) -> bool:
    return path.is_dir() and find_skill_md(path) is not None


def workspace_skill_dirs(root: Path) -> list[Path]:
    """Sub-folders of `root` that hold a SKILL.md, sorted by name."""
    out = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return []
    for e in entries:
        if e.name.startswith(".") or e.name in IGNORED_DIRS:
            continue
        if e.is_dir() and find_skill_md(Path(e.path)) is not None:
            out.append(Path(e.path))
    return out


def resolve_skill_dirs(path: Path) -> list[Path]:
    path = Path(path)
    if is_skill_dir(path):
        return [path]
    if path.is_dir():
        subs = workspace_skill_dirs(path)
        if subs:
            return subs
    return [path]  # loads as a skill with "missing SKILL.md"


def is_workspace(path: Path) -> bool:
    return path.is_dir() and not is_skill_dir(path) and bool(workspace_skill_dirs(path))


class Workspace(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    root: Path
    skills: list[Skill] = Field(default_factory=list)

    def skill(self, name: str) -> Skill | None:
        return next((s for s in self.skills if s.name == name or s.folder_name == name), None)

    @property
    def state_dir(self) -> Path:
        """Per-workspace state (cache, runs, trust store, policies): `.skillstudio/`."""
        return self.root / ".skillstudio"


def iter_load(dirs: list[Path], *, with_files: bool = True,
              progress: Callable[[int, int], None] | None = None) -> Iterator[Skill]:
    """Load skills in order; file I/O is spread over a few threads (reading is I/O bound)."""
    pool = ThreadPoolExecutor(max_workers=4)
    try:
        for i, skill in enumerate(pool.map(lambda d: load_skill(d, with_files=with_files), dirs)):
            if progress:
                progress(i + 1, len(dirs))
            yield skill
    finally:
        # a caller that stops early (cancel) must not wait for every queued read
        pool.shutdown(wait=True, cancel_futures=True)


def load_workspace(root: Path, *, with_files: bool = True,
                   progress: Callable[[int, int], None] | None = None) -> Workspace:
    root = Path(root)
    dirs = [root] if is_skill_dir(root) else workspace_skill_dirs(root)
    return Workspace(root=root, skills=list(iter_load(dirs, with_files=with_files, progress=progress)))
