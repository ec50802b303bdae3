"""Plain data shared by the sandbox tests (kept out of conftest so test modules can import it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skillstudio.sandbox.executor import Executor


@dataclass
class Server:
    port: int
    cert_pem: bytes | None = None


@dataclass
class Backend:
    name: str
    executor: Executor
    make_data: Callable[[], Path]
