"""The signing commands as a user runs them: a real process, real keyring, exit codes 0 / 1 / 2."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from release_support import write_skill


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skillstudio", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=dict(os.environ), timeout=120, check=False)


def test_keys_pack_sign_verify_in_a_real_process(real_keyring: None, tmp_path: Path,
                                                 cli: Callable[..., tuple[int, str, str]]) -> None:
    """Key set-up in-process (fast); sign and verify as separate processes talking to the same keyring."""
    d = write_skill(tmp_path / "ws")
    assert cli("keys", "generate", "cli-user", "--rotate")[0] == 0
    assert cli("keys", "export", "cli-user", "-o", tmp_path / "cli-user.pem")[0] == 0
    assert (tmp_path / "cli-user.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert cli("pack", d, "-o", tmp_path / "a.zip")[0] == 0
    r = _run("sign", "a.zip", "--key", "cli-user", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "a.zip.sig.json").is_file()
    ok = _run("verify", "a.zip", "--pubkey", "cli-user.pem", cwd=tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("valid:")

    (tmp_path / "b.zip").write_bytes((tmp_path / "a.zip").read_bytes()[:-1] + b"\x01")
    bad = _run("verify", "b.zip", "--pubkey", "cli-user.pem", "--signature", "a.zip.sig.json", cwd=tmp_path)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1

    usage = _run("verify", "missing.zip", "--pubkey", "cli-user.pem", cwd=tmp_path)
    assert usage.returncode == 2 and "does not exist" in usage.stderr
    code, _, err = cli("verify", tmp_path / "a.zip")
    assert code == 2 and "--pubkey" in err


def test_every_command_has_help(cli: Callable[..., tuple[int, str, str]]) -> None:
    for cmd in ("keys", "pack", "sign", "verify", "push", "pull", "copy", "approve", "lock", "snippet", "trust",
                "registry"):
        code, out, _ = cli(cmd, "--help")
        assert code == 0 and "Usage" in out, cmd


def test_unwritable_outputs_are_one_line_errors(tmp_path: Path, cli: Callable[..., tuple[int, str, str]]) -> None:
    d = write_skill(tmp_path / "ws")
    (tmp_path / "file.txt").write_text("not a folder")
    code, _, err = cli("pack", d, "-o", tmp_path / "file.txt" / "x.zip")
    assert code == 2 and "cannot write or read" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
