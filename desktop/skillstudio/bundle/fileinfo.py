"""What a file in a skill *is*, said in words, and bounded reads that never follow a link.

Used for the messages of `validate` and `tokens` ("a symbolic link to /etc/passwd: links are not
followed", "54.0 MB: over the 5 MB text limit") and to read small workspace files (trigger cases,
agents/openai.yaml) without following a link out of the skill or blocking on a FIFO.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from skillstudio.bundle.fileio import MAX_TEXT_BYTES


class NotReadable(ValueError):
    """The file is not read; the message says what it is and why (one line)."""


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def kind_of(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a regular file"


def describe(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """Why `path` is not read as text, in a few words (empty when it would be read)."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"a symbolic link to {target}: links are not followed"
    if not stat.S_ISREG(st.st_mode):
        return f"{kind_of(st.st_mode)}, not a regular file: not read"
    if st.st_size > limit:
        return f"{_mb(st.st_size)}: over the {limit // 1_000_000} MB limit for text files"
    try:
        head = _head(path, 8192)
    except NotReadable as exc:
        return str(exc)
    if b"\x00" in head:
        return "a binary file (it holds NUL bytes)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the 8 KB boundary
            return f"not UTF-8 text (byte {exc.start})"
    return ""


def _head(path: Path, n: int) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise NotReadable(f"cannot be read ({exc.strerror or exc})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotReadable("not a regular file: not read")
        return os.read(fd, n)
    finally:
        os.close(fd)


def read_regular_bytes(path: Path, limit: int) -> bytes:
    """Bytes of a regular file (never a link, FIFO or device) of at most `limit` bytes; NotReadable else."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise NotReadable(f"cannot be read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotReadable(f"{kind_of(st.st_mode)}, not a regular file: not read")
        if st.st_size > limit:
            raise NotReadable(f"{_mb(st.st_size)}: over the {max(limit // 1_000_000, 1)} MB limit")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise NotReadable(f"over the {limit:,}-byte limit: not read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_small_text(path: Path, limit: int, *, inside: Path | None = None) -> str:
    """UTF-8 text of a regular file of at most `limit` bytes; never follows a link (at the file,
    or, with `inside`, at any folder between `inside` and the file). Raises NotReadable."""
    path = Path(path)
    if inside is not None:
        try:
            rel = path.relative_to(inside)
        except ValueError:
            raise NotReadable("outside the skill folder: not read") from None
        cur = Path(inside)
        for part in rel.parts[:-1]:
            cur = cur / part
            if cur.is_symlink():
                raise NotReadable(f"reached through the symbolic link {cur.relative_to(inside).as_posix()}: "
                                  "links are not followed")
    try:
        mode = os.lstat(path).st_mode
    except OSError as exc:
        raise NotReadable(f"cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISLNK(mode):
        raise NotReadable(describe(path))
    raw = read_regular_bytes(path, limit)
    if b"\x00" in raw[:8192]:
        raise NotReadable("a binary file, not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotReadable(f"not valid UTF-8 (byte {exc.start})") from None
