"""Docker's resident launcher (commands over the control socket), its fallback, and kept-warm CLI containers.

The hostile tests in test_sandbox_contained.py run on the resident path (the session executor's
commands are children of PID 1, checked here); these add what is specific to it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skillstudio.cancel import CancelToken
from skillstudio.sandbox.docker_backend import LABEL_KEEP, DockerExecutor
from skillstudio.sandbox.policy import Limits, Policy

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parents[2]


def _data(path: Path) -> Path:
    path.mkdir()
    if os.getuid() == 0:
        os.chown(path, 1000, 1000)
    return path


def _ids(client: Any) -> list[str]:
    """Ids of all containers (the summary only: `containers.list` fails when one is removed meanwhile)."""
    return [c["Id"] for c in client.api.containers(all=True)]


@pytest.fixture()
def kept(docker_client: Any) -> Iterator[None]:
    """Removes the kept-warm containers a test made (they would otherwise wait for their idle timeout)."""
    yield
    for c in docker_client.api.containers(all=True, filters={"label": LABEL_KEEP}):
        with contextlib.suppress(Exception):
            docker_client.api.remove_container(c["Id"], force=True)


def test_commands_are_forked_by_the_resident_launcher_under_the_lock_down(docker_executor: DockerExecutor,
                                                                          tmp_path: Path) -> None:
    policy = Policy.build(_data(tmp_path / "d"), limits=Limits(cpu_s=7))
    r = docker_executor.run(["sh", "-c", "echo $PPID; id -u; ulimit -t; grep -E '^(Seccomp|NoNewPrivs|CapEff):' "
                             "/proc/self/status; ls /run/skillstudio/ctl; cat /proc/1/environ"], policy)
    lines = r.stdout.split()
    assert lines[0] == "1"  # a child of PID 1, not of a `docker exec`
    assert lines[1] != "0" and lines[2] == "7"
    assert "Seccomp:\t2" in r.stdout and "NoNewPrivs:\t1" in r.stdout and "CapEff:\t0000000000000000" in r.stdout
    assert "ctl.sock" not in r.stdout  # the host removed the socket once the launcher connected
    assert "Permission denied" in r.stderr  # PID 1 is undumpable: its environ and fds are out of reach
    r = docker_executor.run(["python3", "-c", "import os\nfor fd in os.listdir('/proc/self/fd'):\n"
                             " try:\n  print(os.readlink(f'/proc/self/fd/{fd}'))\n except OSError:\n  pass"], policy)
    assert "socket:" not in r.stdout  # the control connection is never inherited


def test_resident_cancel_kills_the_tree_and_the_next_command_runs(docker_executor: DockerExecutor,
                                                                  tmp_path: Path) -> None:
    policy = Policy.build(_data(tmp_path / "d"))
    cancel = CancelToken()
    chunks: list[bytes] = []

    def seen(stream: str, chunk: bytes) -> None:
        chunks.append(chunk)
        cancel.cancel()

    r = docker_executor.run(["sh", "-c", "(sleep 300 &); echo started; sleep 300"], policy, cancel, seen)
    assert r.cancelled and r.exit_code == 137 and b"started\n" in chunks
    r = docker_executor.run(["sh", "-c", "ps -eo comm | grep -c sleep; echo $PPID"], policy)
    assert r.stdout.split() == ["0", "1"]  # nothing survived, and the channel still works


def test_docker_exec_fallback_when_the_channel_is_gone(docker_client: Any, tmp_path: Path) -> None:
    policy = Policy.build(_data(tmp_path / "d"), limits=Limits(cpu_s=9))
    with DockerExecutor(docker_client) as ex:
        assert ex.run(["true"], policy).exit_code == 0
        warm = next(iter(ex._warm.values()))
        assert warm.conn is not None
        warm.conn.close()  # the launcher falls back to reaping; commands go through `docker exec`
        warm.conn = None
        r = ex.run(["sh", "-c", "echo $PPID; ulimit -t; grep -E '^Seccomp:' /proc/self/status"], policy)
        assert r.exit_code == 0 and r.stdout.split()[0] != "1" and r.stdout.split()[1:] == ["9", "Seccomp:", "2"]


def test_kept_container_is_reused_across_executors_only_for_the_same_binding(docker_client: Any, tmp_path: Path,
                                                                             kept: None) -> None:
    data = _data(tmp_path / "d")
    policy = Policy.build(data)

    def container_id(p: Policy) -> str:
        with DockerExecutor(docker_client, keep_warm_s=120) as ex:
            assert ex.run(["true"], p).exit_code == 0
            return str(ex.container_for(p).id)

    first = container_id(policy)
    assert container_id(policy) == first  # a new process (executor) finds it again
    assert container_id(Policy.build(data, limits=Limits(pids=32))) != first  # another policy: another container
    other = _data(tmp_path / "e")
    assert container_id(Policy.build(other)) != first  # another data folder
    os.rename(data, tmp_path / "old")
    _data(data)
    assert container_id(Policy.build(data)) != first  # the same path, a fresh folder: a fresh binding
    with DockerExecutor(docker_client, keep_warm_s=120) as a, DockerExecutor(docker_client, keep_warm_s=120) as b:
        a.run(["true"], Policy.build(other))
        b.run(["true"], Policy.build(other))  # `a` holds the kept one: `b` gets a container of its own
        assert a.container_for(Policy.build(other)).id != b.container_for(Policy.build(other)).id
        own = b.container_for(Policy.build(other)).id
    assert own not in _ids(docker_client)  # removed with its executor


def test_kept_container_reaps_itself_when_idle(docker_client: Any, tmp_path: Path, kept: None) -> None:
    with DockerExecutor(docker_client, keep_warm_s=1) as ex:
        ex.run(["true"], Policy.build(_data(tmp_path / "d")))
        cid = ex.container_for(Policy.build(tmp_path / "d")).id
    for _ in range(600):
        if cid not in _ids(docker_client):
            break
        time.sleep(0.1)
    assert cid not in _ids(docker_client)


def test_cli_exec_reuses_its_container(tmp_path: Path, docker_client: Any, kept: None) -> None:
    data = _data(tmp_path / "d")
    env = {**os.environ, "PYTHONPATH": str(REPO / "desktop")}

    def cli(*cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "skillstudio", "exec", "--sandbox", "docker", "--data", str(data),
                               "--", *cmd], env=env, capture_output=True, text=True, check=False, timeout=600)

    first = cli("sh", "-c", "echo warm > /tmp/marker; id -u")
    assert first.returncode == 0 and first.stdout.strip() != "0", first.stderr
    second = cli("cat", "/tmp/marker")
    assert second.returncode == 0 and second.stdout == "warm\n", second.stderr
    assert cli("sh", "-c", "exit 5").returncode == 5


def test_cli_kept_container_follows_the_policy_variables(tmp_path: Path, docker_client: Any, kept: None) -> None:
    """Another --env value is another policy: another container, and the value never shows in the engine's records."""
    data = _data(tmp_path / "d")
    env = {**os.environ, "PYTHONPATH": str(REPO / "desktop")}

    def cli(value: str) -> str:
        done = subprocess.run([sys.executable, "-m", "skillstudio", "exec", "--sandbox", "docker", "--data", str(data),
                               "--env", f"TOKEN={value}", "--", "sh", "-c", "echo $TOKEN"], env=env,
                              capture_output=True, text=True, check=False, timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()[0]

    assert cli("first-value-123") == "first-value-123"
    assert cli("second-value-456") == "second-value-456"
    ours = [c["Id"] for c in docker_client.api.containers(all=True, filters={"label": LABEL_KEEP})
            if any(m["Source"] == str(data) for m in c["Mounts"])]
    assert len(ours) == 2
    for cid in ours:
        record = str(docker_client.api.inspect_container(cid))
        assert "value-123" not in record and "value-456" not in record


def test_proxy_bridge_comes_back_after_a_fallback_killed_it(docker_executor: DockerExecutor, docker_client: Any,
                                                            tmp_path: Path, http_server: Any) -> None:
    """A `docker exec` (fallback, or anyone's) that kills every process leaves the resident launcher able to bridge."""
    from skillstudio.sandbox.policy import NetworkPolicy

    # an entry without a port allows 443 only
    policy = Policy.build(_data(tmp_path / "d"), network=NetworkPolicy(allow=[f"allowed.test:{http_server.port}"]))
    fetch = ["python3", "-c", f"import urllib.request\nprint(urllib.request.urlopen("
             f"'http://allowed.test:{http_server.port}/x', timeout=10).read().decode())"]
    assert "hello allowed.test" in docker_executor.run(fetch, policy).stdout
    container = docker_executor.container_for(policy)
    uid = 1000 if os.getuid() == 0 else os.getuid()
    container.exec_run(["python3", "-c", "import os\ntry:\n os.kill(-1, 9)\nexcept OSError:\n pass"],
                       user=f"{uid}:{uid}")
    r = docker_executor.run(fetch, policy)
    assert "hello allowed.test" in r.stdout, r.stderr


def test_cancel_with_a_proxy_bridge_keeps_the_channel(docker_executor: DockerExecutor, tmp_path: Path) -> None:
    """With a bridge to spare, the clean-up walks /proc: the command's exit must still reach the host."""
    from skillstudio.sandbox.policy import NetworkPolicy

    policy = Policy.build(_data(tmp_path / "d"), network=NetworkPolicy(allow=["allowed.test"]))
    assert docker_executor.run(["true"], policy).exit_code == 0
    before = docker_executor.container_for(policy).id
    cancel = CancelToken()
    r = docker_executor.run(["sh", "-c", "(sleep 300 &); echo started; sleep 300"], policy, cancel,
                            lambda stream, chunk: cancel.cancel())
    assert r.cancelled and r.exit_code == 137
    r = docker_executor.run(["sh", "-c", "ps -eo comm | grep -c sleep; echo $PPID; echo $HTTP_PROXY"], policy)
    assert r.stdout.split()[:2] == ["0", "1"] and r.stdout.split()[2].startswith("http://127.0.0.1:")
    assert docker_executor.container_for(policy).id == before
