"""Fixtures for the services tests: the small trigger workspace, no OpenAI settings leaking in."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.trigger_workspace import write_workspace


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws")
