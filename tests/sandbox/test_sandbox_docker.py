"""Docker-only behaviour: a warm container per session (repeat calls go to its resident launcher), labelled sweeps."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from skillstudio.sandbox.docker_backend import LABEL, LABEL_OWNER, DockerExecutor, sweep
from skillstudio.sandbox.policy import Limits, Policy

pytestmark = pytest.mark.docker


def _data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    if os.getuid() == 0:
        os.chown(d, 1000, 1000)
    return d


def _ours(client: Any) -> list[Any]:
    return client.containers.list(all=True, filters={"label": LABEL})


def test_warm_container_is_reused_and_hardened(docker_executor: DockerExecutor, docker_client: Any,
                                               tmp_path: Path) -> None:
    policy = Policy.build(_data(tmp_path), limits=Limits(pids=64, memory_mb=256))
    first = docker_executor.run(["sh", "-c", "echo one > f; echo warm > /tmp/marker; id -u"], policy)
    c1 = docker_executor.container_for(policy)
    started = docker_client.api.inspect_container(c1.id)["State"]["StartedAt"]
    second = docker_executor.run(["cat", "f", "/tmp/marker"], policy)
    c2 = docker_executor.container_for(policy)
    assert first.exit_code == 0 and second.stdout == "one\nwarm\n"  # same container: its /tmp survived
    assert first.stdout.strip() == "1000"  # the data folder's owner, not root
    assert c1.id == c2.id
    info = docker_client.api.inspect_container(c2.id)
    assert info["State"]["StartedAt"] == started  # not restarted: the second call ran in the same container
    host = info["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["NetworkMode"] == "none"
    assert host["PidsLimit"] == 64 and host["Memory"] == 256 * 1024 * 1024
    assert "/tmp" in host["Tmpfs"]
    assert info["Config"]["Labels"][LABEL] == "1"


def test_sweep_removes_orphans_and_close_removes_own(docker_client: Any, docker_executor: DockerExecutor,
                                                     tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = docker_client.containers.create(
        docker_executor.image, ["sleep", "600"],
        labels={LABEL: "1", LABEL_OWNER: f"{socket.gethostname()}:{dead.pid}"})
    other_host = docker_client.containers.create(
        docker_executor.image, ["sleep", "600"], labels={LABEL: "1", LABEL_OWNER: "some-other-host:1"})
    try:
        ex = DockerExecutor(docker_client)  # sweeps on start
        assert orphan.id in ex.swept
        assert other_host.id not in ex.swept  # another machine's container is not ours to judge
        policy = Policy.build(_data(tmp_path))
        assert ex.run(["true"], policy).exit_code == 0
        own = ex.container_for(policy).id
        assert own in {c.id for c in _ours(docker_client)}
        ex.close()
        ids = {c.id for c in _ours(docker_client)}
        assert own not in ids and orphan.id not in ids
    finally:
        other_host.remove(force=True)


def test_sweep_keeps_live_owners(docker_client: Any, docker_executor: DockerExecutor) -> None:
    live = docker_client.containers.create(docker_executor.image, ["sleep", "600"],
                                           labels={LABEL: "1", LABEL_OWNER: f"{socket.gethostname()}:{os.getppid()}"})
    try:
        assert live.id not in sweep(docker_client)
    finally:
        live.remove(force=True)
