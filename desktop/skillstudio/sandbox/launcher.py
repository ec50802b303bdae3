"""The first process inside a sandbox (bubblewrap or Docker); standard library only, no imports of ours.

Runs with the sandbox's own python3 as `python3 launcher.py [KEY=VALUE...] -- CMD...`. It:
1. applies the rlimits it is given (CPU seconds, address space, file size, processes) to itself,
   so the command and all its children inherit them;
2. when a proxy socket is given, bridges the host's egress proxy into the net-less sandbox (as srt
   does): listens on 127.0.0.1:<free port> inside the sandbox and relays each connection to the
   Unix socket bound in from the host, then points HTTP(S)_PROXY/ALL_PROXY at that port;
3. runs the command and exits with its exit code (128+signal when it was killed by a signal);
   in a warm container (`kill_all_after`) it first kills everything the command left behind;
4. in Docker: reads the policy's variables from a file on a tmpfs (`env_file`, so they never sit in
   the engine's container config), makes itself undumpable (the command cannot read or trace it)
   and stacks the host's seccomp filter (`seccomp`, hex) before starting the command.

`--idle` makes it the PID 1 of a warm Docker container: it reaps orphans forever and does nothing
else (PID 1 ignores signals it has no handler for, so `kill -9 -1` inside spares it).

`--serve CTL [KEY=VALUE...]` makes it a *resident* PID 1 that runs the commands itself, so a warm
call costs a fork instead of a `docker exec` of a fresh interpreter. It fixes the lock-down once,
before it takes any command: undumpable, `no_new_privs` and the host's seccomp filter on itself
(every command it forks inherits the filter; a request cannot ask for less), the proxy bridge in a
helper process. It then connects to the host's Unix socket CTL (in a read-only bind of a host
folder: the host listens, accepts exactly this process — checked by its pid — and unlinks the
socket) and serves one command at a time over a small framed protocol (`_frame`): the host sends
`R` (JSON: argv, env, cwd, rlimits, whether stdin follows), `I` (stdin; empty = end) and `K`
(kill); we send `O`/`E` (stdout/stderr chunks) and `X` (JSON: exit code). Each command is forked
into its own session with the request's rlimits; when it ends, everything it left behind is killed,
as after a `docker exec`. The connection is never inherited (close-on-exec), and the command cannot
read this process's descriptors (undumpable). `keep=S`: when the host goes away, wait up to S
seconds for another host process to listen on CTL, then exit (the container removes itself);
without it, fall back to `--idle` (the host may still use `docker exec`).
"""

from __future__ import annotations

import os
import resource
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    import socket

_SIGKILL = 9  # a literal: importing `signal` (and enum) costs more than the rest of this start-up

_LIMITS = {"cpu_s": resource.RLIMIT_CPU, "as_bytes": resource.RLIMIT_AS,
           "fsize_bytes": resource.RLIMIT_FSIZE, "nproc": resource.RLIMIT_NPROC}


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    import socket

    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (dst, src):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _relay(client: socket.socket, unix_path: str) -> None:
    import socket
    import threading

    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(unix_path)
    except OSError:
        client.close()
        upstream.close()
        return
    back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
    back.start()
    _pipe(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _serve(listener: socket.socket, unix_path: str) -> None:
    import threading

    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_relay, args=(client, unix_path), daemon=True).start()


def _bridge(unix_path: str) -> int:
    import socket
    import threading

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    threading.Thread(target=_serve, args=(listener, unix_path), daemon=True).start()
    return int(listener.getsockname()[1])


def _undumpable() -> None:
    """No other process of the sandbox user may read or trace this one (/proc/PID/mem, ptrace)."""
    import ctypes

    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0


def _seccomp(program_hex: str) -> None:
    """Stack the host's seccomp filter (classic BPF, as hex) on this process and all it starts."""
    import ctypes

    prog = bytes.fromhex(program_hex)
    buf = ctypes.create_string_buffer(prog, len(prog))

    class _Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = _Fprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:
        # PR_SET_NO_NEW_PRIVS, then PR_SET_SECCOMP/SECCOMP_MODE_FILTER: never run the command unfiltered
        raise OSError(ctypes.get_errno(), "cannot install the seccomp filter")


def _env_file(path: str, env: dict[str, str]) -> None:
    """Variables handed over in a file on a tmpfs (NUL-separated NAME=VALUE), not in the engine's config."""
    with open(path, "rb") as f:
        for item in f.read().split(b"\0"):
            name, sep, value = item.decode("utf-8", "surrogateescape").partition("=")
            if sep and name:
                env[name] = value


def _idle() -> int:
    import signal

    _undumpable()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        try:
            os.wait()
        except ChildProcessError:
            signal.pause() if hasattr(signal, "pause") else None
        except InterruptedError:
            pass


_HEADER = 5  # frame: 1 byte kind, 4 bytes big-endian length, then the payload


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    return kind + len(payload).to_bytes(4, "big") + payload


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _recv(conn: socket.socket) -> tuple[bytes, bytes] | None:
    """One frame (kind, payload), or None when the host closed the connection."""
    head = _recv_exact(conn, _HEADER)
    if head is None:
        return None
    size = int.from_bytes(head[1:], "big")
    payload = _recv_exact(conn, size) if size else b""
    return None if payload is None else (head[:1], payload)


_REAPED: dict[int, int] = {}  # pid -> wait status of children reaped by `_reap` (the command, the bridge)


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _REAPED[pid] = status


def _status_of(pid: int, block: bool) -> int | None:
    """The command's wait status, whether `_reap` already collected it or not (None: still running)."""
    if pid in _REAPED:
        return _REAPED.pop(pid)
    try:
        done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
    except ChildProcessError:
        return _REAPED.pop(pid, 0)
    return status if done else None


def _kill_rest(spare: int) -> None:
    """Kill every process of the container but this one and the proxy bridge (`spare`), as kill -9 -1 would."""
    if not spare and os.getpid() == 1:
        try:
            os.kill(-1, _SIGKILL)
        except OSError:
            pass
        return
    me = os.getpid()
    for _ in range(50):  # a fork bomb may add processes while we kill: repeat until none is left
        found = False
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) not in (me, spare):
                found = True
                try:
                    os.kill(int(name), _SIGKILL)
                except OSError:
                    pass
        _reap()
        if not found:
            return


class _Resident:
    """The resident PID 1's state: the fixed lock-down and the proxy bridge helper."""

    def __init__(self, proxy_socket: str) -> None:
        self.proxy_socket = proxy_socket
        self.bridge_pid = 0
        self.bridge_port = 0

    def spare(self) -> int:
        """The live bridge helper's pid (never a reused pid), or 0."""
        if self.bridge_pid:
            _reap()
            if _REAPED.pop(self.bridge_pid, None) is not None:
                self.bridge_pid = 0
        return self.bridge_pid

    def bridge(self) -> int:
        """The bridge's port, (re)starting its helper when a `docker exec` fallback killed it."""
        if not self.proxy_socket:
            return 0
        if self.spare():
            return self.bridge_port
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the helper: threads live here, never in the process that forks commands
            os.close(r)
            os.write(w, str(_bridge(self.proxy_socket)).encode())
            os.close(w)
            import signal

            while True:
                signal.pause()
        os.close(w)
        port = os.read(r, 32)
        os.close(r)
        self.bridge_pid, self.bridge_port = pid, int(port or 0)
        return self.bridge_port

    def run(self, conn: socket.socket, req: dict[str, object]) -> None:
        import selectors
        import signal

        argv = [str(a) for a in req["argv"]]  # type: ignore[attr-defined]
        env = {str(k): str(v) for k, v in req["env"].items()}  # type: ignore[attr-defined]
        port = self.bridge()
        _REAPED.clear()  # statuses of earlier orphans: the command's pid may be one of theirs, reused
        if port:
            url = f"http://127.0.0.1:{port}"
            for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
                env[k] = url
            env["NO_PROXY"] = env["no_proxy"] = "localhost,127.0.0.1,::1"
        limits = [(_LIMITS[k], int(v)) for k, v in req.get("rlimits", {}).items() if k in _LIMITS and v]  # type: ignore[attr-defined]
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        if req.get("stdin"):
            r_in, w_in = os.pipe()
        else:
            r_in, w_in = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC), -1
        pid = os.fork()
        if pid == 0:
            try:
                for name in ("SIGPIPE", "SIGXFSZ"):  # ignored by Python: a command gets the defaults, as from a shell
                    if hasattr(signal, name):
                        signal.signal(getattr(signal, name), signal.SIG_DFL)
                os.setsid()
                os.dup2(r_in, 0)
                os.dup2(w_out, 1)
                os.dup2(w_err, 2)
                for which, value in limits:
                    hard = resource.getrlimit(which)[1]
                    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
                    resource.setrlimit(which, (value, value))
                os.chdir(str(req.get("cwd") or "/"))
                os.execvpe(argv[0], argv, env)
            except FileNotFoundError:
                os.write(2, f"{argv[0]}: command not found\n".encode())
                os._exit(127)
            except PermissionError:
                os.write(2, f"{argv[0]}: permission denied\n".encode())
                os._exit(126)
            except BaseException:
                os._exit(126)
        for fd in (r_in, w_out, w_err):
            os.close(fd)
        sel = selectors.DefaultSelector()
        sel.register(r_out, selectors.EVENT_READ, b"O")
        sel.register(r_err, selectors.EVENT_READ, b"E")
        sel.register(conn, selectors.EVENT_READ, b"C")
        pidfd = -1
        try:
            pidfd = os.pidfd_open(pid)
            sel.register(pidfd, selectors.EVENT_READ, b"P")
        except (AttributeError, OSError):
            pass
        status: int | None = None
        open_pipes = 2
        host_gone = False
        while open_pipes or status is None:
            if status is None and pidfd < 0:
                status = _status_of(pid, False)
            for key, _ in sel.select(None if pidfd >= 0 or status is not None else 0.05):
                what = key.data
                if what == b"P":
                    status = _status_of(pid, True)
                    sel.unregister(pidfd)
                    os.close(pidfd)
                    pidfd = -1
                elif what == b"C":
                    msg = _recv(conn)
                    if msg is None or msg[0] == b"K":  # cancel, timeout, or the host went away
                        host_gone = host_gone or msg is None
                        try:
                            os.killpg(pid, _SIGKILL)
                        except OSError:
                            pass
                        _kill_rest(self.spare())
                        if msg is None:
                            sel.unregister(conn)
                    elif msg[0] == b"I" and w_in >= 0:
                        if msg[1]:
                            try:
                                os.write(w_in, msg[1])
                            except OSError:
                                pass
                        else:
                            os.close(w_in)
                            w_in = -1
                else:
                    data = os.read(key.fd, 65536)
                    if data:
                        if not host_gone:
                            try:
                                conn.sendall(frame(what, data))
                            except OSError:
                                host_gone = True
                    else:
                        sel.unregister(key.fd)
                        os.close(key.fd)
                        open_pipes -= 1
            if status is not None and open_pipes:
                _kill_rest(self.spare())  # what the command left behind holds its pipes: end it
        sel.close()
        if w_in >= 0:
            os.close(w_in)
        _kill_rest(self.spare())
        self.spare()
        _REAPED.clear()  # orphans' statuses; the bridge's was looked at just above
        code = os.waitstatus_to_exitcode(status)
        if host_gone:
            raise OSError("the host went away")
        conn.sendall(frame(b"X", f'{{"code": {code if code >= 0 else 128 - code}}}'.encode()))


def _connect(path: str, wait_s: float) -> socket.socket | None:
    """Connect to the host's control socket, polling while it is absent (reaping orphans meanwhile)."""
    import socket
    import time

    deadline = time.monotonic() + wait_s
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
        _reap()
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.005)


def _resident(ctl: str, config: dict[str, str]) -> int:
    import json
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _undumpable()
    if config.get("seccomp"):
        try:
            _seccomp(config["seccomp"])
        except OSError as exc:
            sys.stderr.write(f"skillstudio launcher: {exc}\n")
            return 126  # never serve commands without the filter
    state = _Resident(config.get("proxy_socket", ""))
    keep = float(config.get("keep", 0) or 0)
    wait = float(config.get("wait", 60))
    while True:
        conn = _connect(ctl, wait)
        if conn is None:
            if keep:
                return 0  # idle past the timeout: the container ends and removes itself
            return _idle()
        try:
            while True:
                msg = _recv(conn)
                if msg is None:
                    break
                if msg[0] == b"R":
                    state.run(conn, json.loads(msg[1]))
        except (OSError, ValueError, KeyError, TypeError):
            pass
        conn.close()
        _kill_rest(state.spare())
        state.spare()
        _REAPED.clear()
        if not keep:
            return _idle()
        wait = keep


def main(argv: list[str]) -> int:
    if argv[:1] == ["--idle"]:
        return _idle()
    if argv[:1] == ["--serve"] and len(argv) >= 2:
        return _resident(argv[1], dict(item.split("=", 1) for item in argv[2:]))
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        sys.stderr.write("usage: launcher.py [KEY=VALUE...] -- CMD [ARG...]\n")
        return 2
    split = argv.index("--")
    config = dict(item.split("=", 1) for item in argv[:split])
    cmd = argv[split + 1:]
    for key, which in _LIMITS.items():
        value = config.get(key)
        if value:
            soft, hard = resource.getrlimit(which)
            new = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
            resource.setrlimit(which, (new, new))
    env = dict(os.environ)
    if config.get("env_file"):
        _env_file(config["env_file"], env)
    if config.get("undumpable"):
        _undumpable()
    if config.get("seccomp"):
        try:
            _seccomp(config["seccomp"])
        except OSError as exc:
            sys.stderr.write(f"skillstudio launcher: {exc}\n")
            return 126
    if config.get("proxy_socket"):
        url = f"http://127.0.0.1:{_bridge(config['proxy_socket'])}"
        for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
            env[k] = url
        env["NO_PROXY"] = env["no_proxy"] = "localhost,127.0.0.1,::1"
    try:
        pid = os.posix_spawnp(cmd[0], cmd, env)
    except FileNotFoundError:
        sys.stderr.write(f"{cmd[0]}: command not found\n")
        return 127
    except PermissionError:
        sys.stderr.write(f"{cmd[0]}: permission denied\n")
        return 126
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except (InterruptedError, KeyboardInterrupt):
            continue
    code = os.waitstatus_to_exitcode(status)
    if config.get("kill_all_after"):
        # A warm container outlives this command: end whatever it left behind, as a fresh
        # bubblewrap sandbox would (PID 1 and this process are spared by kill(-1)).
        try:
            os.kill(-1, _SIGKILL)
        except OSError:
            pass
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
