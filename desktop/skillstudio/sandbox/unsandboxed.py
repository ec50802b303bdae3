"""No sandbox at all: only when the user explicitly chooses it for a run (`--sandbox none`).

For platforms without a sandbox (or a user who knows what they run). The command still gets the
clean environment, the data folder as working directory, the rlimits and the wall-time kill, but
it can read and write anything the user can and reach any network: every result carries a
warning line on stderr so the transcript shows it ran unsandboxed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.sandbox.executor import ExecResult, OutputSink, clean_env, launcher_args, run_process
from skillstudio.sandbox.launcher import __file__ as _LAUNCHER_FILE
from skillstudio.sandbox.policy import Policy

WARNING = "[skillstudio: WARNING: this command ran WITHOUT a sandbox (chosen explicitly)]"


class UnsandboxedExecutor:
    name = "none"

    def __init__(self, i_know: bool = False) -> None:
        if not i_know:
            raise SkillStudioError("refusing to run without a sandbox",
                                   "confirm that you accept running unsandboxed, "
                                   "or use the subprocess or Docker sandbox",
                                   setting="unsandboxed-i-know")

    def run(self, cmd: Sequence[str], policy: Policy, cancel: CancelToken | None = None,
            on_output: OutputSink | None = None) -> ExecResult:
        policy = policy.checked()
        if policy.network.enabled:
            raise SkillStudioError("an allow list needs a sandbox", "use the subprocess or Docker sandbox",
                                   setting="sandbox")
        lim = policy.limits
        mib = 1024 * 1024
        config = {k: v for k, v in (("cpu_s", lim.cpu_s),
                                     ("as_bytes", lim.memory_mb * mib if lim.memory_mb else None),
                                     ("fsize_bytes", lim.file_size_mb * mib if lim.file_size_mb else None)) if v}
        argv = [sys.executable, "-I", "-S", _LAUNCHER_FILE, *launcher_args(config), "--", *cmd]
        result = run_process(argv, env=clean_env(str(policy.data_dir), policy.env), cwd=str(policy.data_dir),
                             wall_s=lim.wall_s, output_cap=lim.output_bytes, cancel=cancel, on_output=on_output)
        result.stderr = WARNING + "\n" + result.stderr
        return result

    def close(self) -> None:
        pass
