"""THE decision rule, in one place: which skill does a model's first shell call read?

CONTRACT: a skill is triggered when the model's first shell call reads a file under that skill's
`path`. Models read files many ways (`cat`, `sed -n 1,80p`, `head`, `less`, `python -c "open(...)"`,
`cd /skills/x && cat SKILL.md`), so the rule is deliberately about *paths*, not programs: any
command argument that is, or contains, a path under a skill's folder counts. Relative paths are
resolved against the folder of a preceding `cd`. When one call touches several skills, the first
one mentioned wins. Every router (Responses, chat, streaming or not) calls `skill_read_by`.
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


def skill_read_by(commands: Iterable[str], catalog: Iterable[tuple[str, str]]) -> str | None:
    """Name of the first skill whose folder a command argument points into, else None.

    `catalog` yields (name, path) pairs where path is the folder the model was told.
    """
    folders = [(name, posixpath.normpath(path.rstrip("/") or "/")) for name, path in catalog]
    # Longest folder first, so `/skills/a-b` is not taken for `/skills/a`.
    folders.sort(key=lambda f: len(f[1]), reverse=True)
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
