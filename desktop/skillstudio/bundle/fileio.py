"""Safe file writes: nothing the user wrote is ever half-saved.

`atomic_write` writes a temporary file in the same folder, fsyncs it, renames it over the target
and fsyncs the folder, so a crash leaves either the old or the new file, never a torn one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

MAX_TEXT_BYTES = 5 * 1024 * 1024  # larger files are not opened as text


def atomic_write(path: Path, data: bytes | str, encoding: str = "utf-8") -> None:
    path = Path(path)
    raw = data.encode(encoding) if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


class UnreadableFile(ValueError):
    """A file that is deliberately not read; the message says what it is and why (one line)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # "symbolic link", "FIFO", "device", "socket", "folder", "too large", "binary", "not utf-8"


def kind_of_mode(mode: int) -> str:
    """What an lstat mode is, in words used in messages: file, symbolic link, FIFO, socket, device, folder."""
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file"


def _inside(path: Path, root: Path) -> Path | None:
    """`path` with every link resolved, if that stays inside `root` (resolved); else None."""
    try:
        real = Path(os.path.realpath(path))
        return real if real.is_relative_to(os.path.realpath(root)) else None
    except (OSError, ValueError):
        return None


def read_regular(path: Path, limit: int, *, root: Path | None = None) -> bytes:
    """The bytes of `path` if it is a regular file of at most `limit` bytes, else UnreadableFile.

    Why this shape: a workspace is data someone else wrote. A link to /dev/zero or a FIFO must not
    hang or fill memory, and a link must not make us read (and later show, count or send to a
    model) a file outside the skill. The file is opened with O_NOFOLLOW and O_NONBLOCK, checked with
    fstat to be a regular file, and read with a hard cap (its size may grow while we read). A
    symbolic link is followed only when `root` is given and the link resolves to a path inside it.
    """
    path = Path(path)
    target = path
    if stat.S_ISLNK(os.lstat(path).st_mode):  # a missing file raises FileNotFoundError, as open() would
        inside = _inside(path, root) if root is not None else None
        if inside is None:
            try:
                where = os.readlink(path)
            except OSError:
                where = "?"
            raise UnreadableFile(f"{path.name} is a symbolic link to {where}; links out of the skill "
                                 "are not followed", "symbolic link")
        target = inside
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnreadableFile(f"{path.name} is a symbolic link; links are not followed", "symbolic link") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = kind_of_mode(st.st_mode)
            raise UnreadableFile(f"{path.name} is a {kind}, not a regular file; it is not read", kind)
        if st.st_size > limit:
            raise UnreadableFile(f"{path.name} is {st.st_size / 1e6:.1f} MB; files over {_size(limit)} are not "
                                 "read", "too large")
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > limit:
            raise UnreadableFile(f"{path.name} grew past {_size(limit)} while being read; it is not read",
                                 "too large")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _size(n: int) -> str:
    return f"{n / 1e6:g} MB" if n >= 1_000_000 else f"{n:,} bytes"


def read_text_file(path: Path, limit: int = MAX_TEXT_BYTES, *, root: Path | None = None) -> str:
    """Read a UTF-8 text file, refusing huge, binary or special files with a clear ValueError.

    Only regular files are read (a FIFO or device is refused, never waited on). Without `root` a
    symbolic link at `path` is followed like before only to a regular file; with `root` (the skill
    folder) only when it resolves inside it. newline="" semantics: CRLF is kept as written, so
    round-trips are byte-exact.
    """
    path = Path(path)
    if root is None:
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                root = Path(os.path.realpath(path)).parent  # the editor opens what the user linked
        except OSError:
            pass
    raw = read_regular(path, limit, root=root)
    if b"\x00" in raw[:8192]:
        raise UnreadableFile(f"{path.name} is a binary file, not text", "binary")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path.name} is not valid UTF-8 (byte {exc.start})", "not utf-8") from None
