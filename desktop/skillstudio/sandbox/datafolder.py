"""Everything the host does to a data folder, done so that nothing the tool left there can redirect it.

A sandboxed tool owns the contents of its data folder: it can replace any folder in it by a
symbolic link to any host path (`.git -> /home/alice/.ssh`). So the host never resolves a path
inside the data folder by name. It opens the data folder once (`O_NOFOLLOW`) and walks every
path component from that directory descriptor with `O_NOFOLLOW`; a link anywhere on the way stops
the walk and is reported as a link, never followed. Removals use `unlinkat`/`rmdir` relative to
the parent's descriptor (and `shutil.rmtree(name, dir_fd=…)`, which is fd-based and refuses to
follow links). What is mounted read-only over the always-denied paths is never a path found in
the data folder: bubblewrap binds the descriptors we opened (`--ro-bind-fd`), Docker binds a
bounded read-only copy we made from those descriptors.

Also here: which folders may be a data folder at all (`refuse_broad`), and the disk quota
(`DiskQuota`: how much the data folder's disk may fill up during one command).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from skillstudio.errors import SkillStudioError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_PATH_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | os.O_NOFOLLOW | os.O_CLOEXEC
COPY_LIMIT_BYTES = 16 * 1024 * 1024  # per always-denied folder copied for Docker
COPY_LIMIT_ENTRIES = 2000
HARD_FACTOR = 4  # see DiskQuota


@dataclass(frozen=True)
class Entry:
    """What is at a path inside the data folder, found without following any link.

    kind: "missing" (component `index` does not exist), "link" (component `index` is a symbolic
    link), "notdir" (component `index` is a file where a folder should be), "unreadable" (component
    `index` is a folder we may not open), "dir", "file" or "other" (the whole path exists); `ident` is (st_dev,
    st_ino) of what is at `index`.
    """

    kind: str
    index: int
    ident: tuple[int, int] = (0, 0)


def parts_of(pattern: str) -> tuple[str, ...] | None:
    """A deny pattern as path components, or None when it is unusable (empty, absolute tricks, `..`)."""
    parts = tuple(p for p in pattern.strip().split("/") if p not in ("", "."))
    if not parts or ".." in parts:
        return None
    return parts


class DataFolder:
    """The data folder held open by a directory descriptor; every operation is relative to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.fd = os.open(path, _DIR_FLAGS)
        except OSError as exc:
            raise SkillStudioError(f"cannot open the data folder {path}: {exc.strerror}",
                                   "choose an existing folder (not a symbolic link)", setting="data") from exc

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> DataFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ walking
    def _open_parent(self, parts: tuple[str, ...]) -> tuple[int | None, Entry | None]:
        """A descriptor of the folder holding parts[-1] (caller closes), or the Entry that stopped the walk."""
        fd = os.dup(self.fd)
        for i, name in enumerate(parts[:-1]):
            try:
                nxt = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError:
                st = _lstat(name, fd)
                os.close(fd)
                if st is None:
                    return None, Entry("missing", i)
                if stat.S_ISLNK(st.st_mode):
                    return None, Entry("link", i, (st.st_dev, st.st_ino))
                if stat.S_ISDIR(st.st_mode):  # a folder we may not open (the tool made it mode 000)
                    return None, Entry("unreadable", i, (st.st_dev, st.st_ino))
                # a file where a folder should be (`.git` as a "gitdir: …" file points git elsewhere)
                return None, Entry("notdir", i, (st.st_dev, st.st_ino))
            os.close(fd)
            fd = nxt
        return fd, None

    def entry(self, parts: tuple[str, ...]) -> Entry:
        parent, stopped = self._open_parent(parts)
        if stopped is not None:
            return stopped
        assert parent is not None
        try:
            st = _lstat(parts[-1], parent)
        finally:
            os.close(parent)
        last = len(parts) - 1
        if st is None:
            return Entry("missing", last)
        ident = (st.st_dev, st.st_ino)
        if stat.S_ISLNK(st.st_mode):
            return Entry("link", last, ident)
        if stat.S_ISDIR(st.st_mode):
            return Entry("dir", last, ident)
        if stat.S_ISREG(st.st_mode):
            return Entry("file", last, ident)
        return Entry("other", last, ident)

    def snapshot(self, patterns: list[str]) -> dict[tuple[str, ...], Entry]:
        out = {}
        for pattern in patterns:
            parts = parts_of(pattern)
            if parts is not None:
                out[parts] = self.entry(parts)
        return out

    # ------------------------------------------------------------------------ before a run
    def protectable(self, patterns: list[str]) -> dict[tuple[str, ...], Entry]:
        """The denied paths' state; refuses a data folder where one of them goes through a link.

        A link there cannot be protected (a read-only mount cannot sit on a link, and the link may
        point anywhere the sandbox can write), so the run is refused instead of guessing.
        """
        snap = self.snapshot(patterns)
        for parts, e in snap.items():
            if e.kind == "link":
                where = "/".join(parts[: e.index + 1])
                raise SkillStudioError(
                    f"the data folder's {where} is a symbolic link, so the always-denied {'/'.join(parts)} "
                    "cannot be protected",
                    f"remove the link {self.path / where} (the host never follows links in a data folder)")
        return snap

    def open_existing(self, snap: dict[tuple[str, ...], Entry]) -> list[tuple[int, str]]:
        """O_PATH descriptors of the denied paths that exist (for `bwrap --ro-bind-fd`); caller closes them."""
        fds: list[tuple[int, str]] = []
        try:
            for parts, e in snap.items():
                if e.kind not in ("dir", "file"):
                    continue
                parent, stopped = self._open_parent(parts)
                if parent is None or stopped is not None:
                    continue
                try:
                    fd = os.open(parts[-1], _PATH_FLAGS, dir_fd=parent)
                except OSError:
                    continue
                finally:
                    os.close(parent)
                st = os.fstat(fd)
                if (st.st_dev, st.st_ino) != e.ident or stat.S_ISLNK(st.st_mode):
                    os.close(fd)
                    raise SkillStudioError(f"{'/'.join(parts)} in the data folder changed while the run was prepared",
                                           "run the command again")
                fds.append((fd, "/".join(parts)))
        except BaseException:
            for fd, _ in fds:
                os.close(fd)
            raise
        return fds

    def copy_existing(self, snap: dict[tuple[str, ...], Entry], dest: Path) -> list[tuple[Path, str]]:
        """Read-only copies (under `dest`) of the denied paths that exist, made through descriptors.

        Docker can only bind a path, and a path inside the data folder could be swapped for a link
        between our check and the engine's mount; a copy of ours cannot. Bounded: a denied folder
        larger than COPY_LIMIT_* is refused with a clear error.
        """
        out: list[tuple[Path, str]] = []
        for n, (parts, e) in enumerate(sorted(snap.items())):
            if e.kind not in ("dir", "file"):
                continue
            parent, stopped = self._open_parent(parts)
            if parent is None or stopped is not None:
                continue
            try:
                target = dest / str(n)
                budget = [COPY_LIMIT_BYTES, COPY_LIMIT_ENTRIES]
                _copy_at(parent, parts[-1], target, budget, "/".join(parts))
            finally:
                os.close(parent)
            out.append((target, "/".join(parts)))
        return out

    # ------------------------------------------------------------------------- after a run
    def revert(self, patterns: list[str], before: dict[tuple[str, ...], Entry]) -> list[str]:
        """Remove what appeared at a denied path during the run (a file, a folder or a planted link).

        Only the new entry itself is removed, relative to its parent's descriptor; a link is
        unlinked, never followed, wherever on the path it was planted.
        """
        removed: list[str] = []
        for pattern in patterns:
            parts = parts_of(pattern)
            if parts is None:
                continue
            now = self.entry(parts)
            was = before.get(parts, Entry("missing", 0))
            if now.kind == "missing" or (now.kind == was.kind and now.index == was.index and now.ident == was.ident
                                         and now.kind != "link"):
                continue
            if now.kind in ("link", "notdir", "unreadable") and now.index < len(parts) - 1:
                at = parts[: now.index + 1]
                what = {"link": "a symbolic link, not followed", "notdir": "a file in place of a folder",
                        "unreadable": "a folder made unreadable"}[now.kind]
                if self._remove(at, directory=now.kind == "unreadable"):
                    removed.append(f"{'/'.join(at)} ({what})")
                continue
            if now.kind == "link":
                if self._remove(parts, directory=False):
                    removed.append(f"{'/'.join(parts)} (a symbolic link, not followed)")
                continue
            if self._remove(parts, directory=now.kind == "dir"):
                removed.append("/".join(parts))
        return removed

    def _remove(self, parts: tuple[str, ...], directory: bool) -> bool:
        parent, stopped = self._open_parent(parts)
        if parent is None or stopped is not None:
            return False
        try:
            if directory:
                _rmtree_at(parent, parts[-1], 0)
            else:
                os.unlink(parts[-1], dir_fd=parent)
        except OSError:
            pass
        finally:
            ok = _lstat(parts[-1], parent) is None
            os.close(parent)
        return ok


def _lstat(name: str, dir_fd: int) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return None


def _owner_access(parent: int, name: str) -> None:
    """Give ourselves rwx on the folder parent/name (the tool may have made it mode 000); never via a link.

    O_PATH|O_NOFOLLOW|O_DIRECTORY cannot open a link, and chmod through /proc/self/fd acts on
    exactly the folder that descriptor holds.
    """
    fd = os.open(name, _PATH_FLAGS | os.O_DIRECTORY, dir_fd=parent)
    try:
        os.chmod(f"/proc/self/fd/{fd}", 0o700)
    finally:
        os.close(fd)


def _rmtree_at(parent: int, name: str, depth: int) -> None:
    """Remove the folder parent/name and everything in it, through descriptors, never following a link."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    except PermissionError:
        _owner_access(parent, name)
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    try:
        if not os.fstat(fd).st_mode & stat.S_IWUSR:
            _owner_access(parent, name)
        dev = os.fstat(fd).st_dev
        for child in os.listdir(fd):
            st = _lstat(child, fd)
            if st is None:
                continue
            if stat.S_ISDIR(st.st_mode):
                if st.st_dev != dev or depth >= 256:
                    continue  # another filesystem mounted here, or absurdly deep: left, and reported as not removed
                _rmtree_at(fd, child, depth + 1)
            else:
                os.unlink(child, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent)


def _copy_at(parent: int, name: str, target: Path, budget: list[int], label: str) -> None:
    """Copy parent/name to target without following links (links are copied as links)."""
    st = _lstat(name, parent)
    if st is None:
        return
    budget[1] -= 1
    if budget[1] < 0 or budget[0] < 0:
        raise SkillStudioError(f"the always-denied {label} in the data folder is too large to protect",
                               "remove it from the data folder, or from the policy's always-denied list")
    if stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(name, dir_fd=parent), target)
    elif stat.S_ISDIR(st.st_mode):
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        try:
            target.mkdir(mode=0o755)
            for child in sorted(os.listdir(fd)):
                _copy_at(fd, child, target / child, budget, label)
        finally:
            os.close(fd)
    elif stat.S_ISREG(st.st_mode):
        budget[0] -= st.st_size
        if budget[0] < 0:
            raise SkillStudioError(f"the always-denied {label} in the data folder is too large to protect",
                                   "remove it from the data folder, or from the policy's always-denied list")
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=parent)
        try:
            with open(target, "wb") as out:
                while chunk := os.read(fd, 1 << 20):
                    out.write(chunk)
        finally:
            os.close(fd)
        os.chmod(target, 0o644 | (st.st_mode & 0o111))
    # devices, FIFOs and sockets are left out of the copy


# ----------------------------------------------------------------------------- which data folders

# Never a data folder themselves; paths under them are fine (/home/alice/data, /tmp/x, /srv/app).
_SYSTEM_FOLDERS = {"/home", "/opt", "/srv", "/tmp", "/var", "/var/tmp", "/mnt", "/media", "/root", "/Users",
                   "/Volumes", "/private", "/private/tmp", "/private/var"}
# Never a data folder, nor anything under them.
_SYSTEM_TREES = {"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
                 "/sbin", "/sys", "/usr", "/var/lib", "/var/log", "/var/run", "/var/spool", "/var/cache",
                 "/var/mail", "/var/www", "/snap", "/nix", "/System", "/Library", "/Applications", "/private/etc"}
# Under the user's home: folders holding credentials or other programs' configuration.
_HOME_PRIVATE = {".ssh", ".gnupg", ".aws", ".azure", ".config", ".docker", ".kube", ".local", ".password-store",
                 ".mozilla", ".pki", ".netrc", ".git-credentials", ".cache", "Library"}


def refuse_broad(data: Path, skills: list[Path] | None = None) -> None:
    """SkillStudioError when `data` (resolved) must not be a data folder.

    Refused: `/`, system folders and everything under the system trees (/etc, /usr, /proc, /run, …),
    the home folder, any parent of it and the credential folders in it (~/.ssh, ~/.config, …), a
    Skill Studio workspace's root (its policies and secret bindings would become writable), and a
    folder that is, holds or sits in a mounted skill (the tool would rewrite the skill it runs).
    """
    text = data.as_posix()
    hint = "use a dedicated folder for the tool's files, e.g. a new folder in your project"
    if text == "/" or text in _SYSTEM_FOLDERS:
        raise SkillStudioError(f"data folder {data} is too broad", hint)
    for tree in _SYSTEM_TREES:
        if text == tree or text.startswith(tree + "/"):
            raise SkillStudioError(f"data folder {data} is a system folder", hint)
    home = Path.home().resolve()
    if home == data or data in home.parents:
        raise SkillStudioError(f"data folder {data} is too broad (it holds your home folder)", hint)
    with contextlib.suppress(ValueError):
        first = data.relative_to(home).parts[0]
        if first in _HOME_PRIVATE:
            raise SkillStudioError(f"data folder {data} is inside ~/{first} (credentials and settings)", hint)
    if (data / ".skillstudio").is_dir():
        raise SkillStudioError(f"data folder {data} is a Skill Studio workspace (its sandbox policies and "
                               "secret bindings would be writable by the tool)", "use a subfolder of the workspace")
    for skill in skills or []:
        if skill == data or data in skill.parents or skill in data.parents:
            raise SkillStudioError(f"data folder {data} overlaps the mounted skill {skill} (the tool could rewrite it)",
                                   "use a data folder outside the skill")


# ----------------------------------------------------------------------------------- disk quota

class DiskQuota:
    """Stops a command that fills the data folder's disk by more than `limit_mb` during one run.

    The only disk a sandboxed command can write to is the data folder's (its root is read-only,
    /tmp is a size-limited tmpfs), so the drop of that filesystem's free space (statvfs, O(1),
    immune to sparse files, hard links and millions of small files) is the trigger, checked every
    few tens of milliseconds by the executor's wait loop. Before killing, the data folder itself is
    measured (a bounded walk through descriptors, links never followed): only when it also holds
    more than the quota is the command killed, so another program filling the same disk does not
    kill a command by itself. Space held by files the command deleted but keeps open is invisible to
    that walk, so a drop of HARD_FACTOR times the quota kills the command whatever the walk says.
    A command can overshoot by what it writes between two checks.
    """

    WALK_LIMIT = 200_000  # entries; a folder with more is treated as over the quota

    def __init__(self, path: Path, limit_mb: int | None) -> None:
        self.path = path
        self.limit = limit_mb * 1024 * 1024 if limit_mb else None
        self.start_free = self._free() if self.limit else 0
        self.next_check = self.limit or 0
        self.used = 0
        self.held: int | None = None

    def _free(self) -> int:
        try:
            st = os.statvfs(self.path)
        except OSError:
            return 0
        return st.f_bavail * st.f_frsize

    def exceeded(self) -> bool:
        if self.limit is None:
            return False
        drop = self.start_free - self._free()
        self.used = max(self.used, drop)
        if drop <= self.next_check:
            return False
        if drop > self.limit * HARD_FACTOR:  # whoever filled it: the disk itself is at stake now
            return True
        self.held = folder_bytes(self.path, self.WALK_LIMIT)
        if self.held is None or self.held > self.limit:
            return True
        self.next_check = drop + self.limit  # the disk filled up elsewhere: look again after as much more
        return False

    def message(self) -> str:
        mb = (self.limit or 0) // (1024 * 1024)
        held = "more entries than can be counted" if self.held is None else f"{self.held // (1024 * 1024)} MB"
        return (f"\n[skillstudio: killed: the command filled the data folder's disk by {self.used // (1024 * 1024)} MB "
                f"and the data folder holds {held}, more than the {mb} MB disk quota]\n")


def walk(top: int, max_depth: int = 256) -> Iterator[tuple[int, str, os.stat_result]]:
    """(parent descriptor, name, lstat) of every entry under the directory descriptor `top`.

    Links are reported, never followed or opened (os.fwalk opens a link to a folder before it
    compares); folders on another filesystem are reported but not entered; at most `max_depth`
    descriptors are open at once (deeper folders are not entered). The parent descriptor is valid
    only until the generator moves on.
    """
    dev = os.fstat(top).st_dev
    stack = [(os.dup(top), iter(sorted(os.listdir(top))))]
    try:
        while stack:
            fd, names = stack[-1]
            name = next(names, None)
            if name is None:
                os.close(fd)
                stack.pop()
                continue
            st = _lstat(name, fd)
            if st is None:
                continue
            yield fd, name, st
            if stat.S_ISDIR(st.st_mode) and st.st_dev == dev and len(stack) < max_depth:
                try:
                    sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError:
                    continue
                try:
                    stack.append((sub, iter(os.listdir(sub))))
                except OSError:
                    os.close(sub)
    finally:
        for fd, _ in stack:
            os.close(fd)


def folder_bytes(path: Path, max_entries: int) -> int | None:
    """Allocated bytes under `path` (hard links once, links not followed, one filesystem); None past max_entries."""
    try:
        top = os.open(path, _DIR_FLAGS)
    except OSError:
        return 0
    seen: set[int] = set()
    total = 0
    try:
        for count, (_, _, st) in enumerate(walk(top), 1):
            if count > max_entries:
                return None
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_blocks * 512
    finally:
        os.close(top)
    return total
