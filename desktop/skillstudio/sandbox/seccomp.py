"""A small seccomp filter for the bubblewrap backend, as raw classic BPF (no libseccomp needed).

It returns EPERM for the system calls a tool never needs and a sandbox escape usually does:
debugging other processes (ptrace, process_vm_*), mounting and namespaces (mount*, pivot_root,
unshare, setns — bwrap's `--disable-userns` also blocks nested user namespaces), kernel
keyrings, module and kexec loading, bpf, perf events, userfaultfd, file handles
(open_by_handle_at, the "shocker" escape), io_uring (its own path around seccomp and the source
of many kernel escapes) and swap/reboot/accounting. Everything else is allowed. On x86-64 the x32 ABI is refused
as a whole. On other architectures no filter is built
(`program()` returns None) and the sandbox relies on namespaces, dropped capabilities and
no_new_privs alone. The Docker backend keeps Docker's default seccomp profile and stacks this
same filter on every command (the launcher installs it, given as hex, before it starts the
command), so ptrace between processes and io_uring are refused there too.
"""

from __future__ import annotations

import errno
import os
import platform
import struct

_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_X32_BIT = 0x40000000

_DENIED = ["ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "unshare",
           "setns", "keyctl", "add_key", "request_key", "init_module", "finit_module", "delete_module",
           "kexec_load", "kexec_file_load", "bpf", "perf_event_open", "userfaultfd", "open_by_handle_at",
           "name_to_handle_at", "swapon", "swapoff", "reboot", "acct", "quotactl", "open_tree", "move_mount",
           "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
           "io_uring_setup", "io_uring_enter", "io_uring_register"]

# (AUDIT_ARCH, syscall numbers) per machine; the 4xx mount API numbers are shared by all.
_NEW_MOUNT_API = {"open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
                  "fspick": 433, "mount_setattr": 442,
                  "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427}
_TABLES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, {
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "mount": 165, "umount2": 166,
        "pivot_root": 155, "unshare": 272, "setns": 308, "keyctl": 250, "add_key": 248, "request_key": 249,
        "init_module": 175, "finit_module": 313, "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320,
        "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "open_by_handle_at": 304,
        "name_to_handle_at": 303, "swapon": 167, "swapoff": 168, "reboot": 169, "acct": 163, "quotactl": 179,
        **_NEW_MOUNT_API}),
    "aarch64": (0xC00000B7, {
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "mount": 40, "umount2": 39,
        "pivot_root": 41, "unshare": 97, "setns": 268, "keyctl": 219, "add_key": 217, "request_key": 218,
        "init_module": 105, "finit_module": 273, "delete_module": 106, "kexec_load": 104, "kexec_file_load": 294,
        "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "open_by_handle_at": 265,
        "name_to_handle_at": 264, "swapon": 224, "swapoff": 225, "reboot": 142, "acct": 89, "quotactl": 60,
        **_NEW_MOUNT_API}),
}


_TABLES["arm64"] = _TABLES["aarch64"]  # macOS's name for it (Docker Desktop on Apple silicon)


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(machine: str | None = None) -> bytes | None:
    """The BPF program for this machine (bytes of `struct sock_filter[]`), or None when unsupported."""
    table = _TABLES.get(machine or platform.machine())
    if table is None:
        return None
    arch, numbers = table
    nrs = sorted({numbers[name] for name in _DENIED})
    deny = _RET_ERRNO | errno.EPERM
    out = [_ins(_LD_W_ABS, 4),  # seccomp_data.arch
           _ins(_JEQ_K, arch, jt=1, jf=0),
           _ins(_RET_K, _RET_ALLOW),  # a foreign ABI we have no table for: leave it to the other layers
           _ins(_LD_W_ABS, 0)]  # seccomp_data.nr
    body: list[bytes] = []
    if machine == "x86_64" or (machine is None and platform.machine() == "x86_64"):
        body.append(_ins(_JGE_K, _X32_BIT, jt=len(nrs) + 1, jf=0))
    for i, nr in enumerate(nrs):
        body.append(_ins(_JEQ_K, nr, jt=len(nrs) - i, jf=0))
    body.append(_ins(_RET_K, _RET_ALLOW))
    body.append(_ins(_RET_K, deny))
    return b"".join(out + body)


def memfd(machine: str | None = None) -> int | None:
    """A file descriptor holding the program, for bwrap's `--add-seccomp-fd` (caller closes it)."""
    prog = program(machine)
    if prog is None or not hasattr(os, "memfd_create"):
        return None
    fd = os.memfd_create("skillstudio-seccomp", 0)
    os.write(fd, prog)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd

