"""Hostile tests: the sandbox must not act on the host through what the tool leaves behind (issue 12).

Each runs on both backends (real bubblewrap, real Docker): links planted at always-denied paths are
removed without being followed and are never mounted; host paths do not show in the sandbox's
process list; the disk quota stops a command that fills the data folder's disk; /tmp is bounded;
ptrace, /proc/PID/mem of the launcher and io_uring are refused; broad data folders are refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sandbox_support import Backend

from skillstudio.errors import SkillStudioError
from skillstudio.sandbox.executor import ExecResult
from skillstudio.sandbox.policy import Limits, Policy, SkillMount

pytestmark = [pytest.mark.bwrap, pytest.mark.docker]


def sh(b: Backend, script: str, data: Path, **kw: object) -> ExecResult:
    return b.executor.run(["sh", "-c", script], Policy.build(data, **kw))  # type: ignore[arg-type]


def py(b: Backend, code: str, data: Path, **kw: object) -> ExecResult:
    return b.executor.run(["python3", "-I", "-c", code], Policy.build(data, **kw))  # type: ignore[arg-type]


def victim(tmp_path: Path) -> Path:
    """A host folder outside the data folder that the host must never touch on the tool's behalf."""
    v = tmp_path / "victim"
    (v / "hooks").mkdir(parents=True)
    (v / "hooks" / "keep").write_text("KEEP")
    (v / "config").write_text("[core]\n")
    return v


def intact(v: Path) -> bool:
    return (v / "hooks" / "keep").read_text() == "KEEP" and (v / "config").read_text() == "[core]\n"


# ---------------------------------------------------------------------- links at denied paths

@pytest.mark.parametrize("plant", [
    "rm -rf .git; ln -s {victim} .git",                       # the whole .git is a link
    "mkdir -p .git; rm -rf .git/hooks; ln -s {victim}/hooks .git/hooks",  # the denied folder itself
    "ln -s {victim}/config .gitconfig",                        # a denied file
    "rm -rf .git; printf 'gitdir: {victim}' > .git",           # git's own indirection: a .git file
])
def test_planted_link_is_removed_not_followed(backend: Backend, tmp_path: Path, plant: str) -> None:
    v = victim(tmp_path)
    data = backend.make_data()
    r = sh(backend, plant.format(victim=v) + "; echo planted", data)
    assert r.exit_code == 0 and "planted" in r.stdout, r.stderr
    assert intact(v), "the host followed a link the tool planted and changed a folder outside the data folder"
    assert "removed always-denied writes" in r.stderr and ("not followed" in r.stderr or "gitdir" in plant)
    assert not any(p.is_symlink() for p in (data / ".git", data / ".git" / "hooks", data / ".gitconfig"))
    assert not (data / ".git").is_file()


def test_link_left_in_data_folder_refuses_the_next_run(backend: Backend, tmp_path: Path) -> None:
    v = victim(tmp_path)
    data = backend.make_data()
    os.symlink(v, data / ".git")  # left there by anyone: the host must neither mount nor follow it
    with pytest.raises(SkillStudioError, match="symbolic link"):
        sh(backend, "ls .git/hooks; echo gone > .git/hooks/keep", data)
    assert intact(v) and (data / ".git").is_symlink()


def test_denied_path_is_bound_by_what_was_checked(backend: Backend) -> None:
    """An existing .git/config is protected read-only; replacing the whole .git does not bring a new one in."""
    data = backend.make_data()
    (data / ".git").mkdir()
    (data / ".git" / "config").write_text("[core]\n")
    if backend.name == "docker" and os.getuid() == 0:
        os.chown(data / ".git", 1000, 1000)
        os.chown(data / ".git" / "config", 1000, 1000)
    r = sh(backend, "cat .git/config; echo '[core] fsmonitor = evil' > .git/config; "
                    "mv .git .old 2>/dev/null; mkdir -p .git; "
                    "echo '[core] hooksPath = /data/x' > .git/config; true", data)
    assert "[core]" in r.stdout
    cfg = data / ".git" / "config"
    assert not cfg.exists() or cfg.read_text() == "[core]\n", "a config planted during the run survived it"


# ----------------------------------------------------------------------------- host paths

def test_host_paths_not_in_sandbox_command_lines(backend: Backend, tmp_path: Path) -> None:
    data = backend.make_data()
    skill = tmp_path / "secret-skill-location"
    skill.mkdir()
    (skill / "SKILL.md").write_text("---\nname: s\n---\n")
    r = backend.executor.run(["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"],
                             Policy.build(data, skills=[SkillMount(source=skill, name="s")]))
    assert r.exit_code == 0 and r.stdout.strip(), r.stderr
    assert str(data) not in r.stdout and str(skill) not in r.stdout and str(tmp_path) not in r.stdout


# ----------------------------------------------------------------------------- disk limits

def test_disk_quota_stops_a_command_filling_the_data_folder(backend: Backend) -> None:
    data = backend.make_data()
    code = ("import os\nblock = os.urandom(1 << 20)\n"
            "for i in range(400):\n    with open(f'f{i}', 'wb') as f:\n        f.write(block)\n"
            "        f.flush()\n        os.fsync(f.fileno())\nprint('wrote everything')")
    r = py(backend, code, data, limits=Limits(disk_mb=40, wall_s=120))
    try:
        assert r.quota_exceeded and "disk quota" in r.stderr, (r.exit_code, r.stderr[-300:])
        assert "wrote everything" not in r.stdout and r.exit_code != 0
    finally:
        for f in data.glob("f*"):
            f.unlink()


def test_disk_quota_ignores_other_programs_filling_the_disk(backend: Backend, tmp_path: Path) -> None:
    """The host writes 200 MB next to the data folder during a command under a 100 MB quota: not the command's doing."""
    import threading

    data = backend.make_data()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def fill() -> None:
        while not (data / "waiting").exists():
            threading.Event().wait(0.05)
        with open(elsewhere / "big", "wb") as f:
            for _ in range(200):
                f.write(os.urandom(1 << 20))
            f.flush()
            os.fsync(f.fileno())
        (data / "go").write_text("go")

    t = threading.Thread(target=fill, daemon=True)
    t.start()
    r = sh(backend, "echo > waiting; i=0; while [ ! -e go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; "
                    "echo finished", data, limits=Limits(disk_mb=100, wall_s=90))
    t.join(30)
    assert (elsewhere / "big").stat().st_size == 200 << 20
    assert not r.quota_exceeded and "finished" in r.stdout, r.stderr


def test_disk_quota_counts_deleted_but_open_files(backend: Backend) -> None:
    """Space held by an unlinked, still-open file is invisible to a walk; the hard cap still stops it."""
    code = ("import os, time\nf = open('hidden', 'wb')\nos.unlink('hidden')\nblock = os.urandom(1 << 20)\n"
            "for i in range(200):\n    f.write(block)\n    f.flush()\n    os.fsync(f.fileno())\n"
            "print('held it all')\ntime.sleep(20)")
    r = py(backend, code, backend.make_data(), limits=Limits(disk_mb=20, wall_s=90, file_size_mb=512))
    assert r.quota_exceeded and "disk quota" in r.stderr, (r.exit_code, r.stdout, r.stderr[-300:])
    assert "held it all" not in r.stdout


def test_tmp_is_bounded(backend: Backend) -> None:
    r = sh(backend, "head -c 400M /dev/zero > /tmp/big; echo rc=$?; rm -f /tmp/big", backend.make_data(),
           limits=Limits(memory_mb=1024, file_size_mb=1024))
    assert "rc=0" not in r.stdout and "rc=" in r.stdout, r.stdout + r.stderr


# --------------------------------------------------------------------- processes and kernel

def test_limits_hold_from_the_first_instruction(backend: Backend) -> None:
    """bwrap gets its limits from the host while it waits (no preexec_fn): the command must start with them."""
    code = ("import resource as r\nprint(r.getrlimit(r.RLIMIT_CPU)[0], r.getrlimit(r.RLIMIT_FSIZE)[0], "
            "r.getrlimit(r.RLIMIT_AS)[0])")
    r = py(backend, code, backend.make_data(), limits=Limits(cpu_s=77, file_size_mb=33, memory_mb=700))
    assert r.exit_code == 0, r.stderr
    cpu, fsize, address = (int(x) for x in r.stdout.split())
    assert cpu == 77 and fsize == 33 * 1024 * 1024
    if backend.name == "subprocess":  # Docker bounds memory with its cgroup instead
        assert address == 700 * 1024 * 1024


PTRACE = """
import ctypes, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
child = subprocess.Popen(["sleep", "30"])
res = []
r = libc.ptrace(16, child.pid, 0, 0)  # PTRACE_ATTACH to a process of the same uid
res.append(f"attach={r}/{ctypes.get_errno()}")
try:
    with open(f"/proc/{os.getppid()}/mem", "rb") as f:
        res.append("parent-mem=open")
except OSError as exc:
    res.append(f"parent-mem={exc.errno}")
child.kill()
print(" ".join(res))
"""

IO_URING = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)
fd = libc.syscall(425, 4, params)  # io_uring_setup
print(f"io_uring={fd}/{ctypes.get_errno()}")
"""


def test_ptrace_between_processes_refused(backend: Backend) -> None:
    r = py(backend, PTRACE, backend.make_data())
    assert r.exit_code == 0, r.stderr
    assert "attach=-1/1" in r.stdout, r.stdout  # EPERM from the seccomp filter
    if backend.name == "docker":  # the launcher (the command's parent) is undumpable
        assert "parent-mem=open" not in r.stdout, r.stdout


def test_io_uring_refused(backend: Backend) -> None:
    r = py(backend, IO_URING, backend.make_data())
    assert r.exit_code == 0, r.stderr
    assert "io_uring=-1/1" in r.stdout, r.stdout


# ------------------------------------------------------------------------- broad data folders

@pytest.mark.parametrize("folder", ["/", "/etc", "/etc/ssh", "/home", "/usr", "/usr/lib", "/var", "/var/lib",
                                    "/boot", "/proc", "/proc/self", "/sys", "/dev", "/bin", "/opt", "/root", "/srv",
                                    "/tmp", "/run", "/var/run"])
def test_broad_data_folders_refused(folder: str) -> None:
    if not Path(folder).is_dir():
        pytest.skip(f"{folder} does not exist here")
    with pytest.raises(SkillStudioError, match="too broad|system folder"):
        Policy.build(Path(folder)).checked()


def test_home_its_parents_and_credentials_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "users" / "alice"
    (home / ".ssh").mkdir(parents=True)
    (home / "work" / "data").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    for bad in (home, home.parent, home / ".ssh"):
        with pytest.raises(SkillStudioError):
            Policy.build(bad).checked()
    assert Policy.build(home / "work" / "data").checked().data_dir == (home / "work" / "data").resolve()


def test_workspace_root_and_skill_overlap_refused(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".skillstudio").mkdir(parents=True)
    skill = ws / "skills" / "crm"
    (skill / "out").mkdir(parents=True)
    with pytest.raises(SkillStudioError, match="workspace"):
        Policy.build(ws).checked()
    for bad in (skill, skill / "out", ws / "skills"):
        with pytest.raises(SkillStudioError, match="skill"):
            Policy.build(bad, skills=[SkillMount(source=skill, name="crm")]).checked()


def test_cli_refuses_etc_with_a_one_liner() -> None:
    done = subprocess.run([sys.executable, "-m", "skillstudio", "exec", "--data", "/etc", "--", "true"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "system folder" in done.stderr and "Traceback" not in done.stderr


# ------------------------------------------------------------------------------- Docker only

@pytest.mark.skipif(os.getuid() != 0, reason="a root-owned data folder needs Skill Studio running as root")
def test_docker_never_runs_the_tool_as_root(docker_executor: object, tmp_path: Path) -> None:
    from skillstudio.sandbox.docker_backend import SANDBOX_UID, DockerExecutor

    assert isinstance(docker_executor, DockerExecutor)
    data = tmp_path / "rootdata"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "old.txt").write_text("old")
    os.symlink("/etc/hostname", data / "sub" / "link")  # adoption must not follow it
    outside = victim(tmp_path)
    os.symlink(outside, data / "sub" / "dirlink")  # nor enter a folder through a link
    r = docker_executor.run(["sh", "-c", "id -u; echo new >> sub/old.txt; echo made > made.txt"], Policy.build(data))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[0] == str(SANDBOX_UID)
    assert (data / "made.txt").stat().st_uid == SANDBOX_UID and (data / "sub" / "old.txt").read_text() == "oldnew\n"
    assert os.stat("/etc/hostname").st_uid == 0  # the link's target was not handed over
    assert {os.stat(p).st_uid for p in (outside, outside / "hooks", outside / "hooks" / "keep")} == {0}


def test_docker_policy_env_stays_out_of_the_container_config(docker_executor: object, docker_client: object,
                                                           tmp_path: Path) -> None:
    from skillstudio.sandbox.docker_backend import DockerExecutor

    assert isinstance(docker_executor, DockerExecutor)
    value = "raw-" + os.urandom(8).hex()
    data = tmp_path / "envdata"
    data.mkdir()
    if os.getuid() == 0:
        os.chown(data, 1000, 1000)
    policy = Policy.build(data, env={"API_TOKEN": value, "MULTI": "a\nb=c"})
    r = docker_executor.run(["sh", "-c", 'printf "%s|%s" "$API_TOKEN" "$MULTI"'], policy)
    assert r.exit_code == 0 and r.stdout == f"{value}|a\nb=c", r.stderr
    container = docker_executor.container_for(policy)
    info = docker_client.api.inspect_container(container.id)  # type: ignore[attr-defined]
    assert value not in repr(info), "a policy variable landed in the container's config"
    on_disk = Path("/var/lib/docker/containers") / container.id / "config.v2.json"
    try:
        text = on_disk.read_text()
    except OSError:  # not root, or an engine elsewhere: the API view above is what we can check
        text = ""
    assert value not in text


def test_docker_proxy_socket_only_for_the_sandbox_user(docker_executor: object, tmp_path: Path) -> None:
    from skillstudio.sandbox.docker_backend import DockerExecutor

    assert isinstance(docker_executor, DockerExecutor)
    data = tmp_path / "netdata"
    data.mkdir()
    if os.getuid() == 0:
        os.chown(data, 1000, 1000)
    policy = Policy.build(data, network={"allow": ["allowed.test"]})
    docker_executor.run(["true"], policy)
    container = docker_executor.container_for(policy)
    warm = next(w for w in docker_executor._warm.values() if w.container is container)
    assert warm.proxy is not None
    sock = warm.proxy.socket_path
    assert sock.stat().st_mode & 0o007 == 0 and sock.parent.stat().st_mode & 0o066 == 0
    if os.getuid() == 0:
        # neither a stranger nor the data folder's owner (uid 1000, the container's uid) may use root's proxy
        for who in (4242, 1000):
            attempt = subprocess.run(
                [sys.executable, "-c", f"import os, socket\nos.setgroups([]); os.setgid({who}); os.setuid({who})\n"
                 f"s = socket.socket(socket.AF_UNIX)\ntry:\n s.connect({str(sock)!r}); print('connected')\n"
                 "except OSError as e:\n print('refused', e.errno)"], capture_output=True, text=True, check=False,
                timeout=60)
            assert "refused" in attempt.stdout, (who, attempt.stdout + attempt.stderr)
    r = docker_executor.run(["python3", "-c", "import os, socket\ns = socket.socket(socket.AF_UNIX)\n"
                             "s.connect('/run/skillstudio/proxy/proxy.sock'); print('connected')"], policy)
    assert "connected" in r.stdout, r.stderr


def test_docker_private_folders_of_dead_sessions_are_swept(docker_executor: object, tmp_path: Path) -> None:
    """An env file (exposed secrets) left by a crashed session does not stay in /dev/shm."""
    from skillstudio.sandbox.docker_backend import _private_base, sweep_private

    dead = subprocess.Popen(["true"])
    dead.wait()
    import tempfile

    base = Path(_private_base() or tempfile.gettempdir())
    stale = base / f"ss-docker-{dead.pid}-crashed"
    live = base / f"ss-docker-{os.getpid()}-mine"
    for d in (stale, live):
        d.mkdir(mode=0o700)
        (d / "env").write_text("TOKEN=raw")
    try:
        sweep_private()
        assert not stale.exists() and live.exists()
    finally:
        for d in (stale, live):
            subprocess.run(["rm", "-rf", str(d)], check=False)


def test_revert_removes_a_denied_folder_the_tool_made_unreadable() -> None:
    """A `.git` made mode 000 (hooks inside) must not survive the cleanup of a non-root host."""
    import shutil
    import tempfile

    top = Path(tempfile.mkdtemp(prefix="ss-unreadable-"))  # traversable by the non-root uid below
    try:
        os.chmod(top, 0o711)
        data = top / "data"
        hooks = data / ".git" / "hooks"
        hooks.mkdir(parents=True)
        (hooks / "pre-commit").write_text("#!/bin/sh\ncurl evil\n")
        (data / ".git" / "locked").mkdir()
        uid = 4242 if os.getuid() == 0 else os.getuid()
        for p in (data, data / ".git", hooks, hooks / "pre-commit", data / ".git" / "locked"):
            if os.getuid() == 0:
                os.chown(p, uid, uid)
        os.chmod(data / ".git" / "locked", 0o000)
        os.chmod(data / ".git", 0o000)
        code = ("import os\nfrom pathlib import Path\nfrom skillstudio.sandbox.datafolder import DataFolder, Entry\n"
                f"if os.getuid() == 0:\n    os.setgid({uid}); os.setuid({uid})\n"
                f"with DataFolder(Path({str(data)!r})) as f:\n"
                "    print(f.revert(['.git/hooks/', '.git/config'], {('.git', 'hooks'): Entry('missing', 0)}))")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        assert done.returncode == 0, done.stderr
        assert "made unreadable" in done.stdout and not (data / ".git").exists(), done.stdout
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.mark.bwrap
def test_cli_disk_quota(bwrap_available: None, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    done = subprocess.run([sys.executable, "-m", "skillstudio", "exec", "--data", str(data), "--disk-mb", "5", "--",
                           "sh", "-c",
                            "for i in 1 2 3 4 5 6 7 8; do head -c 8M /dev/urandom > f$i; sync; done; echo all"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 137 and "disk quota" in done.stderr and "all" not in done.stdout, done.stderr
