"""What the sandbox needs on this machine, what is there, and how to fix what is missing."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass

from skillstudio.errors import EnvironmentProblem


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = False  # the product cannot sandbox at all without it


def checks() -> list[Check]:
    out: list[Check] = [Check("platform", True, sys.platform)]
    bwrap_ok = False
    if sys.platform.startswith("linux"):
        from skillstudio.sandbox.bwrap import check_bwrap

        try:
            path = check_bwrap()
            bwrap_ok = True
            out.append(Check("bubblewrap (subprocess sandbox)", True, f"{path}, user namespaces work"))
        except EnvironmentProblem as exc:
            out.append(Check("bubblewrap (subprocess sandbox)", False, exc.message, exc.hint))
        from skillstudio.sandbox.limits import Cgroup

        cg = Cgroup.create(8, None)
        if cg is not None:
            cg.destroy()
            out.append(Check("process-count limit", True, "a cgroup per run (pids.max)"))
        else:
            out.append(Check("process-count limit", True, "RLIMIT_NPROC (approximate: counts all your processes)",
                             "run under a delegated cgroup (systemd-run --user --scope) for an exact limit"))
    else:
        out.append(Check("subprocess sandbox", False, f"not available on {sys.platform}",
                         "use the Docker sandbox"))
    docker_ok = False
    try:
        from skillstudio.sandbox.docker_backend import connect
        from skillstudio.sandbox.image import image_exists, image_tag

        client = connect(timeout=10)
        docker_ok = True
        version = client.version().get("Version", "?")
        out.append(Check("Docker engine", True, f"version {version}"))
        tag = image_tag()
        if image_exists(client, tag):
            out.append(Check("sandbox image", True, tag))
        else:
            out.append(Check("sandbox image", False, f"{tag} not built yet (built on first use)",
                             "skillstudio sandbox build-image --offline"))
    except EnvironmentProblem as exc:
        out.append(Check("Docker engine", False, exc.message, exc.hint))
    mm = shutil.which("mmdebstrap")
    out.append(Check("mmdebstrap (offline image build)", mm is not None, mm or "not installed",
                     "" if mm else "apt-get install mmdebstrap"))
    out.append(Check("a sandbox backend", bwrap_ok or docker_ok,
                     ", ".join(n for n, ok in (("subprocess", bwrap_ok), ("docker", docker_ok)) if ok) or "none",
                     "" if bwrap_ok or docker_ok else "install bubblewrap or Docker (see above)", required=True))
    return out
