"""The Test panel: run every trigger case of the workspace, watch it progress, read and filter the
results, see the confusion matrix and timing, and compare any two runs from the history.

Runs happen in a `SuiteJob` on this panel's QThreadPool; its signals reach @Slot methods here, in
the GUI thread. Cancel (button or Esc) keeps every finished result; `shutdown()` — called when the
window closes — cancels and waits, so no thread outlives the window. Only the signals of the run
being shown are taken: a late answer from a run the user replaced (by opening another workspace)
is dropped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QFont, QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.evals.store import RunStore
from skillstudio.ui.common.app_terms import in_app_terms
from skillstudio.ui.common.provider_form import ProviderForm
from skillstudio.ui.triggers.confusion_view import ConfusionView
from skillstudio.ui.triggers.latency_chart import LatencyChart
from skillstudio.ui.triggers.rate_bar_delegate import RateBarDelegate
from skillstudio.ui.triggers.results_model import (
    CASE_ROLE,
    COL_EXPECT,
    COL_PROMPT,
    COL_RATE,
    COL_RESULT,
    COL_SELECTED,
    COL_SKILL,
    COL_WHY,
    COLUMNS,
    FILTER_ALL,
    FILTER_FAILURES,
    FILTER_FLAKY,
    CaseFilter,
    TriggerResultsModel,
)
from skillstudio.ui.triggers.run_compare import RunCompareWidget, run_label, saved_runs
from skillstudio.ui.triggers.suite_worker import SuiteJob, SuiteJobResult, SuiteJobSignals
from skillstudio.ui.triggers.summary import ESTIMATE_TEXT, RunSummaryView, make_banner

ALL_SKILLS = ""
PROMPT_MIN_W = 260
RATE_COL_W = 170
EXPORT_FORMATS = (("HTML report (self-contained)…", "html"), ("JSON (test --json)…", "json"),
                  ("JUnit XML (for CI)…", "junit"), ("CSV of the cases…", "csv"))
EXPORT_FILTERS = {"html": "HTML (*.html)", "json": "JSON (*.json)", "junit": "JUnit XML (*.xml)", "csv": "CSV (*.csv)"}
EXPORT_SUFFIX = {"html": ".html", "json": ".json", "junit": ".xml", "csv": ".csv"}


def fmt_eta(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    m, s = divmod(seconds, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


class TriggerPanel(QWidget):
    """Run/cancel, progress with rate and ETA, results, summary, confusion matrix, timing, comparison."""

    sig_run_finished = Signal(object)  # the report dict (evals.metrics.summarize), also after a cancel
    sig_case_activated = Signal(object, str)  # skill folder (Path), prompt — a double-clicked result row

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workspace: Path | None = None
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._token: CancelToken | None = None
        self._signals: SuiteJobSignals | None = None
        self._retired: set[QObject] = set()
        self._finished_signals: SuiteJobSignals | None = None
        self._started = 0.0
        self._closed = False
        self.report: dict[str, Any] | None = None
        self.requests_log: list[dict[str, Any]] = []
        self.last_result: SuiteJobResult | None = None

        # --- controls
        self.provider = ProviderForm(self)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("run_tests")
        self.run_button.setToolTip("Run every trigger case of the workspace (Ctrl+R)")
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_tests")
        self.cancel_button.setToolTip("Stop the run; finished results are kept (Esc)")
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        for seq, slot in ((QKeySequence("Ctrl+R"), self.run), (QKeySequence(Qt.Key.Key_Escape), self.cancel)):
            sc = QShortcut(seq, self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self.export_button = QToolButton()
        self.export_button.setObjectName("export_report")
        self.export_button.setText("Export")
        self.export_button.setToolTip("Save the shown run as an HTML, JSON, JUnit or CSV report")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for label, fmt in EXPORT_FORMATS:
            act = menu.addAction(label)
            act.setData(fmt)
        menu.triggered.connect(self._on_export_action)
        self.export_button.setMenu(menu)
        self.export_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        buttons = QVBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.provider, 1)
        top.addLayout(buttons)

        self.progress = QProgressBar()
        self.progress.setObjectName("test_progress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("ready")
        self.status = QLabel("")
        self.status.setObjectName("test_status")
        self.status.setMinimumWidth(260)
        prog = QHBoxLayout()
        prog.addWidget(self.progress, 1)
        prog.addWidget(self.status)

        self.estimate_banner = make_banner("estimate_banner", "estimate")
        self.estimate_banner.setText(ESTIMATE_TEXT)
        self.notice = make_banner("test_notice", "warning")
        self.info = make_banner("test_info", "info")
        self.summary = RunSummaryView()

        # --- results tab
        self.model = TriggerResultsModel(self)
        self.proxy = CaseFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("test_results")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        self.table.setItemDelegateForColumn(COL_RATE, RateBarDelegate(self.table))
        self.table.doubleClicked.connect(self._on_row_activated)
        self.table.setToolTip("Double-click a case to open its skill's trigger cases")
        hh = self.table.horizontalHeader()
        hh.setStretchLastSection(False)
        # Widths come from the font and the report (_fit_columns), never from ResizeToContents: that
        # asks every row for its size and stalls the window for seconds on suites of thousands of cases.
        for col in range(len(COLUMNS)):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        hh.setSectionResizeMode(COL_WHY, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.viewport().installEventFilter(self)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)

        self.filter_mode = QComboBox()
        self.filter_mode.setToolTip("Which results to show: all cases, failures and errors, or flaky cases")
        self.filter_mode.setObjectName("filter_mode")
        for label, mode in (("All cases", FILTER_ALL), ("Failures and errors", FILTER_FAILURES),
                            ("Flaky cases", FILTER_FLAKY)):
            self.filter_mode.addItem(label, mode)
        self.filter_skill = QComboBox()
        self.filter_skill.setToolTip("Show only the results of one skill")
        self.filter_skill.setObjectName("filter_skill")
        self.filter_skill.addItem("All skills", ALL_SKILLS)
        self.filter_skill.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.search = QLineEdit()
        self.search.setToolTip("Show only cases whose prompt contains this text")
        self.search.setPlaceholderText("Search prompts…")
        self.search.setClearButtonEnabled(True)
        self.shown = QLabel("")
        self.shown.setObjectName("shown_count")
        self.filter_mode.currentIndexChanged.connect(self._on_filter)
        self.filter_skill.currentIndexChanged.connect(self._on_filter)
        self.search.textChanged.connect(self._on_filter)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show"))
        filters.addWidget(self.filter_mode)
        filters.addWidget(self.filter_skill)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.shown)

        self.empty = QLabel()
        self.empty.setObjectName("results_empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.results_stack = QStackedWidget()
        self.results_stack.addWidget(self.empty)
        self.results_stack.addWidget(self.table)
        results = QWidget()
        rl = QVBoxLayout(results)
        rl.setContentsMargins(0, 4, 0, 0)
        self.filters = QWidget()
        filters.setContentsMargins(0, 0, 0, 0)
        self.filters.setLayout(filters)
        rl.addWidget(self.filters)
        rl.addWidget(self.results_stack, 1)

        self.confusion = ConfusionView()
        self.chart = LatencyChart()
        self.compare = RunCompareWidget()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("test_tabs")
        self.tabs.addTab(results, "Results")
        self.tabs.addTab(self.confusion, "Confusion matrix")
        self.tabs.addTab(self.chart, "Latency / TTFT")
        self.tabs.addTab(self.compare, "Compare runs")

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(prog)
        lay.addWidget(self.estimate_banner)
        lay.addWidget(self.notice)
        lay.addWidget(self.info)
        lay.addWidget(self.summary)
        lay.addWidget(self.tabs, 1)
        self._show_report(None)
        self._update_buttons()

    # ------------------------------------------------------------------ workspace

    def workspace(self) -> Path | None:
        return self._workspace

    def set_workspace(self, path: Path) -> None:
        """Show this workspace: its latest saved run (if any) and its history for comparison."""
        if self._token is not None and self._signals is not None:  # its late answer belongs to the old workspace
            self._token.cancel()
            self._retired.add(self._signals)  # kept alive until its last signal arrives (then dropped)
            self._signals.sig_done.connect(self._on_retired_done)
            self._token, self._signals = None, None
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("ready")
            self.status.setText("")
        self._workspace = Path(path)
        store = RunStore(self._workspace / ".skillstudio")
        history = saved_runs(store)  # first: opening the history may repair it, and that must be told
        self.compare.set_workspace(self._workspace)
        self.notice.hide()
        self.info.hide()
        latest: dict[str, Any] | None = None
        if history:
            try:
                latest = store.load(history[-1])
            except SkillStudioError:
                latest = None
        if store.notices:
            self._warn("Run history: " + "; ".join(store.notices))
        self.requests_log = list(latest.get("requests_log") or []) if latest else []
        self._show_report(latest)
        if latest is not None:
            self._info(f"Showing the last saved run: {run_label(latest)}. Press Run (Ctrl+R) to test again.")
        self._update_buttons()

    # ------------------------------------------------------------------ run / cancel

    @property
    def running(self) -> bool:
        return self._token is not None

    @Slot()
    def run(self) -> None:
        """Run every trigger case of the workspace (Run button, Ctrl+R)."""
        self.run_skills(None)

    def run_skills(self, skills: list[str] | None) -> None:
        """Run the cases of these skills only (None = all); every skill of the catalog still competes."""
        if self.running or self._closed:
            return
        if self._workspace is None:
            self._warn("Open a workspace first (File ▸ Open), then run its trigger cases.")
            return
        choice = self.provider.choice()
        self.provider.remember()
        self._token = CancelToken()
        self._signals = SuiteJobSignals()
        self._signals.sig_progress.connect(self._on_progress)
        self._signals.sig_partial.connect(self._on_partial)
        self._signals.sig_done.connect(self._on_done)
        self._started = time.monotonic()
        self.notice.hide()
        self.info.hide()
        self.progress.setRange(0, 0)  # busy until the suite is built and the total known
        self.progress.setFormat("starting…")
        self.status.setText("Building the suite…")
        self._pool.start(SuiteJob(self._workspace, choice, self._token, self._signals, only=skills))
        self._update_buttons()

    @Slot()
    def cancel(self) -> None:
        if self._token is None or self._token.cancelled:
            return
        self._token.cancel()
        self.status.setText("Cancelling… finished results are kept")
        self.cancel_button.setEnabled(False)

    def _is_current(self) -> bool:
        """True for signals of the run being shown; a replaced run's late signals are ignored."""
        return self._signals is not None and self.sender() is self._signals

    @Slot(int, int, int)
    def _on_progress(self, done: int, total: int, cached: int) -> None:
        if not self._is_current() or self._token is None:
            return
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} / {total} requests (%p%)")
        if self._token.cancelled:
            return
        elapsed = max(1e-6, time.monotonic() - self._started)
        live = done - cached
        parts = []
        if live > 0:
            rate = live / elapsed
            parts.append(f"{rate:.1f} req/s")
            parts.append(f"ETA {fmt_eta((total - done) / rate)}")
        if cached:
            parts.append(f"{cached} cached")
        self.status.setText(" · ".join(parts) if parts else "waiting for the first answer…")

    @Slot(object)
    def _on_retired_done(self, result: object) -> None:
        self._retired.discard(self.sender())

    @Slot(object)
    def _on_partial(self, report: object) -> None:
        """The requests finished so far, shown while the run goes on (not saved, not signalled)."""
        if not self._is_current() or self._token is None or self._token.cancelled:
            return
        assert isinstance(report, dict)
        self._show_report(report, partial=True)

    @Slot(object)
    def _on_done(self, result: object) -> None:
        if not self._is_current():
            return
        self._finished_signals = self._signals  # not freed while Qt is still delivering its signal
        self._token, self._signals = None, None
        self._update_buttons()
        assert isinstance(result, SuiteJobResult)
        self.last_result = result
        if result.report is None:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("not run")
            self.status.setText("")
            self._warn(result.error or "the run did not start")
            return
        report = result.report
        s = report["summary"]
        self.requests_log = result.requests_log
        self._show_report(report)
        self.progress.setRange(0, max(1, s["total"]))
        self.progress.setValue(s["finished"])
        self.progress.setFormat(f"{s['finished']} / {s['total']} requests")
        self.status.setText(f"done in {s['wall_s']:.1f} s" + (" (cancelled)" if s["cancelled"] else ""))
        problems = []
        if result.error:
            problems.append(result.error)
        if s["cancelled"]:
            problems.append(f"Cancelled: {s['not_run_requests']} of {s['total']} requests were not run "
                            f"({s['not_run']} cases). The finished results are shown.")
        if result.save_error:
            problems.append(result.save_error)
        if problems:
            self._warn(" ".join(problems))
        if report.get("warnings"):
            self._info("; ".join(report["warnings"]))
        if result.saved_to is not None:
            self.compare.refresh()
        self._update_buttons()
        self.sig_run_finished.emit(report)

    # ------------------------------------------------------------------ showing a report

    def _show_report(self, report: dict[str, Any] | None, *, partial: bool = False) -> None:
        self.report = None if partial else report
        self.model.set_report(report)
        self.summary.set_report(report)
        self.summary.setVisible(report is not None)
        self.confusion.set_confusion(report["confusion"] if report else None)
        if not partial:
            self.chart.set_requests(self.requests_log if report else None,
                                    estimate=bool(report and report.get("estimate")))
        self.estimate_banner.setVisible(bool(report and report.get("estimate")))
        current = self.filter_skill.currentData()
        self.filter_skill.blockSignals(True)
        self.filter_skill.clear()
        self.filter_skill.addItem("All skills", ALL_SKILLS)
        for name in self.model.skills():
            self.filter_skill.addItem(name, name)
        self.filter_skill.setCurrentIndex(max(0, self.filter_skill.findData(current)))
        self.filter_skill.blockSignals(False)
        if report is None:
            self.empty.setText("No results yet.\n\nChoose a provider above and press Run (Ctrl+R) to send every "
                               "trigger case of this workspace against the whole skill catalog."
                               if self._workspace else "Open a workspace to test its skills' trigger cases.")
            self.results_stack.setCurrentWidget(self.empty)
            self.filters.hide()
        else:
            self.filters.show()
            self.results_stack.setCurrentWidget(self.table)
            self._fit_columns()
        self._on_filter()

    @Slot()
    def _on_filter(self) -> None:
        self.proxy.set_mode(str(self.filter_mode.currentData()))
        self.proxy.set_skill(str(self.filter_skill.currentData() or ""))
        self.proxy.set_text(self.search.text())
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        self.shown.setText(f"{shown} of {total} cases" if total else "")

    def set_filter(self, mode: str, skill: str = ALL_SKILLS) -> None:
        self.filter_mode.setCurrentIndex(self.filter_mode.findData(mode))
        self.filter_skill.setCurrentIndex(max(0, self.filter_skill.findData(skill)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _fit_columns(self) -> None:
        """Short columns as wide as their longest value (measured on the few distinct values, not on
        every row); the prompt gets most of the free width (at least PROMPT_MIN_W), "why" the rest."""
        hh = self.table.horizontalHeader()
        fm = self.table.fontMetrics()
        bold = QFont(self.table.font())
        bold.setBold(True)
        fmb = QFontMetrics(bold)
        pad = 24

        def width(texts: list[str], metrics: QFontMetrics = fm) -> int:
            return max([metrics.horizontalAdvance(t) for t in texts if t] + [0]) + pad

        header_fm = QFontMetrics(hh.font())
        skills = self.model.skills() or ["skill"]
        hh.resizeSection(COL_SKILL, max(width(skills), header_fm.horizontalAdvance("Skill") + pad))
        hh.resizeSection(COL_EXPECT, max(width(["no_trigger"]), header_fm.horizontalAdvance("Expect") + pad))
        hh.resizeSection(COL_RATE, RATE_COL_W)
        hh.resizeSection(COL_RESULT, width(["not run · flaky", "FAIL · flaky"], fmb))
        sel = max(width([f"{s} ×3" for s in skills]), header_fm.horizontalAdvance("Selected per run") + pad)
        hh.resizeSection(COL_SELECTED, min(sel, 260))
        fixed = sum(hh.sectionSize(c) for c in range(self.model.columnCount()) if c not in (COL_PROMPT, COL_WHY))
        free = self.table.viewport().width() - fixed
        hh.resizeSection(COL_PROMPT, max(PROMPT_MIN_W, int(free * 0.62)))

    @Slot(QModelIndex)
    def _on_row_activated(self, index: QModelIndex) -> None:
        case = index.data(CASE_ROLE)
        if not case or self._workspace is None:
            return
        folder = self._workspace / case["skill"]
        self.sig_case_activated.emit(folder if folder.is_dir() else self._workspace, case["prompt"])

    # ------------------------------------------------------------------ export

    @Slot(QAction)
    def _on_export_action(self, action: QAction) -> None:
        fmt = str(action.data())
        if self.report is None:
            self._warn("Nothing to export yet: run the trigger cases first (Ctrl+R).")
            return
        stamp = str(self.report.get("started_at") or "run")[:19].replace(":", "").replace("-", "")
        start = str((self._workspace or Path.home()) / f"trigger-tests-{stamp}{EXPORT_SUFFIX[fmt]}")
        path, _ = QFileDialog.getSaveFileName(self, "Export the run", start, EXPORT_FILTERS[fmt])
        if path:
            self.export_report(Path(path), fmt)

    def export_report(self, path: Path, fmt: str) -> bool:
        """Write the shown run as `fmt` (html/json/junit/csv) with the same writers as the CLI."""
        from skillstudio.evals import reports

        if self.report is None:
            return False
        render = {"html": reports.to_html, "json": reports.to_json, "junit": reports.to_junit,
                  "csv": reports.to_csv}[fmt]
        try:
            reports.write(path, render(self.report))
        except OSError as exc:
            self._warn(f"Could not write {path}: {exc.strerror or exc} — choose a writable folder.")
            return False
        self._info(f"Exported to {path}")
        return True

    def _warn(self, text: str) -> None:
        self.notice.setText(in_app_terms(text))  # no CLI flags inside the app
        self.notice.show()

    def _info(self, text: str) -> None:
        self.info.setText(text)
        self.info.show()

    def _update_buttons(self) -> None:
        self.run_button.setEnabled(not self.running and self._workspace is not None and not self._closed)
        self.export_button.setEnabled(self.report is not None and not self.running)
        self.cancel_button.setEnabled(self.running and not (self._token and self._token.cancelled))
        self.provider.setEnabled(not self.running)

    # ------------------------------------------------------------------ shutdown

    def shutdown(self) -> None:
        """Cancel a running test and wait for its thread (the window calls this when it closes)."""
        self._closed = True
        if self._token is not None:
            self._token.cancel()
        self._pool.waitForDone()
        self._update_buttons()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)
