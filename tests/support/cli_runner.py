"""Run `skillstudio test ...` the way a user does, in this process (fast) or as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        process: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `skillstudio test ARGS`: in this process by default (fast), or as a real process."""
    return run_cli("test", *args, env=env, cwd=cwd, process=process)


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            process: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `skillstudio ARGS` with a clean OpenAI environment plus `env`."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    full_env.update(env or {})
    if process:
        return subprocess.run([sys.executable, "-m", "skillstudio", *args], capture_output=True,
                              text=True, env=full_env, cwd=cwd, timeout=120)
    import contextlib
    import io

    from skillstudio.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(full_env)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(["skillstudio", *args], code, out.getvalue(), err.getvalue())
