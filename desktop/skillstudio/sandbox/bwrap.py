"""The subprocess backend on Linux: bubblewrap.

Each command runs in fresh namespaces (`--unshare-all`: user, PID, IPC, UTS, cgroup and network —
only loopback exists inside), as an unprivileged uid, in a new session (no TIOCSTI into the
user's terminal), with every capability dropped and `--die-with-parent`. The filesystem is a
read-only tmpfs root holding read-only binds of the runtime (/usr and the /bin, /lib* links, a few
/etc files: TLS certificates, ld.so cache, a synthetic passwd), a private /proc and /dev, a fresh
tmpfs /tmp, the data folder read-write at /data (the working directory and HOME), the skills
read-only at /skills/<name>, and nothing else: no home, no keys, no sockets, no host environment.
`PR_SET_NO_NEW_PRIVS` is set by bubblewrap itself, so setuid binaries cannot gain privileges.
Seccomp: a small filter (`seccomp.py`) refuses ptrace, mount/namespace calls, keyrings, bpf,
perf, userfaultfd, io_uring, module/kexec loading and file-handle opens; `--disable-userns` blocks nested
user namespaces; `--new-session` stops TIOCSTI injection into the user's terminal.

The data folder and its always-denied paths are bound from descriptors opened without following
links (`--bind-fd`, `--ro-bind-fd`, datafolder.py), and bwrap reads its options from a memfd
(`--args`), so the sandbox's PID 1 command line shows no host path.

Network with an allow list: the egress proxy runs on the host on a Unix socket that is bound into
the sandbox; the in-sandbox launcher bridges it to 127.0.0.1:<port> and sets HTTP(S)_PROXY.

Limits: wall time by the caller (killing bwrap kills the sandbox's PID 1 and so the whole tree),
CPU seconds, address space and file size by rlimits, processes and memory by a cgroup when one can
be created (see `limits.py`). Both are put on the sandbox's first process from the host while it
waits on `--block-fd` (its pid comes from `--info-fd`), before it has started anything, so bwrap
is spawned without a `preexec_fn` (subprocess can use vfork instead of copying a large app). The
launcher runs only when there is a proxy to bridge; otherwise bwrap execs the command directly.

Other platforms (design, not built yet): macOS runs the same launcher under `sandbox-exec` with a
generated SBPL profile (deny default; allow read of /usr, /System, /Library, the skills; allow
write only under the data folder and a private TMPDIR; deny network except the proxy's localhost
port), as srt does. Windows has no equivalent for an unprivileged app: use the Docker backend
(Docker Desktop/WSL2). Where no sandbox exists, `--sandbox none` runs unsandboxed only when the
user passes `--unsandboxed-i-know`, and the result says so.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from skillstudio.cancel import CancelToken
from skillstudio.errors import EnvironmentProblem
from skillstudio.sandbox import limits, seccomp
from skillstudio.sandbox.datafolder import DataFolder, DiskQuota, Entry
from skillstudio.sandbox.executor import ExecResult, OutputSink, clean_env, launcher_args, run_process
from skillstudio.sandbox.launcher import __file__ as _LAUNCHER_FILE
from skillstudio.sandbox.policy import Policy
from skillstudio.sandbox.proxy import EgressProxy, Interceptor, ProxyEvent

DATA_MOUNT = "/data"
RUN_DIR = "/run/skillstudio"
SANDBOX_UID = 1000
TMP_BYTES = 256 * 1024 * 1024
_ETC = ["ssl", "ca-certificates", "ca-certificates.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
        "localtime", "alternatives", "mime.types", "nsswitch.conf", "python3", "python3.11", "pki",
        "host.conf"]
_HINT_INSTALL = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)"
_HINT_USERNS = ("enable unprivileged user namespaces: on Ubuntu 24.04+ `sudo sysctl -w "
                "kernel.apparmor_restrict_unprivileged_userns=0` (or add an AppArmor profile for bwrap); "
                "elsewhere `sudo sysctl -w kernel.unprivileged_userns_clone=1`; or use the Docker sandbox")


_PROBED: dict[str, frozenset[str]] = {}  # bwrap path -> its options, once it created a sandbox in this process


def check_bwrap() -> str:
    """Path of a working bwrap; EnvironmentProblem (with the fix) when missing or user namespaces are off.

    A successful probe is remembered for the process (executors are created per run and per
    console command); a failed one is retried next time, so fixing the system needs no restart.
    """
    path = shutil.which("bwrap")
    if path is None:
        raise EnvironmentProblem("bubblewrap (bwrap) is not installed", _HINT_INSTALL)
    if path in _PROBED:
        return path
    probe = subprocess.run([path, "--unshare-all", "--ro-bind", "/", "/", "true"], capture_output=True,
                           text=True, check=False, timeout=30)
    if probe.returncode != 0:
        why = probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else f"exit {probe.returncode}"
        raise EnvironmentProblem(f"bubblewrap cannot create a sandbox ({why})", _HINT_USERNS)
    help_text = subprocess.run([path, "--help"], capture_output=True, text=True, check=False).stdout
    _PROBED[path] = frozenset(w for w in help_text.split() if w.startswith("--"))
    return path


def _child_pid(info_fd: int) -> int | None:
    """The sandbox process's pid from bwrap's --info-fd JSON; None when bwrap ended before writing it."""
    import json

    data = b""
    while b"}" not in data:
        chunk = os.read(info_fd, 4096)
        if not chunk:
            return None
        data += chunk
    pid = json.loads(data.decode()).get("child-pid")
    return pid if isinstance(pid, int) else None


def _args_memfd(args: Sequence[str]) -> int:
    """A descriptor holding NUL-separated arguments for `bwrap --args` (caller closes it)."""
    fd = os.memfd_create("skillstudio-bwrap-args", 0)
    os.write(fd, b"".join(a.encode() + b"\0" for a in args))
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class BwrapExecutor:
    """Runs each command in a fresh bubblewrap sandbox; one egress proxy per executor when needed."""

    name = "subprocess"

    def __init__(self, resolve: dict[str, str] | None = None, interceptor: Interceptor | None = None,
                 on_proxy_event: Callable[[ProxyEvent], None] | None = None) -> None:
        self._bwrap = check_bwrap()
        self._features = _PROBED[self._bwrap]
        if not {"--bind-fd", "--ro-bind-fd", "--args", "--info-fd", "--block-fd"} <= self._features:
            # binding by descriptor is what keeps a link planted in the data folder from being mounted
            raise EnvironmentProblem("this bubblewrap is too old (it cannot bind folders by descriptor)",
                                     "install bubblewrap 0.6 or newer, or use the Docker sandbox", setting="sandbox")
        self._python = shutil.which("python3", path="/usr/bin:/bin") or "/usr/bin/python3"
        self._resolve = resolve
        self._interceptor = interceptor
        self._on_proxy_event = on_proxy_event
        self._proxy: EgressProxy | None = None
        self._allow: tuple[str, ...] = ()
        # cgroups are reused from run to run (creating, polling and removing one per command is
        # most of the executor's overhead); one per concurrent run, so limits are never shared
        self._cgroups: dict[tuple[int | None, int | None], list[limits.Cgroup]] = {}
        self._cg_lock = threading.Lock()
        self._no_cgroup = False
        self._etc = Path(tempfile.mkdtemp(prefix="ss-bwrap-etc-"))
        (self._etc / "passwd").write_text(
            f"root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:{DATA_MOUNT}:/bin/sh\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        (self._etc / "group").write_text(f"root:x:0:\nsandbox:x:{SANDBOX_UID}:\nnogroup:x:65534:\n")
        (self._etc / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")

    def _proxy_for(self, policy: Policy) -> EgressProxy | None:
        if not policy.network.enabled:
            return None
        allow = tuple(policy.network.allow)
        if self._proxy is None or allow != self._allow:
            if self._proxy is not None:
                self._proxy.close()
            self._proxy = EgressProxy(policy.network.allows, resolve=self._resolve, interceptor=self._interceptor,
                                      on_event=self._on_proxy_event).start()
            self._allow = allow
        return self._proxy

    def argv(self, cmd: Sequence[str], policy: Policy, proxy: EgressProxy | None,
             seccomp_fd: int | None = None, data_fd: int | None = None,
             denied: Sequence[tuple[int, str]] | None = None) -> list[str]:
        """The full bwrap command line for one run (shown by `exec --verbose`).

        With `data_fd` and `denied` (descriptors opened by `DataFolder`), the data folder and the
        always-denied paths are bound from those descriptors, never by a path found in the data folder.
        """
        a = [self._bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
             "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
             "--ro-bind", "/usr", "/usr"]
        if "--disable-userns" in self._features:
            a.append("--disable-userns")
        if seccomp_fd is not None and "--add-seccomp-fd" in self._features:
            a += ["--add-seccomp-fd", str(seccomp_fd)]
        for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            p = Path("/") / top
            if p.is_symlink():
                a += ["--symlink", os.readlink(p), f"/{top}"]
            elif p.is_dir():
                a += ["--ro-bind", str(p), f"/{top}"]
        for name in _ETC:
            a += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        for name in ("passwd", "group", "hosts"):
            a += ["--ro-bind", str(self._etc / name), f"/etc/{name}"]
        a += ["--proc", "/proc", "--dev", "/dev"]
        if "--size" in self._features:  # /tmp lives in memory: bound it like Docker's tmpfs
            a += ["--size", str(TMP_BYTES)]
        a += ["--tmpfs", "/tmp"]
        if data_fd is None:
            a += ["--bind", str(policy.data_dir), DATA_MOUNT]
        else:
            a += ["--bind-fd", str(data_fd), DATA_MOUNT]
        for fd, rel in denied or ():
            a += ["--ro-bind-fd", str(fd), f"{DATA_MOUNT}/{rel}"]
        for m in policy.skills:
            a += ["--ro-bind", str(m.source), m.target]
        for inside, host in policy.ro_files.items():
            a += ["--ro-bind", str(host), inside]
        if proxy is None:  # nothing to bridge: exec the command directly (no launcher start-up)
            return [*a, "--remount-ro", "/", "--chdir", DATA_MOUNT, "--", *cmd]
        a += ["--ro-bind", _LAUNCHER_FILE, f"{RUN_DIR}/launcher.py",
              "--ro-bind", str(proxy.socket_path), f"{RUN_DIR}/proxy.sock"]
        return [*a, "--remount-ro", "/", "--chdir", DATA_MOUNT, "--", self._python, "-I", "-S",
                f"{RUN_DIR}/launcher.py", *launcher_args({"proxy_socket": f"{RUN_DIR}/proxy.sock"}), "--", *cmd]

    @staticmethod
    def rlimits(policy: Policy) -> list[tuple[int, int]]:
        """(resource, value) pairs set on bwrap itself, so the whole sandbox inherits them."""
        import resource

        lim = policy.limits
        pairs = [(resource.RLIMIT_CPU, lim.cpu_s),
                 (resource.RLIMIT_AS, lim.memory_mb * 1024 * 1024 if lim.memory_mb else None),
                 (resource.RLIMIT_FSIZE, lim.file_size_mb * 1024 * 1024 if lim.file_size_mb else None)]
        return [(r, v) for r, v in pairs if v]

    def run(self, cmd: Sequence[str], policy: Policy, cancel: CancelToken | None = None,
            on_output: OutputSink | None = None) -> ExecResult:
        policy = policy.checked()
        if not cmd:
            raise EnvironmentProblem("no command given", "pass the command after --")
        with DataFolder(policy.data_dir) as folder:
            before = folder.protectable(policy.deny_write)
            result = self._run_in(folder, before, cmd, policy, cancel, on_output)
            removed = folder.revert(policy.deny_write, before)
        if removed:
            result.stderr += f"\n[skillstudio: removed always-denied writes: {', '.join(removed)}]\n"
        return result

    def _run_in(self, folder: DataFolder, before: dict[tuple[str, ...], Entry], cmd: Sequence[str], policy: Policy,
                cancel: CancelToken | None, on_output: OutputSink | None) -> ExecResult:
        proxy = self._proxy_for(policy)
        events_before = len(proxy.events) if proxy else 0
        lim = policy.limits
        import resource

        fds: list[int] = []
        cgroup = None
        try:
            denied = folder.open_existing(before)
            fds += [fd for fd, _ in denied]
            filter_fd = seccomp.memfd()
            if filter_fd is not None:
                fds.append(filter_fd)
            # bwrap reads its options from a descriptor: the sandbox's PID 1 (bwrap) then shows
            # `bwrap ... --args N -- CMD` in /proc/1/cmdline instead of every host path it mounted
            full = self.argv(cmd, policy, proxy, filter_fd, folder.fd, denied)
            split = full.index("--")  # options (with every host path) from the file, the command in argv
            args_fd = _args_memfd(full[1:split])
            fds.append(args_fd)
            cgroup = self._cgroup(lim.pids, lim.memory_mb * 1024 * 1024 if lim.memory_mb else None)
            nproc = (None if cgroup is not None or not lim.pids or os.getuid() == 0
                     else limits.user_task_count() + lim.pids)
            rlimits = self.rlimits(policy)
            if nproc is not None:
                rlimits.append((resource.RLIMIT_NPROC, nproc))
            r_info, w_info = os.pipe()
            r_block, w_block = os.pipe()
            ours = [r_info, w_block]
            theirs = [w_info, r_block]

            def started(proc: subprocess.Popen[bytes]) -> None:
                """Limits go on the sandbox's first process while it waits on --block-fd (nothing forked yet)."""
                for fd in theirs:
                    os.close(fd)
                theirs.clear()
                child = _child_pid(r_info)
                if child is not None:
                    if cgroup is not None:
                        cgroup.add(child)
                    for which, value in rlimits:
                        hard = resource.prlimit(child, which)[1]
                        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
                        resource.prlimit(child, which, (value, value))
                with contextlib.suppress(OSError):
                    os.write(w_block, b"1")

            # bwrap reads its options from a memfd; the limits are applied through --info-fd/--block-fd
            # from here, so subprocess needs no preexec_fn and can spawn without copying this process
            argv = [self._bwrap, "--info-fd", str(w_info), "--block-fd", str(r_block), "--args", str(args_fd),
                    *full[split:]]
            try:
                result = run_process(argv, env=clean_env(DATA_MOUNT, policy.env), cwd="/", wall_s=lim.wall_s,
                                     output_cap=lim.output_bytes, cancel=cancel, started=started,
                                     pass_fds=[folder.fd, *fds, *theirs], on_output=on_output,
                                     quota=DiskQuota(policy.data_dir, lim.disk_mb))
            finally:
                for fd in ours + theirs:
                    os.close(fd)
        finally:
            for fd in fds:
                os.close(fd)
            if cgroup is not None:
                self._release(cgroup)
        if proxy is None and result.exit_code == 1 and result.stderr.startswith("bwrap: execvp "):
            # bwrap's own report of a missing command: say it the way a shell does (exit 127)
            missing = result.stderr[len("bwrap: execvp "):].split(":", 1)[0]
            result.exit_code, result.stderr = 127, f"{missing}: command not found\n"
        if proxy is not None:
            result.network_log = proxy.take_events(events_before)
        return result

    def _cgroup(self, pids: int | None, memory: int | None) -> limits.Cgroup | None:
        """A free cgroup with these limits: reused when one is idle, else created (None: no cgroup here)."""
        with self._cg_lock:
            free = self._cgroups.get((pids, memory))
            cgroup = free.pop() if free else None
        if cgroup is not None:
            if cgroup.clear():  # what the last run left is gone (usually it already was)
                return cgroup
            cgroup.destroy()
        if self._no_cgroup:
            return None
        cgroup = limits.Cgroup.create(pids, memory, key=(pids, memory))
        self._no_cgroup = cgroup is None
        return cgroup

    def _release(self, cgroup: limits.Cgroup) -> None:
        """Back to the pool: what the run left is killed now, and waited for when the group is taken again."""
        cgroup.clear(wait_s=0)
        with self._cg_lock:
            self._cgroups.setdefault(cgroup.key, []).append(cgroup)

    def close(self) -> None:
        with self._cg_lock:
            pools, self._cgroups = list(self._cgroups.values()), {}
        for pool in pools:
            for cgroup in pool:
                cgroup.destroy()
        if self._proxy is not None:
            self._proxy.close()
            self._proxy = None
        shutil.rmtree(self._etc, ignore_errors=True)

    def __enter__(self) -> BwrapExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
