"""Helpers for the release tests: a small skill on disk, the CLI in-process, keys in the real keyring."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from release_support import write_skill

from skillstudio.cli.main import main


@pytest.fixture()
def skill(tmp_path: Path) -> Path:
    return write_skill(tmp_path / "ws")


Runner = Callable[..., tuple[int, str, str]]


@pytest.fixture()
def cli(capsys: pytest.CaptureFixture[str]) -> Runner:
    """Run `skillstudio ARGS` in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str | os.PathLike[str]) -> tuple[int, str, str]:
        capsys.readouterr()
        code = 0
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture()
def keypair(real_keyring: None, tmp_path: Path, cli: Runner) -> Callable[[str, str], Path]:
    """Generate NAME in the real keyring with ALGORITHM and export its PEM; returns the PEM path."""

    def make(name: str, algorithm: str = "ed25519") -> Path:
        from skillstudio.release import keys

        keys.delete(name)  # the session keyring is shared by tests
        code, _, err = cli("keys", "generate", name, "--algorithm", algorithm, "--rotate")
        assert code == 0, err
        pem = tmp_path / f"{name}.pem"
        code, _, err = cli("keys", "export", name, "-o", pem)
        assert code == 0, err
        return pem

    return make
