"""The one context every long service call receives: cancellation in, progress and partial results out.

Modelled on Orange's task state: the caller (a CLI progress bar, a Qt worker) passes callbacks; the
service calls them on its own thread, throttled so a fast run cannot flood a GUI event queue. A
callback must never touch a widget directly — the app's workers forward them as queued signals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from skillstudio.cancel import CancelToken

PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress calls a second, plus the last one
PARTIAL_INTERVAL_S = 0.5  # a partial result about twice a second


@dataclass
class JobContext:
    cancel: CancelToken = field(default_factory=CancelToken)
    on_progress: Callable[[int, int, int], None] | None = None  # done, total, served from cache so far
    on_partial: Callable[[Any], None] | None = None  # a partial result of the service's own type
    on_message: Callable[[str], None] | None = None  # a status line for people ("polling the batch…")
    _last_progress: float = field(default=0.0, repr=False)
    _last_partial: float = field(default_factory=time.monotonic, repr=False)

    @property
    def cancelled(self) -> bool:
        return self.cancel.cancelled

    def progress(self, done: int, total: int, cached: int = 0) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if done >= total or done == 0 or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self.on_progress(done, total, cached)

    def partial_due(self) -> bool:
        """True when a partial result is wanted now (and marks it sent)."""
        if self.on_partial is None or self.cancel.cancelled:
            return False
        now = time.monotonic()
        if now - self._last_partial < PARTIAL_INTERVAL_S:
            return False
        self._last_partial = now
        return True

    def partial(self, value: Any) -> None:
        if self.on_partial is not None:
            self.on_partial(value)

    def message(self, text: str) -> None:
        if self.on_message is not None:
            self.on_message(text)
