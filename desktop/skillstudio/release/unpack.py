"""Safe import of a skill zip: every check passes before one byte lands in the destination.

Why: bundles come from registries and colleagues; a crafted zip must not write outside the target
(zip slip, absolute paths, links), create devices, hide a second copy of a file under the same name,
or fill the disk (zip bombs: ratio and total caps, and a hard cap while inflating in case the
headers lie). Extraction goes to a temporary sibling folder that is renamed into place only when
everything succeeded, so a refused or broken bundle leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from skillstudio.bundle.model import SKILL_MD_NAMES
from skillstudio.errors import CheckFailed

MAX_ZIP_BYTES = 100 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_ENTRIES = 10_000
MAX_RATIO = 200  # uncompressed / compressed, for entries over RATIO_MIN_SIZE (text rarely tops 20)
RATIO_MIN_SIZE = 1024 * 1024


@dataclass(frozen=True)
class ZipEntry:
    name: str  # normalised POSIX path
    size: int
    executable: bool
    is_dir: bool
    info: zipfile.ZipInfo


def _refuse(msg: str) -> CheckFailed:
    return CheckFailed(f"refused bundle: {msg}", "nothing was written; ask the author for a clean bundle")


def _normalise(raw: str) -> str:
    if not raw or "\x00" in raw:
        raise _refuse("an entry has an empty or NUL-containing name")
    if "\\" in raw:
        raise _refuse(f"entry {raw!r} uses backslashes (a Windows path that can escape the folder)")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise _refuse(f"entry {raw!r} has an absolute path")
    parts = [p for p in PurePosixPath(raw).parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise _refuse(f"entry {raw!r} points outside the bundle (zip slip)")
    if not parts:
        raise _refuse(f"entry {raw!r} has no name")
    return "/".join(parts)


def inspect_zip(source: Path | bytes, *, max_zip_bytes: int = MAX_ZIP_BYTES,
                max_total_bytes: int = MAX_TOTAL_BYTES) -> list[ZipEntry]:
    """Validate a bundle without extracting it; returns its entries or raises CheckFailed."""
    size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
    if size > max_zip_bytes:
        raise _refuse(f"the zip is {size / 2**20:.1f} MB (limit {max_zip_bytes / 2**20:.3g} MB)")
    try:
        zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else Path(source))
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse(f"not a readable zip ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise _refuse(f"{len(infos)} entries (limit {MAX_ENTRIES})")
        seen: dict[str, str] = {}
        total = 0
        out: list[ZipEntry] = []
        for info in infos:
            name = _normalise(info.filename)
            mode = (info.external_attr >> 16) & 0xFFFF
            is_dir = info.is_dir()
            kind = stat.S_IFMT(mode) if info.create_system == 3 and mode else 0
            if kind == stat.S_IFLNK:
                raise _refuse(f"entry {name!r} is a symbolic link")
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                raise _refuse(f"entry {name!r} is a device, pipe or socket")
            if info.flag_bits & 0x1:
                raise _refuse(f"entry {name!r} is encrypted")
            key = unicodedata.normalize("NFC", name).casefold()  # café == café on macOS/Windows
            if key in seen:
                raise _refuse(f"entry {name!r} appears twice (as {seen[key]!r} too)")
            seen[key] = name
            total += info.file_size
            if total > max_total_bytes:
                raise _refuse(f"it inflates to over {max_total_bytes / 2**20:.3g} MB (zip bomb?)")
            if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise _refuse(f"entry {name!r} compresses {info.file_size // max(info.compress_size, 1)}:1 (zip bomb?)")
            out.append(ZipEntry(name, info.file_size, bool(mode & 0o111), is_dir, info))
        files = {e.name for e in out if not e.is_dir}
        for f in files:  # "a" as a file and "a/b" as another: the second would need "a" to be a folder
            parent = f.rsplit("/", 1)[0] if "/" in f else ""
            while parent:
                if parent in files:
                    raise _refuse(f"entry {parent!r} is both a file and a folder")
                parent = parent.rsplit("/", 1)[0] if "/" in parent else ""
        if not any(e.name in SKILL_MD_NAMES for e in out):
            raise _refuse("no SKILL.md at the top of the zip")
        return out




def _dest_ok(dest: Path) -> None:
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise CheckFailed(f"{dest} exists and is not a folder", "choose another output folder")
    if dest.is_dir() and any(dest.iterdir()):
        raise CheckFailed(f"{dest} is not empty", "choose a new or empty output folder")


def extract_zip(source: Path | bytes, dest: Path, *, max_zip_bytes: int = MAX_ZIP_BYTES,
                max_total_bytes: int = MAX_TOTAL_BYTES) -> list[ZipEntry]:
    """Inspect, then extract into `dest` (new or empty) via a temp folder; all or nothing."""
    dest = Path(dest)
    entries = inspect_zip(source, max_zip_bytes=max_zip_bytes, max_total_bytes=max_total_bytes)
    _dest_ok(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        written = 0
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else Path(source)) as zf:
            for e in entries:
                target = tmp.joinpath(*e.name.split("/"))
                if e.is_dir:
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(e.info) as src, open(target, "xb") as dst:
                    left = e.size
                    while True:
                        chunk = src.read(1 << 20)
                        if not chunk:
                            break
                        left -= len(chunk)
                        written += len(chunk)
                        if left < 0 or written > max_total_bytes:
                            raise _refuse(f"entry {e.name!r} inflates beyond its declared size")
                        dst.write(chunk)
                os.chmod(target, 0o755 if e.executable else 0o644)
        if dest.is_dir():
            dest.rmdir()  # empty, checked above
        os.replace(tmp, dest)
    except zipfile.BadZipFile as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _refuse(f"corrupt zip ({exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with contextlib.suppress(OSError):
        os.chmod(dest, 0o755)
    return entries
