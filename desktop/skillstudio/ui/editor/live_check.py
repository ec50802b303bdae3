"""Live validation of one buffer: debounced, on a worker, stale results dropped.

Typing never waits: the check (validation + token counts + front-matter parse) runs on the window's
WorkerPool. The first keystroke after a pause is checked at once (leading edge); during a burst the
check runs when typing pauses for DEBOUNCE_MS (trailing edge). At most one check per buffer runs at a
time; a result is only shown if the buffer still holds exactly the text it was computed for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from skillstudio.bundle.workspace import Workspace
from skillstudio.cancel import CancelToken
from skillstudio.services.analysis import CheckResult, SkillContext, build_context, check_text
from skillstudio.ui.common.workers import WorkerPool

DEBOUNCE_MS = 150


def _run_check(skill_dir: Path, ctx: SkillContext | None, text: str, workspace: Workspace | None,
               token: CancelToken, _progress: Callable[[int, int], None]) -> tuple[SkillContext, CheckResult]:
    """Worker side: never touches a widget."""
    if ctx is None:
        ctx = build_context(skill_dir, workspace, token)
    token.raise_if_cancelled()
    return ctx, check_text(ctx, text)


class LiveChecker(QObject):
    sig_checked = Signal(object)  # CheckResult for the current text
    sig_failed = Signal(str)

    def __init__(self, pool: WorkerPool, skill_dir: Path, text_fn: Callable[[], str],
                 workspace_fn: Callable[[], Workspace | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool, self.skill_dir, self.text_fn, self.workspace_fn = pool, skill_dir, text_fn, workspace_fn
        self._ctx: SkillContext | None = None
        self._running: int | None = None
        self._pending = False
        self._stopped = False
        self._last_request = 0.0
        self.last_result: CheckResult | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.check_now)

    def stop(self) -> None:
        """The tab is closing: cancel what runs, start nothing more, drop late results."""
        self._stopped = True
        self._timer.stop()
        self._pending = False
        if self._running is not None:
            self.pool.cancel(self._running)

    @Slot()
    def request(self) -> None:
        """Call on every text change."""
        if self._stopped:
            return
        now = time.monotonic()
        idle = (now - self._last_request) * 1000 > DEBOUNCE_MS
        self._last_request = now
        if idle and self._running is None and not self._timer.isActive():
            self.check_now()
        else:
            self._timer.start()

    def invalidate(self) -> None:
        """Files of the skill or the workspace changed: rebuild the context at the next check."""
        self._ctx = None

    @Slot()
    def check_now(self) -> None:
        self._timer.stop()
        if self._stopped:
            return
        if self._running is not None:
            self._pending = True
            return
        fn = partial(_run_check, self.skill_dir, self._ctx, self.text_fn(), self.workspace_fn())
        try:
            self._running, _ = self.pool.submit(fn, on_result=self._on_result, on_error=self._on_error,
                                                on_finished=self._on_finished)
        except RuntimeError:  # pool shut down: the window is closing
            self._running = None

    @property
    def busy(self) -> bool:
        return self._running is not None or self._pending or self._timer.isActive()

    @Slot(int, object)
    def _on_result(self, _job: int, value: object) -> None:
        if self._stopped:
            return
        ctx, result = value if isinstance(value, tuple) else (None, None)
        if not isinstance(ctx, SkillContext) or not isinstance(result, CheckResult):
            return
        self._ctx = ctx
        if result.text == self.text_fn():
            self.last_result = result
            self.sig_checked.emit(result)

    @Slot(int, str)
    def _on_error(self, _job: int, message: str) -> None:
        if not self._stopped:
            self.sig_failed.emit(message)

    @Slot(int)
    def _on_finished(self, _job: int) -> None:
        self._running = None
        if self._pending and not self._stopped:
            self._pending = False
            self.check_now()
