"""What every sandbox backend promises: run one command under a policy, same semantics everywhere.

`Executor.run(cmd, policy, cancel)` returns an `ExecResult`: the command's exit code (124 when the
wall time ran out and the whole process tree was killed; 137 when cancelled), stdout and stderr
capped per stream (head and tail kept, a marker in between, never held whole in memory), and the
egress proxy's decisions made during the run. `on_output(stream, chunk)` ("stdout"/"stderr", raw
bytes as they arrive, before capping) lets a console show output live; it is called from the thread
running the command (or a reader thread), so it must only hand the chunk over (never touch a UI).
Backends: `bwrap.BwrapExecutor` (Linux subprocess),
`docker_backend.DockerExecutor` (a warm container per session), `unsandboxed.UnsandboxedExecutor`
(only when the user explicitly chooses no sandbox).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Protocol

from skillstudio.cancel import CancelToken
from skillstudio.sandbox.datafolder import DiskQuota
from skillstudio.sandbox.policy import Policy
from skillstudio.sandbox.proxy import ProxyEvent

OutputSink = Callable[[str, bytes], None]  # ("stdout" | "stderr", chunk) as it arrives

TIMEOUT_EXIT = 124
CANCEL_EXIT = 137
_CHUNK = 65536


@dataclass
class ExecResult:
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    truncated: bool = False
    duration_s: float = 0.0
    network_log: list[ProxyEvent] = field(default_factory=list)
    cancelled: bool = False
    quota_exceeded: bool = False  # killed for filling the data folder's disk beyond the policy's quota


class Executor(Protocol):
    """A sandbox backend. `close()` releases warm resources (containers, proxies)."""

    name: str

    def run(self, cmd: Sequence[str], policy: Policy, cancel: CancelToken | None = None,
            on_output: OutputSink | None = None) -> ExecResult: ...

    def close(self) -> None: ...


class CappedOutput:
    """Keeps the first and last `cap/2` bytes of a stream and counts what was dropped in between."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        room = self.cap // 2 - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if not data:
            return
        self._tail += data
        keep = self.cap - self.cap // 2
        if len(self._tail) > keep:
            self.dropped += len(self._tail) - keep
            del self._tail[: len(self._tail) - keep]

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def text(self) -> str:
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        if not self.dropped:
            return head + tail
        return f"{head}\n[... skillstudio: {self.dropped} bytes of output truncated ...]\n{tail}"


def drain(stream: IO[bytes], sink: CappedOutput, live: Callable[[bytes], None] | None = None) -> None:
    """Read a pipe to its end in chunks (the child never blocks on a full pipe; memory stays capped)."""
    while True:
        chunk = stream.read1(_CHUNK) if hasattr(stream, "read1") else stream.read(_CHUNK)
        if not chunk:
            break
        sink.feed(chunk)
        if live is not None:
            live(chunk)
    stream.close()


def live_feed(on_output: OutputSink | None, name: str) -> Callable[[bytes], None] | None:
    """A per-stream callback that never lets a failing consumer break the run."""
    if on_output is None:
        return None

    def feed(chunk: bytes) -> None:
        try:
            on_output(name, chunk)
        except Exception:  # noqa: BLE001 - a display problem must not kill the command's output
            pass

    return feed


def run_process(argv: Sequence[str], *, env: dict[str, str], cwd: str | None, wall_s: float,
                output_cap: int, cancel: CancelToken | None,
                preexec: Callable[[], None] | None = None,
                kill: Callable[[subprocess.Popen[bytes]], None] | None = None,
                pass_fds: Sequence[int] = (), on_output: OutputSink | None = None,
                quota: DiskQuota | None = None,
                started: Callable[[subprocess.Popen[bytes]], None] | None = None) -> ExecResult:
    """Run argv in a new session, capped output, wall-time, quota and cancel handling; kills the whole group.

    One thread does it all (the pipes and a pidfd of the process in one selector): no helper threads per run.

    `kill` replaces the default "SIGKILL the process group" (bwrap kills its PID namespace instead).
    `started(proc)` runs right after the spawn (bwrap: limits applied while the sandbox waits);
    prefer it to `preexec`, which forces a full fork of this (possibly large) process.
    """
    start = time.monotonic()
    proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=cwd, start_new_session=True, preexec_fn=preexec, close_fds=True,
                            pass_fds=tuple(pass_fds))
    if started is not None:
        try:
            started(proc)
        except BaseException:
            kill_group(proc)
            proc.wait()
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
            raise
    out, err = CappedOutput(output_cap), CappedOutput(output_cap)
    assert proc.stdout is not None and proc.stderr is not None
    # one thread: the pipes and the process's exit (a pidfd) in one selector, no helper threads per run
    sel = selectors.DefaultSelector()
    for pipe, sink, name in ((proc.stdout, out, "stdout"), (proc.stderr, err, "stderr")):
        os.set_blocking(pipe.fileno(), False)
        sel.register(pipe.fileno(), selectors.EVENT_READ, (pipe, sink, live_feed(on_output, name)))
    pidfd = -1
    with contextlib.suppress(AttributeError, OSError):
        pidfd = os.pidfd_open(proc.pid)
        sel.register(pidfd, selectors.EVENT_READ, None)
    timed_out = cancelled = over_quota = False
    deadline = start + wall_s
    open_pipes = 2
    drain_until: float | None = None  # after the exit: leftovers holding the pipes get this long

    def pump(timeout: float) -> None:
        nonlocal open_pipes, pidfd
        for key, _ in sel.select(timeout):
            if key.data is None:
                sel.unregister(key.fd)
                os.close(key.fd)
                pidfd = -1
                proc.wait()
                continue
            pipe, sink, live = key.data
            try:
                chunk = os.read(key.fd, _CHUNK)
            except BlockingIOError:
                continue
            if chunk:
                sink.feed(chunk)
                if live is not None:
                    live(chunk)
            else:
                sel.unregister(key.fd)
                pipe.close()
                open_pipes -= 1

    try:
        while proc.returncode is None or open_pipes:
            now = time.monotonic()
            if proc.returncode is None:
                if pidfd < 0 and proc.poll() is not None:
                    continue
                if cancel is not None and cancel.cancelled:
                    cancelled = True
                elif now >= deadline:
                    timed_out = True
                elif quota is not None and quota.exceeded():
                    over_quota = True
                if (timed_out or cancelled or over_quota) and drain_until is None:
                    (kill or kill_group)(proc)
                    proc.wait()
                pump(min(0.05, max(0.0, deadline - now)) if pidfd >= 0 else 0.01)
                continue
            if drain_until is None:
                kill_group(proc)  # leftovers of a command that exited but left children in its session
                drain_until = now + 5
            if now >= drain_until:
                break
            pump(min(0.05, drain_until - now))
    except BaseException:
        (kill or kill_group)(proc)
        raise
    finally:
        if pidfd >= 0:
            os.close(pidfd)
        sel.close()
        for pipe in (proc.stdout, proc.stderr):
            pipe.close()
    code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    if timed_out:
        code = TIMEOUT_EXIT
    elif cancelled or over_quota:
        code = CANCEL_EXIT
    quota_note = quota.message() if quota and over_quota else ""
    return ExecResult(exit_code=code, stdout=out.text(), stderr=err.text() + quota_note,
                      timed_out=timed_out, truncated=out.truncated or err.truncated,
                      duration_s=time.monotonic() - start, cancelled=cancelled, quota_exceeded=over_quota)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def clean_env(home: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The only environment a sandboxed tool sees: nothing inherited from the user's."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "TMPDIR": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"}
    env.update(extra or {})
    return env


def launcher_args(config: Mapping[str, object]) -> list[str]:
    """The launcher's KEY=VALUE arguments (falsy values left out)."""
    return [f"{k}={'1' if v is True else v}" for k, v in config.items() if v]
