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


def main(argv: list[str]) -> int:
    if argv[:1] == ["--idle"]:
        return _idle()
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
