"""The Docker sandbox image, built offline from the machine's own Debian sources when missing.

Engines that can pull use `resources/sandbox/Dockerfile`. Engines that cannot (air-gapped, no
registry) get the same image from `mmdebstrap --variant=apt --include=<packages.txt> <suite>`
with this machine's apt sources (never a hard-coded mirror), then `docker import`. The tag carries
a hash of the recipe, so a changed recipe builds a new image and an existing one is reused.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skillstudio.errors import EnvironmentProblem
from skillstudio.resources import resource_path

REPOSITORY = "skillstudio-sandbox"
CHANGES = ["ENV PATH=/usr/local/bin:/usr/bin:/bin", "ENV LANG=C.UTF-8", "WORKDIR /data",
           "USER 65534:65534", 'CMD ["/bin/sh"]']
Progress = Callable[[str], None]


def packages() -> list[str]:
    lines = resource_path("sandbox", "packages.txt").read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def image_tag() -> str:
    recipe = "\n".join(packages() + CHANGES + [_suite() or ""])
    return f"{REPOSITORY}:{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"


def _suite() -> str | None:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return None
    m = re.search(r"^VERSION_CODENAME=\"?([a-z]+)", text, re.M)
    return m.group(1) if m else None


def _apt_sources() -> list[str]:
    found = [Path("/etc/apt/sources.list")] if Path("/etc/apt/sources.list").is_file() else []
    d = Path("/etc/apt/sources.list.d")
    if d.is_dir():
        found += sorted(p for p in d.iterdir() if p.suffix in (".list", ".sources") and p.is_file())
    return [str(p) for p in found if p.read_text(errors="replace").strip()]


def image_exists(client: Any, tag: str | None = None) -> bool:
    import docker.errors

    try:
        client.images.get(tag or image_tag())
        return True
    except docker.errors.ImageNotFound:
        return False


def ensure_image(client: Any, progress: Progress | None = None) -> str:
    """The sandbox image's tag, building it offline first when it is missing."""
    tag = image_tag()
    if not image_exists(client, tag):
        build_offline(client, progress)
    return tag


def build_offline(client: Any, progress: Progress | None = None) -> str:
    """mmdebstrap a root filesystem from this machine's apt sources and `docker import` it."""
    say = progress or (lambda _m: None)
    tag = image_tag()
    mmdebstrap = shutil.which("mmdebstrap")
    suite = _suite()
    sources = _apt_sources()
    if mmdebstrap is None:
        raise EnvironmentProblem("mmdebstrap is not installed, so the sandbox image cannot be built offline",
                                 "apt-get install mmdebstrap, or build resources/sandbox/Dockerfile "
                                 "with an engine that can pull")
    if suite is None or not sources:
        raise EnvironmentProblem("this machine has no Debian/Ubuntu apt sources to build the sandbox image from",
                                 f"build resources/sandbox/Dockerfile on an engine that can pull and tag it {tag}")
    with tempfile.TemporaryDirectory(prefix="ss-image-") as tmp:
        tar = os.path.join(tmp, "rootfs.tar")
        argv = [mmdebstrap, "--variant=apt", "--include=" + ",".join(packages()), suite, tar, *sources]
        say(f"building the sandbox image {tag} from this machine's apt sources ({suite}, {', '.join(packages())})")
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        tail: list[str] = []
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                tail = (tail + [line])[-20:]
                if line.startswith("I: "):
                    say(line[3:])
        if proc.wait() != 0:
            raise EnvironmentProblem(f"mmdebstrap failed: {tail[-1] if tail else 'no output'}",
                                     "check that apt can reach this machine's package sources (apt-get update)")
        say(f"importing the root filesystem into Docker as {tag}")
        client.api.import_image_from_file(tar, repository=tag.split(":")[0], tag=tag.split(":")[1], changes=CHANGES)
    if not image_exists(client, tag):
        raise EnvironmentProblem(f"docker import did not produce {tag}", "see the Docker daemon's log")
    say(f"sandbox image ready: {tag}")
    return tag
