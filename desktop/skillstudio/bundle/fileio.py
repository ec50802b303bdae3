"""Safe file writes: nothing the user wrote is ever half-saved.

`atomic_write` writes a temporary file in the same folder, fsyncs it, renames it over the target
and fsyncs the folder, so a crash leaves either the old or the new file, never a torn one.
"""

from __future__ import annotations

import contextlib
import os
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


def read_text_file(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """Read a UTF-8 text file, refusing huge or binary files with a clear ValueError.

    newline="" keeps CRLF as written so that round-trips are byte-exact.
    """
    size = path.stat().st_size
    if size > limit:
        raise ValueError(f"{path.name} is {size / 1e6:.1f} MB; text files over {limit // 1_000_000} MB are not opened")
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise ValueError(f"{path.name} is a binary file, not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path.name} is not valid UTF-8 (byte {exc.start})") from None
