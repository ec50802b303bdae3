"""Files in a workspace, written safely and read as data: the one reader and writer every module uses.

Writing: `atomic_write` writes a temporary file in the same folder, fsyncs it, renames it over the
target and fsyncs the folder, so a crash leaves either the old or the new file, never a torn one.

Reading: a workspace is data someone else wrote. A link to /dev/zero or a FIFO must not hang us or
fill memory, and a link must not make us read (then show, count, rewrite or send to a model) a file
outside the skill. So `read_regular`, `read_text_file` and `describe` share one opening step: a link
is followed only when a `root` is given and the file resolves inside it; the file is opened with
O_NOFOLLOW|O_NONBLOCK, checked with fstat to be a regular file within the size limit, and read with a
hard cap (it may grow while we read). Whatever is refused is an `UnreadableFile` that says what the
file is ("a symbolic link to /dev/zero", "a FIFO (named pipe)", "a 54.0 MB file") and why.
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
    """A file deliberately not read.

    `what` says what the file is and why it is not read, without its name (it completes "<name> is ...");
    str() is the whole sentence; `kind` is one of: "symbolic link", "outside", "FIFO", "socket", "device",
    "folder", "too large", "binary", "not utf-8", "unreadable".
    """

    def __init__(self, name: str, what: str, kind: str) -> None:
        super().__init__(f"{name} is {what}")
        self.what = what
        self.kind = kind


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


_ARTICLE = {"FIFO": "a FIFO (named pipe)", "socket": "a socket", "device": "a device file", "folder": "a folder"}
_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _size(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / 2**20:g} MB"
    return f"{n / 1024:g} KB" if n >= 1024 else f"{n:,} bytes"


def _inside(real: str, root: Path) -> bool:
    base = os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def _open_regular(path: Path, limit: int, root: Path | None) -> int:
    """A descriptor of `path` opened for reading once every check passed; UnreadableFile (or
    FileNotFoundError) otherwise. The caller closes it."""
    name = path.name
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnreadableFile(name, f"unreadable ({exc.strerror or exc})", "unreadable") from None
    target = str(path)
    if root is not None:
        target = os.path.realpath(path)
        if not _inside(target, root):
            if stat.S_ISLNK(mode):
                raise UnreadableFile(name, f"a symbolic link to {_link_target(path)}: links out of the skill "
                                     "are not followed", "symbolic link")
            raise UnreadableFile(name, "outside the skill folder (reached through a symbolic link): not read",
                                 "outside")
    elif stat.S_ISLNK(mode):
        raise UnreadableFile(name, f"a symbolic link to {_link_target(path)}: links are not followed",
                             "symbolic link")
    try:
        fd = os.open(target, _FLAGS)
    except FileNotFoundError:
        raise
    except OSError as exc:  # ELOOP: the last component became a link after the checks above
        kind = "symbolic link" if exc.errno == errno.ELOOP else "unreadable"
        what = "a symbolic link: links are not followed" if kind == "symbolic link" else \
            f"unreadable ({exc.strerror or exc})"
        raise UnreadableFile(name, what, kind) from None
    try:
        st = os.fstat(fd)
        if root is not None and not _inside(_opened_path(fd, target), root):  # a folder swapped for a link
            raise UnreadableFile(name, "outside the skill folder (reached through a symbolic link): not read",
                                 "outside")
        if not stat.S_ISREG(st.st_mode):
            kind = kind_of_mode(st.st_mode)
            raise UnreadableFile(name, f"{_ARTICLE.get(kind, 'a ' + kind)}, not a regular file: not read", kind)
        if st.st_size > limit:
            raise UnreadableFile(name, f"a {st.st_size / 1e6:.1f} MB file, over the {_size(limit)} limit: not read",
                                 "too large")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _link_target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def _opened_path(fd: int, fallback: str) -> str:
    """Where the open file really is (Linux: /proc/self/fd), so a folder swapped for a link between the
    check and the open is caught; elsewhere the path that was checked."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return fallback


def read_regular(path: Path, limit: int, *, root: Path | None = None) -> bytes:
    """The bytes of `path` if it is a regular file of at most `limit` bytes, else UnreadableFile.

    Without `root` a symbolic link is never followed; with `root` (the skill or workspace folder) a
    link, at the file or at any folder on the way, is followed only when the file resolves inside it.
    A missing file raises FileNotFoundError, as open() would.
    """
    path = Path(path)
    fd = _open_regular(path, limit, root)
    try:
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    finally:
        os.close(fd)
    if got > limit:
        raise UnreadableFile(path.name, f"a file that grew past the {_size(limit)} limit while being read: not read",
                             "too large")
    return b"".join(chunks)


def _not_text(raw: bytes, partial: bool = False) -> tuple[str, str] | None:
    """(what, kind) when `raw` is not UTF-8 text; `partial`: raw is a head, so a character cut at its end is fine."""
    if b"\x00" in raw[:8192]:
        return "a binary file (it holds NUL bytes)", "binary"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not partial or exc.start < len(raw) - 4:
            return f"not UTF-8 text (byte {exc.start})", "not utf-8"
    return None


def read_text_file(path: Path, limit: int = MAX_TEXT_BYTES, *, root: Path | None = None) -> str:
    """UTF-8 text of a regular file (see `read_regular` for links and limits); binary or non-UTF-8 files
    are an UnreadableFile. newline="" semantics: CRLF is kept as written, so round-trips are byte-exact."""
    raw = read_regular(path, limit, root=root)
    bad = _not_text(raw)
    if bad is not None:
        raise UnreadableFile(Path(path).name, *bad)
    return raw.decode("utf-8")


def describe(path: Path, limit: int = MAX_TEXT_BYTES, *, root: Path | None = None) -> str:
    """Why `path` is not read as text, in a few words ("a symbolic link to /dev/zero: links are not
    followed", "a FIFO (named pipe), ..."); empty when `read_text_file` with the same arguments reads it.
    Reads at most 8 KB."""
    path = Path(path)
    try:
        fd = _open_regular(path, limit, root)
    except UnreadableFile as exc:
        return exc.what
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    try:
        head = os.read(fd, 8192)
    finally:
        os.close(fd)
    bad = _not_text(head, partial=True)
    return bad[0] if bad else ""


def why_unreadable(exc: BaseException) -> str:
    """The words after "<name> is " for an error of the readers above (an UnreadableFile or an OSError)."""
    if isinstance(exc, UnreadableFile):
        return exc.what
    if isinstance(exc, OSError):
        return f"unreadable ({exc.strerror or exc})"
    return str(exc)
