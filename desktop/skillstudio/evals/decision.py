"""THE path rule, in one place: which skill does a shell call read?

CONTRACT ("How a trigger is observed"): a run follows the model until it decides, and the first
shell call that reads a file under a skill's `path` decides (see `trajectory.follow`, which every
router uses; this module only answers "which skill, if any, does this call read"). Models read files many ways
(`cat`, `sed -n 1,80p`, `head`, `less`, `python -c "open(...)"`,
`cd /skills/x && cat SKILL.md`), so the rule is deliberately about *paths*, not programs: any
command argument that is, or contains, a path under a skill's folder counts. Relative paths are
resolved against the folder of a preceding `cd`. When one call touches several skills, the first
one mentioned wins. `PathRule` is the same rule with the catalog sorted once (large catalogs).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable, Sequence

_SEPARATORS = {"&&", "||", ";", "|", "&"}
_PATHISH = re.compile(r"""[^\s'"`(),;=<>|&]+""")


def _tokens(command: str) -> list[str]:
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        return list(lexer)
    except ValueError:  # unbalanced quotes: fall back to plain splitting
        return command.split()


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


def _match(candidate: str, cwd: str, folders: Sequence[tuple[str, str]]) -> str | None:
    if not candidate:
        return None
    cand = candidate.rstrip("/") or "/"
    if not cand.startswith("/"):
        cand = posixpath.join(cwd, cand)
    cand = posixpath.normpath(cand)
    for name, folder in folders:
        if _under(cand, folder):
            return name
    return None


def _folders(catalog: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    folders = [(name, posixpath.normpath(path.rstrip("/") or "/")) for name, path in catalog]
    # Longest folder first, so `/skills/a-b` is not taken for `/skills/a`.
    folders.sort(key=lambda f: len(f[1]), reverse=True)
    return folders


class PathRule:
    """`skill_read_by` for one catalog, prepared once (a run asks it once per command)."""

    def __init__(self, catalog: Iterable[tuple[str, str]]) -> None:
        self.folders = _folders(catalog)

    def read_by(self, commands: Iterable[str]) -> str | None:
        return _read_by(commands, self.folders)


def skill_read_by(commands: Iterable[str], catalog: Iterable[tuple[str, str]]) -> str | None:
    """Name of the first skill whose folder a command argument points into, else None.

    `catalog` yields (name, path) pairs where path is the folder the model was told.
    """
    return _read_by(commands, _folders(catalog))


def _read_by(commands: Iterable[str], folders: Sequence[tuple[str, str]]) -> str | None:
    cwd = "/"
    for command in commands:
        tokens = _tokens(command)
        expect_cd_target = False
        for tok in tokens:
            if tok in _SEPARATORS:
                expect_cd_target = False
                continue
            if expect_cd_target:
                expect_cd_target = False
                hit = _match(tok, cwd, folders)
                cwd = posixpath.normpath(posixpath.join(cwd, tok))
                if hit:
                    return hit
                continue
            if tok in ("cd", "pushd"):
                expect_cd_target = True
                continue
            hit = _match(tok, cwd, folders)
            if hit:
                return hit
            # Paths inside a larger argument: python -c "open('/skills/x/SKILL.md')", --file=/skills/x/...
            for piece in _PATHISH.findall(tok):
                if piece != tok and ("/" in piece):
                    hit = _match(piece, cwd, folders) if piece.startswith("/") or cwd != "/" else None
                    if hit:
                        return hit
    return None
