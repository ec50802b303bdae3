"""Hostile behaviours, each contained on both backends (real bubblewrap, real Docker), and the positive side."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from sandbox_support import Backend, Server

from skillstudio.sandbox.executor import ExecResult, Executor
from skillstudio.sandbox.policy import Limits, NetworkPolicy, Policy

pytestmark = [pytest.mark.bwrap, pytest.mark.docker]


def run(b: Backend, cmd: list[str], data: Path | None = None, **kw: object) -> ExecResult:
    policy = Policy.build(data or b.make_data(), **kw)  # type: ignore[arg-type]
    return b.executor.run(cmd, policy)


def sh(b: Backend, script: str, data: Path | None = None, **kw: object) -> ExecResult:
    return run(b, ["sh", "-c", script], data, **kw)


def host_procs_with(marker: str) -> list[int]:
    """Host PIDs whose command line contains marker (sandboxed processes are host processes too)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry.name}/cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


# ------------------------------------------------------------------------------ positive side

def test_exit_code_passes_through_and_data_is_writable(backend: Backend) -> None:
    data = backend.make_data()
    r = sh(backend, "pwd; echo hi > made.txt; mkdir -p sub && echo x > sub/y; echo oops >&2; exit 42", data)
    assert r.exit_code == 42, r.stderr
    assert r.stdout.strip() == "/data"
    assert "oops" in r.stderr
    assert (data / "made.txt").read_text() == "hi\n"
    assert (data / "sub" / "y").exists()
    assert not r.timed_out and not r.truncated


def test_env_is_clean(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    canary = "canary-" + secrets.token_hex(8)
    monkeypatch.setenv("SS_HOST_CANARY", canary)
    r = run(backend, ["sh", "-c", "env; cat /proc/self/environ /proc/1/environ 2>/dev/null | tr '\\0' '\\n'"],
            env={"EXPLICIT": "yes"})
    assert r.exit_code == 0, r.stderr
    assert canary not in r.stdout
    names = {line.split("=", 1)[0] for line in r.stdout.splitlines() if "=" in line}
    assert "EXPLICIT=yes" in r.stdout
    assert "HOME=/data" in r.stdout
    assert not names & {"SS_HOST_CANARY", "OPENAI_API_KEY", "SSH_AUTH_SOCK", "DBUS_SESSION_BUS_ADDRESS", "USER"}


# ------------------------------------------------------------------------------ filesystem

def test_reads_outside_data_fail(backend: Backend, tmp_path: Path) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("TOP-SECRET")
    r = sh(backend, f"cat {canary}; cat /etc/shadow; ls /root; ls /home; cat $HOME/../root/.ssh/id_rsa; true")
    assert "TOP-SECRET" not in r.stdout
    assert "root:" not in r.stdout
    assert r.stderr.count("cat:") >= 2


def test_writes_outside_data_fail(backend: Backend) -> None:
    marker = "ss-marker-" + secrets.token_hex(6)
    r = sh(backend, f"for p in /usr/{marker} /etc/{marker} /{marker} /skills/{marker} /run/{marker}; do "
                    f"touch $p 2>/dev/null && echo WROTE $p; done; touch /tmp/{marker} && echo TMP-OK")
    assert "WROTE" not in r.stdout, r.stdout
    assert "TMP-OK" in r.stdout  # a private tmpfs, not the host's /tmp
    assert not Path(f"/tmp/{marker}").exists()


def test_symlink_and_hardlink_escapes(backend: Backend, tmp_path: Path) -> None:
    canary = tmp_path / "outside.txt"
    canary.write_text("OUTSIDE-SECRET")
    data = backend.make_data()
    (data / "link").symlink_to(canary)
    (data / "rootlink").symlink_to("/")
    r = sh(backend, "cat link; cat rootlink/etc/shadow; echo pwn > link; "
                    "ln /usr/bin/env hard 2>&1 && echo LINKED; ls rootlink/", data)
    assert "OUTSIDE-SECRET" not in r.stdout
    assert "LINKED" not in r.stdout
    assert canary.read_text() == "OUTSIDE-SECRET"
    assert not (data / "hard").exists()


def test_always_denied_writes(backend: Backend) -> None:
    data = backend.make_data()
    hooks = data / ".git" / "hooks"
    hooks.mkdir(parents=True)
    (data / ".bashrc").write_text("# original\n")
    if backend.name == "docker" and os.getuid() == 0:
        for p in (data / ".git", hooks, data / ".bashrc"):
            os.chown(p, 1000, 1000)
    r = sh(backend, "echo 'curl evil' >> .bashrc; echo x > .git/hooks/pre-commit; echo 'x' > .zshrc; "
                    "mkdir -p .vscode && echo '{}' > .vscode/tasks.json; echo data > ok.txt", data)
    assert (data / ".bashrc").read_text() == "# original\n"
    assert not (hooks / "pre-commit").exists()
    assert not (data / ".zshrc").exists()
    assert not (data / ".vscode").exists()
    assert (data / "ok.txt").read_text() == "data\n"
    assert "always-denied" in r.stderr


# ------------------------------------------------------------------------------ processes

def test_no_host_processes_ptrace_or_setuid(backend: Backend) -> None:
    script = ("import os\n"
              "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
              "print('PIDS', len(pids))\n"
              "st = open('/proc/self/status').read()\n"
              "print([l for l in st.splitlines() if l.startswith(('NoNewPrivs', 'CapEff'))])\n"
              "try:\n    os.setuid(0); print('SETUID-OK')\nexcept OSError as e: print('setuid refused', e.errno)\n"
              "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
              f"print('PTRACE', libc.ptrace(16, {os.getpid()}, 0, 0))\n")  # PTRACE_ATTACH to this test
    r = run(backend, ["python3", "-c", script])
    assert r.exit_code == 0, r.stderr
    assert int(r.stdout.split("PIDS ")[1].split()[0]) < 10
    assert "NoNewPrivs:\\t1" in r.stdout and "CapEff:\\t0000000000000000" in r.stdout
    assert "SETUID-OK" not in r.stdout
    assert "PTRACE -1" in r.stdout


def test_docker_socket_absent(backend: Backend) -> None:
    r = sh(backend, "ls -la /var/run/docker.sock /run/docker.sock 2>&1; "
                    "python3 -c \"import socket; s=socket.socket(socket.AF_UNIX); s.connect('/var/run/docker.sock')\"")
    assert r.exit_code != 0
    assert "No such file" in r.stdout + r.stderr


def test_timeout_kills_tree_including_sigterm_ignorers(backend: Backend) -> None:
    marker = f"{secrets.randbelow(10**6) + 1000}.{secrets.randbelow(1000)}"
    r = sh(backend, f"trap '' TERM; (trap '' TERM; sleep {marker} & sleep {marker}) & sleep {marker}",
           limits=Limits(wall_s=1.5))
    assert r.exit_code == 124 and r.timed_out
    import time

    deadline = time.monotonic() + 5
    while host_procs_with(f"sleep\0{marker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host_procs_with(f"sleep\0{marker}") == []


def test_fork_bomb_hits_pids_limit(backend: Backend) -> None:
    marker = f"{secrets.randbelow(10**6) + 1000}.5"
    r = sh(backend, f"i=0; while [ $i -lt 200 ]; do sleep {marker} & i=$((i+1)); done; echo spawned",
           limits=Limits(wall_s=4, pids=24))
    assert "fork" in r.stderr.lower() or "resource temporarily unavailable" in r.stderr.lower(), r.stderr[-500:]
    assert host_procs_with(f"sleep\0{marker}") == [] or r.exit_code in (0, 124)
    import time

    deadline = time.monotonic() + 5
    while host_procs_with(f"sleep\0{marker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host_procs_with(f"sleep\0{marker}") == []


def test_memory_bomb_is_stopped(backend: Backend) -> None:
    bomb = "b = bytearray(600 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); print('ALLOC-OK')"
    r = run(backend, ["python3", "-c", bomb], limits=Limits(memory_mb=128, wall_s=30))
    assert "ALLOC-OK" not in r.stdout
    assert r.exit_code != 0
    assert "MemoryError" in r.stderr or r.exit_code == 137


def test_output_flood_is_truncated_with_marker(backend: Backend) -> None:
    r = sh(backend, "head -c 20000000 /dev/zero | tr '\\0' 'a'; echo; echo THE-END", limits=Limits(output_bytes=10000))
    assert r.exit_code == 0
    assert r.truncated
    assert len(r.stdout) < 11000
    assert "bytes of output truncated" in r.stdout
    assert r.stdout.rstrip().endswith("THE-END")  # the tail is kept


def test_file_size_limit(backend: Backend) -> None:
    data = backend.make_data()
    r = sh(backend, "head -c 3000000 /dev/zero > big.bin", data, limits=Limits(file_size_mb=1))
    assert r.exit_code != 0
    assert (data / "big.bin").stat().st_size <= 1024 * 1024


# ------------------------------------------------------------------------------ network

def test_network_off_by_default(backend: Backend, http_server: Server) -> None:
    script = (f"import socket\nfor host in ('127.0.0.1', '1.1.1.1'):\n"
              f"    try:\n        socket.create_connection((host, {http_server.port}), timeout=2)\n"
              f"        print('CONNECTED', host)\n"
              f"    except OSError as e: print('refused', host, e.errno)\n"
              f"try:\n    socket.getaddrinfo('example.com', 80); print('DNS-OK')\n"
              f"except OSError as e: print('no dns')\n")
    r = run(backend, ["python3", "-c", script])
    assert "CONNECTED" not in r.stdout, r.stdout
    assert "DNS-OK" not in r.stdout
    assert r.network_log == []


def test_allow_list_http_and_refusals(backend: Backend, http_server: Server) -> None:
    port = http_server.port
    script = ("import urllib.request, urllib.error, socket\n"
              f"for url in ('http://allowed.test:{port}/a', 'http://other.test:{port}/b', 'http://127.0.0.1:{port}/c'):\n"
              "    try:\n        print('GOT', urllib.request.urlopen(url, timeout=5).read().decode())\n"
              "    except urllib.error.HTTPError as e: print('HTTP', e.code, e.read().decode().strip())\n"
              "    except OSError as e: print('ERR', url, e)\n"
              "try:\n    socket.getaddrinfo('allowed.test', 80); print('DNS-OK')\nexcept OSError: print('no dns')\n")
    r = run(backend, ["python3", "-c", script], network=NetworkPolicy(allow=[f"allowed.test:{port}"]))
    assert r.exit_code == 0, r.stderr
    assert f"GOT hello allowed.test:{port} /a" in r.stdout
    assert "HTTP 403 skillstudio sandbox: other.test" in r.stdout
    assert "GOT hello 127.0.0.1" not in r.stdout  # loopback of the host is not reachable
    assert "DNS-OK" not in r.stdout  # no DNS inside: names are resolved by the proxy only
    verdicts = {(e.host, e.allowed) for e in r.network_log}
    assert ("allowed.test", True) in verdicts and ("other.test", False) in verdicts


def test_allow_list_https_wildcard_and_port(backend: Backend, https_server: Server) -> None:
    data = backend.make_data()
    assert https_server.cert_pem is not None
    (data / "ca.pem").write_bytes(https_server.cert_pem)
    port = https_server.port
    r = sh(backend, f"curl -sS --cacert ca.pem https://api.allowed.test:{port}/x; echo; "
                    f"curl -sS --cacert ca.pem https://allowed.test:{port}/y; echo; "
                    f"curl -sS --cacert ca.pem https://other.test:{port}/z 2>&1; echo", data,
           network=NetworkPolicy(allow=[f"*.allowed.test:{port}"]))
    assert f"hello api.allowed.test:{port} /x" in r.stdout, r.stdout + r.stderr
    assert "hello allowed.test" not in r.stdout  # "*.x" does not match x itself
    assert "403" in r.stdout
    refused = {e.host for e in r.network_log if not e.allowed}
    assert refused == {"allowed.test", "other.test"}


def test_kernel_attack_surface_is_refused(backend: Backend) -> None:
    script = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
              "calls = {'unshare_user': lambda: libc.unshare(0x10000000),\n"
              "         'mount': lambda: libc.mount(b'none', b'/tmp', b'tmpfs', 0, None),\n"
              "         'keyctl': lambda: libc.syscall(250 if os.uname().machine == 'x86_64' else 219, 0, 0, 0, 0)}\n"
              "calls['ptrace_traceme'] = lambda: libc.ptrace(0, 0, 0, 0)\n"
              "for name, call in calls.items():\n    print(name, call())\n")
    r = run(backend, ["python3", "-c", script])
    assert r.exit_code == 0, r.stderr
    results = dict(line.split() for line in r.stdout.splitlines())
    assert results["unshare_user"] == "-1" and results["mount"] == "-1" and results["keyctl"] == "-1"
    if backend.name == "subprocess":  # our filter; Docker's default profile allows PTRACE_TRACEME
        assert results["ptrace_traceme"] == "-1"


def test_cancel_kills_the_run(backend: Backend) -> None:
    import threading

    from skillstudio.cancel import CancelToken

    token = CancelToken()
    timer = threading.Timer(0.5, token.cancel)
    timer.start()
    marker = f"{secrets.randbelow(10**6) + 1000}.25"
    r = backend.executor.run(["sh", "-c", f"sleep {marker}"], Policy.build(backend.make_data()), token)
    timer.join()
    assert r.cancelled and r.exit_code == 137 and not r.timed_out
    import time

    deadline = time.monotonic() + 5
    while host_procs_with(f"sleep\0{marker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host_procs_with(f"sleep\0{marker}") == []


def test_skill_is_mounted_read_only_where_the_model_is_told(backend: Backend, tmp_path: Path) -> None:
    from skillstudio.sandbox.policy import SkillMount

    skill = tmp_path / "crm-query"
    (skill / "scripts").mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: crm-query\ndescription: d\n---\nbody\n")
    (skill / "scripts" / "run.sh").write_text("echo from-skill-script\n")
    skill.chmod(0o755)
    r = sh(backend, "cat /skills/crm-query/SKILL.md; sh /skills/crm-query/scripts/run.sh; "
                    "echo x > /skills/crm-query/SKILL.md || echo READ-ONLY",
           skills=[SkillMount(source=skill, name="crm-query")])
    assert "name: crm-query" in r.stdout and "from-skill-script" in r.stdout and "READ-ONLY" in r.stdout
    assert (skill / "SKILL.md").read_text().startswith("---\nname: crm-query")


def test_bwrap_reused_cgroup_is_emptied_between_runs(bwrap_executor: Executor, tmp_path: Path) -> None:
    """The executor's cgroup outlives a run: a fork bomb's processes must not count against the next run."""
    data = tmp_path / "d"
    data.mkdir()
    policy = Policy.build(data, limits=Limits(pids=24, wall_s=10))
    bwrap_executor.run(["sh", "-c", "b() { b | b & }; b; sleep 2"], policy)
    r = bwrap_executor.run(["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1 & done; wait; echo ok"], policy)
    assert r.exit_code == 0 and r.stdout == "ok\n", r.stderr
