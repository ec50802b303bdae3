"""A tiny thread-safe cancel token shared by every long-running core service.

Core services are synchronous (or async) and take a token; the UI's workers and the CLI's Ctrl-C
handler call `cancel()`. Services poll `cancelled` or call `raise_if_cancelled()` between steps.
"""

from __future__ import annotations

import threading

from skillstudio.errors import Cancelled


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds; returns True early if cancelled (for backoff sleeps)."""
        return self._event.wait(timeout)
