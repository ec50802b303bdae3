"""Shared fixtures: settings kept off the user's disk, and the real components the suite uses.

Rule for real components (keyring, Docker, bubblewrap, OCI registry): the suite starts them itself
on loopback where it can. When one is missing, a test that needs it is *skipped* with the reason
printed — except in CI (`CI=true`), where it *fails*, so a missing install step cannot hide.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
ARTIFACTS = REPO / "test-artifacts"
from support.realparts import IN_CI, free_port, need, wait_port  # noqa: E402,F401


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings, recovery files and caches of the app go to a temp folder, never the user's home."""
    base = tmp_path_factory.mktemp("userdirs")
    monkeypatch.setenv("SKILLSTUDIO_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("SKILLSTUDIO_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("SKILLSTUDIO_CACHE_DIR", str(base / "cache"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves non-daemon threads running (as napari does)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
        if not extra:
            return
        time.sleep(0.05)
    pytest.fail(f"test left threads running: {[t.name for t in extra]}")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots and reports kept for a person (and CI) to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return REPO / "skills"


@pytest.fixture()
def example_workspace(tmp_path: Path) -> Path:
    """A writable copy of the example workspace."""
    dst = tmp_path / "skills"
    shutil.copytree(REPO / "skills", dst, ignore=shutil.ignore_patterns(".skillstudio"))
    return dst


# ------------------------------------------------------------------------- OS keyring (Secret Service)

@pytest.fixture(scope="session")
def _secret_service() -> Iterator[dict[str, str] | str]:
    """A private D-Bus session with gnome-keyring-daemon, unlocked with a throwaway password."""
    if not (shutil.which("dbus-daemon") and shutil.which("gnome-keyring-daemon")):
        yield "gnome-keyring-daemon / dbus-daemon not installed (apt-get install gnome-keyring dbus)"
        return
    home = Path(tempfile.mkdtemp(prefix="ss-keyring-"))
    env = dict(os.environ, XDG_DATA_HOME=str(home / "data"), XDG_RUNTIME_DIR=str(home / "run"),
               HOME=str(home))
    (home / "run").mkdir(mode=0o700)
    bus = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
                         capture_output=True, text=True, env=env, check=False)
    if bus.returncode != 0:
        yield f"dbus-daemon failed: {bus.stderr.strip()}"
        return
    address, pid = bus.stdout.split("\n")[:2]
    env["DBUS_SESSION_BUS_ADDRESS"] = address.strip()
    keyring_proc = subprocess.run(
        ["gnome-keyring-daemon", "--unlock", "--components=secrets", "--daemonize"],
        input="test-password", capture_output=True, text=True, env=env, check=False, timeout=30)
    try:
        if keyring_proc.returncode != 0:
            yield f"gnome-keyring-daemon failed: {keyring_proc.stderr.strip()}"
            return
        yield {"DBUS_SESSION_BUS_ADDRESS": env["DBUS_SESSION_BUS_ADDRESS"], "XDG_DATA_HOME": env["XDG_DATA_HOME"],
               "XDG_RUNTIME_DIR": env["XDG_RUNTIME_DIR"]}
    finally:
        subprocess.run(["pkill", "-f", f"gnome-keyring-daemon.*{home}"], check=False)
        for line in keyring_proc.stdout.splitlines():
            if line.startswith("GNOME_KEYRING_PID="):
                subprocess.run(["kill", line.split("=", 1)[1]], check=False)
        subprocess.run(["kill", pid.strip()], check=False)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture()
def real_keyring(_secret_service: dict[str, str] | str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the `keyring` package at the real Secret Service started above (for this test)."""
    need(isinstance(_secret_service, dict), str(_secret_service))
    assert isinstance(_secret_service, dict)
    for k, v in _secret_service.items():
        monkeypatch.setenv(k, v)
    import keyring
    from keyring.backends import SecretService

    backend = SecretService.Keyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    need(backend.priority > 0, "Secret Service backend not usable")


# ------------------------------------------------------------------------------------------ Docker

@pytest.fixture(scope="session")
def docker_client():  # type: ignore[no-untyped-def]
    try:
        import docker

        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine here"
        need(False, f"Docker engine not reachable ({exc.__class__.__name__}); run `make services` as root")
        raise
    return client


@pytest.fixture()
def bwrap_available() -> None:
    ok = shutil.which("bwrap") is not None and subprocess.run(
        ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"], capture_output=True, check=False).returncode == 0
    need(ok, "bubblewrap missing or user namespaces disabled (apt-get install bubblewrap)")


# --------------------------------------------------------------------------------- OCI registry

def _start_registry(tmp: Path, htpasswd: Path | None) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    auth = ""
    if htpasswd is not None:
        auth = f"auth:\n  htpasswd:\n    realm: skillstudio-test\n    path: {htpasswd}\n"
    cfg = tmp / "config.yml"
    cfg.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {tmp / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n{auth}")
    proc = subprocess.Popen(["docker-registry", "serve", str(cfg)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    if not wait_port(port):
        proc.kill()
        raise RuntimeError("docker-registry did not start")
    return proc, port


@pytest.fixture(scope="session")
def oci_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real CNCF Distribution registry on 127.0.0.1 without auth; yields 'host:port'."""
    if not shutil.which("docker-registry"):
        need(False, "docker-registry not installed (apt-get install docker-registry)")
    proc, port = _start_registry(tmp_path_factory.mktemp("registry"), None)
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def oci_registry_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """A registry with htpasswd basic auth; yields ('host:port', user, password)."""
    if not (shutil.which("docker-registry") and shutil.which("htpasswd")):
        need(False, "docker-registry / htpasswd not installed (apt-get install docker-registry apache2-utils)")
    tmp = tmp_path_factory.mktemp("registry-auth")
    pw = tmp / "htpasswd"
    subprocess.run(["htpasswd", "-Bbc", str(pw), "alice", "s3cret-pw"], check=True, capture_output=True)
    proc, port = _start_registry(tmp, pw)
    yield f"127.0.0.1:{port}", "alice", "s3cret-pw"
    proc.terminate()
    proc.wait(10)
