"""Deterministic skill bundles: the same folder content always gives the same zip bytes and digest.

Why: a signature and a lockfile entry name a digest, so re-packing an unchanged skill on another
machine (other mtimes, umask, file order) must reproduce it exactly. Entries are sorted, timestamps
fixed to 1980-01-01, modes normalised to 0644/0755, file bytes stored untouched. Caches, VCS folders,
our own `.skillstudio/` state and editor droppings are left out. Symlinks and special files are
refused (they would make the bundle depend on the packing machine), and so is any file that holds a
known secret value: exporting must never leak one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from skillstudio.bundle import skillmd
from skillstudio.bundle.model import SKILL_MD_NAMES
from skillstudio.errors import SkillStudioError

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
EXCLUDED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".skillstudio", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".cache", "node_modules", ".venv", ".idea", ".vscode", ".tox",
})
EXCLUDED_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
EXCLUDED_SUFFIXES = ("~", ".swp", ".swo", ".pyc", ".pyo", ".orig", ".rej", ".tmp")
MAX_BUNDLE_BYTES = 200 * 1024 * 1024  # uncompressed total; larger is not a skill, it is a data set
MAX_FILES = 10_000
COMPRESS_LEVEL = 6


@dataclass(frozen=True)
class BundleFile:
    path: str  # POSIX, relative to the skill folder
    sha256: str
    size: int
    executable: bool = False


@dataclass
class PackResult:
    path: Path
    sha256: str  # hex digest of the zip bytes
    size: int
    name: str
    version: str | None
    description: str
    files: list[BundleFile] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return f"sha256:{self.sha256}"


def is_excluded(name: str, is_dir: bool) -> bool:
    if is_dir:
        return name in EXCLUDED_DIRS
    return (name in EXCLUDED_FILES or name.endswith(EXCLUDED_SUFFIXES)
            or (name.startswith(".#")) or (name.startswith("#") and name.endswith("#")))


def collect_files(skill_dir: Path, *, exclude: Path | None = None) -> list[tuple[str, Path, bool]]:
    """(posix rel path, absolute path, executable) of every file to pack, sorted; refuses links/devices."""
    skill_dir = Path(skill_dir)
    if not skill_dir.is_dir():
        raise SkillStudioError(f"{skill_dir} is not a folder", "give the skill folder (the one holding SKILL.md)")
    if not any((skill_dir / n).is_file() for n in SKILL_MD_NAMES):
        raise SkillStudioError(f"{skill_dir} has no SKILL.md", "give the skill folder (the one holding SKILL.md)")
    out: list[tuple[str, Path, bool]] = []
    stack = [skill_dir]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError as exc:
            raise SkillStudioError(f"cannot read {d}: {exc.strerror}", "check the folder's permissions") from None
        for e in entries:
            p = Path(e.path)
            rel = p.relative_to(skill_dir).as_posix()
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:
                raise SkillStudioError(f"{rel.encode('utf-8', 'replace').decode()!r} has a name that is not UTF-8",
                                       "rename the file") from None
            if e.is_symlink():
                raise SkillStudioError(f"{rel} is a symbolic link; bundles cannot contain links",
                                       "replace the link with the file it points to")
            st = e.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                if not is_excluded(e.name, True):
                    stack.append(p)
                continue
            if not stat.S_ISREG(st.st_mode):
                raise SkillStudioError(f"{rel} is not a regular file (device, socket or pipe)", "remove it from the skill")
            if is_excluded(e.name, False) or (exclude is not None and p.resolve() == exclude):
                continue
            out.append((rel, p, bool(st.st_mode & 0o111)))
    out.sort(key=lambda t: t[0])
    if len(out) > MAX_FILES:
        raise SkillStudioError(f"{skill_dir.name} has {len(out)} files (limit {MAX_FILES})",
                               "remove generated files or data sets from the skill")
    return out


def _skill_meta(text: str, folder: str) -> tuple[str, str | None, str]:
    try:
        fm, _ = skillmd.load_front_matter(text)
    except skillmd.FrontMatterError as exc:
        raise SkillStudioError(f"SKILL.md front matter is invalid: {exc}", "run `skillstudio validate` and fix it") from None
    name = str(fm.get("name") or folder).strip()
    meta = fm.get("metadata") if isinstance(fm.get("metadata"), dict) else {}
    version = meta.get("version") if isinstance(meta, dict) else None
    return name, (str(version) if version is not None else None), str(fm.get("description") or "").strip()


def _check_secrets(rel: str, data: bytes, secrets: list[bytes]) -> None:
    for value in secrets:
        if value and value in data:
            raise SkillStudioError(f"{rel} contains the value of a stored secret; refusing to export it",
                                   "replace the value with a placeholder and reference the secret by name")


def _check_importable(zip_path: Path) -> None:
    """Never produce a bundle our own import would refuse (e.g. a file compressing like a zip bomb)."""
    from skillstudio.errors import CheckFailed
    from skillstudio.release.unpack import inspect_zip

    try:
        inspect_zip(zip_path)
    except CheckFailed as exc:
        raise SkillStudioError(exc.message.replace("refused bundle", "the bundle would be refused on import"),
                               "remove or compress that file yourself (e.g. ship it gzipped)") from None


def pack_skill(skill_dir: Path, out: Path, *, secret_values: Iterable[str] | None = None,
               max_bytes: int = MAX_BUNDLE_BYTES) -> PackResult:
    """Write the deterministic zip of `skill_dir` to `out` (atomically) and describe it."""
    skill_dir = Path(skill_dir)
    out = Path(out)
    files = collect_files(skill_dir, exclude=out.resolve())
    secrets = sorted({s.encode() for s in (secret_values or ()) if s}, key=len, reverse=True)
    total = 0
    described: list[BundleFile] = []
    name, version, description = skill_dir.name, None, ""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
                for rel, path, executable in files:
                    data = path.read_bytes()
                    total += len(data)
                    if total > max_bytes:
                        raise SkillStudioError(f"{skill_dir.name} is over {max_bytes / 2**20:g} MB",
                                               "move large data out of the skill")
                    _check_secrets(rel, data, secrets)
                    if rel in SKILL_MD_NAMES:
                        name, version, description = _skill_meta(data.decode("utf-8", "replace"), skill_dir.name)
                    info = zipfile.ZipInfo(rel, date_time=FIXED_DATE)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.create_system = 3  # unix, so the mode below is honoured by unzip
                    info.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
                    zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
                    described.append(BundleFile(rel, hashlib.sha256(data).hexdigest(), len(data), executable))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        _check_importable(Path(tmp))
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    raw = out.read_bytes()
    return PackResult(path=out, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw), name=name,
                      version=version, description=description, files=described)
