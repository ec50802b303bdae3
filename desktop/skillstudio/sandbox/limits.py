"""Process-count and memory limits for the subprocess backend (always-denied writes: datafolder.py).

rlimits cover CPU seconds, address space and file size per process, but RLIMIT_NPROC counts every
process of the *host* user (and is not enforced at all for root), so a fork bomb is contained with
a cgroup when we may create one (root, or a delegated cgroup v1/v2 hierarchy): `pids.max` and
`memory.limit_in_bytes`/`memory.max`. Without a writable cgroup, RLIMIT_NPROC is set to the user's
current task count plus the policy's limit (approximate, documented in `doctor`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from pathlib import Path

_ROOT = Path("/sys/fs/cgroup")


def _own_path(controller: str) -> str | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, ctrls, path = line.split(":", 2)
        if controller in ctrls.split(",") or (controller == "" and ctrls == ""):
            return path
    return None


class Cgroup:
    """A throwaway cgroup for one run (v1 pids+memory hierarchies, or v2 with both controllers)."""

    def __init__(self, dirs: list[Path], key: tuple[int | None, int | None] = (None, None)) -> None:
        self.dirs = dirs
        self.key = key  # the limits it was made with (an executor reuses it for the same limits)

    @classmethod
    def create(cls, pids: int | None, memory_bytes: int | None,
               key: tuple[int | None, int | None] = (None, None)) -> Cgroup | None:
        name = f"skillstudio-{secrets.token_hex(6)}"
        made: list[Path] = []
        try:
            v1_pids = _own_path("pids")
            if v1_pids is not None and (_ROOT / "pids").is_dir():
                d = _ROOT / "pids" / v1_pids.lstrip("/") / name
                d.mkdir()
                made.append(d)
                if pids:
                    (d / "pids.max").write_text(str(pids))
                if memory_bytes and _own_path("memory") is not None and (_ROOT / "memory").is_dir():
                    m = _ROOT / "memory" / str(_own_path("memory")).lstrip("/") / name
                    m.mkdir()
                    made.append(m)
                    (m / "memory.limit_in_bytes").write_text(str(memory_bytes))
                return cls(made, key)
            v2 = _own_path("")
            if v2 is not None and (_ROOT / "cgroup.controllers").is_file():
                parent = _ROOT / v2.lstrip("/")
                enabled = (parent / "cgroup.subtree_control").read_text().split()
                if "pids" not in enabled:
                    return None
                d = parent / name
                d.mkdir()
                made.append(d)
                if pids:
                    (d / "pids.max").write_text(str(pids))
                if memory_bytes and "memory" in enabled:
                    (d / "memory.max").write_text(str(memory_bytes))
                return cls(made, key)
        except OSError:
            for d in reversed(made):
                with contextlib.suppress(OSError):
                    d.rmdir()
        return None

    def add(self, pid: int) -> None:
        """Move a process in (bwrap's sandbox process while it waits on its block fd, before it forks)."""
        for d in self.dirs:
            (d / "cgroup.procs").write_text(str(pid))

    def _pids(self) -> list[int]:
        out: list[int] = []
        for d in self.dirs:
            with contextlib.suppress(OSError):
                out += [int(p) for p in (d / "cgroup.procs").read_text().split()]
        return out

    def clear(self, wait_s: float = 1.0) -> bool:
        """Kill whatever a run left in the group; True once it is empty (so the next run gets all of pids.max)."""
        deadline = time.monotonic() + wait_s
        while True:
            left = self._pids()
            if not left:
                return True
            if time.monotonic() >= deadline and wait_s:
                return False
            for p in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(p, signal.SIGKILL)
            if not wait_s:
                return False  # killed, not waited for
            time.sleep(0.001)

    def destroy(self) -> None:
        """Kill whatever is left in the group and remove it (polls briefly while exits settle)."""
        deadline = time.monotonic() + 5
        pending = list(self.dirs)
        while pending and time.monotonic() < deadline:
            for p in self._pids():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(p, signal.SIGKILL)
            for d in list(pending):
                try:
                    d.rmdir()
                    pending.remove(d)
                except FileNotFoundError:
                    pending.remove(d)
                except OSError:
                    pass
            if pending:
                time.sleep(0.001)


def user_task_count() -> int:
    """Tasks (threads) of our real uid on this machine: the baseline RLIMIT_NPROC counts against."""
    uid, count = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if entry.stat().st_uid == uid:
                count += len(os.listdir(f"/proc/{entry.name}/task"))
    return count
