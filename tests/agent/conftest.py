"""Fixtures for agent-run tests: a RunRequest factory pointed at the scripted server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skillstudio.agent.runner import RunRequest


@pytest.fixture()
def make_request(example_workspace: Path, tmp_path: Path) -> Callable[..., RunRequest]:
    """RunRequest on the example workspace with a data folder of the test's own."""

    def make(base_url: str, prompt: str = "Reconcile October's bank statement", **kw: Any) -> RunRequest:
        data = tmp_path / "data"
        data.mkdir(exist_ok=True)
        kw.setdefault("data_dir", data)
        return RunRequest(workspace=example_workspace, prompt=prompt, base_url=base_url, model="gpt-test", **kw)

    return make
