"""Fixtures for trigger-test tests: a small workspace on disk and the scripted OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import KEYWORDS, write_workspace


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws")


@pytest.fixture()
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        yield srv
