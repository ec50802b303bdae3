"""The Docker backend: a warm, locked-down container per session; each command is a `docker exec`.

The container: read-only root filesystem, `cap_drop=ALL`, `no-new-privileges`, pids/memory/CPU
limits, tmpfs /tmp, never uid 0 (see `_user`), only the data folder mounted read-write (at /data,
the working directory) and the skills read-only (at /skills/<name>), `network_mode=none`. PID 1 is
our launcher in `--idle` mode (reaps orphans, survives `kill -9 -1`, undumpable). Each command's
launcher stacks our seccomp filter (seccomp.py: ptrace, process_vm_*, io_uring, …) on Docker's
default profile and makes itself undumpable. The policy's variables (placeholders, exposed secrets)
reach the command through a file on a tmpfs (/dev/shm) bound read-only, never through the
container's or the exec's configuration. Always-denied paths that exist are covered by read-only
copies of ours, made through descriptors (datafolder.py): nothing found in the data folder is
ever given to the engine as a mount source.

Network with an allow list: instead of an internal Docker network plus a proxy container, the
host's egress proxy socket is bind-mounted in and bridged by the launcher exactly as for
bubblewrap. The container keeps `network_mode=none` (no interface but loopback, so no DNS and no
way around the proxy), the proxy's decisions land in our in-process log, and the secrets layer's
interceptor (issue 5) runs on the host where the keyring is, never inside a container.

Lifecycle: containers carry labels (`org.skillstudio.sandbox`, the owner's host and pid). Creating
an executor removes containers whose owner process is gone (after a crash); `close()` removes its
own. A timeout or cancel kills every process of the sandbox user in the container (`kill -9 -1`
from a helper exec), which ends the exec: exit 124 on timeout. Calls in one session share the
container, so a timeout also ends other commands running in it at that moment.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstudio.cancel import CancelToken
from skillstudio.errors import EnvironmentProblem
from skillstudio.sandbox import seccomp
from skillstudio.sandbox.datafolder import DataFolder, DiskQuota, Entry, walk
from skillstudio.sandbox.executor import (
    CANCEL_EXIT,
    TIMEOUT_EXIT,
    CappedOutput,
    ExecResult,
    OutputSink,
    clean_env,
    launcher_args,
    live_feed,
)
from skillstudio.sandbox.image import Progress, ensure_image
from skillstudio.sandbox.launcher import __file__ as _LAUNCHER_FILE
from skillstudio.sandbox.policy import Policy
from skillstudio.sandbox.proxy import EgressProxy, Interceptor, ProxyEvent

LABEL = "org.skillstudio.sandbox"
LABEL_OWNER = "org.skillstudio.owner"
SANDBOX_UID = 65532  # the tool's uid when Skill Studio runs as root and the data folder is root's
SOCKET_GID = 65533  # the group that may use the proxy socket of a root-run session: only its container has it
ENV_FILE = "/run/skillstudio/env"
DATA_MOUNT = "/data"
RUN_DIR = "/run/skillstudio"
_KILL_ALL = ["python3", "-I", "-S", "-c",
             "import os, signal\ntry:\n os.kill(-1, signal.SIGKILL)\nexcept OSError:\n pass"]
_HINT_ENGINE = "start the Docker engine (sudo systemctl start docker) and make sure you may use it (docker group)"


def connect(timeout: int = 60) -> Any:
    """A docker client talking to a live engine, or EnvironmentProblem saying how to get one."""
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except Exception as exc:  # noqa: BLE001 - any failure means "no usable engine"
        raise EnvironmentProblem(f"the Docker engine is not reachable ({exc.__class__.__name__})",
                                 _HINT_ENGINE) from exc


def _share_socket(proxy: EgressProxy, uid: int) -> list[str]:
    """Let exactly the container reach the proxy socket; returns the groups to add to the container.

    Run by a normal user, the container runs as that user and the socket stays theirs (0600).
    Run as root, the container's uid is a real user's (the data folder's owner) or 65532, and a
    host process of that uid must not get root's proxy (nor its secrets): the socket is given to
    root and a dedicated group no host user has (SOCKET_GID, mode 0660), and only the container
    gets that group. Its folder only gets search permission (0711).
    """
    if uid == os.getuid():
        return []
    os.chown(proxy.socket_path, os.getuid(), SOCKET_GID)
    os.chmod(proxy.socket_path, 0o660)
    os.chmod(proxy.socket_path.parent, 0o711)
    return [str(SOCKET_GID)]


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def sweep(client: Any, include_own: bool = False) -> list[str]:
    """Remove our labelled containers whose owner process is gone (or all of ours); returns their ids."""
    removed = []
    host = socket.gethostname()
    # sparse: no inspect per container, so one removed meanwhile (another session's sweep) is no error
    for c in client.containers.list(all=True, sparse=True, filters={"label": LABEL}):
        owner = (c.attrs.get("Labels") or {}).get(LABEL_OWNER, "")
        o_host, _, o_pid = owner.rpartition(":")
        mine = owner == _owner()
        alive = o_host == host and o_pid.isdigit() and _pid_alive(int(o_pid))
        if (mine and include_own) or (not mine and o_host == host and not alive):
            with contextlib.suppress(Exception):
                c.remove(force=True)
                removed.append(c.id)
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _user(policy: Policy) -> tuple[int, int]:
    """The unprivileged uid:gid the tool runs as — never 0.

    Skill Studio run by a normal user: that user (the tool's files belong to them). Run as root:
    the data folder's owner when that is not root, else the fixed SANDBOX_UID, to which the data
    folder is then handed (`_adopt`).
    """
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    st = os.stat(policy.data_dir)
    if st.st_uid != 0:
        return st.st_uid, st.st_gid if st.st_gid != 0 else st.st_uid
    return SANDBOX_UID, SANDBOX_UID


def _adopt(policy: Policy, uid: int, gid: int) -> None:
    """Root's data folder becomes the sandbox user's: root-owned entries are chowned, links never followed.

    Walks with directory descriptors (`datafolder.walk`: links never followed or opened) and stays
    on the data folder's filesystem, so nothing the tool planted can redirect it outside the folder.
    """
    if os.getuid() != 0 or uid == 0:
        return
    top = os.open(policy.data_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        dev = os.fstat(top).st_dev
        if os.fstat(top).st_uid == 0:
            os.fchown(top, uid, gid)
        for parent, name, st in walk(top):
            if st.st_uid == 0 and st.st_dev == dev:  # not the root of another filesystem mounted inside
                with contextlib.suppress(OSError):
                    os.chown(name, uid, gid, dir_fd=parent, follow_symlinks=False)
    finally:
        os.close(top)


_PRIVATE_PREFIX = "ss-docker-"


def _private_base() -> str | None:
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _private_dir() -> Path:
    """A 0700 folder on a tmpfs when there is one (/dev/shm), so what we put there never reaches a disk.

    Named after our pid, so a later session removes what a crashed one left (`sweep_private`).
    """
    return Path(tempfile.mkdtemp(prefix=f"{_PRIVATE_PREFIX}{os.getpid()}-", dir=_private_base()))


def sweep_private() -> None:
    """Remove private folders (env files with exposed secrets, denied-path copies) of dead sessions."""
    base = Path(_private_base() or tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            pid = entry.name[len(_PRIVATE_PREFIX):].split("-", 1)[0]
            if (entry.name.startswith(_PRIVATE_PREFIX) and pid.isdigit() and not _pid_alive(int(pid))
                    and entry.is_dir() and not entry.is_symlink() and entry.stat().st_uid == os.getuid()):
                shutil.rmtree(entry, ignore_errors=True)


@dataclass
class _Warm:
    container: Any
    proxy: EgressProxy | None
    private: Path | None = None  # denied-path copies and the env file of this container
    lock: threading.Lock = field(default_factory=threading.Lock)


class DockerExecutor:
    """One session: warm containers keyed by the policy's mounts, limits and network."""

    name = "docker"

    def __init__(self, client: Any | None = None, *, resolve: dict[str, str] | None = None,
                 interceptor: Interceptor | None = None, progress: Progress | None = None,
                 on_proxy_event: Callable[[ProxyEvent], None] | None = None) -> None:
        self.client = client or connect()
        self._on_proxy_event = on_proxy_event
        self._resolve = resolve
        self._interceptor = interceptor
        self.swept = sweep(self.client)
        sweep_private()
        self.image = ensure_image(self.client, progress)
        self._warm: dict[str, _Warm] = {}
        self._lock = threading.Lock()

    def _key(self, policy: Policy, denied: dict[tuple[str, ...], Entry]) -> str:
        return json.dumps([str(policy.data_dir), [(str(m.source), m.name) for m in policy.skills],
                           policy.limits.model_dump(), policy.network.allow, policy.env, _user(policy),
                           {k: str(v) for k, v in policy.ro_files.items()},
                           sorted(["/".join(k), e.kind, *e.ident] for k, e in denied.items())], sort_keys=True)

    def container_for(self, policy: Policy, folder: DataFolder | None = None) -> Any:
        """The warm container for this policy (started on first use)."""
        if folder is None:
            with DataFolder(policy.data_dir) as own:
                return self.container_for(policy, own)
        denied = folder.protectable(policy.deny_write)
        key = self._key(policy, denied)
        with self._lock:
            warm = self._warm.get(key)
            if warm is not None:
                try:
                    warm.container.reload()
                    if warm.container.status == "running":
                        return warm.container
                except Exception:  # noqa: BLE001 - gone: start a new one
                    pass
                self._drop(warm)
            warm = self._start(policy, folder, denied)
            self._warm[key] = warm
            return warm.container

    def _start(self, policy: Policy, folder: DataFolder, denied: dict[tuple[str, ...], Entry]) -> _Warm:
        from docker.types import Mount, Ulimit

        uid, gid = _user(policy)
        _adopt(policy, uid, gid)
        proxy = None
        groups: list[str] = []
        private = _private_dir()
        try:
            mounts = [Mount(DATA_MOUNT, str(policy.data_dir), type="bind", read_only=False),
                      Mount(f"{RUN_DIR}/launcher.py", _LAUNCHER_FILE, type="bind", read_only=True)]
            # always-denied paths: read-only copies of ours, never a path found in the data folder
            (private / "denied").mkdir()
            for copy, rel in folder.copy_existing(denied, private / "denied"):
                mounts.append(Mount(f"{DATA_MOUNT}/{rel}", str(copy), type="bind", read_only=True))
            mounts += [Mount(m.target, str(m.source), type="bind", read_only=True) for m in policy.skills]
            mounts += [Mount(inside, str(host), type="bind", read_only=True)
                       for inside, host in policy.ro_files.items()]
            if policy.env:  # the policy's variables (placeholders, exposed secrets) stay out of the container config
                env_file = private / "env"
                fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
                with os.fdopen(fd, "wb") as f:
                    f.write(b"".join(f"{k}={v}".encode() + b"\0" for k, v in policy.env.items()))
                if os.getuid() == 0:
                    os.chown(env_file, uid, gid)
                mounts.append(Mount(ENV_FILE, str(env_file), type="bind", read_only=True))
            if policy.network.enabled:
                proxy = EgressProxy(policy.network.allows, resolve=self._resolve, interceptor=self._interceptor,
                                    on_event=self._on_proxy_event).start()
                groups = _share_socket(proxy, uid)
                mounts.append(Mount(f"{RUN_DIR}/proxy", str(proxy.socket_path.parent), type="bind", read_only=True))
        except BaseException:
            if proxy is not None:
                proxy.close()
            shutil.rmtree(private, ignore_errors=True)
            raise
        lim = policy.limits
        kwargs: dict[str, Any] = {}
        if lim.memory_mb:
            kwargs["mem_limit"] = f"{lim.memory_mb}m"
            kwargs["memswap_limit"] = f"{lim.memory_mb}m"
        if lim.pids:
            kwargs["pids_limit"] = lim.pids
        if lim.file_size_mb:
            size = lim.file_size_mb * 1024 * 1024
            kwargs["ulimits"] = [Ulimit(name="fsize", soft=size, hard=size)]
        try:
            container = self.client.containers.run(
                self.image, ["python3", "-I", "-S", f"{RUN_DIR}/launcher.py", "--idle"], detach=True,
                user=f"{uid}:{gid}", read_only=True, cap_drop=["ALL"], security_opt=["no-new-privileges"],
                network_mode="none", tmpfs={"/tmp": "rw,nosuid,nodev,size=256m"}, mounts=mounts,
                working_dir=DATA_MOUNT, environment=clean_env(DATA_MOUNT), hostname="sandbox",
                labels={LABEL: "1", LABEL_OWNER: _owner()}, nano_cpus=1_000_000_000, ipc_mode="private",
                group_add=groups or None, **kwargs)
        except Exception as exc:
            if proxy is not None:
                proxy.close()
            shutil.rmtree(private, ignore_errors=True)
            raise EnvironmentProblem(f"cannot start the sandbox container: {exc}", _HINT_ENGINE) from exc
        return _Warm(container, proxy, private)

    def run(self, cmd: Sequence[str], policy: Policy, cancel: CancelToken | None = None,
            on_output: OutputSink | None = None) -> ExecResult:
        policy = policy.checked()
        if not cmd:
            raise EnvironmentProblem("no command given", "pass the command after --")
        with DataFolder(policy.data_dir) as folder:
            container = self.container_for(policy, folder)
            warm = next(w for w in self._warm.values() if w.container is container)
            with warm.lock:
                before = folder.protectable(policy.deny_write)
                result = self._run_in(warm, cmd, policy, cancel, on_output)
                removed = folder.revert(policy.deny_write, before)
        if removed:
            result.stderr += f"\n[skillstudio: removed always-denied writes: {', '.join(removed)}]\n"
        return result

    def _run_in(self, warm: _Warm, cmd: Sequence[str], policy: Policy, cancel: CancelToken | None,
                on_output: OutputSink | None = None) -> ExecResult:
        container = warm.container
        proxy = warm.proxy
        events_before = len(proxy.events) if proxy else 0
        config: dict[str, object] = {"kill_all_after": True, "undumpable": True}
        if policy.limits.cpu_s:
            config["cpu_s"] = policy.limits.cpu_s
        if proxy is not None:
            config["proxy_socket"] = f"{RUN_DIR}/proxy/{proxy.socket_path.name}"
        if policy.env:
            config["env_file"] = ENV_FILE
        program = seccomp.program()
        if program is not None:
            config["seccomp"] = program.hex()
        uid, gid = _user(policy)
        user = f"{uid}:{gid}"
        api = self.client.api
        quota = DiskQuota(policy.data_dir, policy.limits.disk_mb)
        start = time.monotonic()
        argv = ["python3", "-I", "-S", f"{RUN_DIR}/launcher.py", *launcher_args(config), "--", *cmd]
        exec_id = api.exec_create(container.id, argv, user=user, workdir=DATA_MOUNT,
                                  environment=clean_env(DATA_MOUNT))["Id"]
        stream = api.exec_start(exec_id, stream=True, demux=True)
        out, err = CappedOutput(policy.limits.output_bytes), CappedOutput(policy.limits.output_bytes)
        live_out, live_err = live_feed(on_output, "stdout"), live_feed(on_output, "stderr")

        def pump() -> None:
            with contextlib.suppress(Exception):
                for o, e in stream:
                    if o:
                        out.feed(o)
                        if live_out is not None:
                            live_out(o)
                    if e:
                        err.feed(e)
                        if live_err is not None:
                            live_err(e)

        reader = threading.Thread(target=pump, name="docker-exec-output", daemon=True)
        reader.start()
        timed_out = cancelled = over_quota = False
        deadline = start + policy.limits.wall_s
        while reader.is_alive():
            reader.join(0.05)
            if cancel is not None and cancel.cancelled:
                cancelled = True
            elif time.monotonic() >= deadline:
                timed_out = True
            elif quota.exceeded():
                over_quota = True
            if timed_out or cancelled or over_quota:
                with contextlib.suppress(Exception):
                    container.exec_run(_KILL_ALL, user=user)
                reader.join(10)
                break
        info = api.exec_inspect(exec_id)
        settle = time.monotonic() + 5
        while info.get("Running") and time.monotonic() < settle:
            time.sleep(0.02)
            info = api.exec_inspect(exec_id)
        code = info.get("ExitCode")
        exit_code = (TIMEOUT_EXIT if timed_out else CANCEL_EXIT if cancelled or over_quota
                     else (code if code is not None else 1))
        result = ExecResult(exit_code=exit_code, stdout=out.text(),
                            stderr=err.text() + (quota.message() if over_quota else ""), timed_out=timed_out,
                            truncated=out.truncated or err.truncated, duration_s=time.monotonic() - start,
                            cancelled=cancelled, quota_exceeded=over_quota)
        if proxy is not None:
            result.network_log = proxy.take_events(events_before)
        return result

    def _drop(self, warm: _Warm) -> None:
        with contextlib.suppress(Exception):
            warm.container.remove(force=True)
        if warm.proxy is not None:
            warm.proxy.close()
        if warm.private is not None:
            shutil.rmtree(warm.private, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            for warm in self._warm.values():
                self._drop(warm)
            self._warm.clear()

    def __enter__(self) -> DockerExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
