"""The Docker backend: a warm, locked-down container per session; its resident launcher runs each command.

The container: read-only root filesystem, `cap_drop=ALL`, `no-new-privileges`, pids/memory/CPU
limits, tmpfs /tmp, never uid 0 (see `_user`), only the data folder mounted read-write (at /data,
the working directory) and the skills read-only (at /skills/<name>), `network_mode=none`. PID 1 is
our launcher in `--serve` mode: undumpable, our seccomp filter (seccomp.py: ptrace, process_vm_*,
io_uring, …) stacked on Docker's default profile before it takes any command, it connects to a
control socket we listen on (accepted only from its pid, then unlinked) and forks each command it
is sent with the policy's rlimits, streaming stdout/stderr and the exit code back (launcher.py).
When that channel cannot be set up, a command is a `docker exec` of a fresh launcher that stacks
the same filter itself. The policy's variables (placeholders, exposed secrets) travel with each
request over the socket, or, for the fallback, in a file on a tmpfs (/dev/shm) bound read-only:
never in the container's or the exec's configuration. Always-denied paths that exist are covered by read-only
copies of ours, made through descriptors (datafolder.py): nothing found in the data folder is
ever given to the engine as a mount source.

Network with an allow list: instead of an internal Docker network plus a proxy container, the
host's egress proxy socket is bind-mounted in and bridged by the launcher exactly as for
bubblewrap. The container keeps `network_mode=none` (no interface but loopback, so no DNS and no
way around the proxy), the proxy's decisions land in our in-process log, and the secrets layer's
interceptor (issue 5) runs on the host where the keyring is, never inside a container.

Lifecycle: containers carry labels (`org.skillstudio.sandbox`, the owner's host and pid). Creating
an executor removes containers whose owner process is gone (after a crash); `close()` removes its
own (kept-warm containers, `keep_warm_s`, see `DockerExecutor`, remove themselves when idle). A
timeout or cancel kills every process of the command in the container (the resident launcher's
`K`; for the fallback `kill -9 -1` from a helper exec): exit 124 on timeout. Calls in one session share the
container, so a timeout also ends other commands running in it at that moment.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import select
import shutil
import socket
import struct
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
from skillstudio.sandbox.image import Progress, ensure_image, image_tag
from skillstudio.sandbox.launcher import __file__ as _LAUNCHER_FILE
from skillstudio.sandbox.launcher import frame
from skillstudio.sandbox.policy import Policy
from skillstudio.sandbox.proxy import EgressProxy, Interceptor, ProxyEvent

LABEL = "org.skillstudio.sandbox"
LABEL_OWNER = "org.skillstudio.owner"
LABEL_KEEP = "org.skillstudio.keep"  # a kept-warm container's key (an HMAC: the policy's variables stay secret)
KEEP_OWNER = "keep"  # the owner label of kept-warm containers: they outlive their creator, and reap themselves
SANDBOX_UID = 65532  # the tool's uid when Skill Studio runs as root and the data folder is root's
SOCKET_GID = 65533  # the group that may use the proxy socket of a root-run session: only its container has it
ENV_FILE = "/run/skillstudio/env"
DATA_MOUNT = "/data"
RUN_DIR = "/run/skillstudio"
CTL_SOCKET = f"{RUN_DIR}/ctl/ctl.sock"  # the host's control socket, as the resident launcher sees it
ACCEPT_S = 20.0  # how long a new container's launcher may take to connect (python start-up under load)
RECONNECT_S = 2.0  # how long a kept container's launcher may take to notice a new host (it polls every 5 ms)
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
    # the engine's summary, not `containers.list` (which fails when a kept container removes itself meanwhile)
    for c in client.api.containers(all=True, filters={"label": LABEL}):
        owner = (c.get("Labels") or {}).get(LABEL_OWNER, "")
        o_host, _, o_pid = owner.rpartition(":")
        mine = owner == _owner()
        alive = o_host == host and o_pid.isdigit() and _pid_alive(int(o_pid))
        if (mine and include_own) or (not mine and o_host == host and not alive):
            with contextlib.suppress(Exception):
                client.api.remove_container(c["Id"], force=True)
                removed.append(c["Id"])
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
    """Remove private folders (env files with exposed secrets, denied-path copies) of dead sessions.

    A kept container's folder (`_KEEP_PREFIX`) goes when its launcher is gone and no host holds it.
    """
    base = Path(_private_base() or tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            if entry.name.startswith(_KEEP_PREFIX):
                _sweep_kept(entry)
                continue
            pid = entry.name[len(_PRIVATE_PREFIX):].split("-", 1)[0]
            if (entry.name.startswith(_PRIVATE_PREFIX) and pid.isdigit() and not _pid_alive(int(pid))
                    and entry.is_dir() and not entry.is_symlink() and entry.stat().st_uid == os.getuid()):
                shutil.rmtree(entry, ignore_errors=True)


_KEEP_PREFIX = f"{_PRIVATE_PREFIX}keep-"


def _sweep_kept(entry: Path) -> None:
    if entry.is_symlink() or not entry.is_dir() or entry.stat().st_uid != os.getuid():
        return
    lock = _lock_kept(entry)
    if lock < 0:
        return  # in use
    try:
        state = _read_state(entry)
        if state is None or _start_time(int(state["pid"])) != state["start"]:
            shutil.rmtree(entry, ignore_errors=True)
    finally:
        os.close(lock)


def _lock_kept(folder: Path) -> int:
    """An exclusive, non-blocking lock on a kept container's folder: its descriptor, or -1 when busy."""
    try:
        fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError:
        return -1
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return -1
    return fd


def _read_state(folder: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((folder / "state").read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and {"id", "pid", "start"} <= state.keys() else None


def _start_time(pid: int) -> str | None:
    """A process's start time (field 22 of /proc/PID/stat): tells a live launcher from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def _salt() -> bytes:
    """This user's random key for the labels of kept containers (a label must not reveal the policy's secrets)."""
    base = Path(_private_base() or tempfile.gettempdir())
    path = base / f"{_PRIVATE_PREFIX}salt-{os.getuid()}"
    if not path.exists():
        tmp = base / f"{_PRIVATE_PREFIX}salt-{os.getuid()}.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, os.urandom(32))
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        tmp.unlink()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        salt = os.read(fd, 64)
    finally:
        os.close(fd)
    if st.st_uid != os.getuid() or st.st_mode & 0o077 or len(salt) != 32:
        raise EnvironmentProblem(f"{path} is not this user's private key file", f"remove {path}")
    return salt


def _listen(ctl_dir: Path, uid: int, gid: int) -> socket.socket:
    """The control socket a container's resident launcher connects to (only that uid may connect)."""
    path = ctl_dir / "ctl.sock"
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    os.chmod(path, 0o600)
    if os.getuid() == 0 and uid != 0:
        os.chown(path, uid, gid)
    srv.listen(4)
    return srv


def _accept(srv: socket.socket, pid: int, timeout: float) -> socket.socket | None:
    """The connection of the process `pid` (the container's PID 1, seen from here); the socket is then removed.

    Any other peer is refused, and so is the launcher when its pid cannot be checked from here (the
    engine in another pid namespace): then commands go through `docker exec`. Only our launcher,
    before it has started any command, gets the channel.
    """
    path = srv.getsockname()
    try:
        if pid <= 0 or not select.select([srv], [], [], timeout)[0]:
            return None
        conn, _ = srv.accept()
        peer = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        if peer[0] == pid:
            conn.setblocking(True)
            return conn
        conn.close()
        return None
    finally:
        srv.close()
        with contextlib.suppress(OSError):
            os.unlink(path)


@dataclass
class _Warm:
    container: Any  # the engine's object; None for a kept container found without asking the engine
    proxy: EgressProxy | None
    private: Path | None = None  # denied-path copies, the env file and the control socket's folder
    lock: threading.Lock = field(default_factory=threading.Lock)
    conn: socket.socket | None = None  # the resident launcher's channel; None: commands go through `docker exec`
    container_id: str = ""
    keep_fd: int = -1  # a kept container's folder lock: it outlives this executor


class DockerExecutor:
    """One session: warm containers keyed by the policy's mounts, limits and network.

    Commands go to the container's resident launcher over its control socket (`docker exec` of a
    fresh launcher only when that channel could not be set up). `keep_warm_s` (the CLI) keeps a
    container alive across processes: it is labelled with a keyed hash of everything that defines
    its isolation (image, launcher, data folder path *and* inode, skills, limits, variables, uid,
    always-denied copies), found again by a later process through its private folder (no engine
    call, no `import docker` on that path), used by one process at a time (a busy one means a
    container of our own), never for a policy with network (its proxy lives in this process), and
    it removes itself after `keep_warm_s` seconds without a host.
    """

    name = "docker"

    def __init__(self, client: Any | None = None, *, resolve: dict[str, str] | None = None,
                 interceptor: Interceptor | None = None, progress: Progress | None = None,
                 on_proxy_event: Callable[[ProxyEvent], None] | None = None,
                 keep_warm_s: float | None = None) -> None:
        self._client = client
        self._on_proxy_event = on_proxy_event
        self._resolve = resolve
        self._interceptor = interceptor
        self._progress = progress
        self._keep_s = keep_warm_s
        self._image: str | None = None
        self.swept: list[str] = []
        self._warm: dict[str, _Warm] = {}
        self._lock = threading.Lock()
        if keep_warm_s is None:
            self._engine()  # a session: check the engine and the image now, not at the first command
        else:
            sweep_private()

    @property
    def client(self) -> Any:
        return self._engine()

    @property
    def image(self) -> str:
        self._engine()
        assert self._image is not None
        return self._image

    def _engine(self) -> Any:
        """The engine client, connected, swept and with the image, on first need."""
        if self._image is None:
            self._client = self._client or connect()
            self.swept = sweep(self._client)
            sweep_private()
            self._image = ensure_image(self._client, self._progress)
        return self._client

    def _key(self, policy: Policy, folder: DataFolder, denied: dict[tuple[str, ...], Entry]) -> str:
        top = os.fstat(folder.fd)  # a data folder recreated at the same path is another binding
        return json.dumps([str(policy.data_dir), (top.st_dev, top.st_ino),
                           [(str(m.source), m.name) for m in policy.skills],
                           policy.limits.model_dump(), policy.network.allow, policy.env, _user(policy),
                           {k: str(v) for k, v in policy.ro_files.items()},
                           sorted(["/".join(k), e.kind, *e.ident] for k, e in denied.items())], sort_keys=True)

    def container_for(self, policy: Policy, folder: DataFolder | None = None) -> Any:
        """The warm container for this policy (started on first use)."""
        if folder is None:
            with DataFolder(policy.data_dir) as own:
                return self.container_for(policy, own)
        return self._container(self._warm_for(policy, folder))

    def _container(self, warm: _Warm) -> Any:
        if warm.container is None:
            warm.container = self.client.containers.get(warm.container_id)
        return warm.container

    def _warm_for(self, policy: Policy, folder: DataFolder) -> _Warm:
        denied = folder.protectable(policy.deny_write)
        key = self._key(policy, folder, denied)
        with self._lock:
            warm = self._warm.get(key)
            if warm is not None:
                if warm.conn is not None:
                    return warm  # the channel is its liveness check (a broken one drops the container)
                try:
                    container = self._container(warm)
                    container.reload()
                    if container.status == "running":
                        return warm
                except Exception:  # noqa: BLE001 - gone: start a new one
                    pass
                self._drop(warm)
            warm = None
            if self._keep_s is not None and not policy.network.enabled:
                warm = self._kept(policy, folder, denied, key)
            if warm is None:
                warm = self._start(policy, folder, denied)
            self._warm[key] = warm
            return warm

    def _kept(self, policy: Policy, folder: DataFolder, denied: dict[tuple[str, ...], Entry],
              key: str) -> _Warm | None:
        """This policy's kept container (reconnected, or started), or None when another process is using it."""
        changed = []  # an always-denied path changed in place: its copy inside is stale, so another container
        for parts, entry in sorted(denied.items()):
            if entry.kind in ("file", "dir"):
                with contextlib.suppress(OSError):
                    st = os.stat("/".join(parts), dir_fd=folder.fd, follow_symlinks=False)
                    changed.append([st.st_mtime_ns, st.st_size])
        launcher = hashlib.sha256(Path(_LAUNCHER_FILE).read_bytes()).hexdigest()
        try:
            salt = _salt()
        except (OSError, EnvironmentProblem):  # someone else's file in its place: no kept container, not an error
            return None
        digest = hmac.new(salt, json.dumps([key, changed, launcher, image_tag()]).encode(), hashlib.sha256)
        tag = digest.hexdigest()
        private = Path(_private_base() or tempfile.gettempdir()) / f"{_KEEP_PREFIX}{os.getuid()}-{tag[:32]}"
        with contextlib.suppress(FileExistsError):
            private.mkdir(mode=0o700)
        st = os.lstat(private)
        if not private.is_dir() or private.is_symlink() or st.st_uid != os.getuid() or st.st_mode & 0o077:
            return None
        lock = _lock_kept(private)
        if lock < 0:
            return None
        try:
            state = _read_state(private)
            if state is not None:
                pid = int(state["pid"])
                if _start_time(pid) == state["start"]:
                    uid, gid = _user(policy)
                    conn = _accept(_listen(private / "ctl", uid, gid), pid, RECONNECT_S)
                    if conn is not None:
                        return _Warm(None, None, private, conn=conn, container_id=str(state["id"]), keep_fd=lock)
                with contextlib.suppress(Exception):
                    self.client.containers.get(str(state["id"])).remove(force=True)
            for item in private.iterdir():  # what a dead container left: start clean
                if item.name != "lock":
                    if item.is_dir() and not item.is_symlink():
                        shutil.rmtree(item, ignore_errors=True)
                    else:
                        item.unlink()
            warm = self._start(policy, folder, denied, private=private, keep=tag)
            warm.keep_fd = lock
            pid = int(self._container(warm).attrs["State"]["Pid"])
            tmp = private / "state.new"
            tmp.write_text(json.dumps({"id": warm.container_id, "pid": pid, "start": _start_time(pid)}))
            tmp.replace(private / "state")
            return warm
        except BaseException:
            os.close(lock)
            raise

    def _start(self, policy: Policy, folder: DataFolder, denied: dict[tuple[str, ...], Entry],
               private: Path | None = None, keep: str | None = None) -> _Warm:
        from docker.types import Mount, Ulimit

        client, image = self.client, self.image
        uid, gid = _user(policy)
        _adopt(policy, uid, gid)
        proxy = None
        groups: list[str] = []
        own_private = private is None
        private = private or _private_dir()
        srv: socket.socket | None = None
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
            serve = [f"{RUN_DIR}/launcher.py", "--serve", CTL_SOCKET]
            program = seccomp.program()
            if program is not None:
                serve.append(f"seccomp={program.hex()}")
            if policy.network.enabled:
                proxy = EgressProxy(policy.network.allows, resolve=self._resolve, interceptor=self._interceptor,
                                    on_event=self._on_proxy_event).start()
                groups = _share_socket(proxy, uid)
                mounts.append(Mount(f"{RUN_DIR}/proxy", str(proxy.socket_path.parent), type="bind", read_only=True))
                serve.append(f"proxy_socket={RUN_DIR}/proxy/{proxy.socket_path.name}")
            if keep is not None:
                serve.append(f"keep={self._keep_s:g}")
            # the resident launcher's channel: a socket we listen on, in a folder bound read-only
            (private / "ctl").mkdir(mode=0o700)
            if os.getuid() == 0 and uid != 0:
                os.chown(private / "ctl", uid, gid)
            mounts.append(Mount(f"{RUN_DIR}/ctl", str(private / "ctl"), type="bind", read_only=True))
            srv = _listen(private / "ctl", uid, gid)
        except BaseException:
            if srv is not None:
                srv.close()
            if proxy is not None:
                proxy.close()
            if own_private:
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
        labels = {LABEL: "1", LABEL_OWNER: _owner()}
        if keep is not None:
            labels.update({LABEL_OWNER: KEEP_OWNER, LABEL_KEEP: keep})
            kwargs["auto_remove"] = True  # it ends itself when idle, and leaves nothing behind
        try:
            container = client.containers.run(
                image, ["python3", "-I", "-S", *serve], detach=True,
                user=f"{uid}:{gid}", read_only=True, cap_drop=["ALL"], security_opt=["no-new-privileges"],
                network_mode="none", tmpfs={"/tmp": "rw,nosuid,nodev,size=256m"}, mounts=mounts,
                working_dir=DATA_MOUNT, environment=clean_env(DATA_MOUNT), hostname="sandbox",
                labels=labels, nano_cpus=1_000_000_000, ipc_mode="private",
                group_add=groups or None, **kwargs)
            container.reload()
            conn = _accept(srv, int(container.attrs["State"]["Pid"] or 0), ACCEPT_S)
        except Exception as exc:
            srv.close()
            if proxy is not None:
                proxy.close()
            if own_private:
                shutil.rmtree(private, ignore_errors=True)
            raise EnvironmentProblem(f"cannot start the sandbox container: {exc}", _HINT_ENGINE) from exc
        return _Warm(container, proxy, private, conn=conn, container_id=container.id)

    def run(self, cmd: Sequence[str], policy: Policy, cancel: CancelToken | None = None,
            on_output: OutputSink | None = None) -> ExecResult:
        policy = policy.checked()
        if not cmd:
            raise EnvironmentProblem("no command given", "pass the command after --")
        result: ExecResult | None = None
        removed: list[str] = []
        with DataFolder(policy.data_dir) as folder:
            for attempt in range(2):
                warm = self._warm_for(policy, folder)
                with warm.lock:
                    before = folder.protectable(policy.deny_write)
                    if warm.conn is not None:
                        result = self._run_resident(warm, cmd, policy, cancel, on_output)
                        if result is None:  # the channel broke before the command started: a fresh container
                            self._forget(warm)
                            if attempt == 0:
                                continue
                            result = ExecResult(exit_code=1, stdout="",
                                                stderr="[skillstudio: the sandbox container could not be reached]\n")
                    else:
                        result = self._run_in(warm, cmd, policy, cancel, on_output)
                    removed = folder.revert(policy.deny_write, before)
                    break
        assert result is not None
        if removed:
            result.stderr += f"\n[skillstudio: removed always-denied writes: {', '.join(removed)}]\n"
        return result

    def _forget(self, warm: _Warm) -> None:
        with self._lock:
            for k, w in list(self._warm.items()):
                if w is warm:
                    del self._warm[k]
        self._drop(warm)

    def _run_resident(self, warm: _Warm, cmd: Sequence[str], policy: Policy, cancel: CancelToken | None,
                      on_output: OutputSink | None = None) -> ExecResult | None:
        """One command through the resident launcher (it forks it under the container's lock-down).

        None when the request could not be sent (nothing ran).
        """
        conn = warm.conn
        assert conn is not None
        proxy = warm.proxy
        events_before = len(proxy.events) if proxy else 0
        request = {"argv": list(cmd), "env": clean_env(DATA_MOUNT, policy.env), "cwd": DATA_MOUNT,
                   "rlimits": {"cpu_s": policy.limits.cpu_s}}
        quota = DiskQuota(policy.data_dir, policy.limits.disk_mb)
        start = time.monotonic()
        try:
            conn.sendall(frame(b"R", json.dumps(request).encode()))
        except OSError:
            return None
        out, err = CappedOutput(policy.limits.output_bytes), CappedOutput(policy.limits.output_bytes)
        sinks = {b"O": (out, live_feed(on_output, "stdout")), b"E": (err, live_feed(on_output, "stderr"))}
        timed_out = cancelled = over_quota = killed = broken = False
        deadline = start + policy.limits.wall_s
        buf = bytearray()
        code: int | None = None
        give_up = float("inf")
        while code is None:
            if select.select([conn], [], [], 0.05)[0]:
                try:
                    data = conn.recv(262144)
                except OSError:
                    data = b""
                if not data:
                    broken = True
                    break
                buf += data
                while len(buf) >= 5:
                    size = int.from_bytes(buf[1:5], "big")
                    if len(buf) < 5 + size:
                        break
                    kind, payload = bytes(buf[:1]), bytes(buf[5:5 + size])
                    del buf[:5 + size]
                    if kind == b"X":
                        try:
                            code = int(json.loads(payload)["code"])
                        except (ValueError, KeyError, TypeError):
                            code = 1
                    elif kind in sinks:
                        sink, live = sinks[kind]
                        sink.feed(payload)
                        if live is not None:
                            live(payload)
            if killed and time.monotonic() > give_up:  # the launcher does not answer: the container is dropped
                broken = True
                break
            if not killed:
                if cancel is not None and cancel.cancelled:
                    cancelled = True
                elif time.monotonic() >= deadline:
                    timed_out = True
                elif quota.exceeded():
                    over_quota = True
                if timed_out or cancelled or over_quota:
                    killed = True
                    give_up = time.monotonic() + 10
                    try:
                        conn.sendall(frame(b"K"))
                    except OSError:
                        broken = True
                        break
        if broken:
            self._forget(warm)  # the launcher or its container is gone: the next call starts a new one
        exit_code = (TIMEOUT_EXIT if timed_out else CANCEL_EXIT if cancelled or over_quota
                     else code if code is not None else 1)
        note = "\n[skillstudio: the sandbox container ended during the command]\n" if broken and not killed else ""
        result = ExecResult(exit_code=exit_code, stdout=out.text(),
                            stderr=err.text() + note + (quota.message() if over_quota else ""), timed_out=timed_out,
                            truncated=out.truncated or err.truncated, duration_s=time.monotonic() - start,
                            cancelled=cancelled, quota_exceeded=over_quota)
        if proxy is not None:
            result.network_log = proxy.take_events(events_before)
        return result

    def _run_in(self, warm: _Warm, cmd: Sequence[str], policy: Policy, cancel: CancelToken | None,
                on_output: OutputSink | None = None) -> ExecResult:
        container = self._container(warm)
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
        if warm.conn is not None:
            with contextlib.suppress(OSError):
                warm.conn.close()
            warm.conn = None
        with contextlib.suppress(Exception):
            self._container(warm).remove(force=True)
        if warm.proxy is not None:
            warm.proxy.close()
        if warm.private is not None:
            shutil.rmtree(warm.private, ignore_errors=True)
        if warm.keep_fd >= 0:
            os.close(warm.keep_fd)
            warm.keep_fd = -1

    def close(self) -> None:
        """Remove this session's containers; a kept one only loses its host (and waits for the next)."""
        with self._lock:
            for warm in self._warm.values():
                if warm.keep_fd >= 0:
                    if warm.conn is not None:
                        with contextlib.suppress(OSError):
                            warm.conn.close()
                    os.close(warm.keep_fd)
                else:
                    self._drop(warm)
            self._warm.clear()

    def __enter__(self) -> DockerExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
