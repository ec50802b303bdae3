"""Choosing a backend by name: `subprocess` (bubblewrap on Linux), `docker`, or an explicit `none`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from skillstudio.errors import EnvironmentProblem, SkillStudioError
from skillstudio.sandbox.executor import Executor
from skillstudio.sandbox.image import Progress
from skillstudio.sandbox.proxy import Interceptor, ProxyEvent

BACKENDS = ("subprocess", "docker", "none")
KEEP_WARM_S = 300.0  # one-shot callers (CLI `exec`, console commands): how long a Docker container waits, idle


def open_executor(kind: str, *, unsandboxed_ok: bool = False, resolve: dict[str, str] | None = None,
                  interceptor: Interceptor | None = None, progress: Progress | None = None,
                  docker_client: Any | None = None,
                  on_proxy_event: Callable[[ProxyEvent], None] | None = None,
                  keep_warm_s: float | None = None) -> Executor:
    """A ready executor, or a clear error; never a silent fallback to a weaker sandbox.

    `keep_warm_s` (Docker, for one-shot processes such as the CLI): leave the container running for
    the next process with the same policy, removed after that many idle seconds.
    """
    if kind == "subprocess":
        if not sys.platform.startswith("linux"):
            raise EnvironmentProblem(
                f"the subprocess sandbox is not available on {sys.platform} yet",
                "use the Docker sandbox, or run without a sandbox (only if you accept the risk)", setting="sandbox")
        from skillstudio.sandbox.bwrap import BwrapExecutor

        return BwrapExecutor(resolve=resolve, interceptor=interceptor, on_proxy_event=on_proxy_event)
    if kind == "docker":
        from skillstudio.sandbox.docker_backend import DockerExecutor

        return DockerExecutor(docker_client, resolve=resolve, interceptor=interceptor, progress=progress,
                              on_proxy_event=on_proxy_event, keep_warm_s=keep_warm_s)
    if kind == "none":
        from skillstudio.sandbox.unsandboxed import UnsandboxedExecutor

        return UnsandboxedExecutor(unsandboxed_ok)
    raise SkillStudioError(f"unknown sandbox {kind!r}", "use subprocess, docker or none")
